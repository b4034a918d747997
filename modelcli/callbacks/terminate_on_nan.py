"""TerminateOnNaN: stop as soon as a batch's loss is NaN or infinite.

It reads the loss after every batch, which waits for the device each step: use
it when a diverging run must stop at once, not by default. ``raise_error=True``
raises instead of stopping, so no ``on_train_end`` runs (a backup stays put).
"""
from __future__ import annotations

import math

from .callback import Callback
from .registry import register_callback


@register_callback("TerminateOnNaN")
class TerminateOnNaN(Callback):
    def __init__(self, raise_error=False):
        super().__init__()
        self.raise_error = raise_error

    def get_config(self):
        return {"raise_error": self.raise_error}

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None or math.isfinite(float(loss)):
            return
        if self.raise_error:
            raise RuntimeError(f"NaN or Inf loss encountered at batch {batch}. Loss value: {loss}. "
                               "Terminating training immediately.")
        print(f"Batch {batch}: Invalid loss, terminating training")
        self.model.stop_training = True

"""LearningRateScheduler: ``schedule(epoch, lr)`` sets the rate at each epoch's start.

``epoch`` counts from 0 and ``lr`` is the current rate (float32, as Keras reads
it); a one-argument ``schedule(epoch)`` also works. The result must be a float.
Each epoch's logs get the rate it trained with, as ``learning_rate``.
"""
from __future__ import annotations

import inspect
import sys

import numpy as np

from ..errors import SpecError
from .callback import Callback
from .reduce_lr_on_plateau import current_learning_rate


class LearningRateScheduler(Callback):
    def __init__(self, schedule, verbose=0):
        super().__init__()
        if not callable(schedule):
            raise SpecError(f"schedule must be a function (epoch, lr) -> lr. Received: schedule={schedule!r}")
        self.schedule = schedule
        self.verbose = verbose
        self._takes_lr = _accepts_two_arguments(schedule)

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        if not hasattr(optimizer, "learning_rate"):
            raise ValueError('Optimizer must have a "learning_rate" attribute.')
        lr = self.schedule(epoch, current_learning_rate(optimizer)) if self._takes_lr else self.schedule(epoch)
        lr = _from_tensor(lr)
        if not isinstance(lr, (float, np.floating)):
            raise SpecError(f"The output of the `schedule` function should be a float. Got: {lr!r}")
        optimizer.learning_rate = float(lr)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {lr}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = current_learning_rate(self.model.optimizer)


def _from_tensor(value):
    """A one-element float tensor (``lr * ops.exp(-0.1)``) as its float; anything else unchanged."""
    torch = sys.modules.get("torch")  # a value can only be a tensor once torch is imported
    if torch is not None and isinstance(value, torch.Tensor) and value.numel() == 1 and value.is_floating_point():
        return value.item()
    return value


def _accepts_two_arguments(fn) -> bool:
    try:
        inspect.signature(fn).bind(0, 0.0)
    except TypeError:
        return False
    except ValueError:  # no signature to read (some builtins): assume Keras's (epoch, lr)
        return True
    return True

"""ReduceLROnPlateau: multiply the learning rate by ``factor`` when progress stalls.

Keras 3's rules, epoch by epoch: while cooling down, each epoch takes one off the
cooldown counter and clears the wait; an improvement (by more than
``min_delta``) becomes the new best and clears the wait; otherwise, outside a
cooldown, the wait grows and at ``patience`` the rate becomes
``max(lr·factor, min_lr)`` (only while lr > min_lr in float32) and a cooldown starts.
Every epoch's logs get the current ``learning_rate``, as in Keras 3.

The optimizer's rate is read in float32, as Keras keeps it in a float32 variable,
so the logged rates and the decisions are Keras's to the last bit.
"""
from __future__ import annotations

import warnings

import numpy as np

from ..errors import SpecError
from .monitor_callback import MonitorCallback
from .registry import register_callback


def current_learning_rate(optimizer) -> float:
    """The rate as Keras reports it: the float32 value of the optimizer's variable."""
    return float(np.float32(float(optimizer.learning_rate)))


@register_callback("ReduceLROnPlateau")
class ReduceLROnPlateau(MonitorCallback):
    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto", min_delta=1e-4,
                 cooldown=0, min_lr=0.0):
        super().__init__(monitor, mode, min_delta=min_delta)
        if factor >= 1.0:
            raise SpecError(f"ReduceLROnPlateau does not support a factor >= 1.0. Received factor={factor}")
        self.factor = factor
        self.patience = patience
        self.verbose = verbose
        self.cooldown = cooldown
        self.min_lr = min_lr
        self.cooldown_counter = 0
        self.wait = 0

    def get_config(self):
        return {"monitor": self.monitor, "factor": self.factor, "patience": self.patience,
                "verbose": self.verbose, "mode": self.mode, "min_delta": self.min_delta,
                "cooldown": self.cooldown, "min_lr": self.min_lr}

    def on_train_begin(self, logs=None):
        self.best = None
        self.cooldown_counter = 0
        self.wait = 0

    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        logs = logs if logs is not None else {}
        logs["learning_rate"] = current_learning_rate(self.model.optimizer)
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"Learning rate reduction is conditioned on metric `{self.monitor}` which is not "
                          f"available. Available metrics are: {','.join(logs)}.", stacklevel=2)
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience and self._reduce(epoch):
                self.cooldown_counter = self.cooldown
                self.wait = 0

    def _reduce(self, epoch) -> bool:
        optimizer = self.model.optimizer
        old_lr = current_learning_rate(optimizer)
        if not old_lr > np.float32(self.min_lr):
            return False
        new_lr = max(old_lr * self.factor, self.min_lr)
        optimizer.learning_rate = new_lr
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new_lr}.")
        return True

"""LambdaCallback: a callback made of plain functions, one per hook.

``LambdaCallback(on_epoch_end=lambda epoch, logs: ...)``; any hook name works as
a keyword (``on_test_end=...``). Batch hooks are called only when given.
"""
from __future__ import annotations

from ..errors import SpecError, did_you_mean
from .callback import _BATCH_HOOKS, Callback

_HOOKS = tuple(name for name in vars(Callback) if name.startswith("on_"))


class LambdaCallback(Callback):
    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None, on_train_end=None,
                 on_train_batch_begin=None, on_train_batch_end=None, **kwargs):
        super().__init__()
        hooks = dict(on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end, on_train_begin=on_train_begin,
                     on_train_end=on_train_end, on_train_batch_begin=on_train_batch_begin,
                     on_train_batch_end=on_train_batch_end, **kwargs)
        for name, fn in hooks.items():
            if name not in _HOOKS:
                raise SpecError(f"LambdaCallback got '{name}', which is not a callback hook",
                                hint=did_you_mean(name, _HOOKS))
            if fn is not None and not callable(fn):
                raise SpecError(f"LambdaCallback's {name} must be a function. Received: {name}={fn!r}")
        self._given = {name: fn for name, fn in hooks.items() if fn is not None}
        self.__dict__.update(self._given)

    @property
    def needs_batch_logs(self) -> bool:
        return any(name in _BATCH_HOOKS for name in self._given)

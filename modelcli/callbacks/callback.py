"""Callback hooks with Keras's names, and the list that calls them in order.

The training loop only ever talks to a :class:`CallbackList`; everything optional
(progress bars, checkpoints, early stopping, logs) is a callback.
"""
from __future__ import annotations


class Callback:
    """Override any hook; ``self.model`` and ``self.params`` are set before training starts."""

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None): ...
    def on_train_end(self, logs=None): ...
    def on_epoch_begin(self, epoch, logs=None): ...
    def on_epoch_end(self, epoch, logs=None): ...
    def on_train_batch_begin(self, batch, logs=None): ...
    def on_train_batch_end(self, batch, logs=None): ...
    def on_test_begin(self, logs=None): ...
    def on_test_end(self, logs=None): ...
    def on_test_batch_begin(self, batch, logs=None): ...
    def on_test_batch_end(self, batch, logs=None): ...
    def on_predict_begin(self, logs=None): ...
    def on_predict_end(self, logs=None): ...
    def on_predict_batch_begin(self, batch, logs=None): ...
    def on_predict_batch_end(self, batch, logs=None): ...

    # Keras 2 names, still called by some user code.
    def on_batch_begin(self, batch, logs=None): ...
    def on_batch_end(self, batch, logs=None): ...

    @property
    def needs_batch_logs(self) -> bool:
        """True when a batch hook is overridden: only then does the loop build per-batch logs."""
        base = Callback
        return any(getattr(type(self), name) is not getattr(base, name) for name in _BATCH_HOOKS)


_BATCH_HOOKS = ("on_train_batch_begin", "on_train_batch_end", "on_test_batch_begin", "on_test_batch_end",
                "on_predict_batch_begin", "on_predict_batch_end", "on_batch_begin", "on_batch_end")


class CallbackList:
    def __init__(self, callbacks, model, params):
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            cb.set_model(model)
            cb.set_params(params)
        self.batch_callbacks = [cb for cb in self.callbacks if cb.needs_batch_logs]

    def _call(self, hook, *args):
        *args, logs = args
        logs = {} if logs is None else logs  # Keras hands every hook a dict, empty where it has no logs
        for cb in self.callbacks:
            getattr(cb, hook)(*args, logs)

    def on_train_begin(self, logs=None):
        self._call("on_train_begin", logs)

    def on_train_end(self, logs=None):
        self._call("on_train_end", logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._call("on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._call("on_epoch_end", epoch, logs)

    def on_test_begin(self, logs=None):
        self._call("on_test_begin", logs)

    def on_test_end(self, logs=None):
        self._call("on_test_end", logs)

    def on_predict_begin(self, logs=None):
        self._call("on_predict_begin", logs)

    def on_predict_end(self, logs=None):
        self._call("on_predict_end", logs)

    def batch_hook(self, hook, batch, logs=None):
        logs = {} if logs is None else logs
        for cb in self.batch_callbacks:
            getattr(cb, hook)(batch, logs)
            if hook == "on_train_batch_begin":
                cb.on_batch_begin(batch, logs)
            elif hook == "on_train_batch_end":
                cb.on_batch_end(batch, logs)

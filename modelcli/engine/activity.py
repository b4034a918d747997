"""Activity regularization: penalties on layer outputs, gathered while training.

The training step opens a bucket; models call :func:`record` after each layer,
which adds ``regularizer(output) / batch_size`` (Keras 3's normalization) for layers
that have an ``activity_regularizer``. Outside training nothing is gathered.
"""
from __future__ import annotations

import contextlib
import contextvars

_bucket = contextvars.ContextVar("modelcli_activity_losses", default=None)


@contextlib.contextmanager
def collecting():
    losses = []
    token = _bucket.set(losses)
    try:
        yield losses
    finally:
        _bucket.reset(token)


def record(layer, outputs) -> None:
    regularizer = layer.activity_regularizer
    if regularizer is None:
        return
    bucket = _bucket.get()
    if bucket is None:
        return
    for out in outputs if isinstance(outputs, (list, tuple)) else [outputs]:
        penalty = regularizer(out)
        bucket.append(penalty / out.shape[0] if out.ndim > 0 else penalty)

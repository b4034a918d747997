"""Which Keras wrote the file being read: ``"keras2"`` (tf.keras 2.x) or ``"keras3"``.

A few names mean different maths in the two (``hard_sigmoid``), so readers set the
flavour for the duration of a load and the lookups that care consult it.
"""
from __future__ import annotations

import contextlib
import contextvars

KERAS2 = "keras2"
KERAS3 = "keras3"
_current = contextvars.ContextVar("modelcli_flavour", default=KERAS3)


def current() -> str:
    return _current.get()


@contextlib.contextmanager
def reading(flavour: str):
    token = _current.set(flavour)
    try:
        yield
    finally:
        _current.reset(token)

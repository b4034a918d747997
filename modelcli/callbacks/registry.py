"""The callbacks a config file may name, by their Keras class names."""
from __future__ import annotations

from ..registry import Registry

CALLBACKS = Registry("callback")
register_callback = CALLBACKS.register

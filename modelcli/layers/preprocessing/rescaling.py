"""Rescaling: ``x · scale + offset``, in the compute dtype (integer images come out float).

``scale`` and ``offset`` are numbers or per-channel lists (broadcast against the
last axis). Keras writes a NumPy array given to it as
``{"class_name": "__numpy__", "config": {"value": [...], "dtype": ...}}``; such a
value is read back as an array and written the same way.
"""
from __future__ import annotations

import numbers

import numpy as np

from ... import backend
from ...engine.layer import Layer
from ...errors import SpecError
from ..registry import register_layer
from ._constant import Constant


@register_layer("Rescaling")
class Rescaling(Layer):
    supports_masking = True

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = _from_config_value(scale, "scale")
        self.offset = _from_config_value(offset, "offset")
        self._scale = Constant(self.scale)
        self._offset = Constant(self.offset)

    def call(self, inputs):
        x = inputs.to(backend.torch_dtype(self.compute_dtype))
        return x * self._scale.like(x) + self._offset.like(x)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "scale": _to_config_value(self.scale),
                "offset": _to_config_value(self.offset)}


def _from_config_value(value, name):
    """A number, a (nested) list of numbers, an array, or Keras's ``__numpy__`` dict for one."""
    if isinstance(value, dict) and value.get("class_name") == "__numpy__":
        config = value.get("config") or {}
        try:
            return np.asarray(config["value"], dtype=config.get("dtype"))
        except (KeyError, TypeError, ValueError):
            raise SpecError(f"expected {{value, dtype}} in a __numpy__ array, got {config!r}", where=name) from None
    array = np.asarray(value) if isinstance(value, (list, tuple, np.ndarray, numbers.Number)) else None
    if array is None or isinstance(value, bool) or not np.issubdtype(array.dtype, np.number):
        raise SpecError(f"expected a number or a list of numbers, got {value!r}", where=name)
    return value


def _to_config_value(value):
    if isinstance(value, np.ndarray):
        return {"class_name": "__numpy__", "config": {"value": value.tolist(), "dtype": str(value.dtype)}}
    if isinstance(value, np.generic):
        return value.item()
    return value

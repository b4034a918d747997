"""UnitNormalization: each sample scaled to L2 norm 1 over ``axis``; no weights.

``x · min(1/√Σx², cap)``: the cap keeps an all-zero (or nearly zero) sample finite.
Keras 3 caps at 1e12; Keras 2 (``tf.math.l2_normalize``, ε = 1e-12 under the root)
caps at 1e6, so a layer read from a Keras 2 file keeps Keras 2's cap. The cap is
applied as a floor on Σx² (1/cap²), which gives the same numbers and, unlike a
minimum after the root, a zero gradient rather than NaN for an all-zero sample.
Half-precision inputs are summed in float32 (Σx² overflows float16 from a norm of
256) and the result cast back.
"""
from __future__ import annotations

import torch

from ... import flavour
from ...engine.layer import Layer
from ...errors import SpecError
from ..registry import register_layer
from .layer_normalization import _check_axes

_MAX_INVERSE_NORM = {flavour.KERAS2: 1e6, flavour.KERAS3: 1e12}


@register_layer("UnitNormalization")
class UnitNormalization(Layer):
    supports_masking = True

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = _axis_argument(axis)
        self._min_square_sum = _MAX_INVERSE_NORM[flavour.current()] ** -2

    def call(self, inputs):
        axes = _check_axes(self._axes(), inputs.shape, self.name)
        dtype = inputs.dtype
        x = inputs.float() if dtype in (torch.float16, torch.bfloat16) else inputs
        square_sum = torch.sum(x * x, dim=axes, keepdim=True)
        return (x * torch.rsqrt(torch.clamp(square_sum, min=self._min_square_sum))).to(dtype)

    def compute_output_shape(self, input_shape):
        _check_axes(self._axes(), input_shape, self.name)
        return tuple(input_shape)

    def _axes(self) -> list:
        return self.axis if isinstance(self.axis, list) else [self.axis]

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


def _axis_argument(axis):
    """An integer, or a list of integers (a tuple becomes a list, as Keras keeps it)."""
    if isinstance(axis, (list, tuple)) and axis and all(_is_int(a) for a in axis):
        return list(axis)
    if _is_int(axis):
        return axis
    raise SpecError(f"expected an integer or a list of integers, got {axis!r}", where="axis")


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)

"""Masking: skips timesteps whose features all equal ``mask_value``.

The output mask is ``any(x != mask_value, axis=-1)``; masked timesteps come out
as zeros, as in Keras.
"""
from __future__ import annotations

import numbers

from ...engine.layer import Layer
from ...errors import SpecError
from ..registry import register_layer


@register_layer("Masking")
class Masking(Layer):
    supports_masking = True

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(mask_value, numbers.Real) or isinstance(mask_value, bool):
            raise SpecError(f"expected a number, got {mask_value!r}", where="mask_value")
        self.mask_value = mask_value

    def call(self, inputs):
        keep = (inputs != self.mask_value).any(dim=-1, keepdim=True)
        return inputs.masked_fill(~keep, 0)

    def compute_mask(self, inputs, mask=None):
        return (inputs != self.mask_value).any(dim=-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "mask_value": self.mask_value}

"""Identity: returns its input unchanged (masks pass through)."""
from __future__ import annotations

from ...engine.layer import Layer
from ..registry import register_layer


@register_layer("Identity")
class Identity(Layer):
    supports_masking = True

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

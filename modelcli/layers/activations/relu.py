"""ReLU with Keras's options: ``x`` above ``threshold`` (capped at ``max_value``), else
``negative_slope·(x - threshold)``."""
from __future__ import annotations

from ... import activations
from ...engine.layer import Layer
from ..registry import register_layer
from ._checks import non_negative


@register_layer("ReLU")
class ReLU(Layer):
    supports_masking = True

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        self.max_value = non_negative(max_value, "max_value", allow_none=True)
        self.negative_slope = non_negative(negative_slope, "negative_slope")
        self.threshold = non_negative(threshold, "threshold")

    def call(self, inputs):
        return activations.relu(inputs, negative_slope=self.negative_slope, max_value=self.max_value,
                                threshold=self.threshold)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "max_value": self.max_value, "negative_slope": self.negative_slope,
                "threshold": self.threshold}

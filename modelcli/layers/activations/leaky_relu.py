"""LeakyReLU: ``x`` for x >= 0, ``negative_slope·x`` below.

Keras 3 calls the slope ``negative_slope``; Keras 2 called it ``alpha`` (same
meaning, same 0.3 default), which is read and written back as ``negative_slope``.
"""
from __future__ import annotations

import torch.nn.functional as F

from ...engine.layer import Layer
from ..registry import register_layer
from ._checks import non_negative


@register_layer("LeakyReLU")
class LeakyReLU(Layer):
    supports_masking = True

    def __init__(self, negative_slope=0.3, **kwargs):
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
        super().__init__(**kwargs)
        self.negative_slope = non_negative(negative_slope, "negative_slope")

    def call(self, inputs):
        return F.leaky_relu(inputs, self.negative_slope)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}

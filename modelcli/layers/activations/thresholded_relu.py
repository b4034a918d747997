"""ThresholdedReLU (Keras 2 only): ``x`` where x > theta, else 0.

Keras 3 dropped the class (``ReLU(threshold=theta)`` differs: it keeps the
leaky part and caps); it is kept so Keras 2 files load with their meaning.
"""
from __future__ import annotations

import torch

from ...engine.layer import Layer
from ..registry import register_layer
from ._checks import non_negative


@register_layer("ThresholdedReLU")
class ThresholdedReLU(Layer):
    supports_masking = True

    def __init__(self, theta=1.0, **kwargs):
        super().__init__(**kwargs)
        self.theta = non_negative(theta, "theta")

    def call(self, inputs):
        return torch.where(inputs > self.theta, inputs, torch.zeros_like(inputs))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "theta": self.theta}

"""Activation: applies a named activation function elementwise (masks pass through)."""
from __future__ import annotations

from ... import activations
from ...engine.layer import Layer
from ..registry import register_layer


@register_layer("Activation")
class Activation(Layer):
    supports_masking = True

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation, "activation")

    def call(self, inputs):
        return self.activation(inputs)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "activation": activations.serialize(self.activation)}

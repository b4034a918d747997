"""Flatten: ``(batch, d1, ..., dn) -> (batch, d1·...·dn)``.

With ``channels_first`` the channel axis is first moved last, so the flattened
order is the channels_last one whichever layout the data came in (as Keras does).
"""
from __future__ import annotations

import math

from ...engine.layer import Layer
from ..registry import register_layer
from ._spatial import check_data_format


@register_layer("Flatten")
class Flatten(Layer):
    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = check_data_format(data_format)

    def call(self, inputs):
        if self.data_format == "channels_first" and inputs.dim() > 2:
            inputs = inputs.permute(0, *range(2, inputs.dim()), 1)
        return inputs.reshape(inputs.shape[0], -1)

    def compute_output_shape(self, input_shape):
        dims = tuple(input_shape[1:])
        flat = None if None in dims else math.prod(dims)
        return (input_shape[0], flat)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}

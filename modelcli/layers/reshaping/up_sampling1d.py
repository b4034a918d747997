"""UpSampling1D: repeats each timestep ``size`` times, ``(batch, steps, features)``."""
from __future__ import annotations

from ..registry import register_layer
from ._spatial import SpatialLayer, positive_int


@register_layer("UpSampling1D")
class UpSampling1D(SpatialLayer):
    rank = 1
    data_format = "channels_last"

    def __init__(self, size=2, **kwargs):
        super().__init__(**kwargs)
        self.size = positive_int(size, "size")

    def call(self, inputs):
        return inputs.repeat_interleave(self.size, dim=1)

    def compute_output_shape(self, input_shape):
        return self._map_spatial(input_shape, lambda n, i: n * self.size)

    def get_config(self):
        return {**super().get_config(), "size": self.size}

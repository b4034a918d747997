"""UpSampling3D: repeats each voxel ``size`` times along the three spatial axes."""
from __future__ import annotations

from ..registry import register_layer
from ._spatial import SpatialLayer, check_data_format, int_tuple


@register_layer("UpSampling3D")
class UpSampling3D(SpatialLayer):
    rank = 3

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.size = int_tuple(size, 3, "size")
        self.data_format = check_data_format(data_format)

    def call(self, inputs):
        for factor, axis in zip(self.size, self._spatial_axes()):
            inputs = inputs.repeat_interleave(factor, axis)
        return inputs

    def compute_output_shape(self, input_shape):
        return self._map_spatial(input_shape, lambda n, i: n * self.size[i])

    def get_config(self):
        return {**super().get_config(), "size": self.size, "data_format": self.data_format}

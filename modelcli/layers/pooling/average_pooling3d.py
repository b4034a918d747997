"""AveragePooling3D: the mean of each window over depth, height and width; strides default to pool_size."""
from ..registry import register_layer
from .base_pooling import BasePooling


@register_layer("AveragePooling3D", "AvgPool3D")
class AveragePooling3D(BasePooling):
    rank = 3
    mode = "average"

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)

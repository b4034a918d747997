"""AveragePooling1D: the mean of each window over steps; strides default to pool_size."""
from ..registry import register_layer
from .base_pooling import BasePooling


@register_layer("AveragePooling1D", "AvgPool1D")
class AveragePooling1D(BasePooling):
    rank = 1
    mode = "average"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)

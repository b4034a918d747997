"""MaxPooling1D: the largest value of each window over steps; strides default to pool_size."""
from ..registry import register_layer
from .base_pooling import BasePooling


@register_layer("MaxPooling1D", "MaxPool1D")
class MaxPooling1D(BasePooling):
    rank = 1
    mode = "max"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)

"""The pooling shared by AdaptiveAveragePooling1D/2D/3D and AdaptiveMaxPooling1D/2D/3D (Keras ≥ 3.12).

The output has a fixed spatial size, ``output_size``, whatever the input's. Along an
axis of length ``L`` pooled to ``n`` bins, bin ``i`` covers
``[floor(i·L/n), ceil((i+1)·L/n))``: equal windows when ``n`` divides ``L``, otherwise
windows of unequal, sometimes overlapping lengths. That is torch's adaptive pooling,
which is what Keras computes on its torch backend.
"""
from __future__ import annotations

import torch.nn.functional as F

from ...engine.layer import Layer
from ..convolutional import conv_utils as cu

ADAPTIVE_AVG_POOL = {1: F.adaptive_avg_pool1d, 2: F.adaptive_avg_pool2d, 3: F.adaptive_avg_pool3d}
ADAPTIVE_MAX_POOL = {1: F.adaptive_max_pool1d, 2: F.adaptive_max_pool2d, 3: F.adaptive_max_pool3d}


class BaseAdaptivePooling(Layer):
    rank: int
    mode: str  # "max" or "average"

    def __init__(self, output_size, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.output_size = cu.int_tuple(output_size, self.rank, "output_size")
        self.data_format = cu.data_format_name(data_format)

    def build(self, input_shape):
        cu.check_rank(self, input_shape, self.rank)

    def call(self, inputs):
        pool = ADAPTIVE_MAX_POOL if self.mode == "max" else ADAPTIVE_AVG_POOL
        y = pool[self.rank](cu.channels_first(inputs, self.data_format), self.output_size)
        return cu.back_to(self.data_format, y)

    def compute_output_shape(self, input_shape):
        cu.check_rank(self, input_shape, self.rank)
        channels = cu.channel_dim(input_shape, self.data_format)
        return cu.with_channels(input_shape[0], self.output_size, channels, self.data_format)

    def get_config(self):
        return {**super().get_config(), "output_size": self.output_size, "data_format": self.data_format}

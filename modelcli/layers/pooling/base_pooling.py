"""The N-D max and average pooling shared by MaxPooling1D/2D/3D and AveragePooling1D/2D/3D.

``same`` padding follows Keras (TensorFlow's rule, the extra pixel after): max pooling
ignores the padding and average pooling divides by the number of valid elements in each
window (AveragePooling1D(3, 1, 'same') on [1..5] gives [1.5, 2, 3, 4, 4.5]). torch's
``padding`` argument does exactly that when the split is symmetric; otherwise the input
is padded explicitly (with -inf for max; with zeros for average, whose window sums are
then divided by the valid counts).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ...engine.layer import Layer
from ..convolutional import conv_utils as cu

MAX_POOL = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
AVG_POOL = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}


class BasePooling(Layer):
    rank: int
    mode: str  # "max" or "average"

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.pool_size = cu.int_tuple(pool_size, self.rank, "pool_size")
        self.strides = self.pool_size if strides is None else cu.int_tuple(strides, self.rank, "strides")
        self.padding = cu.padding_mode(padding)
        self.data_format = cu.data_format_name(data_format)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)  # refuses a wrong rank or a window larger than the input

    def call(self, inputs):
        x = cu.channels_first(inputs, self.data_format)
        spatial = tuple(x.shape[2:])
        ones = (1,) * self.rank
        padding, explicit = cu.torch_padding(spatial, self.pool_size, self.strides, ones, self.padding)
        if self.mode == "max":
            if explicit:
                x = F.pad(x, explicit, value=float("-inf"))
            y = MAX_POOL[self.rank](x, self.pool_size, self.strides, padding)
        elif explicit:
            y = AVG_POOL[self.rank](F.pad(x, explicit), self.pool_size, self.strides) * self._count_scale(spatial, x)
        else:
            y = AVG_POOL[self.rank](x, self.pool_size, self.strides, padding, count_include_pad=False)
        return cu.back_to(self.data_format, y)

    def _count_scale(self, spatial, x):
        """pool_size / (valid elements in each window), broadcast over (N, C, spatial...)."""
        scale = None
        for axis, (n, k, s) in enumerate(zip(spatial, self.pool_size, self.strides)):
            before, _ = cu.same_padding(n, k, s)
            starts = [j * s - before for j in range((n - 1) // s + 1)]
            factors = [k / (min(a + k, n) - max(a, 0)) for a in starts]
            shape = [1] * (self.rank + 2)
            shape[axis + 2] = len(factors)
            factor = torch.tensor(factors, dtype=x.dtype, device=x.device).view(shape)
            scale = factor if scale is None else scale * factor
        return scale

    def compute_output_shape(self, input_shape):
        channels = cu.channel_dim(input_shape, self.data_format)
        return cu.window_output_shape(self, input_shape, self.rank, self.pool_size, self.strides,
                                      (1,) * self.rank, self.padding, self.data_format, channels)

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size, "padding": self.padding,
                "strides": self.strides, "data_format": self.data_format}


"""The global max and average pooling shared by GlobalMaxPooling1D/2D/3D and GlobalAveragePooling1D/2D/3D."""
from __future__ import annotations

from ...engine.layer import Layer
from ..convolutional import conv_utils as cu


class BaseGlobalPooling(Layer):
    rank: int

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = cu.data_format_name(data_format)
        self.keepdims = bool(keepdims)

    def build(self, input_shape):
        cu.check_rank(self, input_shape, self.rank)

    @property
    def spatial_axes(self) -> tuple:
        first = 1 if self.data_format == "channels_last" else 2
        return tuple(range(first, first + self.rank))

    def compute_output_shape(self, input_shape):
        cu.check_rank(self, input_shape, self.rank)
        channels = cu.channel_dim(input_shape, self.data_format)
        if not self.keepdims:
            return (input_shape[0], channels)
        return cu.with_channels(input_shape[0], (1,) * self.rank, channels, self.data_format)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}

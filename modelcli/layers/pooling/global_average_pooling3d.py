"""GlobalAveragePooling3D: the mean of each channel over depth, height and width."""
from ..registry import register_layer
from .base_global_pooling import BaseGlobalPooling


@register_layer("GlobalAveragePooling3D", "GlobalAvgPool3D")
class GlobalAveragePooling3D(BaseGlobalPooling):
    rank = 3

    def call(self, inputs):
        return inputs.mean(dim=self.spatial_axes, keepdim=self.keepdims)

"""GlobalAveragePooling2D: the mean of each channel over height and width."""
from ..registry import register_layer
from .base_global_pooling import BaseGlobalPooling


@register_layer("GlobalAveragePooling2D", "GlobalAvgPool2D")
class GlobalAveragePooling2D(BaseGlobalPooling):
    rank = 2

    def call(self, inputs):
        return inputs.mean(dim=self.spatial_axes, keepdim=self.keepdims)

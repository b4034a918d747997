"""GlobalMaxPooling3D: the largest value of each channel over depth, height and width."""
from ..registry import register_layer
from .base_global_pooling import BaseGlobalPooling


@register_layer("GlobalMaxPooling3D", "GlobalMaxPool3D")
class GlobalMaxPooling3D(BaseGlobalPooling):
    rank = 3

    def call(self, inputs):
        return inputs.amax(dim=self.spatial_axes, keepdim=self.keepdims)

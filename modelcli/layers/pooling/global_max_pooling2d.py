"""GlobalMaxPooling2D: the largest value of each channel over height and width."""
from ..registry import register_layer
from .base_global_pooling import BaseGlobalPooling


@register_layer("GlobalMaxPooling2D", "GlobalMaxPool2D")
class GlobalMaxPooling2D(BaseGlobalPooling):
    rank = 2

    def call(self, inputs):
        return inputs.amax(dim=self.spatial_axes, keepdim=self.keepdims)

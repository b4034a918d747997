"""GlobalMaxPooling1D: the largest value of each channel over steps."""
from ..registry import register_layer
from .base_global_pooling import BaseGlobalPooling


@register_layer("GlobalMaxPooling1D", "GlobalMaxPool1D")
class GlobalMaxPooling1D(BaseGlobalPooling):
    rank = 1

    def call(self, inputs):
        return inputs.amax(dim=self.spatial_axes, keepdim=self.keepdims)

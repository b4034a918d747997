"""GlobalAveragePooling1D: the mean of each channel over steps; with a mask, over the unmasked steps only.

The output has no steps left, so no mask goes further (as in Keras).
"""
from ..registry import register_layer
from .base_global_pooling import BaseGlobalPooling


@register_layer("GlobalAveragePooling1D", "GlobalAvgPool1D")
class GlobalAveragePooling1D(BaseGlobalPooling):
    rank = 1
    supports_masking = True

    def call(self, inputs, mask=None):
        steps = self.spatial_axes[0]
        if mask is None:
            return inputs.mean(dim=steps, keepdim=self.keepdims)
        weights = mask.to(inputs.dtype).unsqueeze(2 if self.data_format == "channels_last" else 1)
        total = (inputs * weights).sum(dim=steps, keepdim=self.keepdims)
        return total / weights.sum(dim=steps, keepdim=self.keepdims)

    def compute_mask(self, inputs, mask=None):
        return None

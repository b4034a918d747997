"""AdaptiveAveragePooling1D: the mean of each channel over the steps, in ``output_size`` bins."""
from ..registry import register_layer
from .base_adaptive_pooling import BaseAdaptivePooling


@register_layer("AdaptiveAveragePooling1D")
class AdaptiveAveragePooling1D(BaseAdaptivePooling):
    rank = 1
    mode = "average"

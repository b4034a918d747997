"""AdaptiveMaxPooling1D: the maximum of each channel over the steps, in ``output_size`` bins."""
from ..registry import register_layer
from .base_adaptive_pooling import BaseAdaptivePooling


@register_layer("AdaptiveMaxPooling1D")
class AdaptiveMaxPooling1D(BaseAdaptivePooling):
    rank = 1
    mode = "max"

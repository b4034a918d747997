"""AdaptiveMaxPooling2D: the maximum of each channel over height and width, in ``output_size`` bins."""
from ..registry import register_layer
from .base_adaptive_pooling import BaseAdaptivePooling


@register_layer("AdaptiveMaxPooling2D")
class AdaptiveMaxPooling2D(BaseAdaptivePooling):
    rank = 2
    mode = "max"

"""AdaptiveAveragePooling2D: the mean of each channel over height and width, in ``output_size`` bins."""
from ..registry import register_layer
from .base_adaptive_pooling import BaseAdaptivePooling


@register_layer("AdaptiveAveragePooling2D")
class AdaptiveAveragePooling2D(BaseAdaptivePooling):
    rank = 2
    mode = "average"

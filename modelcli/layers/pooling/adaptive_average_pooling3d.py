"""AdaptiveAveragePooling3D: the mean of each channel over depth, height and width, in ``output_size`` bins."""
from ..registry import register_layer
from .base_adaptive_pooling import BaseAdaptivePooling


@register_layer("AdaptiveAveragePooling3D")
class AdaptiveAveragePooling3D(BaseAdaptivePooling):
    rank = 3
    mode = "average"

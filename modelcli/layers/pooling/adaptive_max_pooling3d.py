"""AdaptiveMaxPooling3D: the maximum of each channel over depth, height and width, in ``output_size`` bins."""
from ..registry import register_layer
from .base_adaptive_pooling import BaseAdaptivePooling


@register_layer("AdaptiveMaxPooling3D")
class AdaptiveMaxPooling3D(BaseAdaptivePooling):
    rank = 3
    mode = "max"

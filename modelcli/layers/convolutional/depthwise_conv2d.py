"""DepthwiseConv2D: each channel convolved over height and width with its own ``depth_multiplier`` filters."""
from ..registry import register_layer
from .base_depthwise_conv import BaseDepthwiseConv


@register_layer("DepthwiseConv2D")
class DepthwiseConv2D(BaseDepthwiseConv):
    rank = 2

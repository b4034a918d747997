"""DepthwiseConv1D: each channel convolved over steps with its own ``depth_multiplier`` filters."""
from ..registry import register_layer
from .base_depthwise_conv import BaseDepthwiseConv


@register_layer("DepthwiseConv1D")
class DepthwiseConv1D(BaseDepthwiseConv):
    rank = 1

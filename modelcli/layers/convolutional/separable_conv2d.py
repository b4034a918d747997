"""SeparableConv2D: a depthwise convolution over height and width, then a pointwise (1×1) convolution."""
from ..registry import register_layer
from .base_separable_conv import BaseSeparableConv


@register_layer("SeparableConv2D", "SeparableConvolution2D")
class SeparableConv2D(BaseSeparableConv):
    rank = 2

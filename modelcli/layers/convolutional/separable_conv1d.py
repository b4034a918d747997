"""SeparableConv1D: a depthwise convolution over steps, then a pointwise (1-wide) convolution."""
from ..registry import register_layer
from .base_separable_conv import BaseSeparableConv


@register_layer("SeparableConv1D", "SeparableConvolution1D")
class SeparableConv1D(BaseSeparableConv):
    rank = 1

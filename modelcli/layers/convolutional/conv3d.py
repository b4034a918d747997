"""Conv3D: convolution over depth, height and width."""
from ..registry import register_layer
from .base_conv import BaseConv


@register_layer("Conv3D", "Convolution3D")
class Conv3D(BaseConv):
    rank = 3

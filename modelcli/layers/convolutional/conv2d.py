"""Conv2D: convolution over height and width."""
from ..registry import register_layer
from .base_conv import BaseConv


@register_layer("Conv2D", "Convolution2D")
class Conv2D(BaseConv):
    rank = 2

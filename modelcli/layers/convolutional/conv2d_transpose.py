"""Conv2DTranspose: transposed convolution over height and width (kernel in Keras as (k..., filters, in))."""
from ..registry import register_layer
from .base_conv_transpose import BaseConvTranspose


@register_layer("Conv2DTranspose", "Convolution2DTranspose")
class Conv2DTranspose(BaseConvTranspose):
    rank = 2

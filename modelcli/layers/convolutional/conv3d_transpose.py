"""Conv3DTranspose: transposed convolution over depth, height and width (kernel in Keras as (k..., filters, in))."""
from ..registry import register_layer
from .base_conv_transpose import BaseConvTranspose


@register_layer("Conv3DTranspose", "Convolution3DTranspose")
class Conv3DTranspose(BaseConvTranspose):
    rank = 3

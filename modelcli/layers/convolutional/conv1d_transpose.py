"""Conv1DTranspose: transposed convolution over steps (kernel in Keras as (k..., filters, in))."""
from ..registry import register_layer
from .base_conv_transpose import BaseConvTranspose


@register_layer("Conv1DTranspose", "Convolution1DTranspose")
class Conv1DTranspose(BaseConvTranspose):
    rank = 1

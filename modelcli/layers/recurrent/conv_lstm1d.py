"""ConvLSTM1D: an LSTM whose products are 1-D convolutions.

Inputs are ``(batch, time, length, channels)``, or channels first with ``data_format='channels_first'``.
"""
from ..registry import register_layer
from .conv_lstm import ConvLSTM


@register_layer("ConvLSTM1D")
class ConvLSTM1D(ConvLSTM):
    rank = 1

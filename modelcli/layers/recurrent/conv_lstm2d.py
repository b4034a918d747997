"""ConvLSTM2D: an LSTM whose products are 2-D convolutions.

Inputs are ``(batch, time, rows, cols, channels)``, or channels first with ``data_format='channels_first'``.
"""
from ..registry import register_layer
from .conv_lstm import ConvLSTM


@register_layer("ConvLSTM2D")
class ConvLSTM2D(ConvLSTM):
    rank = 2

"""ConvLSTM3D: an LSTM whose products are 3-D convolutions.

Inputs are ``(batch, time, depth, rows, cols, channels)``, or channels first with ``data_format='channels_first'``.
"""
from ..registry import register_layer
from .conv_lstm import ConvLSTM


@register_layer("ConvLSTM3D")
class ConvLSTM3D(ConvLSTM):
    rank = 3

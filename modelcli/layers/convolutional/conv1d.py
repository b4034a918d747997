"""Conv1D: convolution over steps; ``causal`` pads ``(k - 1)·d`` before, so step t sees only steps <= t."""
from ..registry import register_layer
from .base_conv import BaseConv


@register_layer("Conv1D", "Convolution1D")
class Conv1D(BaseConv):
    rank = 1
    paddings = ("valid", "same", "causal")

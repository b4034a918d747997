"""Softmax over ``axis`` (an int or several axes), honouring a mask.

With a mask (broadcastable to the inputs; non-boolean masks mean ``> 0.5``),
masked positions are replaced by a large negative number (-1e9, or -3e4 in
float16) before the softmax and set to 0 after it, so a fully masked row gives
zeros (Keras 3's rule; Keras 2 added the negative number and kept a uniform row).
"""
from __future__ import annotations

import numbers

import torch

from ...engine.layer import Layer
from ...errors import SpecError
from ..registry import register_layer


def _is_axis(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


@register_layer("Softmax")
class Softmax(Layer):
    supports_masking = True

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, list):
            axis = tuple(axis)
        if not (_is_axis(axis) or (isinstance(axis, tuple) and axis and all(_is_axis(a) for a in axis))):
            raise SpecError(f"expected an axis or a list of axes, got {axis!r}", where="axis")
        self.axis = axis

    def call(self, inputs, mask=None):
        if mask is not None:
            mask = self._broadcastable_mask(inputs, mask)
            large_negative = -3e4 if inputs.dtype == torch.float16 else -1e9
            inputs = inputs.masked_fill(~mask, large_negative)
        if _is_axis(self.axis) or len(self.axis) == 1:
            outputs = torch.softmax(inputs, dim=self.axis if _is_axis(self.axis) else self.axis[0])
        else:
            outputs = torch.exp(inputs - torch.logsumexp(inputs, dim=self.axis, keepdim=True))
        return outputs if mask is None else outputs.masked_fill(~mask, 0.0)

    @staticmethod
    def _broadcastable_mask(inputs, mask):
        if mask.dim() > inputs.dim() or any(m not in (1, i) for m, i in zip(mask.shape[::-1], inputs.shape[::-1])):
            raise SpecError(f"a mask of shape {tuple(mask.shape)} does not broadcast to inputs of shape "
                            f"{tuple(inputs.shape)}", where="mask")
        return mask if mask.dtype == torch.bool else mask > 0.5

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}

"""Concatenate: join a list of tensors along ``axis``; the other dimensions must agree.

The output mask (Keras 3): each input's mask, all-True for an input without
one, joined along ``axis``; joining along the feature axis leaves ``(B, T)``
masks, so there it is their logical OR.
"""
from __future__ import annotations

import torch

from ...errors import SpecError
from ..registry import register_layer
from .base_merge import Merge


@register_layer("Concatenate")
class Concatenate(Merge):
    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(axis, int) or isinstance(axis, bool):
            raise SpecError(f"expected an integer axis, got {axis!r}", where="axis")
        self.axis = axis

    def build(self, input_shape):
        self.compute_output_shape(input_shape)

    def call(self, inputs, mask=None):
        return torch.cat(self._check_tensor_list(inputs), dim=self.axis)

    def compute_output_shape(self, input_shape):
        self._check_shape_list(input_shape)
        first = tuple(input_shape[0])
        rank = len(first)
        if not -rank <= self.axis < rank:
            raise SpecError(f"axis {self.axis} is out of bounds for input shape {first}", where=self.name)
        axis = self.axis % rank
        output = list(first)
        for shape in input_shape[1:]:
            shape = tuple(shape)
            if len(shape) != rank or any(a is not None and b is not None and a != b
                                         for i, (a, b) in enumerate(zip(first, shape)) if i != axis):
                raise SpecError(f"Concatenate needs inputs with the same shape except on axis {self.axis}, "
                                f"got {first} and {shape}", where=self.name)
        sizes = [tuple(s)[axis] for s in input_shape]
        output[axis] = None if None in sizes else sum(sizes)
        return tuple(output)

    def compute_mask(self, inputs, mask=None):
        if not isinstance(mask, (list, tuple)) or all(m is None for m in mask):
            return None
        rank = inputs[0].dim()
        axis = self.axis % rank
        masks = [torch.ones(x.shape[:-1], dtype=torch.bool, device=x.device) if m is None else m.to(torch.bool)
                 for x, m in zip(inputs, mask)]
        if any(m.dim() != rank - 1 for m in masks):
            # Masks shaped like their inputs: join them whole, then reduce the feature axis.
            full = [m if m.dim() == rank else m.unsqueeze(-1).expand_as(x) for x, m in zip(inputs, masks)]
            return torch.cat(full, dim=axis).any(dim=-1)
        if axis == rank - 1:
            out = masks[0]
            for m in masks[1:]:
                out = out | m
            return out
        return torch.cat(masks, dim=axis)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


def concatenate(inputs, axis=-1, **kwargs):
    """``Concatenate(axis=axis, **kwargs)(inputs)``."""
    return Concatenate(axis=axis, **kwargs)(inputs)

"""The base of the merge layers: a LIST of tensors in, one tensor out.

Shapes broadcast as in Keras: the batch dimension must agree, the other
dimensions align from the right and a size of 1 stretches. Inputs of lower rank
get size-1 axes inserted right after the batch axis (``(B, 3)`` meets
``(B, 4, 3)`` as ``(B, 1, 3)``). The output mask is the logical OR of the input
masks when every input has one, else there is none (Keras 3's rule).
"""
from __future__ import annotations

import torch

from ...engine.layer import Layer
from ...errors import SpecError


class Merge(Layer):
    supports_masking = True

    def build(self, input_shape):
        self._check_shape_list(input_shape)
        self.compute_output_shape(input_shape)

    def call(self, inputs, mask=None):
        inputs = self._check_tensor_list(inputs)
        ranks = {x.dim() for x in inputs}
        if len(ranks) > 1:
            # Keras inserts axes after the batch axis; the new tensors carry no masks.
            rank = max(ranks)
            inputs = [x.reshape(x.shape[:1] + (1,) * (rank - x.dim()) + x.shape[1:]) for x in inputs]
            masks = [None] * len(inputs)
        else:
            masks = _input_masks(inputs, mask)
        return self._merge(inputs, masks)

    def _merge(self, inputs, masks):  # pragma: no cover - abstract
        raise NotImplementedError

    def compute_output_shape(self, input_shape):
        self._check_shape_list(input_shape)
        output = tuple(input_shape[0][1:])
        for shape in input_shape[1:]:
            output = self._broadcast(output, tuple(shape[1:]), input_shape)
        batch_sizes = {s[0] for s in input_shape} - {None}
        if len(batch_sizes) > 1:
            raise SpecError(f"{type(self).__name__} cannot merge tensors with different batch sizes, got shapes "
                            f"{_shapes(input_shape)}", where=self.name)
        return (batch_sizes.pop() if batch_sizes else None,) + output

    def _broadcast(self, a, b, all_shapes):
        if len(a) < len(b):
            a, b = b, a
        if not b:
            return a
        out = list(a[:len(a) - len(b)])
        for i, j in zip(a[len(a) - len(b):], b):
            if i is None or j is None:
                out.append(None)
            elif i == 1 or j == 1:
                out.append(j if i == 1 else i)
            elif i != j:
                raise SpecError(f"{type(self).__name__} got inputs with incompatible shapes "
                                f"{_shapes(all_shapes)}", where=self.name)
            else:
                out.append(i)
        return tuple(out)

    def compute_mask(self, inputs, mask=None):
        if mask is None or not isinstance(mask, (list, tuple)):
            return None
        if any(m is None for m in mask):
            return None
        out = mask[0].to(torch.bool)
        for m in mask[1:]:
            out = out | m.to(torch.bool)
        return out

    def _check_shape_list(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or not input_shape \
                or not all(isinstance(s, (list, tuple)) for s in input_shape):
            raise SpecError(f"{type(self).__name__} must be called on a list of tensors, got input shape "
                            f"{input_shape}", where=self.name)

    def _check_tensor_list(self, inputs):
        if not isinstance(inputs, (list, tuple)) or not inputs:
            raise SpecError(f"{type(self).__name__} must be called on a list of tensors, got "
                            f"{type(inputs).__name__}", where=self.name)
        return list(inputs)


def _input_masks(inputs, mask):
    """The mask of each input: the one the caller passed, else the one the tensor carries."""
    given = list(mask) if isinstance(mask, (list, tuple)) else [None] * len(inputs)
    return [m if m is not None else getattr(x, "_keras_mask", None) for x, m in zip(inputs, given)]


def _expanded(mask, x):
    """A ``(B, T)`` mask broadcast over the feature axis of ``x``."""
    return mask.to(torch.bool).unsqueeze(-1).expand_as(x)


def _shapes(shapes) -> str:
    return ", ".join(str(tuple(s)) for s in shapes)

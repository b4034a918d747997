"""Dot: the per-sample dot product of two tensors along ``axes``.

For ``x`` of shape ``(B, X..., K)`` and ``y`` of shape ``(B, K, Y...)`` (after
moving the summed axes there) the output is ``(B, X..., Y...)``; a result of
rank 1 becomes ``(B, 1)``. ``normalize=True`` first divides each input by its L2
norm along the summed axis (``x · min(1/‖x‖, 1e7)``), giving cosine similarity.
"""
from __future__ import annotations

import torch

from ...errors import SpecError
from ..registry import register_layer
from .base_merge import Merge

# Keras's ``backend.epsilon()``, the floor of the norm when normalizing.
_EPSILON = 1e-7


@register_layer("Dot")
class Dot(Merge):
    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axes, (list, tuple)):
            if len(axes) != 2 or not all(isinstance(a, int) and not isinstance(a, bool) for a in axes):
                raise SpecError(f"expected an integer or two integers, got {axes!r}", where="axes")
        elif not isinstance(axes, int) or isinstance(axes, bool):
            raise SpecError(f"expected an integer or two integers, got {axes!r}", where="axes")
        self.axes = axes
        self.normalize = bool(normalize)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)

    def _axes_for(self, rank1, rank2) -> tuple[int, int]:
        axes = (self.axes, self.axes) if isinstance(self.axes, int) else tuple(self.axes)
        return axes[0] % rank1, axes[1] % rank2

    def call(self, inputs):
        x, y = self._two(self._check_tensor_list(inputs))
        a0, a1 = self._axes_for(x.dim(), y.dim())
        if self.normalize:
            x = x * torch.rsqrt(x.square().sum(a0, keepdim=True)).clamp_max(1.0 / _EPSILON)
            y = y * torch.rsqrt(y.square().sum(a1, keepdim=True)).clamp_max(1.0 / _EPSILON)
        x, y = x.movedim(a0, -1), y.movedim(a1, 1)
        batch, size = x.shape[0], x.shape[-1]
        out = torch.bmm(x.reshape(batch, -1, size), y.reshape(batch, size, -1))
        out = out.reshape(x.shape[:-1] + y.shape[2:])
        return out.unsqueeze(-1) if out.dim() == 1 else out

    def compute_output_shape(self, input_shape):
        self._check_shape_list(input_shape)
        shape1, shape2 = (list(s) for s in self._two(input_shape))
        if len(shape1) < 2 or len(shape2) < 2:
            raise SpecError(f"Dot needs inputs of rank 2 or more, got shapes {tuple(shape1)} and "
                            f"{tuple(shape2)}", where=self.name)
        a0, a1 = self._axes_for(len(shape1), len(shape2))
        if 0 in (a0, a1):
            raise SpecError(f"Dot cannot sum over the batch axis (axes={self.axes})", where=self.name)
        d1, d2 = shape1[a0], shape2[a1]
        if d1 is not None and d2 is not None and d1 != d2:
            raise SpecError(f"Dot needs equal sizes on the summed axes, got {d1} (axis {a0} of "
                            f"{tuple(shape1)}) and {d2} (axis {a1} of {tuple(shape2)})", where=self.name)
        shape1.pop(a0)
        shape2.pop(a1)
        output = shape1 + shape2[1:]
        return tuple(output + [1] if len(output) == 1 else output)

    def compute_mask(self, inputs, mask=None):
        return None

    def _two(self, items):
        if len(items) != 2:
            raise SpecError(f"Dot takes exactly 2 inputs, got {len(items)}", where=self.name)
        return items

    def get_config(self):
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


def dot(inputs, axes=-1, normalize=False, **kwargs):
    """``Dot(axes=axes, normalize=normalize, **kwargs)(inputs)``."""
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)

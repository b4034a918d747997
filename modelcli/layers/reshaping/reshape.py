"""Reshape: the non-batch axes take ``target_shape`` (one ``-1`` is inferred)."""
from __future__ import annotations

import math

from ...engine.layer import Layer
from ...errors import SpecError
from ..registry import register_layer
from ._spatial import is_int


@register_layer("Reshape")
class Reshape(Layer):
    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(target_shape, (list, tuple)) or not all(is_int(d) for d in target_shape):
            raise SpecError(f"expected a list of integers, got {target_shape!r}", where="target_shape")
        target_shape = tuple(int(d) for d in target_shape)
        if any(d < -1 for d in target_shape) or target_shape.count(-1) > 1:
            raise SpecError(f"expected non-negative sizes and at most one -1, got {list(target_shape)}",
                            where="target_shape")
        self.target_shape = target_shape

    def call(self, inputs):
        return inputs.reshape((inputs.shape[0],) + self._resolve(tuple(inputs.shape[1:])))

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + self._resolve(tuple(input_shape[1:]))

    def _resolve(self, input_dims):
        """The target shape with its -1 worked out (None while an input dim is unknown)."""
        if None in input_dims:
            return tuple(None if d == -1 else d for d in self.target_shape)
        size = math.prod(input_dims)
        known = math.prod(d for d in self.target_shape if d != -1)
        if -1 not in self.target_shape and known == size:
            return self.target_shape
        if -1 in self.target_shape and known and size % known == 0:
            return tuple(size // known if d == -1 else d for d in self.target_shape)
        raise SpecError(f"cannot reshape input of shape {input_dims} ({size} values per sample) "
                        f"to {self.target_shape}", where=self.name)

    def get_config(self):
        return {**super().get_config(), "target_shape": self.target_shape}

"""Permute: reorders the non-batch axes; ``dims`` counts from 1 (the batch axis stays first)."""
from __future__ import annotations

from ...engine.layer import Layer
from ...errors import SpecError
from ..registry import register_layer
from ._spatial import is_int


@register_layer("Permute")
class Permute(Layer):
    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(dims, (list, tuple)) or not all(is_int(d) for d in dims) \
                or sorted(dims) != list(range(1, len(dims) + 1)):
            raise SpecError(f"expected a permutation of 1..n, got {dims!r}", where="dims")
        self.dims = tuple(int(d) for d in dims)

    def build(self, input_shape):
        if len(input_shape) != len(self.dims) + 1:
            raise SpecError(f"dims {list(self.dims)} need inputs of rank {len(self.dims) + 1}, "
                            f"got shape {tuple(input_shape)}", where=self.name)

    def call(self, inputs):
        return inputs.permute(0, *self.dims)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + tuple(input_shape[d] for d in self.dims)

    def get_config(self):
        return {**super().get_config(), "dims": self.dims}

"""RepeatVector: ``(batch, features) -> (batch, n, features)``."""
from __future__ import annotations

from ...engine.layer import Layer
from ...errors import SpecError
from ..registry import register_layer
from ._spatial import positive_int


@register_layer("RepeatVector")
class RepeatVector(Layer):
    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        self.n = positive_int(n, "n")

    def build(self, input_shape):
        if len(input_shape) != 2:
            raise SpecError(f"RepeatVector expects inputs of rank 2, got shape {tuple(input_shape)}",
                            where=self.name)

    def call(self, inputs):
        return inputs.unsqueeze(1).expand(-1, self.n, -1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self):
        return {**super().get_config(), "n": self.n}

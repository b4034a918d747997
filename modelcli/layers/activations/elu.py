"""ELU: ``x`` for x > 0, ``alpha·(exp(x) - 1)`` below."""
from __future__ import annotations

import numbers

import torch.nn.functional as F

from ...engine.layer import Layer
from ...errors import SpecError
from ..registry import register_layer


@register_layer("ELU")
class ELU(Layer):
    supports_masking = True

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(alpha, numbers.Real) or isinstance(alpha, bool):
            raise SpecError(f"expected a number, got {alpha!r}", where="alpha")
        self.alpha = alpha

    def call(self, inputs):
        return F.elu(inputs, self.alpha)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}

"""GaussianNoise: while training, adds zero-mean normal noise of ``stddev``."""
from __future__ import annotations

import numbers

from ...errors import SpecError
from ..registry import register_layer
from ._random import RandomLayer


@register_layer("GaussianNoise")
class GaussianNoise(RandomLayer):
    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        # Keras 3 also refuses stddev > 1; Keras 2 did not, and its files are kept loadable.
        if not isinstance(stddev, numbers.Real) or isinstance(stddev, bool) or stddev < 0:
            raise SpecError(f"expected a non-negative number, got {stddev!r}", where="stddev")
        self.stddev = stddev

    def call(self, inputs, training=False):
        if not training or self.stddev == 0:
            return inputs
        return inputs + self.stddev * self._normal(inputs)

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}

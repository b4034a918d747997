"""GaussianDropout: while training, multiplies inputs by noise ~ N(1, sqrt(rate / (1 - rate)))."""
from __future__ import annotations

import math

from ..registry import register_layer
from ._random import RandomLayer, check_rate


@register_layer("GaussianDropout")
class GaussianDropout(RandomLayer):
    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.rate = check_rate(rate, upper_inclusive=False)  # rate 1 would mean infinite noise

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        stddev = math.sqrt(self.rate / (1.0 - self.rate))
        return inputs * (1.0 + stddev * self._normal(inputs))

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}

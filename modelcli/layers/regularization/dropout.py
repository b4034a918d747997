"""Dropout: while training, zeroes inputs with probability ``rate`` and scales the rest by 1/(1-rate)."""
from __future__ import annotations

from ..registry import register_layer
from ._random import RandomLayer, check_noise_shape, check_rate, dropout


@register_layer("Dropout")
class Dropout(RandomLayer):
    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.rate = check_rate(rate)
        self.noise_shape = check_noise_shape(noise_shape)

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        return dropout(inputs, self.rate, self.noise_shape, self._generator(inputs.device))

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed, "noise_shape": self.noise_shape}

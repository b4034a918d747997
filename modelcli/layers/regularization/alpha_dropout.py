"""AlphaDropout: dropout for SELU networks that keeps the mean and variance of its inputs.

Dropped values become ``α' = -scale·alpha`` (SELU's negative saturation), then
``a·x + b`` restores the statistics, with ``a = ((1 - rate)(1 + rate·α'²))^-½``
and ``b = -a·α'·rate`` (Keras's formula).
"""
from __future__ import annotations

import torch

from ...errors import SpecError
from ..registry import register_layer
from ._random import RandomLayer, check_noise_shape, check_rate

_SELU_ALPHA = 1.6732632423543772
_SELU_SCALE = 1.0507009873554805


@register_layer("AlphaDropout")
class AlphaDropout(RandomLayer):
    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.rate = check_rate(rate)
        self.noise_shape = check_noise_shape(noise_shape)

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        shape = inputs.shape
        if self.noise_shape is not None:
            if len(self.noise_shape) != inputs.dim():
                raise SpecError(f"noise_shape {list(self.noise_shape)} does not fit inputs of shape "
                                f"{tuple(inputs.shape)}", where="noise_shape")
            shape = [n if s is None else s for n, s in zip(inputs.shape, self.noise_shape)]
        uniform = torch.rand(shape, dtype=inputs.dtype, device=inputs.device,
                             generator=self._generator(inputs.device))
        kept = (uniform >= self.rate).to(inputs.dtype)
        alpha_p = -_SELU_ALPHA * _SELU_SCALE
        a = ((1 - self.rate) * (1 + self.rate * alpha_p ** 2)) ** -0.5
        b = -a * alpha_p * self.rate
        return a * (inputs * kept + alpha_p * (1 - kept)) + b

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed, "noise_shape": self.noise_shape}

"""What the noise layers share: argument checks, seeded generators, the dropout kernel.

A ``seed`` makes a layer's noise sequence repeatable (the first training call of a
fresh layer always draws the same values), like Keras's ``SeedGenerator``; without
one the noise comes from torch's global generator.
"""
from __future__ import annotations

import numbers

import torch
import torch.nn.functional as F

from ...engine.layer import Layer
from ...errors import SpecError


def check_rate(rate, upper_inclusive=True) -> float:
    ok = isinstance(rate, numbers.Real) and not isinstance(rate, bool) and \
        0 <= rate and (rate <= 1 if upper_inclusive else rate < 1)
    if not ok:
        bound = "0 <= rate <= 1" if upper_inclusive else "0 <= rate < 1"
        raise SpecError(f"expected a number with {bound}, got {rate!r}", where="rate")
    return rate


def check_noise_shape(noise_shape):
    """None, or a shape whose entries are positive ints or None (None takes the input's size)."""
    if noise_shape is None:
        return None
    if not isinstance(noise_shape, (list, tuple)) or not all(
            d is None or (isinstance(d, numbers.Integral) and not isinstance(d, bool) and d > 0)
            for d in noise_shape):
        raise SpecError(f"expected a list of positive integers or nulls, got {noise_shape!r}",
                        where="noise_shape")
    return tuple(None if d is None else int(d) for d in noise_shape)


class RandomLayer(Layer):
    """A layer that adds noise while training only; masks pass through."""

    supports_masking = True

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        if seed is not None and (not isinstance(seed, numbers.Integral) or isinstance(seed, bool)):
            raise SpecError(f"expected an integer or null, got {seed!r}", where="seed")
        self.seed = seed
        self._generators: dict[torch.device, torch.Generator] = {}

    def _generator(self, device) -> torch.Generator | None:
        if self.seed is None:
            return None
        if device not in self._generators:
            self._generators[device] = torch.Generator(device=device).manual_seed(int(self.seed))
        return self._generators[device]

    def _normal(self, like: torch.Tensor) -> torch.Tensor:
        return torch.randn(like.shape, dtype=like.dtype, device=like.device,
                           generator=self._generator(like.device))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


def dropout(x, rate, noise_shape, generator):
    """Inverted dropout: zero with probability ``rate``, scale the rest by 1 / (1 - rate).

    ``noise_shape`` (None entries take x's size) shares one draw across the axes of size 1.
    """
    if rate >= 1:
        return torch.zeros_like(x)
    if noise_shape is None and generator is None:
        return F.dropout(x, rate, training=True)
    if noise_shape is None:
        noise_shape = x.shape
    elif len(noise_shape) != x.dim():
        raise SpecError(f"noise_shape {list(noise_shape)} does not fit inputs of shape {tuple(x.shape)}",
                        where="noise_shape")
    shape = [n if s is None else s for n, s in zip(x.shape, noise_shape)]
    keep = torch.empty(shape, dtype=x.dtype, device=x.device).bernoulli_(1 - rate, generator=generator)
    return x * keep.div_(1 - rate)

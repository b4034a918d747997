"""SpatialDropout1D/2D/3D: Dropout that drops whole feature maps (channels) per sample.

Keras 3 writes only ``rate``, ``seed``, ``name``, ``dtype`` (a plain dtype name)
and ``data_format`` for these, and refuses ``trainable``; Keras 2 writes
``trainable`` and ``noise_shape`` (always null) too, which are accepted.
"""
from __future__ import annotations

from ...errors import SpecError
from ..registry import register_layer
from ..reshaping._spatial import check_data_format
from ._random import RandomLayer, check_rate, dropout


class SpatialDropout(RandomLayer):
    rank = 1
    data_format = "channels_last"

    def __init__(self, rate, seed=None, noise_shape=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        if noise_shape is not None:
            raise SpecError(f"{type(self).__name__} chooses its own noise shape, got {noise_shape!r}",
                            where="noise_shape")
        self.rate = check_rate(rate)

    def build(self, input_shape):
        if len(input_shape) != self.rank + 2:
            raise SpecError(f"{type(self).__name__} expects inputs of rank {self.rank + 2}, "
                            f"got shape {tuple(input_shape)}", where=self.name)

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        batch, ones = inputs.shape[0], (1,) * self.rank
        if self.data_format == "channels_first":
            noise_shape = (batch, inputs.shape[1]) + ones
        else:
            noise_shape = (batch,) + ones + (inputs.shape[-1],)
        return dropout(inputs, self.rate, noise_shape, self._generator(inputs.device))

    def get_config(self):
        return {"rate": self.rate, "seed": self.seed, "name": self.name, "dtype": self.variable_dtype}


@register_layer("SpatialDropout1D")
class SpatialDropout1D(SpatialDropout):
    """``(batch, steps, channels)``: one draw per (sample, channel)."""

    rank = 1


@register_layer("SpatialDropout2D")
class SpatialDropout2D(SpatialDropout):
    rank = 2

    def __init__(self, rate, data_format=None, seed=None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)
        self.data_format = check_data_format(data_format)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


@register_layer("SpatialDropout3D")
class SpatialDropout3D(SpatialDropout2D):
    rank = 3

"""AutoContrast: stretches each image's channels to fill ``value_range``, always.

Unlike the random layers this is deterministic and Keras applies it at inference
too. Per image and channel, with the values read in ``value_range`` and mapped onto
[0, 255], the channel's minimum lo and maximum hi become 0 and 255:

    x' = clip((x - lo) · 255 / (hi - lo), 0, 255)

mapped back onto ``value_range``. A flat channel (hi = lo) gives NaN there, and the
input value is kept instead, as in Keras.
"""
from __future__ import annotations

import torch

from ..registry import register_layer
from ._base import number_pair
from ._color import ColorAugmentation, rescale


@register_layer("AutoContrast")
class AutoContrast(ColorAugmentation):
    def __init__(self, value_range=(0, 255), **kwargs):
        super().__init__(**kwargs)
        self.value_range = sorted(number_pair(value_range, "value_range"))

    def random_params(self, images):
        return {}  # nothing drawn

    def apply(self, images, params=None):
        unit = rescale(images, self.value_range, (0, 255))
        low = unit.amin(dim=(1, 2), keepdim=True)
        high = unit.amax(dim=(1, 2), keepdim=True)
        scale = 255.0 / (high - low)
        stretched = (unit * scale + (-low * scale)).clamp(0.0, 255.0)
        out = rescale(stretched, (0, 255), self.value_range)
        return torch.where(torch.isnan(out), images, out)

    def infer(self, images):
        return self.apply(images)

    def get_config(self):
        config = {**super().get_config(), "value_range": self.value_range}
        config.pop("seed", None)  # Keras writes no seed for this layer
        return config

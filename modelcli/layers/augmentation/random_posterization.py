"""RandomPosterization: while training, keeps only the top b bits of each 8-bit channel value.

The image is rescaled from ``value_range`` to [0, 255], truncated to uint8, its low
8 - b bits cleared, and rescaled back. ``factor`` gives b in [1, 8]: a number f means
(1, f); a pair (lower, upper) draws an integer b from [lower, upper) per image (Keras
never draws ``upper`` itself), and equal ends always use that b.
"""
from __future__ import annotations

import torch

from ..registry import register_layer
from ._base import number_pair
from ._color import ColorAugmentation, as_images_param, keras_factor, rescale


@register_layer("RandomPosterization")
class RandomPosterization(ColorAugmentation):
    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = keras_factor(factor, (1, 8), "factor")
        self.value_range = sorted(number_pair(value_range, "value_range"))

    def random_params(self, images):
        low, high = self.factor
        if low == high:
            bits = torch.full((images.shape[0],), int(low), device=images.device)
        else:
            bits = self._per_image(images, int(low), int(high)).floor().clamp(max=int(high) - 1).long()
        return {"shift_factor": (8 - bits).to(torch.uint8)}

    def apply(self, images, params):
        shift = as_images_param(params["shift_factor"], images).to(torch.uint8)
        pixels = rescale(images, self.value_range, (0, 255)).to(torch.uint8)
        pixels = (pixels >> shift) << shift
        return rescale(pixels.to(images.dtype), (0, 255), self.value_range).to(images.dtype)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range}

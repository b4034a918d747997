"""RandomHue: while training, turns each image's hue around the colour wheel by a random amount.

Per image a size s is drawn from ``factor`` (a number f means (0, f), a pair is sorted;
within [0, 1]) and a direction ±1 with equal odds; the hue H (in [0, 1)) becomes
H ± s/2, wrapped back into [0, 1]. The image is first rescaled from ``value_range`` to
[0, 1], and the result is clipped there and rescaled back. The images must have 3
channels; ``value_range`` is kept as given, as Keras keeps it.
"""
from __future__ import annotations

import torch

from ..registry import register_layer
from ._base import number_pair
from ._color import ColorAugmentation, as_images_param, hsv_to_rgb, keras_factor, rescale, rgb_to_hsv


@register_layer("RandomHue")
class RandomHue(ColorAugmentation):
    channels = (3,)

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = keras_factor(factor, (0, 1), "factor")
        number_pair(value_range, "value_range")
        self.value_range = value_range

    def random_params(self, images):
        direction = torch.where(self._per_image(images, 0.0, 1.0) > 0.5, -1.0, 1.0)
        return {"factor": direction * self._per_image(images, *self.factor) * 0.5}

    def apply(self, images, params):
        shift = as_images_param(params["factor"], images, (-1, 1, 1)).to(images.dtype)
        unit = rescale(images, self.value_range, (0, 1)).to(images.dtype)
        hue, saturation, value = rgb_to_hsv(unit).unbind(-1)
        hue = hue + shift
        hue = torch.where(hue > 1.0, hue - 1.0, hue)
        hue = torch.where(hue < 0.0, hue + 1.0, hue)
        out = hsv_to_rgb(torch.stack((hue, saturation, value), dim=-1)).clamp(0, 1)
        return rescale(out, (0, 1), self.value_range).to(images.dtype)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range}

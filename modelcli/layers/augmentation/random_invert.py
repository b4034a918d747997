"""RandomInvert: while training, inverts some images: x → high - x, with ``value_range`` = (low, high).

Per image a probability p is drawn from ``factor`` (a number f means (0, f), a pair is
sorted; within [0, 1]) and then a second draw u in [0, 1); the image is inverted when
u < p. ``value_range`` is kept as given, as Keras keeps it.
"""
from __future__ import annotations

import torch

from ..registry import register_layer
from ._base import number_pair
from ._color import ColorAugmentation, as_images_param, keras_factor


@register_layer("RandomInvert")
class RandomInvert(ColorAugmentation):
    def __init__(self, factor=1.0, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = keras_factor(factor, (0, 1), "factor")
        number_pair(value_range, "value_range")
        self.value_range = value_range

    def random_params(self, images):
        probability = self._per_image(images, *self.factor)
        return {"apply_inversion": self._per_image(images, 0.0, 1.0) < probability}

    def apply(self, images, params):
        chosen = as_images_param(params["apply_inversion"], images).to(torch.bool)
        return torch.where(chosen, self.value_range[1] - images, images)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range}

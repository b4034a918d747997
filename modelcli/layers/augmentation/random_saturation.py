"""RandomSaturation: while training, scales each image's HSV saturation by a random amount.

Per image f is drawn from ``factor`` (a number means (-|f|, |f|), a pair is sorted;
within [-1, 1]) and the saturation S becomes clip(S·f / (1 - f + 1e-7), value_range).
So f = 0.5 keeps the colours, f → 1 saturates them fully and f <= 0 turns the image grey.
As in Keras, the HSV conversion reads the pixel values as they are (``value_range``
only bounds S), and the images must have 3 channels.
"""
from __future__ import annotations

import torch

from ..registry import register_layer
from ._base import number_pair
from ._color import ColorAugmentation, as_images_param, hsv_to_rgb, keras_factor, rgb_to_hsv

EPSILON = 1e-7  # Keras's backend epsilon


@register_layer("RandomSaturation")
class RandomSaturation(ColorAugmentation):
    channels = (3,)

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = keras_factor(factor, (-1, 1), "factor")
        self.value_range = sorted(number_pair(value_range, "value_range"))

    def random_params(self, images):
        f = self._per_image(images, *self.factor)
        return {"factor": f / (1 - f + EPSILON)}

    def apply(self, images, params):
        scale = as_images_param(params["factor"], images, (-1, 1, 1)).to(images.dtype)
        hue, saturation, value = rgb_to_hsv(images).unbind(-1)
        saturation = (saturation * scale).clamp(*self.value_range)
        return hsv_to_rgb(torch.stack((hue, saturation, value), dim=-1))

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range}


"""RandomColorDegeneration: while training, moves each image towards (or away from) its grey version.

Per image f is drawn from ``factor`` (a number means (-|f|, |f|), a pair is sorted;
within [-1, 1]) and, with g the luminance 0.2989·R + 0.587·G + 0.114·B,

    out = clip(x + f·(g - x), value_range)

so f = 1 gives the grey image and negative f exaggerates the colours. The images must
have 1 or 3 channels.
"""
from __future__ import annotations

from ..registry import register_layer
from ._base import number_pair
from ._color import ColorAugmentation, as_images_param, keras_factor, rgb_to_grayscale


@register_layer("RandomColorDegeneration")
class RandomColorDegeneration(ColorAugmentation):
    channels = (1, 3)

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = keras_factor(factor, (-1, 1), "factor")
        self.value_range = sorted(number_pair(value_range, "value_range"))

    def random_params(self, images):
        return {"factor": self._uniform((images.shape[0], 1, 1, 1), *self.factor, images)}

    def apply(self, images, params):
        f = as_images_param(params["factor"], images).to(images.dtype)
        return (images + f * (rgb_to_grayscale(images) - images)).clamp(*self.value_range)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range}

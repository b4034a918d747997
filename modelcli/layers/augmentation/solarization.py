"""Solarization: while training, mirrors the bright pixels of each image (x → 255 - x above a threshold).

Working on the image rescaled from ``value_range`` to [0, 255], per image an addition a
and a threshold t are drawn and

    y = clip(x + a, 0, 255);    out = y if y < t else 255 - y

before rescaling back. Keras draws a from [lower, 255·upper] of ``addition_factor``
(only the upper end is scaled by 255), and t likewise from ``threshold_factor``; a
number f means (0, f), both lie in [0, 1]. With the defaults (0, 0) every pixel is
inverted.
"""
from __future__ import annotations

import torch

from ...errors import SpecError
from ..registry import register_layer
from ._base import is_number, number_pair
from ._color import ColorAugmentation, as_images_param, rescale


def unit_factor(factor, name) -> tuple:
    if is_number(factor):
        values, pair = (factor,), (0, factor)
    elif isinstance(factor, (list, tuple)):
        values = number_pair(factor, name)
        pair = tuple(sorted(values))
    else:
        raise SpecError(f"expected a number or two numbers in [0, 1], got {factor!r}", where=name)
    if not all(0 <= v <= 1 for v in values):
        raise SpecError(f"expected a number or two numbers in [0, 1], got {factor!r}", where=name)
    return pair


@register_layer("Solarization")
class Solarization(ColorAugmentation):
    def __init__(self, addition_factor=0.0, threshold_factor=0.0, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.addition_factor = unit_factor(addition_factor, "addition_factor")
        self.threshold_factor = unit_factor(threshold_factor, "threshold_factor")
        self.value_range = sorted(number_pair(value_range, "value_range"))

    def random_params(self, images):
        shape = (images.shape[0], 1, 1, 1)
        (a0, a1), (t0, t1) = self.addition_factor, self.threshold_factor
        return {"additions": self._uniform(shape, a0, a1 * 255, images),
                "thresholds": self._uniform(shape, t0, t1 * 255, images)}

    def apply(self, images, params):
        additions = as_images_param(params["additions"], images).to(images.dtype)
        thresholds = as_images_param(params["thresholds"], images).to(images.dtype)
        y = (rescale(images, self.value_range, (0, 255)) + additions).clamp(0, 255)
        y = torch.where(y < thresholds, y, 255 - y)
        return rescale(y, (0, 255), self.value_range).to(images.dtype)

    def get_config(self):
        return {**super().get_config(), "value_range": self.value_range,
                "addition_factor": self.addition_factor, "threshold_factor": self.threshold_factor}

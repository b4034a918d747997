"""RandomTranslation: while training, shifts each image by a random fraction of its size.

``height_factor`` f draws the vertical shift from [-f, f]·H (or [lo, hi]·H; positive
moves the image down) and ``width_factor`` the horizontal one from [-f, f]·W (positive
moves it right); factors lie in [-1, 1]. The output pixel (x, y) reads the input at
(x - dx, y - dy), resampled with ``fill_mode``/``interpolation``/``fill_value``
(see ``_affine``): a fractional shift blends neighbours.
"""
from __future__ import annotations

import torch

from ...errors import SpecError
from ..registry import register_layer
from ._affine import AffineAugmentation
from ._base import symmetric_range


def shift_range(factor, name) -> tuple:
    lower, upper = symmetric_range(factor, name)
    if lower < -1 or upper > 1:
        raise SpecError(f"expected fractions of the image size in [-1, 1], got {factor!r}", where=name)
    return lower, upper


@register_layer("RandomTranslation")
class RandomTranslation(AffineAugmentation):
    def __init__(self, height_factor, width_factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):
        super().__init__(fill_mode=fill_mode, interpolation=interpolation, seed=seed, fill_value=fill_value,
                         data_format=data_format, **kwargs)
        self.height_factor = height_factor
        self.width_factor = width_factor
        self._height_range = shift_range(height_factor, "height_factor")
        self._width_range = shift_range(width_factor, "width_factor")

    def random_transform(self, images):
        n, height, width, _ = images.shape
        dy = self._uniform((n,), *self._height_range, images) * height
        dx = self._uniform((n,), *self._width_range, images) * width
        ones, zeros = torch.ones_like(dx), torch.zeros_like(dx)
        return torch.stack([ones, zeros, -dx, zeros, ones, -dy], dim=1)

    def get_config(self):
        return {**super().get_config(), "height_factor": self.height_factor, "width_factor": self.width_factor}

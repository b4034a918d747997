"""RandomZoom: while training, zooms each image about its centre by a random amount.

``height_factor`` f draws the vertical zoom z from 1 + [-f, f] (or 1 + [lo, hi]);
``width_factor`` likewise draws the horizontal one, and None reuses the vertical zoom
(aspect ratio kept). A positive factor zooms out, a negative one zooms in: the output
pixel (x, y) reads the input at

    x' = zx·x + (W - 1)/2·(1 - zx)        y' = zy·y + (H - 1)/2·(1 - zy)

resampled with ``fill_mode``/``interpolation``/``fill_value`` (see ``_affine``).
Keras 3 takes factors in (-1, 1]; tf.keras 2 let them exceed 1, which still zooms out.
"""
from __future__ import annotations

import torch

from ...errors import SpecError
from ..registry import register_layer
from ._affine import AffineAugmentation
from ._base import symmetric_range


def zoom_range(factor, name) -> tuple:
    lower, upper = symmetric_range(factor, name)
    if lower <= -1:
        raise SpecError(f"a zoom factor must be more than -1 (a zoom of 1 + factor > 0), got {factor!r}",
                        where=name)
    return lower, upper


@register_layer("RandomZoom")
class RandomZoom(AffineAugmentation):
    def __init__(self, height_factor, width_factor=None, fill_mode="reflect", interpolation="bilinear",
                 seed=None, fill_value=0.0, data_format=None, **kwargs):
        super().__init__(fill_mode=fill_mode, interpolation=interpolation, seed=seed, fill_value=fill_value,
                         data_format=data_format, **kwargs)
        self.height_factor = height_factor
        self.width_factor = width_factor
        self._height_range = zoom_range(height_factor, "height_factor")
        self._width_range = None if width_factor is None else zoom_range(width_factor, "width_factor")

    def random_transform(self, images):
        n, height, width, _ = images.shape
        lower, upper = self._height_range
        zoom_y = self._uniform((n,), 1.0 + lower, 1.0 + upper, images)
        if self._width_range is None:
            zoom_x = zoom_y
        else:
            lower, upper = self._width_range
            zoom_x = self._uniform((n,), 1.0 + lower, 1.0 + upper, images)
        zeros = torch.zeros_like(zoom_x)
        return torch.stack([zoom_x, zeros, (width - 1.0) / 2.0 * (1.0 - zoom_x),
                            zeros, zoom_y, (height - 1.0) / 2.0 * (1.0 - zoom_y)], dim=1)

    def get_config(self):
        return {**super().get_config(), "height_factor": self.height_factor, "width_factor": self.width_factor}

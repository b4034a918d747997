"""RandomRotation: while training, rotates each image about its centre by a random angle.

``factor`` is a fraction of a full turn: f draws from [-f, f], (lo, hi) from
[lo, hi] (positive turns counter-clockwise). The output pixel (x, y) reads the input at
the point rotated about the centre (cx, cy) = ((W - 1)/2, (H - 1)/2):

    x' = cos θ·x - sin θ·y + cx - cx·cos θ + cy·sin θ
    y' = sin θ·x + cos θ·y + cy - cx·sin θ - cy·cos θ

then resampled with ``fill_mode``/``interpolation``/``fill_value`` (see ``_affine``).
"""
from __future__ import annotations

import math

import torch

from ..registry import register_layer
from ._affine import AffineAugmentation
from ._base import symmetric_range

_DEGREE = math.pi / 180.0


@register_layer("RandomRotation")
class RandomRotation(AffineAugmentation):
    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0,
                 data_format=None, **kwargs):
        super().__init__(fill_mode=fill_mode, interpolation=interpolation, seed=seed, fill_value=fill_value,
                         data_format=data_format, **kwargs)
        self.factor = symmetric_range(factor, "factor")

    def random_transform(self, images):
        n, height, width, _ = images.shape
        # Degrees first, then radians, each rounded to float32 as Keras does.
        degrees = self._uniform((n,), self.factor[0] * 360.0, self.factor[1] * 360.0, images)
        theta = degrees * torch.tensor(_DEGREE, dtype=torch.float32, device=images.device)
        cos, sin = torch.cos(theta), torch.sin(theta)
        cx, cy = 0.5 * (width - 1), 0.5 * (height - 1)
        return torch.stack([cos, -sin, (cx - cx * cos) + cy * sin,
                            sin, cos, (cy - cx * sin) - cy * cos], dim=1)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}

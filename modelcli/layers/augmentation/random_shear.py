"""RandomShear: while training, shears each image along x and/or y by random amounts.

``x_factor``/``y_factor`` are fractions in [0, 1]: a number f draws from [-f, f], a
pair (lo, hi) from [lo, hi]. Per image, sx and sy are drawn from them and a coin
(u > 0.5) flips the sign of both together. The shear is about the top-left corner,
not the centre: the output pixel (x, y) reads the input at

    x' = x + sx·y        y' = sy·x + y

resampled with ``fill_mode``/``interpolation``/``fill_value`` (see ``_affine``).
"""
from __future__ import annotations

import torch

from ...errors import SpecError
from ..registry import register_layer
from ._affine import AffineAugmentation
from ._base import is_number, number_pair


def shear_range(factor, name) -> tuple:
    """A number f in [0, 1] → (-f, f); a pair of numbers → sorted.

    Keras checks that both numbers of a pair lie in [0, 1], so it cannot reload the
    (-f, f) it saves for a number; pairs within [-1, 1] are accepted here.
    """
    if is_number(factor):
        if not 0 <= factor <= 1:
            raise SpecError(f"expected a number in [0, 1] or two numbers, got {factor!r}", where=name)
        return (-abs(factor), abs(factor))
    if isinstance(factor, (list, tuple)):
        values = number_pair(factor, name)
        if all(-1 <= v <= 1 for v in values):
            return tuple(sorted(values))
    raise SpecError(f"expected a number in [0, 1] or two numbers in [-1, 1], got {factor!r}", where=name)


@register_layer("RandomShear")
class RandomShear(AffineAugmentation):
    def __init__(self, x_factor=0.0, y_factor=0.0, interpolation="bilinear", fill_mode="reflect", fill_value=0.0,
                 data_format=None, seed=None, **kwargs):
        super().__init__(fill_mode=fill_mode, interpolation=interpolation, seed=seed, fill_value=fill_value,
                         data_format=data_format, **kwargs)
        self.x_factor = shear_range(x_factor, "x_factor")
        self.y_factor = shear_range(y_factor, "y_factor")

    def random_params(self, images):
        """Per image: ``shear_factor`` (N, 2), the signed (sx, sy)."""
        n = images.shape[0]
        sign = torch.where(self._uniform((n, 1), 0.0, 1.0, images) > 0.5, -1.0, 1.0)
        shear_y = self._uniform((n, 1), *self.y_factor, images)
        shear_x = self._uniform((n, 1), *self.x_factor, images)
        return {"shear_factor": torch.cat([shear_x, shear_y], dim=1) * sign}

    def transform_for(self, shear_factor):
        """(N, 6) affine transforms for given (N, 2) shear factors."""
        sx, sy = shear_factor[:, 0].float(), shear_factor[:, 1].float()
        ones, zeros = torch.ones_like(sx), torch.zeros_like(sx)
        return torch.stack([ones, sx, zeros, sy, ones, zeros], dim=1)

    def random_transform(self, images):
        return self.transform_for(self.random_params(images)["shear_factor"])

    def get_config(self):
        return {**super().get_config(), "x_factor": self.x_factor, "y_factor": self.y_factor}

"""RandomErasing: while training, overwrites a random rectangle of some images.

Per image, a probability p is drawn from ``factor`` (within [0, 1]; a number f means
[0, f]) and the image is erased when a second draw u in [0, 1) falls below p; so the
default factor 1.0 erases about half of the images. The rectangle has width
√s_w·W and height √s_h·H, s_w and s_h drawn from ``scale``, and its corner is
placed uniformly so that it fits: x0 = u_x·(W - width), pixels with
x0 ≤ x < x0 + width (likewise in y) are covered, every channel of them.

Covered pixels take ``fill_value`` (a number, or one per channel of three), or
with None Gaussian noise times ``value_range[1]``; either way clipped to
``value_range``.
"""
from __future__ import annotations

import torch

from ...errors import SpecError
from ..registry import register_layer
from ._base import is_number, number_pair
from ._color import ColorAugmentation, keras_factor


@register_layer("RandomErasing")
class RandomErasing(ColorAugmentation):
    def __init__(self, factor=1.0, scale=(0.02, 0.33), fill_value=None, value_range=(0, 255), seed=None,
                 data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = keras_factor(factor, (0, 1), "factor")
        self.scale = keras_factor(scale, (0, 1), "scale")
        if not (fill_value is None or is_number(fill_value)
                or (isinstance(fill_value, (list, tuple)) and len(fill_value) == 3
                    and all(is_number(v) for v in fill_value))):
            raise SpecError(f"expected None, a number or three numbers, got {fill_value!r}", where="fill_value")
        self.fill_value = fill_value
        number_pair(value_range, "value_range")
        self.value_range = value_range

    def random_params(self, images):
        """Per image: ``apply_erasing`` (N,) bools, ``batch_masks`` (N, H, W, 1) bools, ``fill_value``."""
        n, height, width, _ = images.shape
        sides = torch.sqrt(self._uniform((n, 2), *self.scale, images))
        x0, x1 = self._span(images, width, sides[:, 0])
        y0, y1 = self._span(images, height, sides[:, 1])
        rows = torch.arange(height, dtype=torch.float32, device=images.device).view(1, height, 1, 1)
        cols = torch.arange(width, dtype=torch.float32, device=images.device).view(1, 1, width, 1)
        corner = lambda t: t.view(n, 1, 1, 1)  # noqa: E731
        masks = (cols >= corner(x0)) & (cols < corner(x1)) & (rows >= corner(y0)) & (rows < corner(y1))
        probability = self._per_image(images, *self.factor)
        apply = self._per_image(images, 0.0, 1.0) < probability
        return {"apply_erasing": apply, "batch_masks": masks, "fill_value": self._fill(images)}

    def _span(self, images, length, ratio):
        size = ratio * length
        start = self._per_image(images, 0.0, 1.0) * (length - size)
        return start, start + size

    def _fill(self, images):
        low, high = self.value_range
        if self.fill_value is None:
            fill = self._normal(images) * high
        elif is_number(self.fill_value):
            fill = torch.full_like(images, float(self.fill_value))
        else:  # one value per channel, written on the device (no host copy)
            fill = torch.cat([torch.full_like(images[..., :1], float(v)) for v in self.fill_value], dim=-1)
        return fill.clamp(low, high)

    def apply(self, images, params):
        masks = torch.as_tensor(params["batch_masks"], device=images.device)
        apply = torch.as_tensor(params["apply_erasing"], device=images.device).view(-1, 1, 1, 1)
        fill = torch.as_tensor(params["fill_value"], device=images.device).to(images.dtype)
        return torch.where(apply & masks, fill, images)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "scale": self.scale,
                "fill_value": self.fill_value, "value_range": self.value_range}

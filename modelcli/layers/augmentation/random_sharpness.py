"""RandomSharpness: while training, sharpens or blurs each image by a random amount.

Per image f is drawn from ``factor`` (within [0, 1]; a number f means [0, f]). A
3×3 smoothing filter (centre weight 5/13, the eight neighbours 1/13 each, zeros
beyond the border) gives a blurred copy B of each channel, and

    x' = clip(x + (1 - 2f)·(B - x), value_range)

so f = 0.5 keeps the image, f < 0.5 blurs it and f > 0.5 sharpens it.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ..registry import register_layer
from ._base import number_pair
from ._color import ColorAugmentation, as_images_param, keras_factor

_NEIGHBOUR, _CENTRE = 1.0 / 13.0, 5.0 / 13.0


def smooth(images):
    """Each channel of a channels_last batch through the 3×3 smoothing filter ('same' size, zero padding)."""
    channels = images.shape[-1]
    kernel = torch.full((3, 3), _NEIGHBOUR, dtype=images.dtype, device=images.device)
    kernel[1, 1] = _CENTRE  # written on the device: no host copy
    kernel = kernel.expand(channels, 1, 3, 3)
    blurred = F.conv2d(images.permute(0, 3, 1, 2), kernel, padding=1, groups=channels)
    return blurred.permute(0, 2, 3, 1)


@register_layer("RandomSharpness")
class RandomSharpness(ColorAugmentation):
    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = keras_factor(factor, (0, 1), "factor")
        self.value_range = sorted(number_pair(value_range, "value_range"))

    def random_params(self, images):
        return {"factor": self._per_image(images, *self.factor)}

    def apply(self, images, params):
        amount = (as_images_param(params["factor"], images) * 2).to(images.dtype)
        out = images + (1.0 - amount) * (smooth(images) - images)
        return out.clamp(*self.value_range)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range}

"""RandomBrightness: while training, adds a random offset to every pixel of each image.

The offset is d·(high - low) with d drawn from ``factor`` ([-f, f] for a number f, a
pair sorted; values in [-1, 1]) and (low, high) = ``value_range``; the result is
clipped to ``value_range``. So d = 1 turns any image white, d = -1 black.
"""
from __future__ import annotations

from ...errors import SpecError
from ..registry import register_layer
from ._base import ImageAugmentation, number_pair, symmetric_range


@register_layer("RandomBrightness")
class RandomBrightness(ImageAugmentation):
    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.factor = symmetric_range(factor, "factor")
        if self.factor[0] < -1 or self.factor[1] > 1:
            raise SpecError(f"expected a number or two numbers in [-1, 1], got {factor!r}", where="factor")
        self.value_range = sorted(number_pair(value_range, "value_range"))

    def augment(self, images):
        low, high = self.value_range
        delta = self._uniform((images.shape[0], 1, 1, 1), *self.factor, images) * (high - low)
        return (images + delta.to(images.dtype)).clamp(low, high)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range}

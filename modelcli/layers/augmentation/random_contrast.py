"""RandomContrast: while training, scales each image's deviations from its mean by a random factor.

Per image and channel, with m the mean over height and width and c drawn from
[1 - lower, 1 + upper]:

    out = clip((x - m)·c + m, value_range)

``factor`` is (lower, upper). A single number f reads differently in the two Keras
versions, and each file keeps its own meaning: Keras 3 turns it into (0, f) (only
more contrast, whatever its docstring says), tf.keras 2 into (f, f); both write the
pair back. Keras 3 sorts a given pair, tf.keras 2 used it as given.
"""
from __future__ import annotations

from ... import flavour
from ...errors import SpecError
from ..registry import register_layer
from ._base import ImageAugmentation, is_number, number_pair


def contrast_range(factor) -> tuple:
    if is_number(factor):
        if not 0 <= factor <= 1:
            raise SpecError(f"expected a number in [0, 1] or two numbers, got {factor!r}", where="factor")
        return (factor, factor) if flavour.current() == flavour.KERAS2 else (0, factor)
    lower, upper = number_pair(factor, "factor")
    if lower > 1 or upper < 0:
        raise SpecError(f"expected (lower, upper) with lower <= 1 and upper >= 0, got {factor!r}", where="factor")
    return (lower, upper) if flavour.current() == flavour.KERAS2 else tuple(sorted((lower, upper)))


@register_layer("RandomContrast")
class RandomContrast(ImageAugmentation):
    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.factor = contrast_range(factor)
        self.value_range = number_pair(value_range, "value_range")

    def augment(self, images):
        lower, upper = self.factor
        c = self._uniform((images.shape[0], 1, 1, 1), 1.0 - lower, 1.0 + upper, images).to(images.dtype)
        mean = images.mean(dim=1, keepdim=True).mean(dim=2, keepdim=True)
        return ((images - mean) * c + mean).clamp(*self.value_range)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range}

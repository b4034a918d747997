"""RandomColorJitter: while training, applies the random brightness, contrast,
saturation and hue changes whose factors are given, in that order.

Each factor (None skips that step) means what it means to RandomBrightness,
RandomContrast, RandomSaturation and RandomHue with the same ``value_range``; each
step draws its own per-image amounts from its own ``seed``-ed stream and sees the
previous step's output. The identity at inference.
"""
from __future__ import annotations

from ..registry import register_layer
from ._base import ImageAugmentation, number_pair
from .random_brightness import RandomBrightness
from .random_contrast import RandomContrast
from .random_hue import RandomHue
from .random_saturation import RandomSaturation


@register_layer("RandomColorJitter")
class RandomColorJitter(ImageAugmentation):
    def __init__(self, value_range=(0, 255), brightness_factor=None, contrast_factor=None, saturation_factor=None,
                 hue_factor=None, seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        number_pair(value_range, "value_range")
        self.value_range = value_range
        self.brightness_factor = brightness_factor
        self.contrast_factor = contrast_factor
        self.saturation_factor = saturation_factor
        self.hue_factor = hue_factor
        steps = ((RandomBrightness, brightness_factor), (RandomContrast, contrast_factor),
                 (RandomSaturation, saturation_factor), (RandomHue, hue_factor))
        # a tuple, so the steps are not tracked as sublayers (they hold no weights)
        self.steps = tuple(cls(factor, value_range=value_range, seed=seed, name=f"{self.name}_{cls.__name__}")
                           for cls, factor in steps if factor is not None)

    def augment(self, images):
        for step in self.steps:
            images = step.augment(images)
        return images

    def get_config(self):
        return {**super().get_config(), "value_range": self.value_range,
                "brightness_factor": self.brightness_factor, "contrast_factor": self.contrast_factor,
                "saturation_factor": self.saturation_factor, "hue_factor": self.hue_factor}

"""RandomGrayscale: while training, turns each image grey with probability ``factor``.

A chosen image has every channel replaced by its luminance 0.2989·R + 0.587·G + 0.114·B
(one-channel images stay as they are); the channel count is kept. Keras 3 writes no
``seed`` in this layer's config, so neither does modelcli.
"""
from __future__ import annotations

import torch

from ...errors import SpecError
from ..registry import register_layer
from ._base import is_number
from ._color import ColorAugmentation, as_images_param, rgb_to_grayscale


@register_layer("RandomGrayscale")
class RandomGrayscale(ColorAugmentation):
    channels = (1, 3)

    def __init__(self, factor=0.5, data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if not is_number(factor) or not 0 <= factor <= 1:
            raise SpecError(f"expected a probability in [0, 1], got {factor!r}", where="factor")
        self.factor = factor

    def random_params(self, images):
        return {"should_apply": self._per_image(images, 0.0, 1.0) < self.factor}

    def apply(self, images, params):
        chosen = as_images_param(params["should_apply"], images).to(torch.bool)
        return torch.where(chosen, rgb_to_grayscale(images), images)

    def get_config(self):
        config = {**super().get_config(), "factor": self.factor}
        config.pop("seed")
        return config

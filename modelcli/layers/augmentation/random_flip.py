"""RandomFlip: while training, mirrors each image with probability 1/2.

``mode`` names the mirror: ``horizontal`` (left-right), ``vertical`` (top-bottom) or
``horizontal_and_vertical``, where one draw per image decides both mirrors together,
as in Keras 3 (tf.keras 2 drew them independently).
"""
from __future__ import annotations

import torch

from ..registry import register_layer
from ._base import ImageAugmentation, one_of

MODES = ("horizontal", "vertical", "horizontal_and_vertical")


@register_layer("RandomFlip")
class RandomFlip(ImageAugmentation):
    def __init__(self, mode="horizontal_and_vertical", seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.mode = one_of(mode, MODES, "mode")

    def augment(self, images):
        flip = self._uniform((images.shape[0], 1, 1, 1), 0.0, 1.0, images) <= 0.5
        out = images
        if self.mode != "vertical":
            out = torch.where(flip, out.flip(2), out)
        if self.mode != "horizontal":
            out = torch.where(flip, out.flip(1), out)
        return out

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}

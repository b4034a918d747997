"""RandomCrop: crops the images to ``height`` × ``width``.

While training, one window at a random offset is cut from the whole batch. At
inference, and while training on images smaller than the window, the images are
cropped to the largest centred window with the target's aspect ratio and resized to
the target (bilinear, half-pixel centres): Keras's documented behaviour and tf.keras 2's.
Keras 3.15's code returns the images uncropped at inference, which contradicts the
output shape it declares (keras-team/keras#21868); the documented behaviour is kept.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ..registry import register_layer
from ..reshaping._spatial import positive_int
from ._base import ImageAugmentation


@register_layer("RandomCrop")
class RandomCrop(ImageAugmentation):
    def __init__(self, height, width, seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.height = positive_int(height, "height")
        self.width = positive_int(width, "width")

    def augment(self, images):
        _, in_height, in_width, _ = images.shape
        if in_height < self.height or in_width < self.width:
            return self.infer(images)
        # The offsets stay on the device (no host sync), as index tensors.
        top = self._offset(in_height - self.height, images)
        left = self._offset(in_width - self.width, images)
        rows = top + torch.arange(self.height, device=images.device)
        cols = left + torch.arange(self.width, device=images.device)
        return images.index_select(1, rows).index_select(2, cols)

    def _offset(self, slack, images):
        """An integer drawn uniformly from 0..slack."""
        drawn = self._uniform((1,), 0.0, float(slack + 1), images)
        return drawn.long().clamp_(max=slack)

    def infer(self, images):
        _, in_height, in_width, _ = images.shape
        crop_height = max(min(in_height, int(in_width * self.height / self.width)), 1)
        crop_width = max(min(in_width, int(in_height * self.width / self.height)), 1)
        top, left = (in_height - crop_height) // 2, (in_width - crop_width) // 2
        window = images[:, top:top + crop_height, left:left + crop_width, :]
        if (crop_height, crop_width) == (self.height, self.width):
            return window
        resized = F.interpolate(window.permute(0, 3, 1, 2), size=(self.height, self.width), mode="bilinear",
                                align_corners=False, antialias=False)
        return resized.permute(0, 2, 3, 1)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        rows = -3 if self.data_format == "channels_last" else -2
        shape[rows], shape[rows + 1] = self.height, self.width
        return tuple(shape)

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width}

"""What the colour augmentation layers share: Keras 3's factor reading, value-range
rescaling and the colour-space conversions of Keras's torch backend.

Each colour layer splits its training transform in two: ``random_params`` draws one
set of parameters per image (a dict of tensors, named as Keras names them), and
``apply`` is the pixel maths for given parameters. So a test can hand both Keras and
modelcli the same parameters and compare the numbers.

Colour-space formulas (all per pixel, float):

* grey = 0.2989·R + 0.587·G + 0.114·B (one channel kept as is);
* HSV: V = max, S = (max - min) / V (0 where V = 0), H in [0, 1) from the channel
  holding the max, the inverse through the piecewise-linear ramps of H·6.
"""
from __future__ import annotations

import torch

from ...errors import SpecError
from ._base import ImageAugmentation, is_number, number_pair


def keras_factor(factor, bounds, name) -> tuple:
    """Keras 3's reading of a factor with allowed ``bounds`` (low, high).

    A number f must lie in ``bounds`` and means (max(-|f|, low), |f|); a pair must
    overlap ``bounds`` and is sorted.
    """
    low, high = bounds
    if is_number(factor):
        if not low <= factor <= high:
            raise SpecError(f"expected a number in [{low}, {high}] or two numbers, got {factor!r}", where=name)
        return (max(-abs(factor), low), abs(factor))
    if isinstance(factor, (list, tuple)):
        first, second = number_pair(factor, name)
        if first > high or second < low:
            raise SpecError(f"expected two numbers overlapping [{low}, {high}], got {factor!r}", where=name)
        return tuple(sorted((first, second)))
    raise SpecError(f"expected a number or two numbers, got {factor!r}", where=name)


def rescale(images, source, target):
    """Values mapped linearly from the range ``source`` onto ``target`` (unchanged when they agree)."""
    if source[0] == target[0] and source[1] == target[1]:
        return images
    unit = (images - float(source[0])) / (float(source[1]) - float(source[0]))
    return unit * (float(target[1]) - float(target[0])) + float(target[0])


def rgb_to_grayscale(images):
    """(N, H, W, 3) → (N, H, W, 1) luminance; a one-channel batch is returned as a copy."""
    if images.shape[-1] == 1:
        return images.clone()
    r, g, b = images.unbind(-1)
    return (0.2989 * r + 0.587 * g + 0.114 * b).to(images.dtype).unsqueeze(-1)


def rgb_to_hsv(images):
    eps = torch.finfo(images.dtype).eps
    images = torch.where(images.abs() < eps, torch.zeros_like(images), images)
    r, g, b = images.unbind(-1)
    value = torch.maximum(torch.maximum(r, g), b)
    spread = value - torch.minimum(torch.minimum(r, g), b)
    one = torch.ones_like(value)
    saturation = torch.where(value > 0, spread / torch.where(value > 0, value, one), 0.0)
    norm = 1.0 / (6.0 * torch.where(spread > 0, spread, one))
    hue = torch.where(value == g, norm * (b - r) + 2.0 / 6.0, norm * (r - g) + 4.0 / 6.0)
    hue = torch.where(value == r, norm * (g - b), hue)
    hue = torch.where(spread > 0, hue, 0.0) + (hue < 0.0).to(hue.dtype)
    return torch.stack((hue, saturation, value), dim=-1)


def hsv_to_rgb(images):
    hue, saturation, value = images.unbind(-1)
    sextant = torch.remainder(hue, 1.0) * 6.0
    ramps = (torch.clip((sextant - 3.0).abs() - 1.0, 0.0, 1.0),
             torch.clip(2.0 - (sextant - 2.0).abs(), 0.0, 1.0),
             torch.clip(2.0 - (sextant - 4.0).abs(), 0.0, 1.0))
    grey = 1.0 - saturation
    return torch.stack([value * (grey + saturation * ramp) for ramp in ramps], dim=-1)


class ColorAugmentation(ImageAugmentation):
    """An augmentation whose training transform is ``apply(images, random_params(images))``."""

    #: channel counts the pixel maths accepts (None: any)
    channels = None

    def build(self, input_shape):
        super().build(input_shape)
        axis = 1 if self.data_format == "channels_first" and len(input_shape) == 4 else (
            0 if self.data_format == "channels_first" else -1)
        count = input_shape[axis]
        if self.channels is not None and count is not None and count not in self.channels:
            raise SpecError(f"{type(self).__name__} works on images with "
                            f"{' or '.join(map(str, self.channels))} channels, got shape {tuple(input_shape)}; "
                            f"convert the images (or remove the layer) first", where=self.name)

    def augment(self, images):
        return self.apply(images, self.random_params(images))

    def random_params(self, images) -> dict:
        raise NotImplementedError(type(self).__name__)

    def apply(self, images, params) -> torch.Tensor:
        """The transform of a channels_last batch for given per-image ``params``."""
        raise NotImplementedError(type(self).__name__)

    def _per_image(self, images, low, high):
        """One float32 draw per image, shape (N,)."""
        return self._uniform((images.shape[0],), low, high, images)


def as_images_param(value, images, shape=(-1, 1, 1, 1)):
    """A per-image parameter (any array-like) as a tensor broadcasting against (N, H, W, C)."""
    return torch.as_tensor(value, device=images.device).reshape(shape)

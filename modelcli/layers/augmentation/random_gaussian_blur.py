"""RandomGaussianBlur: while training, blurs some images with a Gaussian kernel.

Per image, a probability p is drawn from ``factor`` (within [0, 1]; a number f means
[0, f]) and the image is blurred when a second draw u in [0, 1) falls below p. The
two standard deviations (σx, σy) are drawn once per call from ``sigma`` (each plus
1e-6) and shared by the whole batch, as Keras does. The kernel (k×k, ``kernel_size``
odd) is the outer product of the normalised 1-D weights exp(-½((i - (k - 1)/2)/σ)²),
applied to each channel with zero padding; the result is clipped to
``value_range``.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ...errors import SpecError
from ..registry import register_layer
from ._base import is_number, number_pair
from ._color import ColorAugmentation, as_images_param, keras_factor


def odd_sizes(value, name) -> tuple:
    sizes = (value, value) if is_number(value) else (
        number_pair(value, name) if isinstance(value, (list, tuple)) else None)
    if sizes is None or not all(float(s).is_integer() and s > 0 and s % 2 == 1 for s in sizes):
        raise SpecError(f"expected an odd positive size or two, got {value!r}", where=name)
    if sizes[0] != sizes[1]:
        raise SpecError(f"only square kernels keep the image size, got {value!r}", where=name)
    return tuple(sizes)


def gaussian_blur(images, size, sigma):
    """A channels_last batch blurred with one (size×size) kernel from ``sigma`` = (σx, σy) tensors."""
    channels = images.shape[-1]
    offsets = torch.arange(size, dtype=images.dtype, device=images.device) - (size - 1) / 2

    def weights(s):
        w = torch.exp(-0.5 * (offsets / s.to(images.dtype)) ** 2)
        return w / w.sum()

    kernel = torch.outer(weights(sigma[1]), weights(sigma[0])).expand(channels, 1, size, size)
    blurred = F.conv2d(images.permute(0, 3, 1, 2), kernel, padding=size // 2, groups=channels)
    return blurred.permute(0, 2, 3, 1)


@register_layer("RandomGaussianBlur")
class RandomGaussianBlur(ColorAugmentation):
    def __init__(self, factor=1.0, kernel_size=3, sigma=1.0, value_range=(0, 255), data_format=None, seed=None,
                 **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = keras_factor(factor, (0, 1), "factor")
        self.kernel_size = odd_sizes(kernel_size, "kernel_size")
        self.sigma = keras_factor(sigma, (0, 1), "sigma")
        number_pair(value_range, "value_range")
        self.value_range = value_range

    def random_params(self, images):
        """``should_apply_blur`` (N,) bools and ``blur_factor`` (2,), the batch's (σx, σy)."""
        probability = self._per_image(images, *self.factor)
        apply = self._per_image(images, 0.0, 1.0) < probability
        return {"should_apply_blur": apply, "blur_factor": self._uniform((2,), *self.sigma, images) + 1e-6}

    def apply(self, images, params):
        sigma = torch.as_tensor(params["blur_factor"], device=images.device)
        apply = as_images_param(params["should_apply_blur"], images)
        out = torch.where(apply, gaussian_blur(images, int(self.kernel_size[0]), sigma), images)
        return out.clamp(self.value_range[0], self.value_range[1])

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "kernel_size": self.kernel_size,
                "sigma": self.sigma, "value_range": self.value_range}

"""What the image augmentation layers share: argument checks, the training switch, layouts.

Each layer draws a fresh transform per image on every training call (seeded by
``seed`` like the noise layers) and is the identity otherwise. ``training`` is
False unless the caller (``fit``, or an explicit ``training=True``) says so; Keras 3
instead defaults it to True when a layer or model is called directly, which
``predict`` never does.

Images are batches ``(N, H, W, C)`` (or ``(N, C, H, W)`` with channels_first), or
one unbatched image; the transforms work on channels_last batches and the layout
is restored afterwards. Outputs take the layer's compute dtype, as in Keras.
"""
from __future__ import annotations

import numbers

import torch

from ... import backend
from ...errors import SpecError
from ..regularization._random import RandomLayer
from ..reshaping._spatial import check_data_format


def is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def number(value, name) -> float:
    if not is_number(value):
        raise SpecError(f"expected a number, got {value!r}", where=name)
    return value


def number_pair(value, name) -> tuple:
    """A (first, second) pair of numbers as given, from a list or tuple."""
    if not isinstance(value, (list, tuple)) or len(value) != 2 or not all(is_number(v) for v in value):
        raise SpecError(f"expected two numbers, got {value!r}", where=name)
    return tuple(value)


def symmetric_range(factor, name) -> tuple:
    """Keras's reading of a factor: a number f means (-|f|, |f|), a pair is sorted."""
    if is_number(factor):
        return (-abs(factor), abs(factor))
    if isinstance(factor, (list, tuple)):
        return tuple(sorted(number_pair(factor, name)))
    raise SpecError(f"expected a number or two numbers, got {factor!r}", where=name)


def one_of(value, choices, name) -> str:
    if value not in choices:
        raise SpecError(f"expected one of {', '.join(map(repr, choices))}, got {value!r}", where=name)
    return value


class ImageAugmentation(RandomLayer):
    """A layer that transforms images at random while training, with the input's shape kept."""

    supports_masking = False

    def __init__(self, seed=None, data_format=None, bounding_box_format=None, rng_type=None, **kwargs):
        # tf.keras writes ``rng_type``, its choice of TensorFlow random generator: nothing to do here.
        super().__init__(seed=seed, **kwargs)
        self.data_format = check_data_format(data_format)
        # Keras uses it for dict inputs carrying boxes; a model's image tensor never has them.
        self.bounding_box_format = bounding_box_format

    def build(self, input_shape):
        if len(input_shape) not in (3, 4):
            raise SpecError(f"{type(self).__name__} expects images of rank 4 (batch, height, width, "
                            f"channels) or rank 3 (one image), got shape {tuple(input_shape)}",
                            where=self.name)

    def call(self, inputs, training=False):
        images = inputs.to(backend.torch_dtype(self.compute_dtype))
        unbatched = images.dim() == 3
        if unbatched:
            images = images.unsqueeze(0)
        if self.data_format == "channels_first":
            images = images.permute(0, 2, 3, 1)
        out = self.augment(images) if training else self.infer(images)
        if self.data_format == "channels_first":
            out = out.permute(0, 3, 1, 2)
        return out.squeeze(0) if unbatched else out

    def augment(self, images: torch.Tensor) -> torch.Tensor:
        """The training-time transform of a channels_last batch."""
        raise NotImplementedError(type(self).__name__)

    def infer(self, images: torch.Tensor) -> torch.Tensor:
        """The inference-time output for a channels_last batch: the images themselves."""
        return images

    def _uniform(self, shape, low, high, like: torch.Tensor) -> torch.Tensor:
        """float32 draws in [low, high), written as Keras writes them: (high - low)·u + low."""
        u = torch.rand(shape, dtype=torch.float32, device=like.device, generator=self._generator(like.device))
        return (high - low) * u + low

    def get_config(self):
        config = {**super().get_config(), "data_format": self.data_format, "seed": self.seed}
        if self.bounding_box_format is not None:
            config["bounding_box_format"] = self.bounding_box_format
        return config

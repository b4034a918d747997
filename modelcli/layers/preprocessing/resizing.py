"""Resizing: each image resized to ``(height, width)`` (see ``_image.resize_images``).

``crop_to_aspect_ratio`` first takes the largest centred window of the target
aspect ratio; ``pad_to_aspect_ratio`` first pads the short side with
``fill_value``. Without either the aspect ratio may change.

Keras 3 keeps an integer image's dtype (values rounded); tf.keras 2 cast the
input to the compute dtype first and returned floats. A layer read from a
Keras 2 file keeps Keras 2's rule.

Not implemented, and refused: "bicubic" (Keras's backends give different numbers
for it), "lanczos3"/"lanczos5" and tf.keras's "area", "gaussian",
"mitchellcubic"; ``antialias=True``; a ``fill_mode`` other than "constant"
(Keras itself accepts no other).
"""
from __future__ import annotations

import numbers

from ... import backend, flavour
from ...engine.keras_tensor import KerasTensor
from ...errors import SpecError
from ..registry import register_layer
from ._image import ImageLayer, check_interpolation, resize_images


@register_layer("Resizing")
class Resizing(ImageLayer):
    def __init__(self, height, width, interpolation="bilinear", crop_to_aspect_ratio=False,
                 pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0, antialias=False,
                 data_format=None, **kwargs):
        super().__init__(height, width, data_format=data_format, **kwargs)
        self.interpolation = check_interpolation(interpolation)
        self.crop_to_aspect_ratio = bool(crop_to_aspect_ratio)
        self.pad_to_aspect_ratio = bool(pad_to_aspect_ratio)
        _check_options(self.crop_to_aspect_ratio, self.pad_to_aspect_ratio, fill_mode, fill_value, antialias)
        self.fill_mode = fill_mode
        self.fill_value = fill_value
        self.antialias = False
        self._casts_integers = flavour.current() == flavour.KERAS2

    def call(self, inputs):
        self.image_axes(inputs.dim())  # refuses a tensor that is not one image or a batch of them
        x = inputs
        if x.is_floating_point() or self._casts_integers:
            x = x.to(backend.torch_dtype(self.compute_dtype))
        return resize_images(x, (self.height, self.width), self.interpolation, self.data_format,
                             self.crop_to_aspect_ratio, self.pad_to_aspect_ratio, self.fill_value)

    def compute_output_spec(self, inputs, *args, **kwargs):
        integer = not inputs.dtype.startswith(("float", "bfloat")) and not self._casts_integers
        return KerasTensor(self.compute_output_shape(inputs.shape), inputs.dtype if integer else self.compute_dtype)

    def get_config(self):
        return {**super().get_config(), "interpolation": self.interpolation,
                "crop_to_aspect_ratio": self.crop_to_aspect_ratio, "pad_to_aspect_ratio": self.pad_to_aspect_ratio,
                "fill_mode": self.fill_mode, "fill_value": self.fill_value, "antialias": self.antialias}


def _check_options(crop_to_aspect_ratio, pad_to_aspect_ratio, fill_mode, fill_value, antialias) -> None:
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise SpecError("only one of crop_to_aspect_ratio and pad_to_aspect_ratio can be true",
                        where="pad_to_aspect_ratio")
    if fill_mode != "constant":
        raise SpecError(f"expected 'constant', got {fill_mode!r}", where="fill_mode")
    if not isinstance(fill_value, numbers.Real) or isinstance(fill_value, bool):
        raise SpecError(f"expected a number, got {fill_value!r}", where="fill_value")
    if antialias:
        raise SpecError("antialias=True is not supported by modelcli", where="antialias")

"""What the image preprocessing layers share: their base class and Keras's resize.

Images are rank 4 ``(batch, height, width, channels)`` (channels_last, Keras's
default) or ``(batch, channels, height, width)``; a rank 3 input is one image
without the batch axis, as Keras accepts it.

``resize_images`` computes what ``keras.ops.image.resize`` computes on Keras's
torch backend: the maths runs in float32 (float64 stays float64) through
``F.interpolate`` with half-pixel centres (``align_corners=False``; "nearest"
is torch's ``nearest-exact``, which picks ``floor((i + 0.5)·in/out)`` as
TensorFlow and JAX do), and an integer image is rounded back to its dtype.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ...engine.layer import Layer
from ...errors import SpecError
from ..reshaping._spatial import check_data_format, positive_int

# Keras name -> F.interpolate mode. Only modes on which Keras's backends agree: torch's
# bicubic kernel (a = -0.75) is not TensorFlow's or JAX's (a = -0.5), and Lanczos has no torch kernel.
INTERPOLATIONS = {"bilinear": "bilinear", "nearest": "nearest-exact"}


def check_interpolation(value) -> str:
    if value not in INTERPOLATIONS:
        raise SpecError(f"interpolation {value!r} is not supported by modelcli; expected one of "
                        f"{', '.join(map(repr, INTERPOLATIONS))}", where="interpolation")
    return value


class ImageLayer(Layer):
    """A layer that turns images into images of ``(height, width)``."""

    def __init__(self, height, width, data_format=None, bounding_box_format=None, **kwargs):
        super().__init__(**kwargs)
        self.height = positive_int(height, "height")
        self.width = positive_int(width, "width")
        self.data_format = check_data_format(data_format)
        # Keras uses it only for {"images", "bounding_boxes"} dict inputs; images come out the same.
        self.bounding_box_format = bounding_box_format

    def image_axes(self, rank: int) -> tuple[int, int]:
        """(height axis, width axis) of a rank 3 or rank 4 image tensor."""
        if rank not in (3, 4):
            raise SpecError(f"{type(self).__name__} expects images of rank 4 (batch, height, width, "
                            f"channels) or rank 3 (one image), got rank {rank}", where=self.name)
        return (rank - 3, rank - 2) if self.data_format == "channels_last" else (rank - 2, rank - 1)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        h_axis, w_axis = self.image_axes(len(shape))
        shape[h_axis], shape[w_axis] = self.height, self.width
        return tuple(shape)

    def get_config(self):
        config = {**super().get_config(), "height": self.height, "width": self.width,
                  "data_format": self.data_format}
        if self.bounding_box_format is not None:
            config["bounding_box_format"] = self.bounding_box_format
        return config


def resize_images(images, size, interpolation="bilinear", data_format="channels_last",
                  crop_to_aspect_ratio=False, pad_to_aspect_ratio=False, fill_value=0.0):
    """Keras's ``ops.image.resize`` (torch backend) for rank 3 or 4 images."""
    dtype = images.dtype
    x = images if images.dim() == 4 else images.unsqueeze(0)
    if dtype not in (torch.float32, torch.float64):
        x = x.float()
    if data_format == "channels_last":
        x = x.permute(0, 3, 1, 2)
    if crop_to_aspect_ratio:
        x = _crop_to_aspect_ratio(x, size)
    elif pad_to_aspect_ratio:
        x = _pad_to_aspect_ratio(x, size, fill_value)
    mode = INTERPOLATIONS[interpolation]
    x = F.interpolate(x, size=tuple(size), mode=mode, align_corners=False if mode == "bilinear" else None)
    if data_format == "channels_last":
        x = x.permute(0, 2, 3, 1)
    if images.dim() == 3:
        x = x.squeeze(0)
    if x.dtype != dtype:
        x = (x if dtype.is_floating_point else torch.round(x)).to(dtype)
    return x


def _crop_to_aspect_ratio(x, size):
    """The largest centred window of the target aspect ratio (Keras's ``smart_resize`` box).

    Sizes are truncated as Keras truncates them: ``int(w·th/tw)`` rows, at least one,
    starting ``int((h - rows)/2)`` rows down; likewise for the columns.
    """
    height, width = x.shape[-2:]
    target_height, target_width = size
    rows = max(min(height, int(float(width * target_height) / target_width)), 1)
    cols = max(min(width, int(float(height * target_width) / target_height)), 1)
    top, left = int(float(height - rows) / 2), int(float(width - cols) / 2)
    return x[:, :, top:top + rows, left:left + cols]


def _pad_to_aspect_ratio(x, size, fill_value):
    """Pads the short side with ``fill_value`` to the target aspect ratio.

    Keras pads ``int((padded - n)/2)`` on *both* sides, so an odd difference leaves
    the result one row (or column) short of the exact ratio; this does the same.
    """
    height, width = x.shape[-2:]
    target_height, target_width = size
    rows = int(float(max(height, int(float(width * target_height) / target_width)) - height) / 2)
    cols = int(float(max(width, int(float(height * target_width) / target_height)) - width) / 2)
    return F.pad(x, (cols, cols, rows, rows), value=float(fill_value)) if rows or cols else x

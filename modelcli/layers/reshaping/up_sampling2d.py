"""UpSampling2D: enlarges rows and columns by ``size``.

``nearest`` repeats pixels. ``bilinear`` and ``bicubic`` resize to exactly
``(size·h, size·w)`` with half-pixel centres, i.e. torch's ``align_corners=False``
(Keras's resize on the torch backend calls ``F.interpolate`` the same way).
"""
from __future__ import annotations

import torch.nn.functional as F

from ...errors import SpecError
from ..registry import register_layer
from ._spatial import SpatialLayer, check_data_format, int_tuple

INTERPOLATIONS = ("nearest", "bilinear", "bicubic")


@register_layer("UpSampling2D")
class UpSampling2D(SpatialLayer):
    rank = 2

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        self.size = int_tuple(size, 2, "size")
        self.data_format = check_data_format(data_format)
        if not isinstance(interpolation, str) or interpolation.lower() not in INTERPOLATIONS:
            raise SpecError(f"expected one of {', '.join(map(repr, INTERPOLATIONS))}, got {interpolation!r}",
                            where="interpolation")
        self.interpolation = interpolation.lower()

    def call(self, inputs):
        h_axis, w_axis = self._spatial_axes()
        if self.interpolation == "nearest":
            return inputs.repeat_interleave(self.size[0], h_axis).repeat_interleave(self.size[1], w_axis)
        channels_last = self.data_format == "channels_last"
        x = inputs.permute(0, 3, 1, 2) if channels_last else inputs
        out_size = (x.shape[2] * self.size[0], x.shape[3] * self.size[1])
        x = F.interpolate(x, size=out_size, mode=self.interpolation, align_corners=False)
        return x.permute(0, 2, 3, 1) if channels_last else x

    def compute_output_shape(self, input_shape):
        return self._map_spatial(input_shape, lambda n, i: n * self.size[i])

    def get_config(self):
        return {**super().get_config(), "size": self.size, "data_format": self.data_format,
                "interpolation": self.interpolation}

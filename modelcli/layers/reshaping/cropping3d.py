"""Cropping3D: removes slices before and after each spatial axis.

``cropping`` is an int, 3 ints or 3 (before, after) pairs.
"""
from __future__ import annotations

from ..registry import register_layer
from ._spatial import Cropping, check_data_format, spatial_pairs


@register_layer("Cropping3D")
class Cropping3D(Cropping):
    rank = 3

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.cropping = spatial_pairs(cropping, 3, "cropping")
        self.data_format = check_data_format(data_format)
        self.pairs = self.cropping

    def get_config(self):
        return {**super().get_config(), "cropping": self.cropping, "data_format": self.data_format}

"""Cropping2D: removes slices before and after each spatial axis.

``cropping`` is an int, (rows, cols) or ((top, bottom), (left, right)).
"""
from __future__ import annotations

from ..registry import register_layer
from ._spatial import Cropping, check_data_format, spatial_pairs


@register_layer("Cropping2D")
class Cropping2D(Cropping):
    rank = 2

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.cropping = spatial_pairs(cropping, 2, "cropping")
        self.data_format = check_data_format(data_format)
        self.pairs = self.cropping

    def get_config(self):
        return {**super().get_config(), "cropping": self.cropping, "data_format": self.data_format}

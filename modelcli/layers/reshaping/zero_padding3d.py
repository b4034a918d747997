"""ZeroPadding3D: adds zeros before and after each spatial axis.

``padding`` is an int, 3 ints or 3 (before, after) pairs.
"""
from __future__ import annotations

from ..registry import register_layer
from ._spatial import ZeroPadding, check_data_format, spatial_pairs


@register_layer("ZeroPadding3D")
class ZeroPadding3D(ZeroPadding):
    rank = 3

    def __init__(self, padding=(1, 1, 1), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.padding = spatial_pairs(padding, 3, "padding")
        self.data_format = check_data_format(data_format)
        self.pairs = self.padding

    def get_config(self):
        return {**super().get_config(), "padding": self.padding, "data_format": self.data_format}

"""ZeroPadding2D: adds zeros before and after each spatial axis.

``padding`` is an int, (rows, cols) or ((top, bottom), (left, right)).
"""
from __future__ import annotations

from ..registry import register_layer
from ._spatial import ZeroPadding, check_data_format, spatial_pairs


@register_layer("ZeroPadding2D")
class ZeroPadding2D(ZeroPadding):
    rank = 2

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.padding = spatial_pairs(padding, 2, "padding")
        self.data_format = check_data_format(data_format)
        self.pairs = self.padding

    def get_config(self):
        return {**super().get_config(), "padding": self.padding, "data_format": self.data_format}

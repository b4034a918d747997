"""ZeroPadding1D: adds zeros before and after each spatial axis.

``padding`` is an int or a (before, after) pair.
"""
from __future__ import annotations

from ..registry import register_layer
from ._spatial import ZeroPadding, check_data_format, int_tuple


@register_layer("ZeroPadding1D")
class ZeroPadding1D(ZeroPadding):
    rank = 1

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.padding = int_tuple(padding, 2, "padding", allow_zero=True)
        self.data_format = check_data_format(data_format)
        self.pairs = (self.padding,)

    def get_config(self):
        return {**super().get_config(), "padding": self.padding, "data_format": self.data_format}

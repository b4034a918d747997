"""Cropping1D: removes steps from the start and end of ``(batch, steps, features)``.

``cropping`` is an int or a (before, after) pair.
"""
from __future__ import annotations

from ..registry import register_layer
from ._spatial import Cropping, int_tuple


@register_layer("Cropping1D")
class Cropping1D(Cropping):
    rank = 1
    data_format = "channels_last"

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(**kwargs)
        self.cropping = int_tuple(cropping, 2, "cropping", allow_zero=True)
        self.pairs = (self.cropping,)

    def get_config(self):
        return {**super().get_config(), "cropping": self.cropping}

"""Equalization: while training, flattens the histogram of each colour channel.

Deterministic (nothing drawn), and like Keras the identity at inference. Keras
counts one histogram per channel over the whole batch, not per image, and so does
this layer. With values read in ``value_range`` and mapped onto [0, 255], ``bins``
equal bins (bin of v: trunc(v·(bins - 1)/255), clipped) give counts, their running
sum c, and c0 = the count of the first non-empty bin. Each value v then becomes

    round((c[b] - c0)·255 / (c[-1] - c0))   (clipped to [0, 255]; a zero divisor reads 1)

with b = trunc(clip(v/255·(bins - 1), 0, bins - 1)), mapped back onto ``value_range``.
A channel whose values all fall in one bin is kept as it was.
"""
from __future__ import annotations

import torch

from ...errors import SpecError
from ..registry import register_layer
from ._base import number_pair
from ._color import ColorAugmentation


def _linear(values, source, target):
    scale = (target[1] - target[0]) / (source[1] - source[0])
    return values * scale + (target[0] - source[0] * scale)


@register_layer("Equalization")
class Equalization(ColorAugmentation):
    def __init__(self, value_range=(0, 255), bins=256, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        if not isinstance(bins, int) or isinstance(bins, bool) or bins < 2:
            raise SpecError(f"expected an integer of at least 2, got {bins!r}", where="bins")
        self.bins = bins
        self.value_range = sorted(number_pair(value_range, "value_range"))

    def random_params(self, images):
        return {}  # nothing drawn

    def apply(self, images, params=None):
        return torch.stack([self._channel(images[..., c]) for c in range(images.shape[-1])], dim=-1)

    def _channel(self, channel):
        bins = self.bins
        channel = _linear(channel, self.value_range, (0, 255))
        values = channel.float()
        index = ((values * (bins - 1)) / 255.0).to(torch.int32).clamp(0, bins - 1).reshape(-1).long()
        # scatter_add, not bincount: bincount reads the largest index back to the host
        hist = torch.zeros(bins, dtype=torch.int64, device=channel.device)
        hist.scatter_add_(0, index, torch.ones_like(index))
        cdf = torch.cumsum(hist, 0)
        first = torch.where(cdf > 0, cdf, cdf[-1]).amin()  # cdf rises, so this is the first non-empty bin's count
        divisor = cdf[-1] - first
        divisor = torch.where(divisor == 0, torch.ones_like(divisor), divisor)
        table = torch.round((cdf - first) * 255 / divisor).clamp(0, 255)
        lookup = ((channel / 255.0) * (bins - 1)).clamp(0, bins - 1).to(torch.int32).long()
        equalized = table[lookup].to(channel.dtype)
        out = torch.where(torch.count_nonzero(hist) <= 1, channel, equalized)
        return _linear(out, (0, 255), self.value_range)

    def get_config(self):
        config = {**super().get_config(), "bins": self.bins, "value_range": self.value_range}
        config.pop("seed", None)  # Keras writes no seed for this layer
        return config

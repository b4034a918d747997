"""Fixed values a preprocessing layer applies (a scale, a given mean) as tensors.

They are not weights (Keras saves them in the config, not the weights file), so
they are kept as NumPy values and turned into a tensor of the input's dtype and
device the first time each pair is seen, rather than on every call.
"""
from __future__ import annotations

import numpy as np
import torch


class Constant:
    def __init__(self, value):
        self.value = np.array(value)  # a writable copy: torch warns on read-only (broadcast) views
        self._tensors: dict = {}

    def like(self, x: torch.Tensor) -> torch.Tensor:
        """The value cast to ``x``'s dtype on ``x``'s device (Keras casts it to the compute dtype)."""
        key = (x.dtype, x.device)
        tensor = self._tensors.get(key)
        if tensor is None:
            tensor = self._tensors[key] = torch.as_tensor(self.value, dtype=x.dtype, device=x.device)
        return tensor

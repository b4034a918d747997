"""``set_random_seed``: one call seeds every random number generator a run draws from."""
from __future__ import annotations

import random

import numpy as np


def set_random_seed(seed: int) -> None:
    """Seed Python's ``random``, NumPy's global generator and torch (CPU and CUDA), as Keras does.

    Weight initializers, dropout and ``fit``'s shuffling all draw from these, so
    building and training a model after the same seed gives the same weights and
    History on the same machine.
    """
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ValueError(f"Expected `seed` argument to be an integer. Received: seed={seed!r} "
                         f"(of type {type(seed)})")
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)

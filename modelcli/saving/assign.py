"""Assigning a list of Keras-layout arrays to a list of weights, with a clear mismatch error."""
from __future__ import annotations

import numpy as np

from ..errors import WeightsError


FROM_FILE = ("the file", "the weights were saved from a different architecture")
FROM_SET_WEIGHTS = ("set_weights()", "pass arrays in the order and shapes of get_weights()")


def assign_weights(weights, values, where: str, skip_mismatch: bool = False, source=FROM_FILE) -> list[str]:
    """Check counts and shapes, then assign. Returns the paths skipped (with skip_mismatch).
    ``source`` names where the values come from and what to do about a mismatch."""
    giver, hint = source
    if len(weights) != len(values):
        raise WeightsError(f"expected {len(weights)} weight arrays ({_names(weights)}), {giver} gives "
                           f"{len(values)}", where=where, hint=hint)
    skipped = []
    for weight, value in zip(weights, values):
        value = np.asarray(value)
        if tuple(value.shape) != tuple(weight.shape):
            if skip_mismatch:
                skipped.append(weight.path)
                continue
            raise WeightsError(f"weight '{weight.path}' has shape {tuple(weight.shape)} but {giver} "
                               f"gives {tuple(value.shape)}", where=where, hint=hint)
    for weight, value in zip(weights, values):
        if weight.path not in skipped:
            weight.assign(value)
    return skipped


def _names(weights) -> str:
    return ", ".join(w.path for w in weights) or "none"

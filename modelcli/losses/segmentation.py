"""Overlap losses for segmentation masks: Dice and Tversky.

Both sum over ``axis`` (``None``: every axis, one value for the whole batch).
"""
from __future__ import annotations

from .base import EPSILON, LOSSES, FunctionLoss, as_float


def _sum(x, axis):
    return x.sum() if axis is None else x.sum(dim=axis)


@LOSSES.register("dice")
def dice(y_true, y_pred, axis=None):
    """``1 − 2·Σ y·p / (Σ y + Σ p + 1e-7)``."""
    y_pred = as_float(y_pred)
    y_true = as_float(y_true, like=y_pred)
    intersection = _sum(y_true * y_pred, axis)
    return 1 - 2.0 * intersection / (_sum(y_true, axis) + _sum(y_pred, axis) + EPSILON)


@LOSSES.register("tversky")
def tversky(y_true, y_pred, alpha=0.5, beta=0.5, axis=None):
    """``1 − TP / (TP + alpha·FP + beta·FN + 1e-7)`` with soft counts (Keras's naming of FP / FN)."""
    y_pred = as_float(y_pred)
    y_true = as_float(y_true, like=y_pred)
    intersection = _sum(y_true * y_pred, axis)
    fp = _sum((1 - y_pred) * y_true, axis)
    fn = _sum(y_pred * (1 - y_true), axis)
    return 1 - intersection / (intersection + fp * alpha + fn * beta + EPSILON)


@LOSSES.register("Dice")
class Dice(FunctionLoss):
    def __init__(self, reduction="sum_over_batch_size", name="dice", axis=None, dtype=None):
        super().__init__(dice, reduction, name, dtype, axis=axis)


@LOSSES.register("Tversky")
class Tversky(FunctionLoss):
    def __init__(self, alpha=0.5, beta=0.5, reduction="sum_over_batch_size", name="tversky", axis=None, dtype=None):
        super().__init__(tversky, reduction, name, dtype, alpha=alpha, beta=beta, axis=axis)

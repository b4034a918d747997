"""Hinge losses for labels in {−1, 1} ({0, 1} labels are mapped to {−1, 1} first)."""
from __future__ import annotations

import torch

from .base import LOSSES, FunctionLoss, as_float


def _signed_labels(y_true):
    """``2y − 1`` when every label is 0 or 1, else the labels unchanged (decided on the device, no sync)."""
    is_binary = ((y_true == 0) | (y_true == 1)).all()
    return torch.where(is_binary, 2.0 * y_true - 1.0, y_true)


@LOSSES.register("hinge")
def hinge(y_true, y_pred):
    """``mean(max(1 − y·p, 0))`` over the last axis."""
    y_pred = as_float(y_pred)
    y_true = _signed_labels(as_float(y_true, like=y_pred))
    return (1.0 - y_true * y_pred).clamp_min(0.0).mean(dim=-1)


@LOSSES.register("squared_hinge")
def squared_hinge(y_true, y_pred):
    """``mean(max(1 − y·p, 0)²)`` over the last axis."""
    y_pred = as_float(y_pred)
    y_true = _signed_labels(as_float(y_true, like=y_pred))
    return (1.0 - y_true * y_pred).clamp_min(0.0).square().mean(dim=-1)


@LOSSES.register("categorical_hinge")
def categorical_hinge(y_true, y_pred):
    """``max(max((1 − y)·p) − Σ y·p + 1, 0)`` over the last axis, for one-hot ``y``."""
    y_pred = as_float(y_pred)
    y_true = as_float(y_true, like=y_pred)
    pos = (y_true * y_pred).sum(dim=-1)
    neg = ((1.0 - y_true) * y_pred).amax(dim=-1)
    return (neg - pos + 1.0).clamp_min(0.0)


@LOSSES.register("Hinge")
class Hinge(FunctionLoss):
    def __init__(self, reduction="sum_over_batch_size", name="hinge", dtype=None):
        super().__init__(hinge, reduction, name, dtype)


@LOSSES.register("SquaredHinge")
class SquaredHinge(FunctionLoss):
    def __init__(self, reduction="sum_over_batch_size", name="squared_hinge", dtype=None):
        super().__init__(squared_hinge, reduction, name, dtype)


@LOSSES.register("CategoricalHinge")
class CategoricalHinge(FunctionLoss):
    def __init__(self, reduction="sum_over_batch_size", name="categorical_hinge", dtype=None):
        super().__init__(categorical_hinge, reduction, name, dtype)

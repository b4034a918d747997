"""Regression losses: squared / absolute / percentage / log errors, Huber, log-cosh, cosine.

Each reduces over the last axis (``cosine_similarity`` over ``axis``) after
Keras's squeeze-or-expand of a trailing axis of size 1, so ``y_true`` of shape
``(batch,)`` meets ``y_pred`` of shape ``(batch, 1)``.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .base import EPSILON, LOSSES, FunctionLoss, as_float, squeeze_or_expand_to_same_rank


def _pair(y_true, y_pred):
    y_pred = as_float(y_pred)
    return squeeze_or_expand_to_same_rank(as_float(y_true, like=y_pred), y_pred)


@LOSSES.register("mean_squared_error", "mse", "MSE")
def mean_squared_error(y_true, y_pred):
    """``mean((y − p)²)`` over the last axis."""
    y_true, y_pred = _pair(y_true, y_pred)
    return (y_true - y_pred).square().mean(dim=-1)


@LOSSES.register("mean_absolute_error", "mae", "MAE")
def mean_absolute_error(y_true, y_pred):
    """``mean(|y − p|)`` over the last axis."""
    y_true, y_pred = _pair(y_true, y_pred)
    return (y_true - y_pred).abs().mean(dim=-1)


@LOSSES.register("mean_absolute_percentage_error", "mape", "MAPE")
def mean_absolute_percentage_error(y_true, y_pred):
    """``100·mean(|y − p| / max(|y|, 1e-7))`` over the last axis."""
    y_true, y_pred = _pair(y_true, y_pred)
    return 100.0 * ((y_true - y_pred) / y_true.abs().clamp_min(EPSILON)).abs().mean(dim=-1)


@LOSSES.register("mean_squared_logarithmic_error", "msle", "MSLE")
def mean_squared_logarithmic_error(y_true, y_pred):
    """``mean((log(max(p, 1e-7) + 1) − log(max(y, 1e-7) + 1))²)`` over the last axis."""
    y_true, y_pred = _pair(y_true, y_pred)
    first = (y_pred.clamp_min(EPSILON) + 1.0).log()
    second = (y_true.clamp_min(EPSILON) + 1.0).log()
    return (first - second).square().mean(dim=-1)


def l2_normalize(x, axis=-1):
    """``x / ‖x‖`` as Keras computes it: ``x · min(rsqrt(Σx²), 1/1e-7)`` (a zero vector stays zero)."""
    inv_norm = torch.rsqrt(x.square().sum(dim=axis, keepdim=True)).clamp_max(1.0 / EPSILON)
    return x * inv_norm


@LOSSES.register("cosine_similarity")
def cosine_similarity(y_true, y_pred, axis=-1):
    """``−Σ normalize(y)·normalize(p)`` over ``axis``: −1 for the same direction."""
    y_true, y_pred = _pair(y_true, y_pred)
    return -(l2_normalize(y_true, axis) * l2_normalize(y_pred, axis)).sum(dim=axis)


@LOSSES.register("huber")
def huber(y_true, y_pred, delta=1.0):
    """``½e²`` where ``|e| ≤ delta``, else ``delta·|e| − ½delta²``; mean over the last axis."""
    y_true, y_pred = _pair(y_true, y_pred)
    error = y_pred - y_true
    abs_error = error.abs()
    return torch.where(abs_error <= delta, 0.5 * error.square(), delta * abs_error - 0.5 * delta * delta).mean(dim=-1)


_LOG2 = math.log(2.0)


@LOSSES.register("log_cosh", "logcosh")
def log_cosh(y_true, y_pred):
    """``mean(log(cosh(p − y)))`` over the last axis, as ``x + softplus(−2x) − log 2`` (no overflow)."""
    y_true, y_pred = _pair(y_true, y_pred)
    x = y_pred - y_true
    return (x + F.softplus(-2.0 * x) - _LOG2).mean(dim=-1)


@LOSSES.register("MeanSquaredError")
class MeanSquaredError(FunctionLoss):
    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, reduction, name, dtype)


@LOSSES.register("MeanAbsoluteError")
class MeanAbsoluteError(FunctionLoss):
    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, reduction, name, dtype)


@LOSSES.register("MeanAbsolutePercentageError")
class MeanAbsolutePercentageError(FunctionLoss):
    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_percentage_error", dtype=None):
        super().__init__(mean_absolute_percentage_error, reduction, name, dtype)


@LOSSES.register("MeanSquaredLogarithmicError")
class MeanSquaredLogarithmicError(FunctionLoss):
    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(mean_squared_logarithmic_error, reduction, name, dtype)


@LOSSES.register("CosineSimilarity")
class CosineSimilarity(FunctionLoss):
    def __init__(self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity", dtype=None):
        super().__init__(cosine_similarity, reduction, name, dtype, axis=axis)


@LOSSES.register("Huber")
class Huber(FunctionLoss):
    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss", dtype=None):
        super().__init__(huber, reduction, name, dtype, delta=delta)


@LOSSES.register("LogCosh")
class LogCosh(FunctionLoss):
    def __init__(self, reduction="sum_over_batch_size", name="log_cosh", dtype=None):
        super().__init__(log_cosh, reduction, name, dtype)

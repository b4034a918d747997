"""Regression metrics: running means of the regression losses, RMSE and cosine similarity."""
from __future__ import annotations

import torch

from .. import losses
from ..losses.base import as_float, squeeze_or_expand_to_same_rank
from ..losses.regression import l2_normalize
from .base import METRICS, metric_function
from .reduction_metrics import Mean, MeanMetricWrapper


@metric_function
def cosine_similarity(y_true, y_pred, axis=-1):
    """``Σ normalize(y)·normalize(p)`` over ``axis`` (the loss of the same name is its negative)."""
    y_pred = as_float(y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(as_float(y_true, like=y_pred), y_pred)
    return (l2_normalize(y_true, axis) * l2_normalize(y_pred, axis)).sum(dim=axis)


class _NamedMeanMetric(MeanMetricWrapper):
    """A running mean of a fixed function; its config is only ``name`` and ``dtype``."""

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


@METRICS.register("MeanSquaredError", "mean_squared_error", "mse", "MSE")
class MeanSquaredError(_NamedMeanMetric):
    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(losses.mean_squared_error, name=name, dtype=dtype)


@METRICS.register("MeanAbsoluteError", "mean_absolute_error", "mae", "MAE")
class MeanAbsoluteError(_NamedMeanMetric):
    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(losses.mean_absolute_error, name=name, dtype=dtype)


@METRICS.register("MeanAbsolutePercentageError", "mean_absolute_percentage_error", "mape", "MAPE")
class MeanAbsolutePercentageError(_NamedMeanMetric):
    def __init__(self, name="mean_absolute_percentage_error", dtype=None):
        super().__init__(losses.mean_absolute_percentage_error, name=name, dtype=dtype)


@METRICS.register("MeanSquaredLogarithmicError", "mean_squared_logarithmic_error", "msle", "MSLE")
class MeanSquaredLogarithmicError(_NamedMeanMetric):
    def __init__(self, name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(losses.mean_squared_logarithmic_error, name=name, dtype=dtype)


@METRICS.register("LogCoshError", "log_cosh_error")
class LogCoshError(_NamedMeanMetric):
    def __init__(self, name="logcosh", dtype=None):
        super().__init__(losses.log_cosh, name=name, dtype=dtype)


@METRICS.register("CosineSimilarity", "cosine_similarity")
class CosineSimilarity(MeanMetricWrapper):
    def __init__(self, name="cosine_similarity", dtype=None, axis=-1):
        super().__init__(cosine_similarity, name=name, dtype=dtype, axis=axis)
        self.axis = axis

    def get_config(self):  # Keras 3 leaves `axis` out; we keep it
        return {"name": self.name, "dtype": self.dtype, "axis": self.axis}


@METRICS.register("RootMeanSquaredError", "root_mean_squared_error")
class RootMeanSquaredError(Mean):
    """``sqrt(Σ w·(y − p)² / Σ w)`` over the epoch: the root of the running mean, not a mean of roots."""

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    @torch.no_grad()
    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = as_float(y_pred, self._torch_dtype)
        y_true, y_pred = squeeze_or_expand_to_same_rank(as_float(y_true, self._torch_dtype, like=y_pred), y_pred)
        super().update_state((y_pred - y_true).square(), sample_weight=sample_weight)

    def result(self):
        return super().result().sqrt()

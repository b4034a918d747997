"""Running sums and weighted means: ``Sum``, ``Mean`` and ``MeanMetricWrapper``.

A weighted mean accumulates ``total = Σ w·v`` and ``count = Σ w`` over the whole
epoch and reports ``total / count``, so batches count by their weight, not equally.
"""
from __future__ import annotations

import torch

from ..losses import base as loss_base
from ..errors import SpecError
from .base import METRICS, Metric, function_name, function_named


def reduce_to_samplewise_values(values, sample_weight, reduce_fn, dtype: torch.dtype):
    """Per-sample values (and weights) from per-element ones, as Keras reduces them.

    Values are reduced with ``reduce_fn`` over the axes the weights do not have,
    weighted, then reduced to one value per sample; weights of rank > 1 are
    reduced to one per sample the same way.
    """
    mask = loss_base.keras_mask(values)
    values = loss_base.as_float(values, dtype)
    if sample_weight is not None:
        sample_weight = loss_base.as_float(sample_weight, dtype, like=values)
        if mask is not None:
            sample_weight = loss_base.apply_mask(sample_weight, mask, dtype, reduction="sum")
        values, sample_weight = loss_base.squeeze_or_expand_to_same_rank(values, sample_weight)
        weight_ndim = sample_weight.ndim
        if values.ndim > weight_ndim:
            values = reduce_fn(values, dim=tuple(range(weight_ndim, values.ndim)))
        sample_weight = torch.broadcast_to(sample_weight, values.shape)
        values = values * sample_weight
        if weight_ndim > 1:
            sample_weight = reduce_fn(sample_weight, dim=tuple(range(1, weight_ndim)))
    if values.ndim > 1:
        values = reduce_fn(values, dim=tuple(range(1, values.ndim)))
    return values, sample_weight


@METRICS.register("Sum", "sum")
class Sum(Metric):
    """The (weighted) sum of every value seen."""

    def __init__(self, name="sum", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.add_variable((), "total")

    @torch.no_grad()
    def update_state(self, values, sample_weight=None):
        values, _ = reduce_to_samplewise_values(values, sample_weight, torch.sum, self._torch_dtype)
        self._place(values.device)
        self.total += values.sum()

    def result(self):
        return self.total.clone()


@METRICS.register("Mean", "mean")
class Mean(Metric):
    """The weighted mean ``Σ w·v / Σ w`` of every value seen (each sample weight 1 by default)."""

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.add_variable((), "total")
        self.add_variable((), "count")

    @torch.no_grad()
    def update_state(self, values, sample_weight=None):
        values, sample_weight = reduce_to_samplewise_values(values, sample_weight, torch.mean, self._torch_dtype)
        self._place(values.device)
        self.total += values.sum()
        if sample_weight is not None:
            self.count += sample_weight.sum()
        else:
            self.count += values.shape[0] if values.ndim >= 1 else 1

    def result(self):
        return loss_base.divide_no_nan(self.total, self.count)


@METRICS.register("MeanMetricWrapper", "mean_metric_wrapper")
class MeanMetricWrapper(Mean):
    """The running mean of ``fn(y_true, y_pred, **kwargs)``: a loss or metric function as a metric.

    A mask on ``y_pred`` (``_keras_mask``) weights the values, as in Keras.
    """

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        if isinstance(fn, (str, dict)):
            fn = function_named(fn, "fn")
        super().__init__(name=name, dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    @property
    def concatenable(self) -> bool:
        # a built-in function gives one value per sample; a user's may give one per batch
        return super().concatenable and _is_builtin(self._fn)

    @torch.no_grad()
    def update_state(self, y_true, y_pred, sample_weight=None):
        mask = loss_base.keras_mask(y_pred)
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        if mask is not None:
            sample_weight = loss_base.apply_mask(
                None if sample_weight is None else loss_base.as_float(sample_weight, self._torch_dtype, like=values),
                mask, self._torch_dtype, reduction="sum")
        super().update_state(values, sample_weight=sample_weight)

    def get_config(self):
        return {**super().get_config(), "fn": function_name(self._fn), **self._fn_kwargs}


def _is_builtin(fn) -> bool:
    try:
        function_name(fn)
    except SpecError:
        return False
    return True

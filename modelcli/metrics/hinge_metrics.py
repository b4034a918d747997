"""Hinge metrics: running means of the hinge losses."""
from __future__ import annotations

from .. import losses
from .base import METRICS
from .reduction_metrics import MeanMetricWrapper


class _HingeMetric(MeanMetricWrapper):
    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


@METRICS.register("Hinge", "hinge")
class Hinge(_HingeMetric):
    def __init__(self, name="hinge", dtype=None):
        super().__init__(losses.hinge, name=name, dtype=dtype)


@METRICS.register("SquaredHinge", "squared_hinge")
class SquaredHinge(_HingeMetric):
    def __init__(self, name="squared_hinge", dtype=None):
        super().__init__(losses.squared_hinge, name=name, dtype=dtype)


@METRICS.register("CategoricalHinge", "categorical_hinge")
class CategoricalHinge(_HingeMetric):
    def __init__(self, name="categorical_hinge", dtype=None):
        super().__init__(losses.categorical_hinge, name=name, dtype=dtype)

"""MonitorCallback: what "better" means for a monitored quantity (Keras 3's rules).

``mode='min'`` / ``'max'`` say it outright. ``'auto'`` decides on the first epoch
end, once the model's metrics exist: ``loss`` / ``val_loss`` go down; a metric
goes the way the metric says (``_direction``, else its Keras class's direction).
Where Keras 3 gives up we go one step further: a per-output name such as
``val_out_accuracy`` is matched against the model's log names, and any
``*_loss`` goes down. A quantity nobody can place is an error that asks for a mode.

An improvement needs a margin: ``value + min_delta < best`` (min) or
``value - min_delta > best`` (max), compared in float32 as Keras does; the first
value always improves on ``None``.
"""
from __future__ import annotations

import operator
import warnings

import numpy as np

from ..errors import SpecError
from .callback import Callback

# Keras 3's metric classes and the way each improves (their `_direction`).
_UP, _DOWN = "up", "down"
KERAS_METRIC_DIRECTIONS = {
    "AUC": _UP, "Accuracy": _UP, "BinaryAccuracy": _UP, "CategoricalAccuracy": _UP,
    "SparseCategoricalAccuracy": _UP, "TopKCategoricalAccuracy": _UP,
    "SparseTopKCategoricalAccuracy": _UP, "Precision": _UP, "Recall": _UP, "F1Score": _UP,
    "FBetaScore": _UP, "PrecisionAtRecall": _UP, "RecallAtPrecision": _UP,
    "SensitivityAtSpecificity": _UP, "SpecificityAtSensitivity": _UP, "IoU": _UP, "BinaryIoU": _UP,
    "MeanIoU": _UP, "OneHotIoU": _UP, "OneHotMeanIoU": _UP, "R2Score": _UP, "CosineSimilarity": _UP,
    "PearsonCorrelation": _UP, "ConcordanceCorrelation": _UP,
    "BinaryCrossentropy": _DOWN, "CategoricalCrossentropy": _DOWN,
    "SparseCategoricalCrossentropy": _DOWN, "KLDivergence": _DOWN, "Poisson": _DOWN,
    "MeanSquaredError": _DOWN, "MeanAbsoluteError": _DOWN, "MeanAbsolutePercentageError": _DOWN,
    "MeanSquaredLogarithmicError": _DOWN, "RootMeanSquaredError": _DOWN, "LogCoshError": _DOWN,
    "Hinge": _DOWN, "SquaredHinge": _DOWN, "CategoricalHinge": _DOWN,
}


class MonitorCallback(Callback):
    def __init__(self, monitor="val_loss", mode="auto", baseline=None, min_delta=0):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            warnings.warn(f"{type(self).__name__} mode '{mode}' is unknown, fallback to auto mode.",
                          stacklevel=3)
            mode = "auto"
        self.monitor = monitor
        self.mode = mode
        self.best = baseline
        self.min_delta = abs(min_delta)
        self.monitor_op = None

    def _set_monitor_op(self):
        if self.mode == "min":
            self.monitor_op = operator.lt
        elif self.mode == "max":
            self.monitor_op = operator.gt
        else:
            self.monitor_op = self._infer_monitor_op()

    def _infer_monitor_op(self):
        name = self.monitor.removeprefix("val_")
        if name == "loss":
            return operator.lt
        direction = self._metric_direction(name)
        if direction is None and name.endswith("_loss"):
            direction = _DOWN
        if direction is None:
            raise SpecError(
                f"{type(self).__name__} callback received monitor={self.monitor}, but Keras isn't able "
                "to automatically determine whether that metric should be maximized or minimized. "
                "Pass `mode='max'` in order to monitor based on the highest metric value, or pass "
                "`mode='min'` in order to use the lowest value.")
        return operator.gt if direction == _UP else operator.lt

    def _metric_direction(self, name):
        for log_name, metric in _named_metrics(self.model):
            if log_name == name:
                direction = getattr(metric, "_direction", None) or \
                    KERAS_METRIC_DIRECTIONS.get(type(metric).__name__)
                if direction is not None:
                    return direction
        return None

    def _is_improvement(self, value, reference):
        if reference is None:
            return True
        if self.monitor_op is None:
            self._set_monitor_op()
        margin = self.min_delta if self.monitor_op is operator.gt else -self.min_delta
        # Keras subtracts in Python floats, then compares as float32 tensors (ops.less / ops.greater).
        return bool(self.monitor_op(np.float32(value - margin), np.float32(reference)))


def _named_metrics(model):
    """(log name, metric) pairs: a modelcli model's compiled metrics, then ``model.metrics``."""
    compiled = getattr(getattr(model, "compiled_metrics", None), "metrics", None) or ()
    for _, metric, _, log_name in compiled:
        yield log_name, metric
    for metric in getattr(model, "metrics", None) or ():
        yield getattr(metric, "name", None), metric

"""Keras metrics on torch tensors, and how ``compile(metrics=[...])`` picks them.

``get`` does what ``keras.metrics.get`` does: a name (``"mse"``, ``"AUC"``,
``"binary_accuracy"``...) gives a new metric object. ``resolve`` does what
Keras 3's compile does with each entry of ``metrics``: ``"accuracy"`` / ``"acc"``
become binary, sparse categorical or categorical accuracy by the target shapes,
functions are wrapped in a ``MeanMetricWrapper``, and the metric is named as
written (``"mse"`` stays ``"mse"`` in the History) or, for an object, by its own name.
"""
from __future__ import annotations

from .. import backend
from .. import losses as _losses
from ..errors import SpecError
from ..serialization import deserialize as _deserialize
from .accuracy_metrics import (Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
                               SparseTopKCategoricalAccuracy, TopKCategoricalAccuracy, accuracy, binary_accuracy,
                               categorical_accuracy, sparse_categorical_accuracy, sparse_top_k_categorical_accuracy,
                               top_k_categorical_accuracy)
from .base import METRIC_FUNCTIONS, METRICS, Metric, function_named
from .confusion_metrics import (AUC, FalseNegatives, FalsePositives, Precision, PrecisionAtRecall, Recall,
                                RecallAtPrecision, SensitivityAtSpecificity, SpecificityAtSensitivity, TrueNegatives,
                                TruePositives)
from .hinge_metrics import CategoricalHinge, Hinge, SquaredHinge
from .probabilistic_metrics import (BinaryCrossentropy, CategoricalCrossentropy, KLDivergence, Poisson,
                                    SparseCategoricalCrossentropy)
from .reduction_metrics import Mean, MeanMetricWrapper, Sum
from .regression_metrics import (CosineSimilarity, LogCoshError, MeanAbsoluteError, MeanAbsolutePercentageError,
                                 MeanSquaredError, MeanSquaredLogarithmicError, RootMeanSquaredError,
                                 cosine_similarity)

# Keras exports these loss functions as metric functions too (the same objects as in keras.losses).
from ..losses import (binary_crossentropy, binary_focal_crossentropy, categorical_crossentropy,
                      categorical_focal_crossentropy, categorical_hinge, hinge, huber, kl_divergence, log_cosh,
                      mean_absolute_error, mean_absolute_percentage_error, mean_squared_error,
                      mean_squared_logarithmic_error, poisson, sparse_categorical_crossentropy, squared_hinge)


def deserialize(identifier, where: str | None = None):
    """A metric from a name or a Keras ``{class_name, config}`` dict (a function dict gives the function)."""
    if isinstance(identifier, dict) and identifier.get("class_name") == "function":
        return function_named(identifier, where)
    return _deserialize(identifier, METRICS, where)


def get(identifier, where: str | None = None):
    """As ``keras.metrics.get``: None, a name, a config dict, a ``Metric`` class, a metric or a callable."""
    if identifier is None:
        return None
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier, where)
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if callable(identifier) or isinstance(identifier, Metric):
        return identifier
    raise SpecError(f"could not interpret metric identifier {identifier!r}", where=where)


def serialize(metric):
    """Keras 3's form: ``{module, class_name, config, registered_name}``."""
    if metric is None:
        return None
    if not isinstance(metric, Metric):
        from .base import function_name
        return function_name(metric)
    return {"module": "keras.metrics", "class_name": type(metric).__name__, "config": metric.get_config(),
            "registered_name": None}


_BINARY_LOSSES = {_losses.binary_crossentropy, _losses.binary_focal_crossentropy}
_SPARSE_LOSSES = {_losses.sparse_categorical_crossentropy}


def _kind_from_loss(loss) -> str:
    """Keras 2.2's rule, for when the shapes are not known: binary / sparse cross-entropy decide."""
    try:
        loss = _losses.get(loss)
    except SpecError:
        return "categorical"
    fn = getattr(loss, "fn", loss)
    if fn in _BINARY_LOSSES:
        return "binary"
    if fn in _SPARSE_LOSSES:
        return "sparse"
    return "categorical"


def target_kind(loss=None, y_true_shape=None, y_pred_shape=None) -> str:
    """``"binary"``, ``"sparse"`` or ``"categorical"`` for ``accuracy`` / ``crossentropy``.

    Keras 3 decides from the shapes alone (a binary cross-entropy loss on a 3-unit
    output still gets categorical accuracy). Without shapes, a 1-unit output is
    binary, and otherwise the loss decides, as Keras 2.2 did.
    """
    if y_true_shape is not None and y_pred_shape is not None:
        return _losses.target_kind(y_true_shape, y_pred_shape)
    if y_pred_shape is not None and tuple(y_pred_shape)[-1] == 1:
        return "binary"
    return _kind_from_loss(loss)


_BY_KIND = {
    "accuracy": {"binary": BinaryAccuracy, "sparse": SparseCategoricalAccuracy, "categorical": CategoricalAccuracy},
    # Keras 2 only: Keras 3's compile rejects 'crossentropy' / 'ce' as a metric name.
    "crossentropy": {"binary": BinaryCrossentropy, "sparse": SparseCategoricalCrossentropy,
                     "categorical": CategoricalCrossentropy},
}
_SHORTHANDS = {"accuracy": "accuracy", "acc": "accuracy", "crossentropy": "crossentropy", "ce": "crossentropy"}


def resolve(identifier, loss=None, y_true_shape=None, y_pred_shape=None, where: str | None = None) -> Metric:
    """The ``Metric`` that ``compile(loss=loss, metrics=[identifier])`` tracks for one output.

    ``y_true_shape`` / ``y_pred_shape`` are the shapes of one batch's targets and
    outputs (the batch axis included). The metric's ``name`` is the History key.
    """
    if identifier is None:
        raise SpecError("expected a metric, got None", where=where)
    shorthand = _SHORTHANDS.get(identifier.lower()) if isinstance(identifier, str) else None
    if shorthand:
        metric = _BY_KIND[shorthand][target_kind(loss, y_true_shape, y_pred_shape)](name=identifier)
    else:
        metric = get(identifier, where)
    if isinstance(identifier, str):
        name = identifier
    elif hasattr(metric, "name"):
        name = metric.name
    else:
        name = backend.snake_case(getattr(metric, "__name__", type(metric).__name__))
    if not isinstance(metric, Metric):
        metric = MeanMetricWrapper(metric)
    metric.name = name
    return metric


__all__ = [
    "Metric", "Mean", "Sum", "MeanMetricWrapper", "METRICS", "METRIC_FUNCTIONS", "get", "serialize", "deserialize",
    "resolve", "target_kind",
    "Accuracy", "BinaryAccuracy", "CategoricalAccuracy", "SparseCategoricalAccuracy", "TopKCategoricalAccuracy",
    "SparseTopKCategoricalAccuracy", "MeanSquaredError", "MeanAbsoluteError", "MeanAbsolutePercentageError",
    "MeanSquaredLogarithmicError", "RootMeanSquaredError", "CosineSimilarity", "LogCoshError",
    "BinaryCrossentropy", "CategoricalCrossentropy", "SparseCategoricalCrossentropy", "KLDivergence", "Poisson",
    "Hinge", "SquaredHinge", "CategoricalHinge", "AUC", "Precision", "Recall", "TruePositives", "FalsePositives",
    "TrueNegatives", "FalseNegatives", "SensitivityAtSpecificity", "SpecificityAtSensitivity", "PrecisionAtRecall",
    "RecallAtPrecision",
    "accuracy", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
    "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy", "cosine_similarity",
    "binary_crossentropy", "binary_focal_crossentropy", "categorical_crossentropy", "categorical_focal_crossentropy",
    "categorical_hinge", "hinge", "huber", "kl_divergence", "log_cosh", "mean_absolute_error",
    "mean_absolute_percentage_error", "mean_squared_error", "mean_squared_logarithmic_error", "poisson",
    "sparse_categorical_crossentropy", "squared_hinge",
]

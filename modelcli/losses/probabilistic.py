"""Cross-entropies, focal cross-entropies, KL divergence and Poisson.

Probabilities are clipped to ``[1e-7, 1 - 1e-7]`` before the log; categorical
cross-entropy on probabilities first rescales ``y_pred`` to sum to 1 along
``axis``. With ``from_logits=True`` the stable torch forms are used
(``binary_cross_entropy_with_logits``, ``log_softmax``), which compute what Keras's
torch backend computes. Label smoothing: ``y·(1 − ls) + ls/2`` (binary) and
``y·(1 − ls) + ls/C`` (categorical, ``C`` the size of the *last* axis, as in Keras).
"""
from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F

from ..errors import DataError
from .base import EPSILON, LOSSES, FunctionLoss, as_float, as_labels


def _same_shape(y_true, y_pred, what: str):
    if y_true.shape != y_pred.shape:
        raise DataError(f"{what}: y_true and y_pred must have the same shape; received "
                        f"y_true.shape={tuple(y_true.shape)}, y_pred.shape={tuple(y_pred.shape)}")


def _warn_single_class(y_pred, what: str):
    if y_pred.ndim and y_pred.shape[-1] == 1:
        warnings.warn(f"{what} expects y_pred of shape (batch_size, num_classes) with num_classes > 1; "
                      f"received y_pred.shape={tuple(y_pred.shape)}. With a single class the loss is "
                      "always 0: use binary_crossentropy for two classes.", SyntaxWarning, stacklevel=3)


def _elementwise_bce(y_true, y_pred, from_logits):
    """``−(y·log p + (1 − y)·log(1 − p))`` per element."""
    if from_logits:
        return F.binary_cross_entropy_with_logits(y_pred, y_true, reduction="none")
    return F.binary_cross_entropy(y_pred.clamp(EPSILON, 1.0 - EPSILON), y_true, reduction="none")


@LOSSES.register("binary_crossentropy", "bce", "BCE")
def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Mean over ``axis`` of the element-wise binary cross-entropy."""
    y_pred = as_float(y_pred)
    y_true = as_float(y_true, like=y_pred)
    _same_shape(y_true, y_pred, "binary_crossentropy")
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    return _mean_over(_elementwise_bce(y_true, y_pred, from_logits), axis)


def _mean_over(values, axis):
    """The mean over ``axis``; over an axis of one element that is the values themselves (a view,
    no graph node to run backwards)."""
    return values.squeeze(axis) if values.shape[axis] == 1 else values.mean(dim=axis)


@LOSSES.register("binary_focal_crossentropy")
def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing=False, alpha=0.25, gamma=2.0,
                              from_logits=False, label_smoothing=0.0, axis=-1):
    """Binary cross-entropy scaled by ``(1 − p_t)^gamma`` (and by ``alpha`` / ``1 − alpha``).

    With logits, Keras applies the sigmoid and then the *clipped* cross-entropy
    (not the stable logits form); we do the same so the numbers agree.
    """
    y_pred = as_float(y_pred)
    y_true = as_float(y_true, like=y_pred)
    _same_shape(y_true, y_pred, "binary_focal_crossentropy")
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        y_pred = torch.sigmoid(y_pred)
    bce = _elementwise_bce(y_true, y_pred, from_logits=False)
    p_t = y_true * y_pred + (1 - y_true) * (1 - y_pred)
    focal_bce = torch.pow(1.0 - p_t, gamma) * bce
    if apply_class_balancing:
        focal_bce = (y_true * alpha + (1 - y_true) * (1 - alpha)) * focal_bce
    return focal_bce.mean(dim=axis)


def _smooth_categorical(y_true, label_smoothing):
    # Keras divides by the size of the last axis whatever `axis` is.
    return y_true * (1.0 - label_smoothing) + label_smoothing / y_true.shape[-1]


def _log_probabilities(y_pred, from_logits, axis):
    if from_logits:
        return F.log_softmax(y_pred, dim=axis)
    y_pred = y_pred / y_pred.sum(dim=axis, keepdim=True)
    return y_pred.clamp(EPSILON, 1.0 - EPSILON).log()


def _check_axis(axis):
    if isinstance(axis, bool) or not isinstance(axis, int):
        raise DataError(f"axis must be an int; received axis={axis!r}")


@LOSSES.register("categorical_crossentropy")
def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """``−Σ y·log p`` over ``axis`` (one-hot or soft labels)."""
    _check_axis(axis)
    y_pred = as_float(y_pred)
    y_true = as_float(y_true, like=y_pred)
    _warn_single_class(y_pred, "categorical_crossentropy")
    _same_shape(y_true, y_pred, "categorical_crossentropy")
    if label_smoothing:
        y_true = _smooth_categorical(y_true, label_smoothing)
    return -(y_true * _log_probabilities(y_pred, from_logits, axis)).sum(dim=axis)


@LOSSES.register("categorical_focal_crossentropy")
def categorical_focal_crossentropy(y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False,
                                   label_smoothing=0.0, axis=-1):
    """``Σ alpha·(1 − p)^gamma · (−y·log p)`` over ``axis`` (softmax first when ``from_logits``)."""
    _check_axis(axis)
    y_pred = as_float(y_pred)
    y_true = as_float(y_true, like=y_pred)
    _warn_single_class(y_pred, "categorical_focal_crossentropy")
    if label_smoothing:
        y_true = _smooth_categorical(y_true, label_smoothing)
    if from_logits:
        y_pred = torch.softmax(y_pred, dim=axis)
    p = (y_pred / y_pred.sum(dim=axis, keepdim=True)).clamp(EPSILON, 1.0 - EPSILON)
    return (alpha * torch.pow(1.0 - p, gamma) * (-y_true * p.log())).sum(dim=axis)


@LOSSES.register("sparse_categorical_crossentropy")
def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    """``−log p[label]`` with integer labels; ``y_true`` may keep a trailing axis of size 1.

    With ``ignore_class``, those labels give 0 and the result carries a mask
    (``_keras_mask``) so that the averaging reductions skip them.
    """
    y_pred = as_float(y_pred)
    labels = as_labels(y_true, like=y_pred)
    if labels.ndim == y_pred.ndim and labels.shape[axis] == 1:
        labels = labels.squeeze(axis)
    if y_pred.ndim < 1:
        raise DataError("sparse_categorical_crossentropy: y_pred must have at least one axis")
    class_axis = axis % y_pred.ndim
    expected = y_pred.shape[:class_axis] + y_pred.shape[class_axis + 1:]
    if labels.shape != expected:
        raise DataError("sparse_categorical_crossentropy: y_true must have y_pred's shape without the class "
                        f"axis; received y_true.shape={tuple(labels.shape)}, y_pred.shape={tuple(y_pred.shape)}")
    valid = None
    if ignore_class is not None:
        valid = labels != int(ignore_class)
        labels = torch.where(valid, labels, 0)
        # Ignored positions get a harmless uniform row; their loss is replaced by 0 below.
        y_pred = torch.where(valid.unsqueeze(class_axis), y_pred, torch.ones_like(y_pred))
    log_p = _log_probabilities(y_pred, from_logits, class_axis)
    result = -log_p.gather(class_axis, labels.unsqueeze(class_axis)).squeeze(class_axis)
    if valid is not None:
        result = torch.where(valid, result, torch.zeros_like(result))
        result._keras_mask = valid
    return result


@LOSSES.register("kl_divergence", "kld", "KLD", "kullback_leibler_divergence")
def kl_divergence(y_true, y_pred):
    """``Σ y·log(y / p)`` over the last axis, both clipped to ``[1e-7, 1]``."""
    y_pred = as_float(y_pred)
    y_true = as_float(y_true, like=y_pred).clamp(EPSILON, 1.0)
    y_pred = y_pred.clamp(EPSILON, 1.0)
    return (y_true * (y_true / y_pred).log()).sum(dim=-1)


@LOSSES.register("poisson")
def poisson(y_true, y_pred):
    """Mean over the last axis of ``p − y·log(p + 1e-7)``."""
    y_pred = as_float(y_pred)
    y_true = as_float(y_true, like=y_pred)
    return (y_pred - y_true * (y_pred + EPSILON).log()).mean(dim=-1)


@LOSSES.register("BinaryCrossentropy")
class BinaryCrossentropy(FunctionLoss):
    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="binary_crossentropy", dtype=None):
        super().__init__(binary_crossentropy, reduction, name, dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)


@LOSSES.register("BinaryFocalCrossentropy")
class BinaryFocalCrossentropy(FunctionLoss):
    def __init__(self, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0,
                 axis=-1, reduction="sum_over_batch_size", name="binary_focal_crossentropy", dtype=None):
        super().__init__(binary_focal_crossentropy, reduction, name, dtype,
                         apply_class_balancing=apply_class_balancing, alpha=alpha, gamma=gamma,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


@LOSSES.register("CategoricalCrossentropy")
class CategoricalCrossentropy(FunctionLoss):
    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="categorical_crossentropy", dtype=None):
        super().__init__(categorical_crossentropy, reduction, name, dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)


@LOSSES.register("CategoricalFocalCrossentropy")
class CategoricalFocalCrossentropy(FunctionLoss):
    def __init__(self, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_focal_crossentropy", dtype=None):
        super().__init__(categorical_focal_crossentropy, reduction, name, dtype, alpha=alpha, gamma=gamma,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


@LOSSES.register("SparseCategoricalCrossentropy")
class SparseCategoricalCrossentropy(FunctionLoss):
    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size", axis=-1,
                 name="sparse_categorical_crossentropy", dtype=None):
        super().__init__(sparse_categorical_crossentropy, reduction, name, dtype, from_logits=from_logits,
                         ignore_class=ignore_class, axis=axis)


@LOSSES.register("KLDivergence")
class KLDivergence(FunctionLoss):
    def __init__(self, reduction="sum_over_batch_size", name="kl_divergence", dtype=None):
        super().__init__(kl_divergence, reduction, name, dtype)


@LOSSES.register("Poisson")
class Poisson(FunctionLoss):
    def __init__(self, reduction="sum_over_batch_size", name="poisson", dtype=None):
        super().__init__(poisson, reduction, name, dtype)

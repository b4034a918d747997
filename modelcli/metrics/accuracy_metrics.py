"""Accuracy metrics: exact, binary (thresholded), categorical, sparse and top-k.

Each is the running weighted mean of a per-sample 0/1 match.
"""
from __future__ import annotations

import torch

from ..losses.base import as_float, squeeze_or_expand_to_same_rank
from .base import METRICS, metric_function
from .reduction_metrics import MeanMetricWrapper

def _matches(a, b):
    return (a == b).to(torch.float32)


@metric_function
def accuracy(y_true, y_pred):
    """1 where ``y_true == y_pred`` exactly."""
    y_pred = as_float(y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(as_float(y_true, like=y_pred), y_pred)
    return _matches(y_true, y_pred)


@metric_function
def binary_accuracy(y_true, y_pred, threshold=0.5):
    """1 where ``y_true == (y_pred > threshold)``."""
    y_pred = as_float(y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(as_float(y_true, like=y_pred), y_pred)
    return _matches(y_true, (y_pred > threshold).to(y_true.dtype))


@metric_function
def categorical_accuracy(y_true, y_pred):
    """1 where ``argmax(y_true) == argmax(y_pred)`` over the last axis (first maximum on ties)."""
    y_pred = as_float(y_pred)
    y_true = as_float(y_true, like=y_pred)
    return _matches(y_true.argmax(dim=-1), y_pred.argmax(dim=-1))


@metric_function
def sparse_categorical_accuracy(y_true, y_pred):
    """1 where the integer label equals ``argmax(y_pred)``; labels may keep a trailing axis of 1."""
    y_pred = as_float(y_pred)
    y_true = as_float(y_true, like=y_pred)
    reshape = y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1
    true_shape = y_true.shape
    if reshape:
        y_true = y_true.squeeze(-1)
    matches = _matches(y_true, y_pred.argmax(dim=-1).to(y_true.dtype))
    if reshape:
        matches = matches.reshape(true_shape)
    if matches.ndim > 1 and matches.shape[-1] == 1:
        matches = matches.squeeze(-1)
    return matches


def _in_top_k(labels, y_pred, k):
    """Whether each label's score reaches the k-th largest score (ties count as in, as in Keras)."""
    scores = y_pred.reshape(-1, y_pred.shape[-1])
    kth = scores.topk(min(k, scores.shape[-1]), dim=-1).values[:, -1]
    target = scores.gather(-1, labels.reshape(-1, 1).long()).squeeze(-1)
    return (target >= kth).to(torch.float32).reshape(labels.shape)


@metric_function
def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1 where the one-hot label's class is among the ``k`` highest scores."""
    y_pred = as_float(y_pred)
    return _in_top_k(as_float(y_true, like=y_pred).argmax(dim=-1), y_pred, k)


@metric_function
def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, from_sorted_ids=False):
    """1 where the integer label is among the ``k`` highest scores.

    With ``from_sorted_ids``, ``y_pred`` holds class ids sorted by score and the
    label must appear among its first ``k``.
    """
    y_pred = as_float(y_pred)
    y_true = as_float(y_true, like=y_pred)
    if from_sorted_ids:
        ids = y_pred.reshape(-1, y_pred.shape[-1])[:, :k]
        found = (y_true.reshape(-1, 1) == ids).any(dim=-1)
        return found.to(torch.float32).reshape(y_true.shape)
    return _in_top_k(y_true, y_pred, k)


@METRICS.register("Accuracy", "accuracy")
class Accuracy(MeanMetricWrapper):
    def __init__(self, name="accuracy", dtype=None):
        super().__init__(accuracy, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


@METRICS.register("BinaryAccuracy", "binary_accuracy")
class BinaryAccuracy(MeanMetricWrapper):
    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=threshold)
        self.threshold = threshold

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "threshold": self.threshold}


@METRICS.register("CategoricalAccuracy", "categorical_accuracy")
class CategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


@METRICS.register("SparseCategoricalAccuracy", "sparse_categorical_accuracy")
class SparseCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


@METRICS.register("TopKCategoricalAccuracy", "top_k_categorical_accuracy")
class TopKCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
        self.k = k

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "k": self.k}


@METRICS.register("SparseTopKCategoricalAccuracy", "sparse_top_k_categorical_accuracy")
class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None, from_sorted_ids=False):
        super().__init__(sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k,
                         from_sorted_ids=from_sorted_ids)
        self.k = k
        self.from_sorted_ids = from_sorted_ids

    def get_config(self):
        config = {"name": self.name, "dtype": self.dtype, "k": self.k}
        if self.from_sorted_ids:
            config["from_sorted_ids"] = True
        return config

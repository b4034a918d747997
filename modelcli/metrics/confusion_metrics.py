"""Metrics built on confusion-matrix counts at thresholds: TP/FP/TN/FN, precision, recall, AUC.

The counts (weighted by the sample weights) accumulate over the epoch at fixed
thresholds, and the result is computed from the totals, so an epoch's AUC is the
AUC of all its predictions, not an average of per-batch AUCs. A prediction is
positive at threshold ``t`` when ``y_pred > t``; a label is positive when non-zero.

With evenly spaced thresholds (AUC's 200 by default) the counts come from one
bucketing pass instead of a comparison per threshold: ``y_pred`` clipped to
[0, 1] falls in bucket ``ceil(y_pred·(n − 1)) − 1``, and the count above
threshold ``i`` is the sum of the buckets from ``i`` on. That is Keras's method,
and it decides the ties at the thresholds the same way.
"""
from __future__ import annotations

import numpy as np
import torch

from ..errors import SpecError
from ..losses.base import EPSILON, as_float, divide_no_nan, squeeze_or_expand_to_same_rank
from .base import METRICS, Metric

NEG_INF = -1e10  # the threshold Precision / Recall use with top_k: every kept score passes

_CONDITIONS = ("tp", "fp", "tn", "fn")


def _to_list(x):
    return list(x) if isinstance(x, (list, tuple, np.ndarray)) else [x]


def parse_thresholds(thresholds, default: float) -> list[float]:
    """The thresholds as a list, checked to lie in [0, 1]; ``default`` when None."""
    if thresholds is None:
        return [default]
    thresholds = _to_list(thresholds)
    invalid = [t for t in thresholds if t is None or t < 0 or t > 1]
    if invalid:
        raise SpecError(f"thresholds must lie in [0, 1]; received {invalid}")
    return thresholds


def evenly_distributed(thresholds) -> bool:
    """Whether the thresholds are ``0, 1/(n−1), ..., 1`` (within 1e-7), n ≥ 3."""
    n = len(thresholds)
    return n >= 3 and np.allclose(thresholds, np.arange(n, dtype=np.float32) / (n - 1), atol=EPSILON)


def _filter_top_k(x, k):
    """Keep the ``k`` highest scores of the last axis and push the others to ``NEG_INF``."""
    keep = torch.zeros_like(x).scatter_(-1, x.topk(k, dim=-1).indices, 1.0)
    return x * keep + NEG_INF * (1 - keep)


def update_confusion_matrix(variables: dict, y_true, y_pred, thresholds, *, top_k=None, class_id=None,
                            sample_weight=None, multi_label=False, label_weights=None,
                            thresholds_distributed_evenly=False, threshold_tensor=None) -> None:
    """Add this batch's weighted counts to ``variables`` (``{"tp"|"fp"|"tn"|"fn": tensor}``), in place.

    Each tensor has one entry per threshold (times one per label with ``multi_label``).
    ``threshold_tensor``, the thresholds already on ``y_pred``'s device, saves a copy per batch.
    """
    dtype = next(iter(variables.values())).dtype
    y_pred = as_float(y_pred, dtype)
    y_true = as_float(y_true, dtype, like=y_pred)
    y_pred, y_true = squeeze_or_expand_to_same_rank(y_pred, y_true)
    if sample_weight is not None:
        sample_weight = as_float(sample_weight, dtype, like=y_pred).unsqueeze(-1)
        _, sample_weight = squeeze_or_expand_to_same_rank(y_true, sample_weight, expand_rank_1=False)
    if top_k is not None:
        y_pred = _filter_top_k(y_pred, top_k)
    if class_id is not None:
        if y_pred.ndim == 1:
            raise SpecError("class_id needs y_pred of shape (num_samples, num_classes); "
                            f"received y_pred.shape={tuple(y_pred.shape)}")
        y_true = y_true[..., class_id, None]
        y_pred = y_pred[..., class_id, None]
    weights = None
    if sample_weight is not None:
        weights = torch.broadcast_to(sample_weight, y_pred.shape)
    if label_weights is not None and not multi_label:
        label_weights = torch.broadcast_to(as_float(label_weights, dtype, like=y_pred), y_pred.shape)
        weights = label_weights if weights is None else weights * label_weights
    if not multi_label:
        y_true, y_pred = y_true.reshape(-1), y_pred.reshape(-1)
        weights = None if weights is None else weights.reshape(-1)
    if thresholds_distributed_evenly:
        counts = _bucketed_counts(y_true, y_pred, weights, thresholds)
    else:
        if threshold_tensor is None:
            threshold_tensor = torch.as_tensor(np.asarray(thresholds, dtype=np.float32), device=y_pred.device)
        counts = _compared_counts(y_true, y_pred, weights, threshold_tensor.to(dtype))
    for key, value in variables.items():
        value += counts[key]


def _bucketed_counts(y_true, y_pred, weights, thresholds):
    n = len(thresholds)
    with_epsilon = thresholds[0] < 0.0 or thresholds[-1] > 1.0
    y_true = (y_true != 0).to(y_pred.dtype)
    if weights is None:
        weights = torch.ones((), dtype=y_pred.dtype, device=y_pred.device)
    true_labels = torch.broadcast_to(y_true * weights, y_pred.shape)
    false_labels = torch.broadcast_to((1.0 - y_true) * weights, y_pred.shape)
    buckets = torch.ceil(y_pred.clamp(0.0, 1.0) * (float(n) - 1.0)) - 1.0
    if with_epsilon:
        buckets = buckets.clamp_min(0.0)
    buckets = buckets.long()
    buckets = torch.where((buckets >= 0) & (buckets < n), buckets, n)  # out of range: dropped below

    def above(labels):
        per_bucket = torch.zeros((n + 1,) + labels.shape[1:], dtype=labels.dtype, device=labels.device)
        per_bucket.scatter_add_(0, buckets, labels)
        return per_bucket[:n].flip(0).cumsum(0).flip(0)

    tp, fp = above(true_labels), above(false_labels)
    return {"tp": tp, "fp": fp, "tn": false_labels.sum(0) - fp, "fn": true_labels.sum(0) - tp}


def _compared_counts(y_true, y_pred, weights, thresholds):
    thresholds = thresholds.reshape((-1,) + (1,) * y_pred.ndim)
    pred_pos = y_pred.unsqueeze(0) > thresholds  # (thresholds, samples[, labels])
    label_pos = (y_true != 0).unsqueeze(0)

    def count(label, pred):
        both = label & pred
        if weights is None:
            return both.to(y_pred.dtype).sum(1)
        return torch.where(both, weights.unsqueeze(0), torch.zeros((), dtype=y_pred.dtype, device=y_pred.device)).sum(1)

    return {"tp": count(label_pos, pred_pos), "fp": count(~label_pos, pred_pos),
            "tn": count(~label_pos, ~pred_pos), "fn": count(label_pos, ~pred_pos)}


def _device_of(x, fallback):
    return x.device if isinstance(x, torch.Tensor) else fallback


class _ConfusionMatrixConditionCount(Metric):
    condition = None

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.thresholds = parse_thresholds(thresholds, default=0.5)
        self._thresholds_distributed_evenly = evenly_distributed(self.thresholds)
        self.add_constant(np.asarray(self.thresholds, dtype=np.float32), "_threshold_tensor")
        self.add_variable((len(self.thresholds),), "accumulator")

    @torch.no_grad()
    def update_state(self, y_true, y_pred, sample_weight=None):
        self._place(_device_of(y_pred, self.accumulator.device))
        update_confusion_matrix({self.condition: self.accumulator}, y_true, y_pred, self.thresholds,
                                sample_weight=sample_weight, threshold_tensor=self._threshold_tensor,
                                thresholds_distributed_evenly=self._thresholds_distributed_evenly)

    def result(self):
        return self.accumulator[0].clone() if len(self.thresholds) == 1 else self.accumulator.clone()

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds}


@METRICS.register("TruePositives", "true_positives")
class TruePositives(_ConfusionMatrixConditionCount):
    """The weighted number of positive labels predicted positive."""
    condition = "tp"


@METRICS.register("FalsePositives", "false_positives")
class FalsePositives(_ConfusionMatrixConditionCount):
    """The weighted number of negative labels predicted positive."""
    condition = "fp"


@METRICS.register("TrueNegatives", "true_negatives")
class TrueNegatives(_ConfusionMatrixConditionCount):
    """The weighted number of negative labels predicted negative."""
    condition = "tn"


@METRICS.register("FalseNegatives", "false_negatives")
class FalseNegatives(_ConfusionMatrixConditionCount):
    """The weighted number of positive labels predicted negative."""
    condition = "fn"


class _PrecisionRecall(Metric):
    """Shared by ``Precision`` (TP / (TP + FP)) and ``Recall`` (TP / (TP + FN))."""

    other = None  # "fp" or "fn"

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.top_k = top_k
        self.class_id = class_id
        self.thresholds = parse_thresholds(thresholds, default=0.5 if top_k is None else NEG_INF)
        self._thresholds_distributed_evenly = evenly_distributed(self.thresholds)
        self.add_constant(np.asarray(self.thresholds, dtype=np.float32), "_threshold_tensor")
        self.add_variable((len(self.thresholds),), "true_positives")
        self.add_variable((len(self.thresholds),), self._other_name)

    @property
    def _other_name(self):
        return {"fp": "false_positives", "fn": "false_negatives"}[self.other]

    @torch.no_grad()
    def update_state(self, y_true, y_pred, sample_weight=None):
        self._place(_device_of(y_pred, self.true_positives.device))
        update_confusion_matrix({"tp": self.true_positives, self.other: getattr(self, self._other_name)},
                                y_true, y_pred, self.thresholds, top_k=self.top_k, class_id=self.class_id,
                                sample_weight=sample_weight, threshold_tensor=self._threshold_tensor,
                                thresholds_distributed_evenly=self._thresholds_distributed_evenly)

    def result(self):
        tp = self.true_positives
        value = divide_no_nan(tp, tp + getattr(self, self._other_name))
        return value[0] if len(self.thresholds) == 1 else value

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds, "top_k": self.top_k,
                "class_id": self.class_id}


@METRICS.register("Precision", "precision")
class Precision(_PrecisionRecall):
    """TP / (TP + FP) at each threshold (0.5 by default), optionally over the ``top_k`` scores or one ``class_id``."""
    other = "fp"


@METRICS.register("Recall", "recall")
class Recall(_PrecisionRecall):
    """TP / (TP + FN) at each threshold (0.5 by default), optionally over the ``top_k`` scores or one ``class_id``."""
    other = "fn"


class _SensitivitySpecificityBase(Metric):
    """The best value of one rate among the thresholds where another rate meets a target."""

    target_name = None

    def __init__(self, value, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        if not 0 <= value <= 1:
            raise SpecError(f"{self.target_name} must lie in [0, 1]; received {self.target_name}={value}")
        if num_thresholds <= 0:
            raise SpecError(f"num_thresholds must be a positive integer; received num_thresholds={num_thresholds}")
        self.value = value
        self.num_thresholds = num_thresholds
        self.class_id = class_id
        if num_thresholds == 1:
            self.thresholds, self._thresholds_distributed_evenly = [0.5], False
        else:
            self.thresholds = [0.0] + [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)] + [1.0]
            self._thresholds_distributed_evenly = True
        self.add_constant(np.asarray(self.thresholds, dtype=np.float32), "_threshold_tensor")
        for state in ("true_positives", "false_positives", "true_negatives", "false_negatives"):
            self.add_variable((len(self.thresholds),), state)

    @torch.no_grad()
    def update_state(self, y_true, y_pred, sample_weight=None):
        self._place(_device_of(y_pred, self.true_positives.device))
        update_confusion_matrix(
            {"tp": self.true_positives, "fp": self.false_positives, "tn": self.true_negatives,
             "fn": self.false_negatives}, y_true, y_pred, self.thresholds, class_id=self.class_id,
            sample_weight=sample_weight, threshold_tensor=self._threshold_tensor,
            thresholds_distributed_evenly=self._thresholds_distributed_evenly)

    def _rates(self):
        tp, fp, tn, fn = self.true_positives, self.false_positives, self.true_negatives, self.false_negatives
        return {"sensitivity": divide_no_nan(tp, tp + fn), "specificity": divide_no_nan(tn, tn + fp),
                "precision": divide_no_nan(tp, tp + fp)}

    def _best(self, constrained, dependent):
        feasible = constrained >= self.value
        return torch.where(feasible, dependent, torch.zeros_like(dependent)).amax().clamp_min(0.0)

    def get_config(self):
        return {**super().get_config(), "class_id": self.class_id, "num_thresholds": self.num_thresholds,
                self.target_name: self.value}


@METRICS.register("SensitivityAtSpecificity", "sensitivity_at_specificity")
class SensitivityAtSpecificity(_SensitivitySpecificityBase):
    """The best recall among the thresholds whose specificity is at least ``specificity``."""
    target_name = "specificity"

    def __init__(self, specificity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(specificity, num_thresholds, class_id, name, dtype)
        self.specificity = specificity

    def result(self):
        rates = self._rates()
        return self._best(rates["specificity"], rates["sensitivity"])


@METRICS.register("SpecificityAtSensitivity", "specificity_at_sensitivity")
class SpecificityAtSensitivity(_SensitivitySpecificityBase):
    """The best specificity among the thresholds whose recall is at least ``sensitivity``."""
    target_name = "sensitivity"

    def __init__(self, sensitivity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(sensitivity, num_thresholds, class_id, name, dtype)
        self.sensitivity = sensitivity

    def result(self):
        rates = self._rates()
        return self._best(rates["sensitivity"], rates["specificity"])


@METRICS.register("PrecisionAtRecall", "precision_at_recall")
class PrecisionAtRecall(_SensitivitySpecificityBase):
    """The best precision among the thresholds whose recall is at least ``recall``."""
    target_name = "recall"

    def __init__(self, recall, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(recall, num_thresholds, class_id, name, dtype)
        self.recall = recall

    def result(self):
        rates = self._rates()
        return self._best(rates["sensitivity"], rates["precision"])


@METRICS.register("RecallAtPrecision", "recall_at_precision")
class RecallAtPrecision(_SensitivitySpecificityBase):
    """The best recall among the thresholds whose precision is at least ``precision``."""
    target_name = "precision"

    def __init__(self, precision, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(precision, num_thresholds, class_id, name, dtype)
        self.precision = precision

    def result(self):
        rates = self._rates()
        return self._best(rates["precision"], rates["sensitivity"])


_CURVES = {"roc": "ROC", "pr": "PR", "prgain": "PRGAIN"}
_SUMMATIONS = ("interpolation", "majoring", "minoring")


@METRICS.register("AUC", "auc")
class AUC(Metric):
    """Area under the ROC or precision-recall curve, from TP/FP/TN/FN counted at ``num_thresholds``.

    The thresholds are ``−1e-7, 1/(n−1), ..., (n−2)/(n−1), 1 + 1e-7`` (or the given
    ``thresholds`` between the two ends), so predictions of exactly 0 and 1 are
    counted. ``summation_method`` sums the trapezoids (``interpolation``; for PR,
    the Davis & Goadrich interpolation), or the lower (``minoring``) or upper
    (``majoring``) rectangles. With ``multi_label``, one AUC per label, then their
    mean (weighted by ``label_weights``).
    """

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation", name=None, dtype=None,
                 thresholds=None, multi_label=False, num_labels=None, label_weights=None, from_logits=False):
        if str(curve).lower() not in _CURVES:
            raise SpecError(f"curve must be one of 'ROC', 'PR', 'PRGAIN'; received curve={curve!r}")
        if str(summation_method).lower() not in _SUMMATIONS:
            raise SpecError(f"summation_method must be one of {', '.join(map(repr, _SUMMATIONS))}; "
                            f"received summation_method={summation_method!r}")
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            self.num_thresholds = len(thresholds) + 2
            thresholds = sorted(thresholds)
            self._thresholds_distributed_evenly = evenly_distributed(np.array([0.0] + thresholds + [1.0]))
        else:
            if num_thresholds <= 1:
                raise SpecError(f"num_thresholds must be an integer > 1; received num_thresholds={num_thresholds}")
            self.num_thresholds = num_thresholds
            thresholds = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self._thresholds_distributed_evenly = True
        self._thresholds = np.array([0.0 - EPSILON] + thresholds + [1.0 + EPSILON])
        self.curve = _CURVES[str(curve).lower()]
        self.summation_method = str(summation_method).lower()
        super().__init__(name=name, dtype=dtype)
        self.multi_label = multi_label
        self.num_labels = num_labels
        if isinstance(label_weights, dict) and label_weights.get("class_name") == "__tensor__":
            label_weights = label_weights["config"]["value"]  # how Keras 3 saves a tensor argument
        self.label_weights = None
        if label_weights is not None:
            self.add_constant(np.asarray(label_weights), "label_weights")
        self.add_constant(self._thresholds.astype(np.float32), "_threshold_tensor")
        self._from_logits = from_logits
        self._built = False
        if multi_label:
            if num_labels:
                self._build((None, num_labels))
        elif num_labels:
            raise SpecError("num_labels is needed only when multi_label is True")
        else:
            self._build(None)

    @property
    def thresholds(self) -> list[float]:
        return list(self._thresholds)

    def _build(self, shape, device=None):
        if self.multi_label:
            if len(shape) != 2:
                raise SpecError(f"y_pred must have rank 2 when multi_label is True; received shape {tuple(shape)}")
            self._num_labels = shape[1]
            variable_shape = (self.num_thresholds, self._num_labels)
        else:
            variable_shape = (self.num_thresholds,)
        for state in ("true_positives", "false_positives", "true_negatives", "false_negatives"):
            self.add_variable(variable_shape, state)
        if device is not None:
            self._place(device)
        self._built = True

    @torch.no_grad()
    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = as_float(y_pred, self._torch_dtype)
        if not self._built:
            self._build(tuple(y_pred.shape), y_pred.device)
        self._place(y_pred.device)
        if self._from_logits:
            y_pred = torch.sigmoid(y_pred)
        label_weights = None if self.multi_label else self.label_weights
        update_confusion_matrix(
            {"tp": self.true_positives, "fp": self.false_positives, "tn": self.true_negatives,
             "fn": self.false_negatives}, y_true, y_pred, self._thresholds, sample_weight=sample_weight,
            multi_label=self.multi_label, label_weights=label_weights, threshold_tensor=self._threshold_tensor,
            thresholds_distributed_evenly=self._thresholds_distributed_evenly)

    def _average_labels(self, by_label):
        if self.label_weights is None:
            return by_label.mean()
        weights = self.label_weights
        return divide_no_nan((by_label * weights).sum(), weights.sum())

    def _interpolate_pr_auc(self):
        """Davis & Goadrich (2006): precision interpolated along each segment of constant slope."""
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        prec_slope = divide_no_nan(dtp, dp.clamp_min(0))
        intercept = tp[1:] - prec_slope * p[1:]
        safe_p_ratio = torch.where((p[:-1] > 0) & (p[1:] > 0), divide_no_nan(p[:-1], p[1:].clamp_min(0)),
                                   torch.ones_like(p[1:]))
        increments = divide_no_nan(prec_slope * (dtp + intercept * safe_p_ratio.log()),
                                   (tp[1:] + fn[1:]).clamp_min(0))
        if self.multi_label:
            return self._average_labels(increments.sum(0))
        return increments.sum()

    def result(self):
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._interpolate_pr_auc()
        tp, fp, tn, fn = self.true_positives, self.false_positives, self.true_negatives, self.false_negatives
        recall = divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = divide_no_nan(fp, fp + tn), recall
        elif self.curve == "PR":
            x, y = recall, divide_no_nan(tp, tp + fp)
        else:  # PRGAIN
            scaling = divide_no_nan(tp + fn, tn + fp)
            recall_gain = 1.0 - scaling * divide_no_nan(fn, tp)
            precision_gain = 1.0 - scaling * divide_no_nan(fp, tp)
            x = torch.where(tp == 0, torch.zeros_like(recall_gain), recall_gain).clamp_min(0.0)
            y = torch.where(tp == 0, torch.ones_like(precision_gain), precision_gain)
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = torch.minimum(y[:-1], y[1:])
        else:
            heights = torch.maximum(y[:-1], y[1:])
        riemann_terms = (x[:-1] - x[1:]) * heights
        if self.multi_label:
            return self._average_labels(riemann_terms.sum(0))
        return riemann_terms.sum()

    def reset_state(self):
        if self._built:
            super().reset_state()

    def get_config(self):
        config = {**super().get_config(), "num_thresholds": self.num_thresholds, "curve": self.curve,
                  "summation_method": self.summation_method, "multi_label": self.multi_label,
                  "num_labels": self.num_labels,
                  "label_weights": None if self.label_weights is None else self.label_weights.tolist(),
                  "from_logits": self._from_logits}
        if self._init_from_thresholds:
            config["thresholds"] = self.thresholds[1:-1]
        return config

"""The ``Loss`` base class and the reductions every Keras loss shares.

A loss turns ``(y_true, y_pred)`` into one value per sample (``call``), then
``__call__`` weights those values and reduces them, as Keras 3 does:

- ``sum_over_batch_size`` (the default) and ``mean``: the weighted sum divided by
  the *number of loss elements*, not by the sum of the weights (torch's weighted
  ``CrossEntropyLoss`` divides by the weights);
- ``sum``: the weighted sum;
- ``mean_with_sample_weight``: the weighted sum divided by the sum of the weights;
- ``none`` / ``None``: the weighted per-sample values.

A mask (``y_pred._keras_mask``, a loss's own mask such as sparse cross-entropy's
``ignore_class``, or the ``mask=`` argument) zeroes the masked elements; with the
averaging reductions the sum is then divided by the number of *unmasked* elements.
"""
from __future__ import annotations

import numpy as np
import torch

from .. import backend
from ..errors import SpecError, did_you_mean
from ..registry import Registry

LOSSES = Registry("loss")
EPSILON = 1e-7  # Keras's backend.epsilon()

REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)


def standardize_reduction(reduction):
    """Check a reduction name; Keras 2's ``auto`` means ``sum_over_batch_size``."""
    if reduction == "auto":
        return "sum_over_batch_size"
    if reduction not in REDUCTIONS:
        raise SpecError(f"reduction must be one of {', '.join(map(repr, REDUCTIONS))}; "
                        f"received reduction={reduction!r}",
                        hint=did_you_mean(reduction, [r for r in REDUCTIONS if r]))
    return reduction


def as_float(x, dtype: torch.dtype | None = None, like: torch.Tensor | None = None) -> torch.Tensor:
    """A floating tensor from a tensor, array, list or number.

    Floating tensors keep their dtype unless ``dtype`` is given; everything else
    becomes float32 (or ``like``'s dtype). ``like`` also gives the device.
    """
    if dtype is None:
        dtype = like.dtype if like is not None else None
    device = like.device if like is not None else None
    if isinstance(x, torch.Tensor):
        if dtype is None:
            dtype = x.dtype if x.is_floating_point() else torch.float32
        return x.to(device=device or x.device, dtype=dtype)
    x = np.asarray(x)
    if dtype is None and x.dtype in (np.float16, np.float32):
        return torch.as_tensor(x, device=device)  # float16 / float32 arrays keep their precision
    return torch.as_tensor(x, dtype=dtype or torch.float32, device=device)


def as_labels(x, like: torch.Tensor) -> torch.Tensor:
    """Integer class labels (int64) on ``like``'s device; float labels are truncated as Keras does."""
    if isinstance(x, torch.Tensor):
        return x.to(device=like.device, dtype=torch.long)
    return torch.as_tensor(np.asarray(x), device=like.device).long()


def squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1: bool = True):
    """Make ranks equal when they differ by one trailing axis of size 1 (Keras's rule)."""
    r1, r2 = x1.ndim, x2.ndim
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1 and expand_rank_1:
            x2 = x2.unsqueeze(-1)
        else:
            x1 = x1.squeeze(-1)
    elif r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1 and expand_rank_1:
            x1 = x1.unsqueeze(-1)
        else:
            x2 = x2.squeeze(-1)
    return x1, x2


def align_weights(values: torch.Tensor, weights: torch.Tensor):
    """Fit weights to values: Keras's squeeze/expand, then per-sample weights over trailing axes.

    Keras 3 stops at the squeeze/expand step, so per-sample weights ``(batch,)`` on
    a per-timestep loss ``(batch, T)`` fail there (or broadcast along the wrong axis
    when ``T == batch``). Here they weight every timestep of their sample, as Keras 2 did.
    """
    values, weights = squeeze_or_expand_to_same_rank(values, weights)
    if 0 < weights.ndim < values.ndim:
        weights = weights.reshape(weights.shape + (1,) * (values.ndim - weights.ndim)).expand_as(values)
    return values, weights


def divide_no_nan(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``x / y``, and 0 where ``y`` is 0."""
    zero = y == 0
    return torch.where(zero, torch.zeros_like(x), x / torch.where(zero, torch.ones_like(y), y))


def apply_mask(sample_weight, mask, dtype: torch.dtype, reduction):
    """Fold a boolean mask into the sample weights.

    For ``mean`` / ``sum_over_batch_size`` the unmasked elements get weight
    ``total / valid``, so that dividing by the number of elements later divides
    by the number of unmasked ones: ``Σ(loss·w·total/valid) / total = Σ(loss·w) / valid``.
    """
    if mask is None:
        return sample_weight
    mask = torch.as_tensor(mask, device=sample_weight.device if isinstance(sample_weight, torch.Tensor) else None)
    if reduction in ("mean", "sum_over_batch_size"):
        valid = mask.to(dtype).sum()
        weight = divide_no_nan(torch.full_like(valid, mask.numel()), valid)
        float_mask = torch.where(mask.bool(), weight, torch.zeros_like(weight))
    else:
        float_mask = mask.to(dtype)
    if sample_weight is None:
        return float_mask
    float_mask, sample_weight = align_weights(float_mask, sample_weight.to(dtype))
    return sample_weight * float_mask


def reduce_values(values: torch.Tensor, sample_weight=None, reduction="sum_over_batch_size"):
    if reduction is None or reduction == "none" or values.ndim == 0 or tuple(values.shape) == (0,):
        return values
    if reduction in ("sum_over_batch_size", "mean") or (reduction == "mean_with_sample_weight"
                                                        and sample_weight is None):
        # torch's mean is the sum divided by the count, bit for bit: one graph node instead of two
        return values.mean() if values.numel() else torch.zeros_like(values.sum())
    loss = values.sum()
    if reduction == "mean_with_sample_weight":
        loss = divide_no_nan(loss, sample_weight.sum().to(loss.dtype))
    return loss


def reduce_weighted_values(values, sample_weight=None, mask=None, reduction="sum_over_batch_size",
                           dtype: torch.dtype = torch.float32):
    """Weight per-sample loss values, fold in a mask, and reduce them (``Loss.__call__``'s tail).

    The fit loop may call this directly with per-sample values it computed itself.
    """
    reduction = standardize_reduction(reduction)
    values = as_float(values, dtype)
    if sample_weight is not None:
        sample_weight = as_float(sample_weight, dtype, like=values)
    if mask is not None:
        mask = torch.as_tensor(mask, device=values.device)
    sample_weight = apply_mask(sample_weight, mask, values.dtype, reduction)
    if sample_weight is not None:
        values, sample_weight = align_weights(values, sample_weight.to(values.dtype))
        values = values * sample_weight
    return reduce_values(values, sample_weight, reduction)


def keras_mask(x):
    """The Keras mask a tensor carries (layers set ``_keras_mask`` on their outputs)."""
    return getattr(x, "_keras_mask", None)


@LOSSES.register("Loss")
class Loss:
    """Base class: subclasses compute per-sample values in ``call(y_true, y_pred)``."""

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        self.name = name or backend.unique_name(backend.snake_case(type(self).__name__))
        self.reduction = standardize_reduction(reduction)
        self._dtype = dtype or backend.floatx()
        self._torch_dtype = backend.torch_dtype(self._dtype)

    @property
    def dtype(self) -> str:
        return self._dtype

    def __call__(self, y_true, y_pred, sample_weight=None, *, mask=None):
        """The reduced loss; ``mask`` (or ``y_pred._keras_mask``) marks the elements that count."""
        in_mask = mask if mask is not None else keras_mask(y_pred)
        if (sample_weight is None and in_mask is None and isinstance(y_pred, torch.Tensor)
                and y_pred.dtype == self._torch_dtype and isinstance(y_true, torch.Tensor)):
            return self._unweighted(y_true, y_pred)
        y_pred = as_float(y_pred, self._torch_dtype)
        y_true = as_float(y_true, self._torch_dtype, like=y_pred)
        losses = self.call(y_true, y_pred)
        out_mask = keras_mask(losses)
        if in_mask is not None and out_mask is not None:
            in_mask = torch.as_tensor(in_mask, device=losses.device).bool() & out_mask.bool()
        elif out_mask is not None:
            in_mask = out_mask
        return reduce_weighted_values(losses, sample_weight, in_mask, self.reduction, self._torch_dtype)

    def _unweighted(self, y_true, y_pred):
        """The fit loop's common case (no weights, no mask): fewer ops, the same numbers."""
        losses = self.call(y_true, y_pred)
        out_mask = keras_mask(losses)
        if out_mask is not None:
            return reduce_weighted_values(losses, None, out_mask, self.reduction, self._torch_dtype)
        return reduce_values(losses, None, standardize_reduction(self.reduction))

    def call(self, y_true, y_pred):
        raise NotImplementedError(f"{type(self).__name__} must implement call(y_true, y_pred)")

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


@LOSSES.register("LossFunctionWrapper")
class LossFunctionWrapper(Loss):
    """A loss function as a ``Loss``: what ``compile(loss="mse")`` builds.

    ``name`` defaults to the function's name, as compile names it (Keras's own
    constructor default would be ``loss_function_wrapper``).
    """

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        if isinstance(fn, (str, dict)):
            from . import get
            fn = get(fn)
        super().__init__(name=name or getattr(fn, "__name__", None), reduction=reduction, dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        from . import serialize
        return {**super().get_config(), "fn": serialize(self.fn), **self._fn_kwargs}

    def __repr__(self):
        return f"<LossFunctionWrapper({getattr(self.fn, '__name__', self.fn)}, kwargs={self._fn_kwargs})>"


class FunctionLoss(LossFunctionWrapper):
    """A Keras loss class: a fixed loss function whose keyword arguments are constructor arguments.

    ``get_config`` holds ``name``, ``reduction`` and those arguments (Keras 3 leaves
    ``Huber``'s ``delta`` and ``CosineSimilarity``'s ``axis`` out; we keep them).
    """

    def __init__(self, fn, reduction, name, dtype, **fn_kwargs):
        super().__init__(fn, reduction=reduction, name=name, dtype=dtype, **fn_kwargs)
        for key, value in fn_kwargs.items():
            setattr(self, key, value)

    def get_config(self):
        return {**Loss.get_config(self), **self._fn_kwargs}

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"

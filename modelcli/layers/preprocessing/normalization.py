"""Normalization: ``(x − mean) / max(√variance, 1e-7)`` with a mean and variance per
index of the kept ``axis`` (``invert=True``: ``mean + x · max(√variance, 1e-7)``).

``axis`` names the axes that keep their own statistics (``None``: one mean and one
variance for everything); the others are reduced over. The statistics come from
the config (``mean``/``variance``, broadcast onto the kept axes from the right,
and then the layer has no weights) or, when the config has none, from
non-trainable weights ``mean``, ``variance`` (the kept axes' shape) and ``count``
(an integer scalar Keras keeps for old files and never updates), which
``adapt(data)`` or a weights file sets.
"""
from __future__ import annotations

import numbers

import numpy as np
import torch

from ... import backend
from ...engine.layer import Layer
from ...errors import DataError, SpecError
from ..registry import register_layer
from ._constant import Constant

EPSILON = 1e-7  # Keras's backend.epsilon(), the floor on the standard deviation


@register_layer("Normalization")
class Normalization(Layer):
    supports_masking = True

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        self.axis = _axis_tuple(axis)
        self.invert = bool(invert)
        if (mean is None) != (variance is None):
            raise SpecError(f"mean and variance must be given together, got mean={mean!r} and "
                            f"variance={variance!r}", where="mean" if mean is None else "variance")
        self.input_mean, self.input_variance = mean, variance
        if mean is not None:
            _check_statistics(mean, variance, len(self.axis))

    def build(self, input_shape):
        rank = len(input_shape)
        if any(not -rank <= a < rank for a in self.axis):
            raise SpecError(f"axis {self.axis} is out of bounds for input shape {tuple(input_shape)}",
                            where=self.name)
        self._build_shape = tuple(input_shape)
        self._keep = tuple(sorted(a % rank for a in self.axis))
        if any(input_shape[a] is None for a in self._keep):
            raise SpecError(f"the kept axes {self.axis} need known sizes, got input shape "
                            f"{tuple(input_shape)}", where=self.name)
        self._reduce = tuple(a for a in range(rank) if a not in self._keep)
        self._broadcast_shape = tuple(input_shape[a] if a in self._keep else 1 for a in range(rank))
        shape = tuple(input_shape[a] for a in self._keep)
        if self.input_mean is None:
            self.add_weight("mean", shape, "zeros", trainable=False)
            self.add_weight("variance", shape, "ones", trainable=False)
            self.add_weight("count", (), "zeros", trainable=False, dtype="int32")
        else:
            self._fixed = tuple(Constant(self._broadcast(v)) for v in (self.input_mean, self.input_variance))

    def _broadcast(self, value) -> np.ndarray:
        """A given mean or variance laid onto the kept axes, its last axis on the last kept axis."""
        value = np.asarray(value, dtype=np.float64)
        expanded = [1] * len(self._broadcast_shape)
        for axis, size in zip(reversed(self._keep), reversed(value.shape)):
            expanded[axis] = size
        try:
            return np.broadcast_to(value.reshape(expanded), self._broadcast_shape)
        except ValueError:
            raise SpecError(f"a mean/variance of shape {value.shape} does not fit the kept axes "
                            f"{self.axis} of input shape {self._build_shape}", where=self.name) from None

    def call(self, inputs):
        x = inputs.to(backend.torch_dtype(self.compute_dtype))
        if self.input_mean is None:
            mean = self.mean.reshape(self._broadcast_shape).to(x.dtype)
            variance = self.variance.reshape(self._broadcast_shape).to(x.dtype)
        else:
            mean, variance = (c.like(x) for c in self._fixed)
        std = torch.clamp_min(torch.sqrt(variance), EPSILON)
        return mean + x * std if self.invert else (x - mean) / std

    def adapt(self, data) -> None:
        """Set ``mean`` and ``variance`` to the statistics of ``data`` (a NumPy array or a tensor,
        batch first) over the reduced axes: NumPy's mean and biased variance, as Keras computes them."""
        if self.input_mean is not None:
            raise DataError("adapt() sets the mean and variance weights, but this layer takes its mean "
                            "and variance from its config", where=self.name)
        array = _as_array(data, self.name)
        if not self.built:
            self.build(array.shape)
            self.built = True
        elif array.ndim != len(self._build_shape) or any(array.shape[a] != self._build_shape[a] for a in self._keep):
            raise DataError(f"data of shape {array.shape} does not fit the layer built for input shape "
                            f"{self._build_shape}", where=self.name)
        self.set_weights([np.mean(array, axis=self._reduce), np.var(array, axis=self._reduce),
                          self.get_weights()[2]])

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "invert": self.invert,
                "mean": np.array(self.input_mean).tolist(), "variance": np.array(self.input_variance).tolist()}


def _axis_tuple(axis) -> tuple:
    """``None`` → ``()``, an int → ``(axis,)``, a list → a tuple, as Keras keeps it."""
    if axis is None:
        return ()
    values = (axis,) if isinstance(axis, numbers.Integral) else axis
    if not isinstance(values, (list, tuple)) or not all(
            isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in values):
        raise SpecError(f"expected an integer, a list of integers or null, got {axis!r}", where="axis")
    return tuple(int(a) for a in values)


def _check_statistics(mean, variance, kept: int) -> None:
    try:
        shapes = np.shape(np.asarray(mean, dtype=np.float64)), np.shape(np.asarray(variance, dtype=np.float64))
    except (TypeError, ValueError):
        raise SpecError(f"expected numbers or lists of numbers, got mean={mean!r} and variance={variance!r}",
                        where="mean") from None
    if shapes[0] != shapes[1]:
        raise SpecError(f"mean and variance must have the same shape, got {shapes[0]} and {shapes[1]}",
                        where="variance")
    if len(shapes[0]) > kept:
        raise SpecError(f"mean has rank {len(shapes[0])}, more than the {kept} kept axes", where="mean")


def _as_array(data, where) -> np.ndarray:
    if isinstance(data, torch.Tensor):
        return data.detach().cpu().numpy()
    if isinstance(data, np.ndarray):
        return data
    raise DataError(f"adapt() takes a NumPy array or a tensor, got {type(data).__name__}", where=where,
                    hint="concatenate the batches into one array first")

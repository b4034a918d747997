"""Argument checks and spatial-axis helpers shared by the reshaping layers
(Embedding and SpatialDropout use the argument checks too).

Keras writes these arguments as tuples; JSON files give lists. Both are accepted
and kept as tuples, which is what ``get_config`` returns (as Keras's does).
"""
from __future__ import annotations

import numbers

import torch.nn.functional as F

from ...engine.layer import Layer
from ...errors import SpecError

DATA_FORMATS = ("channels_last", "channels_first")


def is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def positive_int(value, name) -> int:
    if not is_int(value) or value <= 0:
        raise SpecError(f"expected a positive integer, got {value!r}", where=name)
    return int(value)


def check_data_format(value) -> str:
    """``None`` means Keras's default image data format, ``channels_last``."""
    if value is None:
        return "channels_last"
    if not isinstance(value, str) or value.lower() not in DATA_FORMATS:
        raise SpecError(f"expected 'channels_last' or 'channels_first', got {value!r}", where="data_format")
    return value.lower()


def int_tuple(value, n, name, allow_zero=False) -> tuple:
    """An int or ``n`` ints -> a tuple of ``n`` ints (positive, or non-negative with ``allow_zero``)."""
    if is_int(value):
        values = (int(value),) * n
    elif isinstance(value, (list, tuple)) and len(value) == n and all(is_int(v) for v in value):
        values = tuple(int(v) for v in value)
    else:
        raise SpecError(f"expected an integer or {n} integers, got {value!r}", where=name)
    if any(v < 0 or (v == 0 and not allow_zero) for v in values):
        raise SpecError(f"expected {'non-negative' if allow_zero else 'positive'} integers, got {value!r}",
                        where=name)
    return values


def spatial_pairs(value, rank, name) -> tuple:
    """Per spatial axis (before, after) amounts from an int, ``rank`` ints or ``rank`` pairs."""
    if is_int(value):
        return (int_tuple(value, 2, name, allow_zero=True),) * rank
    if isinstance(value, (list, tuple)) and len(value) == rank:
        return tuple(int_tuple(v, 2, name, allow_zero=True) for v in value)
    raise SpecError(f"expected an integer, {rank} integers or {rank} (before, after) pairs, got {value!r}",
                    where=name)


class SpatialLayer(Layer):
    """A layer acting on the ``rank`` spatial axes of a channels_last/first batch."""

    rank = 1

    def _spatial_axes(self) -> range:
        start = 2 if self.data_format == "channels_first" else 1
        return range(start, start + self.rank)

    def _map_spatial(self, input_shape, fn) -> tuple:
        """The shape with ``fn(dim, i)`` applied to spatial axis ``i`` (unknown dims stay None)."""
        shape = list(input_shape)
        for i, axis in enumerate(self._spatial_axes()):
            if shape[axis] is not None:
                shape[axis] = fn(shape[axis], i)
        return tuple(shape)

    def _check_rank(self, input_shape) -> None:
        if len(input_shape) != self.rank + 2:
            raise SpecError(f"{type(self).__name__} expects inputs of rank {self.rank + 2} "
                            f"(batch, {self.rank} spatial axes, channels), got shape {tuple(input_shape)}",
                            where=self.name)

    def build(self, input_shape):
        self._check_rank(input_shape)


class ZeroPadding(SpatialLayer):
    """Adds ``pairs[i] = (before, after)`` zeros around spatial axis ``i``."""

    pairs: tuple = ()

    def call(self, inputs):
        # F.pad lists (before, after) from the last axis backwards.
        flat = [0, 0] if self.data_format == "channels_last" else []
        for before, after in reversed(self.pairs):
            flat += [before, after]
        return F.pad(inputs, flat)

    def compute_output_shape(self, input_shape):
        return self._map_spatial(input_shape, lambda n, i: n + sum(self.pairs[i]))


class Cropping(SpatialLayer):
    """Removes ``pairs[i] = (before, after)`` slices from spatial axis ``i``."""

    pairs: tuple = ()

    def build(self, input_shape):
        super().build(input_shape)
        self.compute_output_shape(input_shape)

    def call(self, inputs):
        index = [slice(None)] * inputs.dim()
        for (before, after), axis in zip(self.pairs, self._spatial_axes()):
            index[axis] = slice(before, inputs.shape[axis] - after)
        return inputs[tuple(index)]

    def compute_output_shape(self, input_shape):
        def cropped(n, i):
            if n <= sum(self.pairs[i]):
                raise SpecError(f"cropping {self.pairs[i]} leaves nothing of an axis of size {n} "
                                f"(input shape {tuple(input_shape)})", where=self.name)
            return n - sum(self.pairs[i])
        return self._map_spatial(input_shape, cropped)

"""Discretization: numbers → the index of their bin, then optionally encoded.

With boundaries ``b_0 < … < b_{n-1}`` a value ``x`` lands in bin ``i`` = the number of
boundaries ``<= x`` (``torch.bucketize(x, b, right=True)``), so there are ``n + 1``
bins. Inputs are compared as float32. ``output_mode="int"`` returns the bin indices
as int32; ``one_hot``/``multi_hot``/``count`` encode them over ``n + 1`` bins in the
compute dtype (see ``_encoding``).

``adapt(array)`` computes ``num_bins - 1`` boundaries with Keras's approximate
quantile summary (below), so an adapted layer gets exactly Keras's boundaries.
The layer has no weights: the boundaries live in the config.
"""
from __future__ import annotations

import numbers

import numpy as np
import torch

from ... import backend
from ...engine.keras_tensor import KerasTensor
from ...engine.layer import Layer
from ...errors import DataError, SpecError
from ..preprocessing._constant import Constant
from ..registry import register_layer
from ._encoding import ENCODED_MODES, check_output_mode, encode, encoded_shape, refuse_sparse


@register_layer("Discretization")
class Discretization(Layer):
    def __init__(self, bin_boundaries=None, num_bins=None, epsilon=0.01, output_mode="int", sparse=False,
                 dtype=None, **kwargs):
        # tf.keras writes the integer output dtype ("int64") where Keras 3 writes a float policy.
        self._int_dtype = dtype if isinstance(dtype, str) and dtype.startswith(("int", "uint")) else None
        super().__init__(dtype=None if self._int_dtype else dtype, **kwargs)
        self.output_mode = check_output_mode(output_mode, ("int",) + ENCODED_MODES)
        refuse_sparse(sparse, "Discretization")
        self.sparse = False
        if num_bins is not None and (not isinstance(num_bins, numbers.Integral) or num_bins < 0):
            raise SpecError(f"expected a non-negative integer, got {num_bins!r}", where="num_bins")
        if (num_bins is None) == (bin_boundaries is None):
            raise SpecError("give exactly one of bin_boundaries and num_bins, got "
                            f"bin_boundaries={bin_boundaries!r} and num_bins={num_bins!r}", where="bin_boundaries")
        self.num_bins = num_bins
        self.epsilon = epsilon
        self.bin_boundaries = None
        if bin_boundaries is not None:
            self._set_boundaries(bin_boundaries)

    @classmethod
    def from_config(cls, config):
        # An adapted layer's config holds both num_bins and the boundaries adapt() found.
        config = dict(config)
        boundaries = config.pop("bin_boundaries", None) if config.get("num_bins") is not None else None
        layer = cls(**config)
        if boundaries is not None:
            layer._set_boundaries(boundaries)
        return layer

    def _set_boundaries(self, values) -> None:
        try:
            array = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError):
            array = None
        if array is None or array.ndim != 1:
            raise SpecError(f"expected a list of numbers, got {values!r}", where="bin_boundaries")
        if np.any(np.diff(array) < 0):
            raise SpecError(f"expected boundaries in increasing order, got {values!r}", where="bin_boundaries")
        self.bin_boundaries = array.tolist()
        self._boundaries = Constant(np.asarray(self.bin_boundaries, dtype=np.float32))

    @property
    def depth(self) -> int:
        return len(self.bin_boundaries) + 1 if self.bin_boundaries is not None else self.num_bins

    @property
    def output_dtype(self) -> str:
        return (self._int_dtype or "int32") if self.output_mode == "int" else self.compute_dtype

    def call(self, inputs):
        if self.bin_boundaries is None:
            raise DataError("this layer has num_bins but no bin_boundaries yet", where=self.name,
                            hint="call adapt(data) first, or give bin_boundaries")
        values = inputs.to(torch.float32).contiguous()
        # one copy to the device per device (a copy per call would also stop a CUDA graph capture)
        indices = torch.bucketize(values, self._boundaries.like(values), right=True).to(torch.int32)
        if self.output_mode == "int":
            return indices.to(backend.torch_dtype(self.output_dtype))
        return encode(indices, self.output_mode, self.depth, backend.torch_dtype(self.compute_dtype),
                      where=self.name)

    def adapt(self, data) -> None:
        """Set ``bin_boundaries`` to the ``num_bins``-quantiles of ``data`` (one NumPy array or
        tensor, all of it at once), computed as Keras computes them."""
        if self.num_bins is None:
            raise DataError("adapt() needs num_bins; this layer was given bin_boundaries", where=self.name)
        if isinstance(data, torch.Tensor):
            data = data.detach().cpu().numpy()
        if not isinstance(data, np.ndarray):
            raise DataError(f"adapt() takes one NumPy array or tensor, got {type(data).__name__}",
                            where=self.name, hint="concatenate the batches into one array first")
        self._set_boundaries(_quantile_boundaries(data.astype("float32"), self.num_bins, self.epsilon))

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return tuple(input_shape)
        return encoded_shape(input_shape, self.output_mode, self.depth)

    def compute_output_spec(self, inputs):
        return KerasTensor(self.compute_output_shape(inputs.shape), self.output_dtype)

    def get_config(self):
        # Keras writes this layer's dtype as a plain name and leaves out ``trainable``.
        return {"bin_boundaries": self.bin_boundaries, "num_bins": self.num_bins, "epsilon": self.epsilon,
                "output_mode": self.output_mode, "sparse": self.sparse, "name": self.name,
                "dtype": self.variable_dtype}


# Keras's approximate quantiles. A summary is a (2, k) float32 array: sorted sample values
# and the weight (number of values) each stands for. The data is summarised once at
# resolution ``epsilon``, then the cumulative weights are interpolated at 1/num_bins,
# 2/num_bins, …, 1; the interpolated values but the last are the boundaries. Every step
# keeps Keras's float32/float64 arithmetic, so the boundaries come out bit for bit equal.

def _quantile_boundaries(values: np.ndarray, num_bins: int, epsilon: float) -> list:
    ordered = np.sort(values.reshape(-1))
    step = max(ordered.size / (1.0 / epsilon), 1)
    kept = ordered[int(step - 1)::int(step)]
    summary = np.stack([kept, np.ones_like(kept) * step])
    summary = summary[:, np.argsort(summary[0])]
    summary = _interpolate(summary, epsilon)
    return _interpolate(summary, 1.0 / num_bins)[0, :-1].tolist()


def _interpolate(summary: np.ndarray, epsilon: float) -> np.ndarray:
    """Resample a summary at cumulative-weight fractions epsilon, 2·epsilon, …, when it has
    at least 1/epsilon entries (else it is already that coarse and stays as it is)."""
    if summary.shape[1] * epsilon < 1:
        return summary
    fractions = epsilon + np.arange(0.0, 1.0, epsilon)
    cumulative = summary[1].cumsum()
    at = np.interp(fractions, cumulative / cumulative[-1], cumulative)
    values = np.interp(fractions, cumulative / cumulative[-1], summary[0])
    weights = at - np.concatenate(([0], at[:-1]))
    return np.stack((values, weights)).astype("float32")

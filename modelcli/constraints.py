"""Weight constraints applied after each optimizer step, on the Keras-layout view.

``axis`` refers to Keras's layout (a Dense kernel is (in, out), so MaxNorm's
default axis=0 bounds each output unit's incoming weights), which is why layers
hand constraints a view of the torch parameter in Keras order.
"""
from __future__ import annotations

import torch

from .registry import Registry
from .serialization import deserialize, serialize as _serialize

CONSTRAINTS = Registry("constraint")
_EPSILON = 1e-7


class Constraint:
    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _norms(w, axis):
    return torch.sqrt(torch.sum(w * w, dim=axis, keepdim=True))


@CONSTRAINTS.register("MaxNorm", "max_norm")
class MaxNorm(Constraint):
    def __init__(self, max_value=2, axis=0):
        self.max_value, self.axis = max_value, axis

    def __call__(self, w):
        norms = _norms(w, self.axis)
        desired = torch.clamp(norms, 0, self.max_value)
        return w * (desired / (_EPSILON + norms))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


@CONSTRAINTS.register("NonNeg", "non_neg")
class NonNeg(Constraint):
    def __call__(self, w):
        return w * (w >= 0).to(w.dtype)


@CONSTRAINTS.register("UnitNorm", "unit_norm")
class UnitNorm(Constraint):
    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        return w / (_EPSILON + _norms(w, self.axis))

    def get_config(self):
        return {"axis": self.axis}


@CONSTRAINTS.register("MinMaxNorm", "min_max_norm")
class MinMaxNorm(Constraint):
    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value, self.max_value, self.rate, self.axis = min_value, max_value, rate, axis

    def __call__(self, w):
        norms = _norms(w, self.axis)
        desired = self.rate * torch.clamp(norms, self.min_value, self.max_value) + (1 - self.rate) * norms
        return w * (desired / (_EPSILON + norms))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate,
                "axis": self.axis}


def get(identifier, where: str | None = None):
    return deserialize(identifier, CONSTRAINTS, where)


def serialize(constraint):
    return _serialize(constraint, "keras.constraints")

"""Weight and activity penalties (l1, l2, l1_l2) added to the training loss."""
from __future__ import annotations

from .registry import Registry
from .serialization import deserialize, serialize as _serialize

REGULARIZERS = Registry("regularizer")


@REGULARIZERS.register("L1L2", "l1_l2")
class L1L2:
    """``l1·Σ|w| + l2·Σw²``."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1, self.l2 = float(l1), float(l2)

    def __call__(self, x):
        penalty = 0.0
        if self.l1:
            penalty = penalty + self.l1 * x.abs().sum()
        if self.l2:
            penalty = penalty + self.l2 * x.square().sum()
        return penalty

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


@REGULARIZERS.register("L1", "l1")
class L1(L1L2):
    def __init__(self, l1=0.01):
        super().__init__(l1=l1)

    def get_config(self):
        return {"l1": self.l1}


@REGULARIZERS.register("L2", "l2")
class L2(L1L2):
    def __init__(self, l2=0.01):
        super().__init__(l2=l2)

    def get_config(self):
        return {"l2": self.l2}


def get(identifier, where: str | None = None):
    return deserialize(identifier, REGULARIZERS, where)


def serialize(regularizer):
    return _serialize(regularizer, "keras.regularizers")

"""Keras 3 operations recorded in functional graphs (``keras.src.ops``).

Keras 3 traces some tensor operations into a functional model's config, e.g. the
``NotEqual(inputs, 0)`` that computes an Embedding's mask, or ``x + y`` on two
symbolic tensors. These are plain elementwise maths, safe to rebuild by name.
"""
from __future__ import annotations

import torch

from ..engine.keras_tensor import KerasTensor
from ..engine.layer import Layer
from ..registry import Registry

OPS = Registry("Keras operation")


class Operation(Layer):
    is_op = True
    keras_module = "keras.src.ops.numpy"
    fn = None
    result_dtype = None

    def __init__(self, name=None):
        super().__init__(name=name)
        self.built = True

    def call(self, *args):
        return type(self).fn(*[a if isinstance(a, torch.Tensor) else torch.as_tensor(a) for a in args])

    def compute_output_spec(self, *args, **kwargs):
        shapes = [a.shape for a in args if isinstance(a, KerasTensor)]
        shape = _broadcast(shapes)
        dtype = self.result_dtype or next(a.dtype for a in args if isinstance(a, KerasTensor))
        return KerasTensor(shape, dtype)

    def get_config(self):
        return {"name": self.name}


def _broadcast(shapes):
    rank = max(len(s) for s in shapes)
    padded = [(1,) * (rank - len(s)) + tuple(s) for s in shapes]
    out = []
    for dims in zip(*padded):
        known = [d for d in dims if d not in (1, None)]
        out.append(known[0] if known else (None if None in dims else 1))
    return tuple(out)


def _op(class_name, fn, result_dtype=None):
    cls = type(class_name, (Operation,), {"fn": staticmethod(fn), "result_dtype": result_dtype,
                                          "__doc__": f"Keras's ops.{class_name}."})
    OPS.add(class_name, cls)
    return cls


NotEqual = _op("NotEqual", torch.ne, "bool")
Equal = _op("Equal", torch.eq, "bool")
Greater = _op("Greater", torch.gt, "bool")
Less = _op("Less", torch.lt, "bool")
Add = _op("Add", torch.add)
Subtract = _op("Subtract", torch.sub)
Multiply = _op("Multiply", torch.mul)
Divide = _op("Divide", torch.true_divide)
Maximum = _op("Maximum", torch.maximum)
Minimum = _op("Minimum", torch.minimum)
LogicalAnd = _op("LogicalAnd", torch.logical_and, "bool")

"""Keras 3 operations recorded in functional graphs (``keras.src.ops``).

Keras 3 traces tensor operations made on symbolic tensors into a functional
model's config: the ``NotEqual(inputs, 0)`` behind an Embedding's mask, the
``ExpandDims`` / ``LogicalOr`` / ``Any`` that combine masks before a Concatenate,
or ``x + y`` written in user code. They are plain tensor maths with a few
arguments, safe to rebuild by name; shapes are found by running them on meta
tensors (no data, no computation).
"""
from __future__ import annotations

import torch

from ..backend import torch_dtype
from ..engine import tree
from ..engine.keras_tensor import KerasTensor
from ..engine.layer import Layer
from ..registry import Registry

OPS = Registry("Keras operation")


class Operation(Layer):
    """Base: ``call`` computes; ``config_keys`` lists the arguments Keras writes besides ``name``."""

    is_op = True
    keras_module = "keras.src.ops.numpy"
    config_keys: tuple = ()

    def __init__(self, name=None, **config):
        unknown = [k for k in config if k not in self.config_keys]
        super().__init__(name=name, **{k: config[k] for k in unknown})  # the base names unknown keys
        for key in self.config_keys:
            setattr(self, key, config.get(key, self.defaults().get(key)))
        self.built = True

    @classmethod
    def defaults(cls) -> dict:
        return {}

    def get_config(self):
        return {"name": self.name, **{k: getattr(self, k) for k in self.config_keys}}

    def compute_output_spec(self, *args, **kwargs):
        """Run on meta tensors twice, with 2 and 3 for unknown sizes; differing dims are unknown."""
        def probe(fill):
            def meta(t):
                if not isinstance(t, KerasTensor):
                    return t
                return torch.zeros([fill if d is None else d for d in t.shape], device="meta",
                                   dtype=torch_dtype(t.dtype))
            out = self.call(*tree.map_structure(meta, list(args)))
            return tuple(out.shape), out.dtype
        (a, dtype), (b, _) = probe(2), probe(3)
        from ..backend import dtype_name
        return KerasTensor(tuple(x if x == y else None for x, y in zip(a, b)), dtype_name(dtype))


def _tensor(x, like=None):
    if isinstance(x, torch.Tensor):
        return x
    return torch.as_tensor(x, device=like.device if isinstance(like, torch.Tensor) else None)


def _binary(class_name, fn):
    def call(self, x, y):
        return fn(_tensor(x, y), _tensor(y, x))
    OPS.add(class_name, type(class_name, (Operation,), {"call": call, "__doc__": f"Keras's ops.{class_name}."}))


for _name, _fn in {"Add": torch.add, "Subtract": torch.sub, "Multiply": torch.mul, "Divide": torch.true_divide,
                   "TrueDivide": torch.true_divide, "Maximum": torch.maximum, "Minimum": torch.minimum,
                   "Power": torch.pow, "NotEqual": torch.ne, "Equal": torch.eq, "Greater": torch.gt,
                   "GreaterEqual": torch.ge, "Less": torch.lt, "LessEqual": torch.le,
                   "LogicalAnd": torch.logical_and, "LogicalOr": torch.logical_or}.items():
    _binary(_name, _fn)


@OPS.register("LogicalNot")
class LogicalNot(Operation):
    def call(self, x):
        return torch.logical_not(x)


class _Like(Operation):
    config_keys = ("dtype",)
    fill = 0

    def call(self, x):
        dtype = torch_dtype(self.dtype) if self.dtype else x.dtype
        return torch.full_like(x, self.fill, dtype=dtype)


@OPS.register("ZerosLike")
class ZerosLike(_Like):
    fill = 0


@OPS.register("OnesLike")
class OnesLike(_Like):
    fill = 1


@OPS.register("Cast")
class Cast(Operation):
    config_keys = ("dtype",)

    def call(self, x):
        return x.to(torch_dtype(self.dtype))


@OPS.register("ConvertToTensor")
class ConvertToTensor(Operation):
    """Keras's ops.convert_to_tensor, which Keras 3 records where a mask passes through a layer
    (an attention layer's query mask): a cast when ``dtype`` is given, else the tensor itself.
    ``sparse`` and ``ragged`` are kept for the config; torch tensors are dense either way."""

    keras_module = "keras.src.ops.core"
    config_keys = ("dtype", "sparse", "ragged")

    def call(self, x):
        x = _tensor(x)
        return x.to(torch_dtype(self.dtype)) if self.dtype else x


@OPS.register("GetItem")
class GetItem(Operation):
    """``x[key]`` on a symbolic tensor (``x[:, 0]``, ``x[..., 1:3]``): Keras 3 writes the key as a
    list of ints, nulls and ``__slice__`` / ``__ellipsis__`` dicts, read back as a tuple."""

    def call(self, x, key):
        return x[tuple(key) if isinstance(key, list) else key]


@OPS.register("ExpandDims")
class ExpandDims(Operation):
    config_keys = ("axis",)

    def call(self, x):
        return torch.unsqueeze(x, self.axis)


@OPS.register("Squeeze")
class Squeeze(Operation):
    config_keys = ("axis",)

    def call(self, x):
        return torch.squeeze(x) if self.axis is None else torch.squeeze(x, self.axis)


class _Reduce(Operation):
    config_keys = ("axis", "keepdims")

    @classmethod
    def defaults(cls):
        return {"keepdims": False}

    def _dims(self, x):
        if self.axis is None:
            return tuple(range(x.ndim))
        return tuple(self.axis) if isinstance(self.axis, (list, tuple)) else (self.axis,)


@OPS.register("Any")
class Any(_Reduce):
    def call(self, x):
        return torch.amax(x.to(torch.bool).to(torch.uint8), dim=self._dims(x), keepdim=self.keepdims).to(torch.bool)


@OPS.register("All")
class All(_Reduce):
    def call(self, x):
        return torch.amin(x.to(torch.bool).to(torch.uint8), dim=self._dims(x), keepdim=self.keepdims).to(torch.bool)


@OPS.register("Sum")
class Sum(_Reduce):
    def call(self, x):
        return torch.sum(x, dim=self._dims(x), keepdim=self.keepdims)


@OPS.register("Mean")
class Mean(_Reduce):
    def call(self, x):
        return torch.mean(x, dim=self._dims(x), keepdim=self.keepdims)


@OPS.register("Concatenate")
class Concatenate(Operation):
    config_keys = ("axis",)

    @classmethod
    def defaults(cls):
        return {"axis": 0}

    def call(self, xs):
        return torch.cat(list(xs), dim=self.axis)

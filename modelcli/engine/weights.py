"""Keras weights over torch parameters: layouts, and the ``Variable`` view Keras users see.

Parameters live in the layout the torch kernel wants (a Linear weight is
``(out, in)``); Keras sees its own layout (a Dense kernel is ``(in, out)``). A
:class:`Layout` converts between the two and is the one place that knows how.
"""
from __future__ import annotations

import numpy as np
import torch


class Layout:
    """Identity: the torch parameter has Keras's shape and order."""

    def torch_shape(self, keras_shape: tuple) -> tuple:
        return tuple(keras_shape)

    def to_torch(self, keras_value: torch.Tensor) -> torch.Tensor:
        return keras_value

    def to_keras(self, torch_value: torch.Tensor) -> torch.Tensor:
        """A view of the parameter in Keras order (constraints write through it)."""
        return torch_value


SAME = Layout()


class Permuted(Layout):
    """``torch = keras.permute(order)``; e.g. a Dense kernel is ``Permuted((1, 0))``."""

    def __init__(self, order):
        self.order = tuple(order)
        self.inverse = tuple(int(i) for i in np.argsort(self.order))

    def torch_shape(self, keras_shape):
        return tuple(keras_shape[i] for i in self.order)

    def to_torch(self, keras_value):
        return keras_value.permute(self.order)

    def to_keras(self, torch_value):
        return torch_value.permute(self.inverse)


class KerasWeight:
    """One Keras weight of a layer: its Keras name and shape, and the parameter behind it."""

    def __init__(self, layer, name, attr, keras_shape, layout, trainable, regularizer, constraint):
        self.layer = layer
        self.name = name
        self.attr = attr
        self.keras_shape = tuple(keras_shape)
        self.layout = layout
        self.trainable = trainable
        self.regularizer = regularizer
        self.constraint = constraint

    @property
    def parameter(self) -> torch.Tensor:
        return getattr(self.layer, self.attr)

    @property
    def shape(self) -> tuple:
        return self.keras_shape

    @property
    def ndim(self) -> int:
        return len(self.keras_shape)

    @property
    def dtype(self) -> str:
        """The variable's dtype name, as Keras gives it (``"float32"``)."""
        from ..backend import dtype_name
        return dtype_name(self.parameter.dtype)

    @property
    def value(self) -> torch.Tensor:
        """The weight as a tensor in Keras's layout (a view of the parameter)."""
        return self.layout.to_keras(self.parameter)

    @property
    def path(self) -> str:
        return f"{self.layer.name}/{self.name}"

    def numpy(self) -> np.ndarray:
        value = self.layout.to_keras(self.parameter.detach())
        return value.to("cpu", torch.float32 if value.is_floating_point() else value.dtype).numpy().copy()

    def __array__(self, dtype=None, copy=None):
        array = self.numpy()
        return array if dtype is None else array.astype(dtype)

    def assign(self, value) -> None:
        """Set from a Keras-layout array; the caller has checked the shape."""
        param = self.parameter
        tensor = torch.as_tensor(np.asarray(value), dtype=param.dtype)
        with torch.no_grad():
            param.copy_(self.layout.to_torch(tensor).to(param.device))

    def apply_constraint(self) -> None:
        if self.constraint is not None:
            with torch.no_grad():
                view = self.layout.to_keras(self.parameter)
                view.copy_(self.constraint(view))

    def __repr__(self):
        return f"<Variable {self.path} shape={self.keras_shape}>"

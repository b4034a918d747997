"""PReLU: ``x`` for x > 0, ``alpha·x`` below, with a learned ``alpha`` per input position.

``alpha`` has the input's shape without the batch axis, with size 1 along each
axis in ``shared_axes`` (1-based, as Keras counts them).
"""
from __future__ import annotations

import numbers

import torch

from ... import constraints, initializers, regularizers
from ...engine.layer import Layer
from ...errors import SpecError
from ..registry import register_layer


@register_layer("PReLU")
class PReLU(Layer):
    supports_masking = True

    def __init__(self, alpha_initializer="Zeros", alpha_regularizer=None, alpha_constraint=None,
                 shared_axes=None, **kwargs):
        super().__init__(**kwargs)
        self.alpha_initializer = initializers.get(alpha_initializer, "alpha_initializer")
        self.alpha_regularizer = regularizers.get(alpha_regularizer, "alpha_regularizer")
        self.alpha_constraint = constraints.get(alpha_constraint, "alpha_constraint")
        if shared_axes is not None and not isinstance(shared_axes, (list, tuple)):
            shared_axes = [shared_axes]
        if shared_axes is not None and not all(
                isinstance(a, numbers.Integral) and not isinstance(a, bool) and a >= 1 for a in shared_axes):
            raise SpecError(f"expected axis numbers counted from 1, got {shared_axes!r}", where="shared_axes")
        self.shared_axes = None if shared_axes is None else [int(a) for a in shared_axes]

    def build(self, input_shape):
        shape = list(input_shape[1:])
        for axis in self.shared_axes or ():
            if axis > len(shape):
                raise SpecError(f"shared axis {axis} does not exist in inputs of shape {tuple(input_shape)}",
                                where="shared_axes")
            shape[axis - 1] = 1
        if None in shape:
            raise SpecError(f"PReLU needs known sizes for the axes it does not share, got input shape "
                            f"{tuple(input_shape)}", where=self.name)
        self.add_weight("alpha", tuple(shape), self.alpha_initializer, regularizer=self.alpha_regularizer,
                        constraint=self.alpha_constraint)

    def call(self, inputs):
        return torch.where(inputs > 0, inputs, self.alpha * inputs)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(),
                "alpha_initializer": initializers.serialize(self.alpha_initializer),
                "alpha_regularizer": regularizers.serialize(self.alpha_regularizer),
                "alpha_constraint": constraints.serialize(self.alpha_constraint),
                "shared_axes": self.shared_axes}

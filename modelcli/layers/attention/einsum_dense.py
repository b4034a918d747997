"""EinsumDense: ``activation(einsum(equation, x, kernel) + bias)``.

The equation names the input, kernel and output axes (``"abc,cde->abde"``),
optionally with ``...`` standing for leading (``"...b,bc->...c"``) or trailing
input axes. ``output_shape`` gives the output sizes after the batch axis that
the input does not determine. The kernel keeps Keras's layout; its initializer
counts fans over the input-side and output-side kernel axes, as Keras 3 does.

The projections MultiHeadAttention needs (input = free + summed axes, kernel =
summed + new axes) run as one matrix product over flattened axes.
"""
from __future__ import annotations

import math
import re

import torch
import torch.nn.functional as F

from ... import activations, constraints, initializers, regularizers
from ...engine.layer import Layer
from ...errors import SpecError
from ..registry import register_layer

_FORMS = (  # (pattern over the equation with "..." written as "0", ellipsis on the left)
    (re.compile(r"([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)"), False),
    (re.compile(r"0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)"), True),
    (re.compile(r"([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0"), False),
)


@register_layer("EinsumDense")
class EinsumDense(Layer):
    def __init__(self, equation, output_shape, activation=None, bias_axes=None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, bias_constraint=None, lora_rank=None,
                 lora_alpha=None, gptq_unpacked_column_size=None, **kwargs):
        super().__init__(**kwargs)
        if lora_rank or gptq_unpacked_column_size:
            raise SpecError("LoRA and GPTQ-quantized EinsumDense layers are not supported",
                            where="lora_rank" if lora_rank else "gptq_unpacked_column_size")
        if not isinstance(equation, str):
            raise SpecError(f"expected an einsum equation string, got {equation!r}", where="equation")
        _split(equation)
        self.equation = equation
        self.partial_output_shape = (output_shape,) if isinstance(output_shape, int) else tuple(output_shape)
        self.bias_axes = bias_axes
        self.activation = activations.get(activation, "activation")
        self.kernel_initializer = initializers.get(kernel_initializer, "kernel_initializer")
        self.bias_initializer = initializers.get(bias_initializer, "bias_initializer")
        self.kernel_regularizer = regularizers.get(kernel_regularizer, "kernel_regularizer")
        self.bias_regularizer = regularizers.get(bias_regularizer, "bias_regularizer")
        self.kernel_constraint = constraints.get(kernel_constraint, "kernel_constraint")
        self.bias_constraint = constraints.get(bias_constraint, "bias_constraint")
        self._matmul = _as_matmul(equation)

    def build(self, input_shape):
        kernel_shape, bias_shape, _, input_axes, output_axes = _analyze(
            self.equation, self.bias_axes, tuple(input_shape), self.partial_output_shape, self.name)
        if None in kernel_shape or (bias_shape is not None and None in bias_shape):
            raise SpecError(f"EinsumDense '{self.equation}' needs known sizes for its kernel, got input shape "
                            f"{tuple(input_shape)} and output_shape {self.partial_output_shape}", where=self.name)
        init = self.kernel_initializer
        if isinstance(init, initializers.VarianceScaling) and (init.input_axes is None or init.output_axes is None):
            init = type(init).from_config({**init.get_config(), "input_axes": input_axes,
                                           "output_axes": output_axes})
        self.add_weight("kernel", kernel_shape, init, regularizer=self.kernel_regularizer,
                        constraint=self.kernel_constraint)
        self.bias = self.add_weight("bias", bias_shape, self.bias_initializer, regularizer=self.bias_regularizer,
                                    constraint=self.bias_constraint) if bias_shape is not None else None

    def call(self, inputs):
        if self._matmul is not None:
            summed, new = self._matmul
            new_shape = self.kernel.shape[summed:]
            kernel = self.kernel.reshape(math.prod(self.kernel.shape[:summed]), -1)
            # A bias over exactly the new axes rides in the matrix product (one kernel, autocast-friendly).
            fused = self.bias is not None and tuple(self.bias.shape) == tuple(new_shape)
            out = F.linear(inputs.flatten(inputs.dim() - summed) if summed > 1 else inputs, kernel.t(),
                           self.bias.reshape(-1) if fused else None)
            out = out.unflatten(-1, new_shape) if new != 1 else out
            if self.bias is not None and not fused:
                out = out + self.bias
        else:
            out = torch.einsum(self.equation, inputs, self.kernel)
            if self.bias is not None:
                out = out + self.bias
        return self.activation(out)

    def compute_output_shape(self, input_shape):
        return tuple(_analyze(self.equation, self.bias_axes, tuple(input_shape), self.partial_output_shape,
                              self.name)[2])

    def get_config(self):
        return {**super().get_config(), "output_shape": self.partial_output_shape, "equation": self.equation,
                "activation": activations.serialize(self.activation), "bias_axes": self.bias_axes,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "activity_regularizer": regularizers.serialize(self.activity_regularizer),
                "kernel_constraint": constraints.serialize(self.kernel_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint),
                "quantization_config": None}


def _split(equation):
    """(input spec, kernel spec, output spec, ellipsis on the left?) or a SpecError."""
    text = equation.replace("...", "0")
    for pattern, left in _FORMS:
        match = pattern.fullmatch(text)
        if match:
            return match.group(1), match.group(2), match.group(3), left
    raise SpecError(f"invalid einsum equation {equation!r}: expected 'X,Y->Z', '...X,Y->...Z' or "
                    "'X...,Y->Z...'", where="equation")


def _as_matmul(equation):
    """(number of summed axes, number of new axes) when the equation is ``F+S, S+N -> F+N``, else None."""
    inputs, kernel, output, _ = _split(equation)
    if equation.replace("...", "0").endswith("0"):
        return None
    for summed in range(1, min(len(kernel), len(inputs)) + 1):
        axes, new = kernel[:summed], kernel[summed:]
        if new and inputs.endswith(axes) and output == inputs[:-summed] + new and not set(new) & set(inputs):
            return summed, len(new)
    return None


def _analyze(equation, bias_axes, input_shape, partial_output_shape, where):
    """Keras's shape analysis: kernel shape, bias shape, full output shape, input and output kernel axes."""
    input_spec, weight_spec, output_spec, left_elided = _split(equation)
    elided = len(input_shape) - len(input_spec)
    if elided < 0 or (elided > 0 and not equation.count("...")):
        raise SpecError(f"equation '{equation}' expects inputs of rank {len(input_spec)}, got input shape "
                        f"{input_shape}", where=where)
    output_shape = [input_shape[0]] + list(partial_output_shape)
    if elided > 0 and left_elided:
        output_shape[1:1] = list(input_shape[1:elided])
    elif elided > 0:
        output_shape += list(input_shape[len(input_shape) - elided:])
    if left_elided:
        input_index = {dim: i - len(input_spec) for i, dim in enumerate(input_spec)}
        output_index = {dim: i + elided for i, dim in enumerate(output_spec)}
    else:
        input_index = {dim: i for i, dim in enumerate(input_spec)}
        output_index = {dim: i for i, dim in enumerate(output_spec)}
    if max(output_index.values(), default=-1) >= len(output_shape):
        raise SpecError(f"output_shape {tuple(partial_output_shape)} is too short for equation '{equation}'",
                        where=where)
    for dim in input_spec:
        if dim in output_index:
            size = output_shape[output_index[dim]]
            if size is not None and size != input_shape[input_index[dim]]:
                raise SpecError(f"input and output sizes differ on the shared axis '{dim}': "
                                f"{input_shape[input_index[dim]]} and {size}", where=where)
            output_shape[output_index[dim]] = input_shape[input_index[dim]]
    for dim in output_spec:
        if dim not in input_spec and dim not in weight_spec:
            raise SpecError(f"output axis '{dim}' of '{equation}' is in neither the input nor the kernel",
                            where=where)
    kernel_shape, input_axes, output_axes = [], [], []
    for i, dim in enumerate(weight_spec):
        if dim in output_index:
            kernel_shape.append(output_shape[output_index[dim]])
            output_axes.append(i)
        elif dim in input_index:
            kernel_shape.append(input_shape[input_index[dim]])
            input_axes.append(i)
        else:
            raise SpecError(f"kernel axis '{dim}' of '{equation}' is in neither the input nor the output",
                            where=where)
    bias_shape = None
    if bias_axes is not None:
        for char in bias_axes:
            if char not in output_spec:
                raise SpecError(f"bias axis '{char}' is not an output axis of '{equation}'", where=where)
        first = min(output_spec.find(char) for char in bias_axes)
        bias_shape = [output_shape[output_index[char]] if char in bias_axes else 1 for char in output_spec[first:]]
        if not left_elided:
            bias_shape += [1] * elided
    return tuple(kernel_shape), None if bias_shape is None else tuple(bias_shape), output_shape, input_axes, \
        output_axes

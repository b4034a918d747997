"""What SimpleRNNCell, LSTMCell and GRUCell share: arguments, weights, dropout masks.

A cell's kernels hold ``gates`` blocks of ``units`` columns in Keras's layout:
``kernel (in, gates·units)``, ``recurrent_kernel (units, gates·units)``. They are
stored transposed, ``(gates·units, in)``, which is the ``weight_ih`` / ``weight_hh``
layout torch's fused kernels take (``F.linear`` takes it too).

A step is split in two so the step loop stays cheap: ``project_inputs`` computes
``x · kernel + input bias`` for every timestep at once, ``step`` adds the recurrent
part and applies the gates.
"""
from __future__ import annotations

import numbers

import torch
import torch.nn.functional as F

from ... import activations, constraints, initializers, regularizers
from ...engine.layer import Layer
from ...engine.weights import Permuted
from ...errors import SpecError

TRANSPOSED = Permuted((1, 0))


class RecurrentCell(Layer):
    gates = 1

    def __init__(self, units, activation="tanh", use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros", kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0, recurrent_dropout=0.0,
                 seed=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(units, int) or isinstance(units, bool) or units <= 0:
            raise SpecError(f"expected a positive integer, got {units!r}", where="units")
        self.units = units
        self.activation = activations.get(activation, "activation")
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer, "kernel_initializer")
        self.recurrent_initializer = initializers.get(recurrent_initializer, "recurrent_initializer")
        self.bias_initializer = initializers.get(bias_initializer, "bias_initializer")
        self.kernel_regularizer = regularizers.get(kernel_regularizer, "kernel_regularizer")
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer, "recurrent_regularizer")
        self.bias_regularizer = regularizers.get(bias_regularizer, "bias_regularizer")
        self.kernel_constraint = constraints.get(kernel_constraint, "kernel_constraint")
        self.recurrent_constraint = constraints.get(recurrent_constraint, "recurrent_constraint")
        self.bias_constraint = constraints.get(bias_constraint, "bias_constraint")
        # Keras clips the rates into [0, 1] rather than refusing them.
        self.dropout = min(1.0, max(0.0, _rate(dropout, "dropout")))
        self.recurrent_dropout = min(1.0, max(0.0, _rate(recurrent_dropout, "recurrent_dropout")))
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
            raise SpecError(f"expected an integer or null, got {seed!r}", where="seed")
        self.seed = seed
        self._generators: dict[torch.device, torch.Generator] = {}

    # ----- sizes and weights --------------------------------------------------------------
    @property
    def state_size(self) -> list[int]:
        return [self.units]

    @property
    def output_size(self) -> int:
        return self.units

    @property
    def weight_dtype(self) -> torch.dtype:
        """The dtype the RNN casts its inputs to: the kernel's."""
        return self.kernel.dtype

    def nest_states(self, states) -> list:
        """States as ``RNN(return_state=True)`` returns them: flat for one cell."""
        return list(states)

    def build(self, input_shape):
        in_dim = input_shape[-1]
        if in_dim is None:
            raise SpecError(f"{type(self).__name__} needs a known last input dimension, got input shape "
                            f"{tuple(input_shape)}", where=self.name)
        width = self.gates * self.units
        self.add_weight("kernel", (in_dim, width), self.kernel_initializer, layout=TRANSPOSED,
                        regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.add_weight("recurrent_kernel", (self.units, width), self.recurrent_initializer, layout=TRANSPOSED,
                        regularizer=self.recurrent_regularizer, constraint=self.recurrent_constraint)
        if self.use_bias:
            self.add_weight("bias", self.bias_shape(), self.initial_bias(),
                            regularizer=self.bias_regularizer, constraint=self.bias_constraint)

    def bias_shape(self) -> tuple:
        return (self.gates * self.units,)

    def initial_bias(self):
        return self.bias_initializer

    def input_bias(self):
        return self.bias if self.use_bias else None

    # ----- dropout ------------------------------------------------------------------------
    def dropout_masks(self, step_input, state, training):
        """The masks a whole sequence shares: ``(input_masks, recurrent_masks)``.

        As in Keras, each is ``None`` outside training; with recurrent dropout a gated
        cell draws one mask per gate (Keras's ``implementation=1``), otherwise a
        single input mask serves every gate.
        """
        if not training:
            return None, None
        per_gate = self.gates if self.recurrent_dropout > 0 and self.gates > 1 else None
        return self._masks(step_input, self.dropout, per_gate), self._masks(state, self.recurrent_dropout, per_gate)

    def _masks(self, like, rate, count):
        if not 0.0 < rate < 1.0:
            return None
        if count is None:
            return self._dropout_mask(like, rate)
        return [self._dropout_mask(like, rate) for _ in range(count)]

    def _dropout_mask(self, like, rate):
        keep = 1.0 - rate
        generator = None
        if self.seed is not None:
            generator = self._generators.get(like.device)
            if generator is None:
                generator = torch.Generator(like.device).manual_seed(self.seed)
                self._generators[like.device] = generator
        return torch.empty_like(like).bernoulli_(keep, generator=generator) / keep

    # ----- the maths ------------------------------------------------------------------------
    def project_inputs(self, inputs, masks=None):
        """``inputs · kernel + input bias`` for ``(batch, [time,] features)`` inputs."""
        bias = self.input_bias()
        if masks is None:
            return F.linear(inputs, self.kernel, bias)
        if not isinstance(masks, list):
            return F.linear(inputs * _over_time(masks, inputs), self.kernel, bias)
        kernels = self.kernel.chunk(self.gates, 0)
        biases = bias.chunk(self.gates, 0) if bias is not None else [None] * self.gates
        return torch.cat([F.linear(inputs * _over_time(m, inputs), k, b)
                          for m, k, b in zip(masks, kernels, biases)], dim=-1)

    def project_state(self, h, masks=None, gates=None):
        """``h · recurrent_kernel`` over the first ``gates`` gates (all by default), no bias."""
        gates = gates or self.gates
        kernel = self.recurrent_kernel[: gates * self.units]
        if masks is None:
            return F.linear(h, kernel)
        if not isinstance(masks, list):
            return F.linear(h * masks, kernel)
        return torch.cat([F.linear(h * m, k) for m, k in zip(masks, kernel.chunk(gates, 0))], dim=-1)

    def step(self, projected_input, states, recurrent_masks=None):
        """One timestep: ``(output, new_states)``."""
        raise NotImplementedError  # pragma: no cover - abstract

    def fused_kernel(self):
        """``(torch kernel name, weights, has_biases)`` when torch's fused kernel computes this
        cell exactly (standard activations), else ``None``."""
        return None

    def call(self, inputs, states, training=None):
        """A single step, as ``keras.layers.LSTMCell(...)(x, states)`` computes it."""
        nested = isinstance(states, (list, tuple))
        states = list(states) if nested else [states]
        input_masks, recurrent_masks = self.dropout_masks(inputs, states[0], training)
        output, new_states = self.step(self.project_inputs(inputs, input_masks), states, recurrent_masks)
        return output, (new_states if nested else new_states[0])

    def get_initial_state(self, batch_size, device=None, dtype=None):
        return [torch.zeros(batch_size, n, device=device or self._device(), dtype=dtype or self.kernel.dtype)
                for n in self.state_size]

    def get_config(self):
        return {**super().get_config(), "units": self.units, "activation": activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "recurrent_regularizer": regularizers.serialize(self.recurrent_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "kernel_constraint": constraints.serialize(self.kernel_constraint),
                "recurrent_constraint": constraints.serialize(self.recurrent_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint),
                "dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout, "seed": self.seed}


def standard_gates(cell) -> bool:
    """tanh and sigmoid: the activations torch's fused LSTM and GRU kernels hard-code."""
    return cell.activation is activations.tanh and cell.recurrent_activation is activations.sigmoid


def _over_time(mask, inputs):
    """A ``(batch, features)`` mask broadcast over the time axis of 3D inputs."""
    return mask.unsqueeze(1) if inputs.dim() == 3 else mask


def _rate(value, where):
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise SpecError(f"expected a number between 0 and 1, got {value!r}", where=where)
    return float(value)

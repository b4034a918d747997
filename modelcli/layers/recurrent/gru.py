"""GRUCell and GRU.

Keras: ``kernel (in, 3u)``, ``recurrent_kernel (u, 3u)``, gates z, r, h (torch: r, z, n).
Per step, with σ = ``recurrent_activation`` and tanh = ``activation``:
``z = σ(x·W_z + h·U_z + b)``, ``r = σ(x·W_r + h·U_r + b)``, ``h' = z·h + (1 - z)·ĥ`` and

- ``reset_after=True`` (Keras 3's default): bias ``(2, 3u)`` = [input bias; recurrent bias],
  ``ĥ = tanh(x·W_h + b_in + r·(h·U_h + b_rec))`` — torch's GRU formula, so the fused
  kernel runs it once the gates are reordered;
- ``reset_after=False``: bias ``(3u,)``, ``ĥ = tanh(x·W_h + (r·h)·U_h + b)`` — r applies
  before the recurrent product, which only the step loop computes.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ... import activations
from ..registry import register_layer
from .cell import RecurrentCell, standard_gates
from .rnn import CellArgumentsRNN, cell_options, check_use_cudnn


@register_layer("GRUCell")
class GRUCell(RecurrentCell):
    gates = 3

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0, recurrent_dropout=0.0,
                 reset_after=True, seed=None, **kwargs):
        super().__init__(units, activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
                         recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
                         bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                         recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint,
                         dropout=dropout, recurrent_dropout=recurrent_dropout, seed=seed, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation, "recurrent_activation")
        self.reset_after = bool(reset_after)

    def bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def input_bias(self):
        if not self.use_bias:
            return None
        return self.bias[0] if self.reset_after else self.bias

    def step(self, projected_input, states, recurrent_masks=None):
        h = states[0]
        x_z, x_r, x_h = projected_input.chunk(3, dim=-1)
        gate = self.recurrent_activation
        if self.reset_after:
            recurrent = self.project_state(h, recurrent_masks)
            if self.use_bias:
                recurrent = recurrent + self.bias[1]
            h_z, h_r, h_h = recurrent.chunk(3, dim=-1)
            z, r = gate(x_z + h_z), gate(x_r + h_r)
            candidate = self.activation(x_h + r * h_h)
        else:  # recurrent_masks is None or one mask per gate
            h_z, h_r = self.project_state(h, recurrent_masks and recurrent_masks[:2], gates=2).chunk(2, dim=-1)
            z, r = gate(x_z + h_z), gate(x_r + h_r)
            h_reset = r * (h if recurrent_masks is None else h * recurrent_masks[2])
            candidate = self.activation(x_h + F.linear(h_reset, self.recurrent_kernel[2 * self.units:]))
        h = z * h + (1.0 - z) * candidate
        return h, [h]

    def fused_kernel(self):
        if not (self.reset_after and standard_gates(self)):
            return None
        weights = [_zrh_to_rzn(self.kernel), _zrh_to_rzn(self.recurrent_kernel)]
        if not self.use_bias:
            return "gru", weights, False
        return "gru", weights + [_zrh_to_rzn(self.bias[0]), _zrh_to_rzn(self.bias[1])], True

    def get_config(self):
        return {**super().get_config(),
                "recurrent_activation": activations.serialize(self.recurrent_activation),
                "reset_after": self.reset_after}


def _zrh_to_rzn(tensor):
    """Keras's gate blocks (z, r, h) along the first axis in torch's order (r, z, n)."""
    z, r, h = tensor.chunk(3, dim=0)
    return torch.cat([r, z, h], dim=0)


@register_layer("GRU")
class GRU(CellArgumentsRNN):
    cell_attributes = ("units", "activation", "recurrent_activation", "use_bias", "kernel_initializer",
                       "recurrent_initializer", "bias_initializer", "kernel_regularizer", "recurrent_regularizer",
                       "bias_regularizer", "kernel_constraint", "recurrent_constraint", "bias_constraint",
                       "dropout", "recurrent_dropout", "reset_after", "seed")

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, seed=None,
                 return_sequences=False, return_state=False, go_backwards=False, stateful=False, unroll=False,
                 reset_after=True, use_cudnn="auto", **kwargs):
        cell = GRUCell(units, activation=activation, recurrent_activation=recurrent_activation, use_bias=use_bias,
                       kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
                       bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                       recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
                       kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
                       bias_constraint=bias_constraint, dropout=dropout, recurrent_dropout=recurrent_dropout,
                       reset_after=reset_after, seed=seed, **cell_options(kwargs, "gru_cell"))
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll, **kwargs)
        self.use_cudnn = check_use_cudnn(use_cudnn)

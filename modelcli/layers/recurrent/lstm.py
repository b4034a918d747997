"""LSTMCell and LSTM.

Keras: ``kernel (in, 4u)``, ``recurrent_kernel (u, 4u)``, one ``bias (4u,)``; gates
i, f, c, o — torch's order (i, f, g, o) too. Per step, with z = x·W + h·U + b split
in four: ``c' = σ(z_f)·c + σ(z_i)·tanh(z_c)``, ``h' = σ(z_o)·tanh(c')`` (σ is
``recurrent_activation``, tanh is ``activation``). ``unit_forget_bias`` starts the
forget gate's bias at 1.

torch's kernel adds two biases (b_ih + b_hh); Keras's one bias goes in as b_ih and a
plain zeros tensor as b_hh, so its gradient is not doubled.
"""
from __future__ import annotations

import torch

from ... import activations
from ..registry import register_layer
from .cell import RecurrentCell, standard_gates
from .rnn import CellArgumentsRNN, cell_options, check_use_cudnn


@register_layer("LSTMCell")
class LSTMCell(RecurrentCell):
    gates = 4

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, **kwargs):
        super().__init__(units, activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
                         recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
                         bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                         recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint,
                         dropout=dropout, recurrent_dropout=recurrent_dropout, seed=seed, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation, "recurrent_activation")
        self.unit_forget_bias = bool(unit_forget_bias)

    @property
    def state_size(self):
        return [self.units, self.units]

    def initial_bias(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        units, base = self.units, self.bias_initializer

        def forget_bias_one(shape, dtype=torch.float32):
            return torch.cat([base((units,), dtype), torch.ones(units, dtype=dtype), base((2 * units,), dtype)])
        return forget_bias_one

    def step(self, projected_input, states, recurrent_masks=None):
        h, c = states
        z = projected_input + self.project_state(h, recurrent_masks)
        z_i, z_f, z_c, z_o = z.chunk(4, dim=-1)
        gate = self.recurrent_activation
        c = gate(z_f) * c + gate(z_i) * self.activation(z_c)
        h = gate(z_o) * self.activation(c)
        return h, [h, c]

    def fused_kernel(self):
        if not standard_gates(self):
            return None
        if not self.use_bias:
            return "lstm", [self.kernel, self.recurrent_kernel], False
        return "lstm", [self.kernel, self.recurrent_kernel, self.bias, torch.zeros_like(self.bias)], True

    def get_config(self):
        return {**super().get_config(),
                "recurrent_activation": activations.serialize(self.recurrent_activation),
                "unit_forget_bias": self.unit_forget_bias}


@register_layer("LSTM")
class LSTM(CellArgumentsRNN):
    cell_attributes = ("units", "activation", "recurrent_activation", "use_bias", "unit_forget_bias",
                       "kernel_initializer", "recurrent_initializer", "bias_initializer", "kernel_regularizer",
                       "recurrent_regularizer", "bias_regularizer", "kernel_constraint", "recurrent_constraint",
                       "bias_constraint", "dropout", "recurrent_dropout", "seed")

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, use_cudnn="auto", **kwargs):
        cell = LSTMCell(units, activation=activation, recurrent_activation=recurrent_activation, use_bias=use_bias,
                        kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
                        bias_initializer=bias_initializer, unit_forget_bias=unit_forget_bias,
                        kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
                        bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                        recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint,
                        dropout=dropout, recurrent_dropout=recurrent_dropout, seed=seed,
                        **cell_options(kwargs, "lstm_cell"))
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll, **kwargs)
        self.use_cudnn = check_use_cudnn(use_cudnn)

"""SimpleRNNCell and SimpleRNN: ``h' = activation(x·W + b + h·U)``.

torch's ``rnn_tanh`` / ``rnn_relu`` kernels compute it for tanh and relu; Keras's one
bias goes in as b_ih and a plain zeros tensor as b_hh.
"""
from __future__ import annotations

import torch

from ... import activations
from ..registry import register_layer
from .cell import RecurrentCell
from .rnn import CellArgumentsRNN, cell_options

_FUSED = {activations.tanh: "rnn_tanh", activations.relu: "rnn_relu"}


@register_layer("SimpleRNNCell")
class SimpleRNNCell(RecurrentCell):
    gates = 1

    def step(self, projected_input, states, recurrent_masks=None):
        h = self.activation(projected_input + self.project_state(states[0], recurrent_masks))
        return h, [h]

    def fused_kernel(self):
        name = _FUSED.get(self.activation)
        if name is None:
            return None
        if not self.use_bias:
            return name, [self.kernel, self.recurrent_kernel], False
        return name, [self.kernel, self.recurrent_kernel, self.bias, torch.zeros_like(self.bias)], True


@register_layer("SimpleRNN")
class SimpleRNN(CellArgumentsRNN):
    cell_attributes = ("units", "activation", "use_bias", "kernel_initializer", "recurrent_initializer",
                       "bias_initializer", "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
                       "kernel_constraint", "recurrent_constraint", "bias_constraint", "dropout",
                       "recurrent_dropout", "seed")

    def __init__(self, units, activation="tanh", use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros", kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0, recurrent_dropout=0.0,
                 return_sequences=False, return_state=False, go_backwards=False, stateful=False, unroll=False,
                 seed=None, **kwargs):
        cell = SimpleRNNCell(units, activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
                             recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
                             kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
                             bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                             recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint,
                             dropout=dropout, recurrent_dropout=recurrent_dropout, seed=seed,
                             **cell_options(kwargs, "simple_rnn_cell"))
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll, **kwargs)

    def get_config(self):
        config = super().get_config()
        del config["seed"]  # Keras's SimpleRNN takes a seed but does not write it
        return config

"""ConvLSTMCell and ConvLSTM, the base of ConvLSTM1D, ConvLSTM2D and ConvLSTM3D.

An LSTM whose input and recurrent products are convolutions. Keras's weights:
``kernel (k..., channels, 4·filters)``, ``recurrent_kernel (k..., filters, 4·filters)``,
``bias (4·filters,)``, gates i, f, c, o; stored in torch's conv layout
``(4·filters, in, k...)``. Per step, with ``*`` a convolution:

    z = x * kernel + bias + h * recurrent_kernel        (split in four along the channels)
    c' = σ(z_f)·c + σ(z_i)·tanh(z_c),   h' = σ(z_o)·tanh(c')

The input convolution uses the layer's strides, padding and dilation; the recurrent one
always uses stride 1, no dilation and ``same`` padding, so the state keeps the output's
spatial size.

Inside the step loop the states are kept flat: ``(batch, filters·spatial...)`` in
channels-first order. That lets :class:`.RNN` run its masking and ``go_backwards``
unchanged, and it makes the four gates four contiguous blocks of ``z``, so
:meth:`LSTMCell.step` applies the gates as it does for a plain LSTM. The layer turns the
flat outputs and states back into Keras's ``data_format`` at the end.
"""
from __future__ import annotations

import math

import torch

from ...errors import SpecError
from ..convolutional import conv_utils as cu
from .lstm import LSTMCell
from .rnn import CellArgumentsRNN, cell_options

GATES = 4


class ConvLSTMCell(LSTMCell):
    """One ConvLSTM step; its inputs are ``(batch, spatial..., channels)`` (or channels first)."""

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, **kwargs):
        filters = cu.positive_int(filters, "filters")
        super().__init__(filters, activation=activation, recurrent_activation=recurrent_activation,
                         use_bias=use_bias, kernel_initializer=kernel_initializer,
                         recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
                         unit_forget_bias=unit_forget_bias, kernel_regularizer=kernel_regularizer,
                         recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
                         kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
                         bias_constraint=bias_constraint, dropout=dropout, recurrent_dropout=recurrent_dropout,
                         seed=seed, **kwargs)
        self.rank = rank
        self.kernel_size = cu.int_tuple(kernel_size, rank, "kernel_size")
        self.strides = cu.int_tuple(strides, rank, "strides")
        self.padding = cu.padding_mode(padding)
        self.data_format = cu.data_format_name(data_format)
        self.dilation_rate = cu.int_tuple(dilation_rate, rank, "dilation_rate")
        cu.no_strides_with_dilation(self.strides, self.dilation_rate)
        self.output_spatial = None  # the states' spatial size, fixed when built

    @property
    def filters(self) -> int:
        return self.units

    # ----- weights and shapes ---------------------------------------------------------------
    def build(self, step_shape):
        """``step_shape``: one timestep's shape, ``(batch, spatial..., channels)`` or channels first."""
        cu.check_rank(self, step_shape, self.rank)
        channels = cu.known_channels(self, step_shape, self.data_format)
        spatial = cu.spatial_dims(step_shape, self.data_format)
        if None in spatial:
            raise SpecError(f"{type(self).__name__} needs known spatial dimensions, got a step shape of "
                            f"{tuple(step_shape)}", where=self.name)
        self.output_spatial = cu.spatial_dims(self.compute_output_shape(step_shape), self.data_format)
        width = GATES * self.filters
        layout = cu.conv_kernel_layout(self.rank)
        kernel = self.add_weight("kernel", self.kernel_size + (channels, width), self.kernel_initializer,
                                 layout=layout, regularizer=self.kernel_regularizer,
                                 constraint=self.kernel_constraint)
        cu.match_input_memory_format(kernel, self.rank, self.data_format)
        self.add_weight("recurrent_kernel", self.kernel_size + (self.filters, width), self.recurrent_initializer,
                        layout=layout, regularizer=self.recurrent_regularizer,
                        constraint=self.recurrent_constraint)
        if self.use_bias:
            self.add_weight("bias", (width,), self.initial_bias(), regularizer=self.bias_regularizer,
                            constraint=self.bias_constraint)

    def compute_output_shape(self, step_shape):
        return cu.window_output_shape(self, step_shape, self.rank, self.kernel_size, self.strides,
                                      self.dilation_rate, self.padding, self.data_format, self.filters)

    @property
    def state_size(self):
        return [self.filters, self.filters]

    def get_initial_state(self, batch_size, device=None, dtype=None):
        size = self.filters * math.prod(self.output_spatial)
        return [torch.zeros(batch_size, size, device=device or self._device(), dtype=dtype or self.kernel.dtype)
                for _ in range(2)]

    # ----- flat states <-> Keras's layout -------------------------------------------------------
    def flatten(self, state):
        """A state in Keras's layout, ``(batch, spatial..., filters)`` or channels first, made flat."""
        return cu.channels_first(state, self.data_format).reshape(state.shape[0], -1)

    def unflatten(self, flat):
        """Flat ``(batch, [time,] filters·spatial...)`` back to Keras's layout."""
        y = flat.reshape(*flat.shape[:-1], self.filters, *self.output_spatial)
        return y.movedim(-self.rank - 1, -1) if self.data_format == "channels_last" else y

    # ----- the maths ----------------------------------------------------------------------------
    def dropout_masks(self, step_input, state, training):
        """Keras draws one mask per gate for the inputs and one per gate for the state."""
        if not training:
            return None, None
        return self._masks(step_input, self.dropout, GATES), self._masks(state, self.recurrent_dropout, GATES)

    def project_inputs(self, inputs, masks=None):
        """The input convolution (plus bias) of every timestep: ``(batch, time, 4·filters·spatial...)``."""
        batch, steps = inputs.shape[:2]
        bias = self.input_bias()
        if masks is None:
            z = self._input_conv(inputs.flatten(0, 1), self.kernel, bias)
        else:
            biases = bias.chunk(GATES) if bias is not None else [None] * GATES
            z = torch.cat([self._input_conv((inputs * m.unsqueeze(1)).flatten(0, 1), k, b)
                           for m, k, b in zip(masks, self.kernel.chunk(GATES), biases)], dim=1)
        if tuple(z.shape[2:]) != tuple(self.output_spatial):
            raise SpecError(f"{type(self).__name__} was built for steps giving a spatial output of "
                            f"{tuple(self.output_spatial)}, got inputs of shape {tuple(inputs.shape)}",
                            where=self.name)
        return z.reshape(batch, steps, -1)

    def _input_conv(self, x, kernel, bias):
        x = cu.channels_first(x, self.data_format)
        padding, explicit = cu.torch_padding(x.shape[2:], self.kernel_size, self.strides, self.dilation_rate,
                                             self.padding)
        if explicit:
            x = torch.nn.functional.pad(x, explicit)
        return cu.CONV[self.rank](x, kernel, bias, self.strides, padding, self.dilation_rate)

    def project_state(self, h, masks=None, gates=None):
        """The recurrent convolution of a flat state, flat again: ``(batch, 4·filters·spatial...)``."""
        if masks is None:
            return self._recurrent_conv(h, self.recurrent_kernel)
        return torch.cat([self._recurrent_conv(h * m, k)
                          for m, k in zip(masks, self.recurrent_kernel.chunk(GATES))], dim=1)

    def _recurrent_conv(self, flat, kernel):
        x = flat.reshape(flat.shape[0], self.filters, *self.output_spatial)
        ones = (1,) * self.rank
        padding, explicit = cu.torch_padding(x.shape[2:], self.kernel_size, ones, ones, "same")
        if explicit:
            x = torch.nn.functional.pad(x, explicit)
        return cu.CONV[self.rank](x, kernel, None, 1, padding).flatten(1)

    def fused_kernel(self):
        return None  # torch's fused LSTM has no convolutional form

    def get_config(self):
        config = super().get_config()
        del config["units"]
        return {**config, "filters": self.filters, "kernel_size": self.kernel_size, "strides": self.strides,
                "padding": self.padding, "data_format": self.data_format, "dilation_rate": self.dilation_rate}


class ConvLSTM(CellArgumentsRNN):
    """ConvLSTM over ``(batch, time, spatial..., channels)`` (or ``(batch, time, channels, spatial...)``)."""

    rank: int
    cell_attributes = ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate",
                       "activation", "recurrent_activation", "use_bias", "kernel_initializer",
                       "recurrent_initializer", "bias_initializer", "unit_forget_bias", "kernel_regularizer",
                       "recurrent_regularizer", "bias_regularizer", "kernel_constraint", "recurrent_constraint",
                       "bias_constraint", "dropout", "recurrent_dropout", "seed")

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, **kwargs):
        if stateful:
            raise SpecError(f"stateful={stateful!r} is not supported by {type(self).__name__}", where="stateful",
                            hint="use stateful=false and pass the states as initial_state")
        cell = ConvLSTMCell(self.rank, filters, kernel_size, strides=strides, padding=padding,
                            data_format=data_format, dilation_rate=dilation_rate, activation=activation,
                            recurrent_activation=recurrent_activation, use_bias=use_bias,
                            kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
                            bias_initializer=bias_initializer, unit_forget_bias=unit_forget_bias,
                            kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
                            bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                            recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint,
                            dropout=dropout, recurrent_dropout=recurrent_dropout, seed=seed,
                            **cell_options(kwargs, "conv_lstm_cell"))
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=False, **kwargs)

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) != self.rank + 3:
            raise SpecError(f"{type(self).__name__} expects inputs of rank {self.rank + 3} (batch, time, "
                            f"{self.rank} spatial dimension(s), channels), got shape {input_shape}",
                            where=self.name)
        if not self.cell.built:
            self.cell.build((input_shape[0],) + input_shape[2:])

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        batch = input_shape[0]
        state = self.cell.compute_output_shape((batch,) + input_shape[2:])
        output = (batch, input_shape[1]) + state[1:] if self.return_sequences else state
        return [output, state, state] if self.return_state else output

    def call(self, sequences, initial_state=None, mask=None, training=None):
        result = super().call(sequences, initial_state=initial_state, mask=mask, training=training)
        if self.return_state:
            return [self.cell.unflatten(t) for t in result]
        return self.cell.unflatten(result)

    def _initial_states(self, initial_state, inputs):
        if initial_state is not None:
            states = initial_state if isinstance(initial_state, (list, tuple)) else [initial_state]
            initial_state = [self.cell.flatten(torch.as_tensor(s, device=inputs.device)) for s in states]
        return super()._initial_states(initial_state, inputs)


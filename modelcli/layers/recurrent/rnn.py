"""RNN: runs a cell over the time axis, with Keras's masking, ``go_backwards`` and states.

Two ways to run, same numbers:

- torch's fused kernel (``torch._VF.lstm`` and friends) when the cell allows it
  (standard activations, GRU ``reset_after=True``), no recurrent dropout is active,
  and the mask is absent or pads each sequence on one side (see :mod:`.fused`);
- an exact step loop otherwise: any activation, recurrent dropout, masks with holes,
  stacked cells (:class:`.StackedRNNCells`, which a list of cells becomes).

Keras's rules: a masked step carries the states over and repeats the previous
output (zeros before the first valid step, or zeros throughout with
``zero_output_for_mask``); ``go_backwards`` reads the sequence from the end and
returns the outputs in that reversed order.
"""
from __future__ import annotations

import torch

from ... import regularizers
from ...engine.layer import Layer
from ...errors import SpecError
from ..deserialize import deserialize_layer, serialize_layer
from ..registry import register_layer
from . import fused
from .cell import RecurrentCell
from .stacked_rnn_cells import StackedRNNCells


@register_layer("RNN")
class RNN(Layer):
    supports_masking = True

    def __init__(self, cell, return_sequences=False, return_state=False, go_backwards=False, stateful=False,
                 unroll=False, zero_output_for_mask=False, **kwargs):
        super().__init__(**kwargs)
        if isinstance(cell, dict):
            cell = deserialize_layer(cell, where="cell")
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(cell)
        if not isinstance(cell, (RecurrentCell, StackedRNNCells)):
            raise SpecError(f"expected a SimpleRNNCell, LSTMCell, GRUCell or StackedRNNCells, got "
                            f"{type(cell).__name__}", where="cell")
        self.track_sublayer("cell", cell)
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)  # accepted for Keras's sake; changes nothing here
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.use_cudnn = "auto"  # "auto": fused kernel when exact; False: always the step loop
        self.states = None  # the carried-over states of a stateful layer

    @property
    def state_size(self) -> list[int]:
        return self.cell.state_size

    # ----- building and shapes ---------------------------------------------------------------
    def build(self, input_shape):
        input_shape = _sequence_shape(input_shape)
        if len(input_shape) != 3:
            raise SpecError(f"{type(self).__name__} expects inputs of shape (batch, time, features), got "
                            f"{tuple(input_shape)}", where=self.name)
        if self.stateful and input_shape[0] is None:
            raise SpecError("a stateful RNN needs a fixed batch size", where=self.name,
                            hint="give the Input a batch_size (or batch_input_shape)")
        if not self.cell.built:
            self.cell.build((input_shape[0], input_shape[2]))

    def compute_output_shape(self, input_shape):
        input_shape = _sequence_shape(input_shape)
        batch = input_shape[0]
        units = self.cell.output_size
        output = (batch, input_shape[1], units) if self.return_sequences else (batch, units)
        if self.return_state:
            return [output, *self.cell.nest_states([(batch, n) for n in self.state_size])]
        return output

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None] * len(self.cell.nest_states(self.state_size))
        return output_mask

    # ----- calling ------------------------------------------------------------------------------
    def call(self, sequences, initial_state=None, mask=None, training=None):
        if isinstance(sequences, (list, tuple)):  # Keras 2 graphs feed initial states after the sequence
            sequences, *rest = sequences
            if rest and initial_state is None:
                initial_state = rest
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        cell = self.cell
        inputs = sequences.to(cell.weight_dtype)
        states = self._initial_states(initial_state, inputs)
        if mask is not None:
            mask = mask.to(device=inputs.device, dtype=torch.bool)
            if mask.dim() == 3:
                mask = mask.squeeze(-1)
        if self.go_backwards:
            inputs = inputs.flip(1)
            mask = mask.flip(1) if mask is not None else None
        input_masks, recurrent_masks = cell.dropout_masks(inputs[:, 0], states[0], training)
        last_output, outputs, states = self._run(inputs, states, mask, input_masks, recurrent_masks)
        if self.stateful:
            self.states = [s.detach() for s in states]
        output = outputs if self.return_sequences else last_output
        return [output, *cell.nest_states(states)] if self.return_state else output

    def _initial_states(self, initial_state, inputs):
        batch = inputs.shape[0]
        if initial_state is None:
            if self.stateful:
                if self.states is None:
                    self.states = self.cell.get_initial_state(batch, inputs.device, inputs.dtype)
                if self.states[0].shape[0] != batch:
                    raise SpecError(f"a stateful RNN keeps states for a batch of {self.states[0].shape[0]}, "
                                    f"got a batch of {batch}", where=self.name)
                return [s.to(inputs.device) for s in self.states]
            return self.cell.get_initial_state(batch, inputs.device, inputs.dtype)
        if not isinstance(initial_state, (list, tuple)):
            initial_state = [initial_state]
        initial_state = _flat(initial_state)  # stacked cells take theirs per cell: [[h₁, c₁], [h₂]]
        if len(initial_state) != len(self.state_size):
            raise SpecError(f"{type(self).__name__} has {len(self.state_size)} state(s), got "
                            f"{len(initial_state)} initial state tensor(s)", where="initial_state")
        return [torch.as_tensor(s, device=inputs.device).to(inputs.dtype) for s in initial_state]

    def _run(self, inputs, states, mask, input_masks, recurrent_masks):
        kernel = self.cell.fused_kernel() if self.use_cudnn in ("auto", True) and recurrent_masks is None else None
        if kernel is not None:
            blocks = fused.mask_blocks(mask) if mask is not None else "full"
            if blocks is not None:
                if input_masks is not None:
                    inputs = inputs * input_masks.unsqueeze(1)
                name, weights, has_biases = kernel
                return fused.run(name, weights, has_biases, inputs, states,
                                 blocks=None if blocks == "full" else blocks,
                                 zero_output_for_mask=self.zero_output_for_mask,
                                 return_sequences=self.return_sequences)
        if self.use_cudnn is True:
            raise SpecError("use_cudnn=True, but this configuration needs the step loop (non-standard "
                            "activations, recurrent dropout or a mask with holes)", where=self.name,
                            hint="use use_cudnn='auto'")
        return self._loop(inputs, states, mask, input_masks, recurrent_masks)

    def _loop(self, inputs, states, mask, input_masks, recurrent_masks):
        """The exact step loop, with Keras's masking rules."""
        cell = self.cell
        projected = cell.project_inputs(inputs, input_masks)
        previous = None
        outputs = []
        for t in range(inputs.shape[1]):
            output, new_states = cell.step(projected[:, t], states, recurrent_masks)
            if mask is None:
                states = new_states
            else:
                valid = mask[:, t, None]
                states = [torch.where(valid, new, old) for new, old in zip(new_states, states)]
                if self.zero_output_for_mask or previous is None:
                    output = torch.where(valid, output, torch.zeros_like(output))
                else:
                    output = torch.where(valid, output, previous)
            previous = output
            if self.return_sequences:
                outputs.append(output)
        return previous, (torch.stack(outputs, 1) if self.return_sequences else None), states

    def reset_state(self):
        """Zero the states a stateful layer carries from batch to batch."""
        if self.states is not None:
            self.states = [torch.zeros_like(s) for s in self.states]

    reset_states = reset_state  # Keras 2's name

    # ----- configuration ------------------------------------------------------------------------
    def get_config(self):
        return {**super().get_config(), "return_sequences": self.return_sequences,
                "return_state": self.return_state, "go_backwards": self.go_backwards, "stateful": self.stateful,
                "unroll": self.unroll, "zero_output_for_mask": self.zero_output_for_mask,
                "cell": serialize_layer(self.cell)}


class CellArgumentsRNN(RNN):
    """Base of SimpleRNN, LSTM and GRU: they build their own cell, and their config holds
    the cell's arguments instead of the cell. ``layer.units`` and the like read the cell."""

    cell_attributes: tuple = ()

    def __getattr__(self, name):
        if name in type(self).cell_attributes:
            return getattr(self._modules["cell"], name)
        return super().__getattr__(name)

    def get_config(self):
        config = super().get_config()
        del config["cell"]
        cell_config = self.cell.get_config()
        for key in ("name", "trainable", "dtype"):
            del cell_config[key]
        return {**config, **cell_config,
                "activity_regularizer": regularizers.serialize(self.activity_regularizer)}


def cell_options(kwargs, name):
    """The keyword arguments Keras hands a layer's own cell: its name, dtype and trainability."""
    return {"name": name, "dtype": kwargs.get("dtype"), "trainable": kwargs.get("trainable", True)}


def check_use_cudnn(value):
    if value not in ("auto", True, False):
        raise SpecError(f"expected 'auto', true or false, got {value!r}", where="use_cudnn")
    return value


def _flat(values) -> list:
    return [v for item in values for v in (_flat(item) if isinstance(item, (list, tuple)) else [item])]


def _sequence_shape(shape):
    """The sequence's shape when Keras 2 graphs pass ``[sequence, *initial_states]``."""
    if isinstance(shape, list) and shape and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)

"""StackedRNNCells: several cells that an RNN runs as one, each feeding the next at every step.

Keras's rules: cell ``i`` reads cell ``i-1``'s output of the same step; the stack's
states are each cell's states in cell order (an LSTMCell then a GRUCell: ``h₁, c₁, h₂``),
and its output is the last cell's. Inside the RNN the states travel as one flat list;
``nest_states`` groups them per cell, which is how Keras returns them
(``RNN(..., return_state=True)`` gives ``output, [h₁, c₁], [h₂]``).

In ``.weights.h5`` each cell's variables sit under ``cell/cells/<snake_case class>[_n]``
(``lstm_cell``, ``lstm_cell_1``, ``gru_cell``), the counter running per class.
"""
from __future__ import annotations

from ...backend import snake_case
from ...engine.layer import Layer
from ...errors import SpecError
from ..deserialize import deserialize_layer, serialize_layer
from ..registry import register_layer
from .cell import RecurrentCell


@register_layer("StackedRNNCells")
class StackedRNNCells(Layer):
    def __init__(self, cells, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(cells, (list, tuple)) or not cells:
            raise SpecError(f"expected a non-empty list of cells, got {cells!r}", where="cells")
        counts: dict[str, int] = {}
        for i, cell in enumerate(cells):
            if isinstance(cell, dict):
                cell = deserialize_layer(cell, where=f"cells[{i}]")
            if not isinstance(cell, RecurrentCell):
                raise SpecError(f"expected a SimpleRNNCell, LSTMCell or GRUCell, got {type(cell).__name__}",
                                where=f"cells[{i}]")
            key = snake_case(type(cell).__name__)
            n = counts.get(key, 0)
            counts[key] = n + 1
            self.track_sublayer(f"cells/{key}" if n == 0 else f"cells/{key}_{n}", cell)

    @property
    def cells(self) -> list[RecurrentCell]:
        return list(self._keras_sublayers.values())

    # ----- sizes and weights --------------------------------------------------------------
    @property
    def state_size(self) -> list[int]:
        """Every cell's state sizes, flat and in cell order."""
        return [n for cell in self.cells for n in cell.state_size]

    @property
    def output_size(self) -> int:
        return self.cells[-1].output_size

    @property
    def weight_dtype(self):
        return self.cells[0].weight_dtype

    def build(self, input_shape):
        batch, features = input_shape[0], input_shape[-1]
        for cell in self.cells:
            if not cell.built:
                cell.build((batch, features))
            features = cell.output_size

    def nest_states(self, states) -> list[list]:
        """The flat states grouped per cell: ``[h₁, c₁, h₂]`` → ``[[h₁, c₁], [h₂]]``."""
        nested, offset = [], 0
        for cell in self.cells:
            count = len(cell.state_size)
            nested.append(list(states[offset:offset + count]))
            offset += count
        return nested

    def get_initial_state(self, batch_size, device=None, dtype=None):
        return [s for cell in self.cells for s in cell.get_initial_state(batch_size, device, dtype)]

    # ----- dropout ------------------------------------------------------------------------
    def dropout_masks(self, step_input, state, training):
        """``(first cell's input masks, per-cell (input masks, recurrent masks))``, or
        ``(None, None)`` when no cell drops anything. Each cell draws masks shaped like its
        own input (the previous cell's output) and its own state."""
        if not training:
            return None, None
        batch, features = step_input.shape[0], step_input.shape[-1]
        per_cell = []
        for cell in self.cells:
            like_input = step_input.new_empty(batch, features)
            like_state = step_input.new_empty(batch, cell.state_size[0])
            per_cell.append(cell.dropout_masks(like_input, like_state, training))
            features = cell.output_size
        if all(masks == (None, None) for masks in per_cell):
            return None, None
        return per_cell[0][0], per_cell

    # ----- the maths ------------------------------------------------------------------------
    def project_inputs(self, inputs, masks=None):
        """The first cell's input projection; the others project inside ``step``."""
        return self.cells[0].project_inputs(inputs, masks)

    def step(self, projected_input, states, recurrent_masks=None):
        """One timestep through every cell: ``(last cell's output, flat new states)``."""
        new_states = []
        output = None
        for i, (cell, own_states) in enumerate(zip(self.cells, self.nest_states(states))):
            input_masks, cell_recurrent_masks = recurrent_masks[i] if recurrent_masks else (None, None)
            step_input = projected_input if i == 0 else cell.project_inputs(output, input_masks)
            output, cell_states = cell.step(step_input, own_states, cell_recurrent_masks)
            new_states.extend(cell_states)
        return output, new_states

    def fused_kernel(self):
        """Never: torch's fused kernels run one cell type per layer."""
        return None

    def call(self, inputs, states, training=None):
        """A single step with states given per cell (``[[h₁, c₁], [h₂]]``), as Keras calls it."""
        flat = [s for cell_states in states
                for s in (cell_states if isinstance(cell_states, (list, tuple)) else [cell_states])]
        input_masks, recurrent_masks = self.dropout_masks(inputs, flat[0], training)
        output, new_states = self.step(self.project_inputs(inputs, input_masks), flat, recurrent_masks)
        return output, self.nest_states(new_states)

    def get_config(self):
        return {**super().get_config(), "cells": [serialize_layer(cell) for cell in self.cells]}

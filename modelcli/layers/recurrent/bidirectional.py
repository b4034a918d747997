"""Bidirectional: one recurrent layer reads the sequence forwards, a copy reads it backwards.

The forward layer is rebuilt from the wrapped layer's config (named ``forward_<name>``);
the backward one is ``backward_layer`` when given, else the same config with
``go_backwards`` flipped (named ``backward_<name>``). Both are tracked as
``forward_layer`` and ``backward_layer``, in that order, as Keras saves them. When
returning sequences, both set ``zero_output_for_mask`` (masked steps give zeros), and
the backward outputs are flipped back into input order before merging.
"""
from __future__ import annotations

import torch

from ...engine.layer import Layer
from ...errors import SpecError
from ..deserialize import deserialize_layer, serialize_layer
from ..registry import register_layer
from . import fused
from .rnn import RNN

MERGE_MODES = ("concat", "sum", "mul", "ave", None)


@register_layer("Bidirectional")
class Bidirectional(Layer):
    supports_masking = True

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        super().__init__(**kwargs)
        layer = _as_layer(layer, "layer")
        if merge_mode not in MERGE_MODES:
            raise SpecError(f"expected one of {list(MERGE_MODES)}, got {merge_mode!r}", where="merge_mode")
        forward = _copy(layer, name=f"forward_{_strip(layer.name, 'forward_')}")
        if backward_layer is None:
            backward = _copy(layer, name=f"backward_{_strip(layer.name, 'backward_')}",
                             go_backwards=not layer.go_backwards)
        else:
            backward = _as_layer(backward_layer, "backward_layer")
        _check_pair(forward, backward)
        for sub in (forward, backward):
            sub.zero_output_for_mask = sub.return_sequences
            sub.use_cudnn = getattr(layer, "use_cudnn", "auto")
        self.track_sublayer("forward_layer", forward)
        self.track_sublayer("backward_layer", backward)
        self.merge_mode = merge_mode
        self._initial_weights = weights
        self.stateful = forward.stateful
        self.return_sequences = forward.return_sequences
        self.return_state = forward.return_state

    def build(self, input_shape):
        for sub in (self.forward_layer, self.backward_layer):
            if not sub.built:
                sub.build(input_shape)
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    def call(self, sequences, initial_state=None, mask=None, training=None):
        forward_state = backward_state = None
        if initial_state is not None:  # the forward layer's states, then the backward layer's
            half = len(initial_state) // 2
            forward_state, backward_state = list(initial_state[:half]), list(initial_state[half:])
        fused_outputs = self._call_fused(sequences, forward_state, backward_state, mask, training)
        if fused_outputs is not None:
            y, y_rev, states = fused_outputs
        else:
            y = self.forward_layer.call(sequences, initial_state=forward_state, mask=mask, training=training)
            y_rev = self.backward_layer.call(sequences, initial_state=backward_state, mask=mask, training=training)
            states = []
            if self.return_state:
                states = list(y[1:]) + list(y_rev[1:])
                y, y_rev = y[0], y_rev[0]
            if self.return_sequences:
                y_rev = y_rev.flip(1)
        if self.merge_mode is None:
            return [y, y_rev, *states]
        output = _merge(self.merge_mode, y, y_rev)
        return [output, *states] if self.return_state else output

    def _call_fused(self, sequences, forward_state, backward_state, mask, training):
        """Both directions in one fused bidirectional kernel call, when that is exact: the same
        fused kernel on both sides, no dropout drawn, and no mask or a right-padded one.
        Returns ``(y, y_rev in input order, states)`` or ``None``."""
        forward, backward = self.forward_layer, self.backward_layer
        if (self.stateful or forward.go_backwards or not backward.go_backwards or isinstance(sequences, (list, tuple))
                or False in (forward.use_cudnn, backward.use_cudnn)):
            return None
        if training and any(rate > 0 for layer in (forward, backward)
                            for rate in (layer.cell.dropout, layer.cell.recurrent_dropout)):
            return None
        kernels = forward.cell.fused_kernel(), backward.cell.fused_kernel()
        if None in kernels or kernels[0][0] != kernels[1][0] or kernels[0][2] != kernels[1][2] \
                or forward.cell.units != backward.cell.units:
            return None
        blocks = None
        if mask is not None:
            blocks = fused.mask_blocks(mask.to(torch.bool).reshape(mask.shape[:2]))
            if blocks is None or (blocks != "full" and (not blocks.aligned or blocks.empty_rows)):
                return None
            blocks = None if blocks == "full" else blocks
        inputs = sequences.to(forward.cell.kernel.dtype)
        forward_states = forward._initial_states(forward_state, inputs)
        backward_states = backward._initial_states(backward_state, inputs)
        (kind, forward_weights, has_biases), (_, backward_weights, _) = kernels
        y, y_rev, forward_final, backward_final = fused.run_bidirectional(
            kind, forward_weights, backward_weights, has_biases, inputs, forward_states, backward_states, blocks)
        if not self.return_sequences:  # each direction's last output is its final hidden state
            y, y_rev = forward_final[0], backward_final[0]
        return y, y_rev, (forward_final + backward_final if self.return_state else [])

    def compute_output_shape(self, input_shape):
        output = self.forward_layer.compute_output_shape(input_shape)
        states = []
        if self.return_state:
            output, states = output[0], list(output[1:])
        if self.merge_mode == "concat":
            output = tuple(output[:-1]) + (None if output[-1] is None else 2 * output[-1],)
        if self.merge_mode is None:
            return [output, output, *states, *states]
        return [output, *states, *states] if self.return_state else output

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        output_mask = mask if self.return_sequences else None
        outputs = [output_mask, output_mask] if self.merge_mode is None else [output_mask]
        if self.return_state:
            return outputs + [None] * (2 * len(self.forward_layer.state_size))
        return outputs if self.merge_mode is None else output_mask

    def reset_state(self):
        self.forward_layer.reset_state()
        self.backward_layer.reset_state()

    reset_states = reset_state

    def get_config(self):
        return {**super().get_config(), "merge_mode": self.merge_mode,
                "layer": serialize_layer(self.forward_layer),
                "backward_layer": serialize_layer(self.backward_layer)}


def _merge(mode, y, y_rev):
    if mode == "concat":
        return torch.cat([y, y_rev], dim=-1)
    if mode == "sum":
        return y + y_rev
    if mode == "ave":
        return (y + y_rev) / 2
    return y * y_rev  # "mul"


def _as_layer(value, where):
    layer = deserialize_layer(value, where=where) if isinstance(value, dict) else value
    if not isinstance(layer, RNN):
        raise SpecError(f"expected a recurrent layer (LSTM, GRU, SimpleRNN, RNN), got "
                        f"{type(layer).__name__}", where=where)
    return layer


def _copy(layer, **changes):
    """A fresh layer from ``layer``'s config, so it shares no weights or state with it."""
    spec = serialize_layer(layer)
    spec["config"] = {**spec["config"], **changes}
    return deserialize_layer(spec)


def _strip(name, prefix):
    return name[len(prefix):] if name.startswith(prefix) else name


def _check_pair(forward, backward):
    if forward.go_backwards == backward.go_backwards:
        raise SpecError("the forward and backward layers must differ in go_backwards, got "
                        f"{forward.go_backwards} for both", where="backward_layer")
    for attr in ("stateful", "return_sequences", "return_state"):
        if getattr(forward, attr) != getattr(backward, attr):
            raise SpecError(f"the forward and backward layers must agree on {attr}, got "
                            f"{getattr(forward, attr)} and {getattr(backward, attr)}", where="backward_layer")

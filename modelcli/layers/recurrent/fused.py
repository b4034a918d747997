"""Torch's fused recurrent kernels (what ``torch.nn.LSTM`` / ``GRU`` / ``RNN`` run) under
Keras's masking rules.

Keras's rules, in processing order (after ``go_backwards`` has reversed the sequence):
at a masked step the states are carried over unchanged and the output is the previous
output (zeros before the first valid step), or zeros with ``zero_output_for_mask``.

So when the valid steps of each sequence form one contiguous block — right padding,
left padding (``pad_sequences``'s default), or either one reversed by
``go_backwards`` — the steps before the block leave the initial state alone and
output zeros, the block is an ordinary run from the initial state, and the steps
after it repeat the block's last output. The block is packed with
``pack_padded_sequence`` and run by the fused kernel; a mask with holes needs the
step loop.
"""
from __future__ import annotations

import contextlib
import warnings

import torch
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

KERNELS = {"lstm": torch._VF.lstm, "gru": torch._VF.gru, "rnn_tanh": torch._VF.rnn_tanh,
           "rnn_relu": torch._VF.rnn_relu}


class Blocks:
    """Per sequence: where its valid block starts and how many steps it holds."""

    def __init__(self, start, length, cpu_length, aligned, empty_rows):
        self.start = start  # (batch,) long, on the mask's device
        self.length = length  # (batch,) long, on the mask's device
        self.cpu_length = cpu_length  # the same on the CPU, as packing wants it
        self.aligned = aligned  # every block starts at step 0 (right padding)
        self.empty_rows = empty_rows  # some sequence is masked throughout


def mask_blocks(mask):
    """``Blocks`` for a ``(batch, time)`` bool mask; ``"full"`` when nothing is masked;
    ``None`` when a sequence has holes. Costs one device sync."""
    steps = mask.shape[1]
    position = torch.arange(steps, device=mask.device)
    length = mask.sum(1)
    start = torch.where(length > 0, mask.to(torch.uint8).argmax(1), torch.zeros_like(length))
    block = (position >= start[:, None]) & (position < (start + length)[:, None])
    flags = torch.stack([(block == mask).all(), (length == steps).all(), (start == 0).all(), (length == 0).any()])
    summary = torch.cat([flags.long(), length]).cpu()
    contiguous, full, aligned, empty_rows = summary[:4].tolist()
    if not contiguous:
        return None
    if full:
        return "full"
    return Blocks(start, length, summary[4:], bool(aligned), bool(empty_rows))


def run(kind, weights, has_biases, inputs, states, blocks=None, zero_output_for_mask=False,
        return_sequences=True):
    """Run ``inputs (batch, time, features)`` from ``states``; ``(last_output, outputs, states)``.

    ``outputs`` is ``None`` unless ``return_sequences``. ``blocks`` is ``None`` when
    nothing is masked.
    """
    if blocks is None:
        outputs, new_states = _call(kind, weights, has_biases, inputs, states)
        return new_states[0], (outputs if return_sequences else None), new_states
    return _run_blocks(kind, weights, has_biases, inputs, states, blocks, zero_output_for_mask,
                       return_sequences)


def _run_blocks(kind, weights, has_biases, inputs, states, blocks, zero_output_for_mask, return_sequences):
    steps = inputs.shape[1]
    position = torch.arange(steps, device=inputs.device)
    start, length = blocks.start, blocks.length
    if not blocks.aligned:  # move each block to the front
        index = (start[:, None] + position).clamp(max=steps - 1)
        inputs = inputs.gather(1, index[..., None].expand(-1, -1, inputs.shape[-1]))
    # packing refuses empty sequences: run them one step, then restore their states below
    packed = pack_padded_sequence(inputs, blocks.cpu_length.clamp(min=1), batch_first=True, enforce_sorted=False)
    sorted_states = [s.index_select(0, packed.sorted_indices) for s in states]
    data, final = _call_packed(kind, weights, has_biases, packed, sorted_states)
    final = [s.index_select(0, packed.unsorted_indices) for s in final]
    if blocks.empty_rows:
        empty = (length == 0)[:, None]
        final = [torch.where(empty, s0, s) for s0, s in zip(states, final)]

    after_start = (position >= start[:, None]) & (length > 0)[:, None]
    keep = (after_start & (position < (start + length)[:, None])) if zero_output_for_mask else after_start
    last_output = torch.where(keep[:, -1:], final[0], torch.zeros_like(final[0]))
    if not return_sequences:
        return last_output, None, final
    padded = _unpack(data, packed, steps)
    if blocks.aligned and zero_output_for_mask and not blocks.empty_rows:
        return last_output, padded, final  # the padding already holds zeros
    source = torch.minimum((position - start[:, None]).clamp(min=0), (length.clamp(min=1) - 1)[:, None])
    outputs = padded.gather(1, source[..., None].expand(-1, -1, padded.shape[-1]))
    outputs = torch.where(keep[..., None], outputs, torch.zeros_like(outputs))
    return last_output, outputs, final


def run_bidirectional(kind, forward_weights, backward_weights, has_biases, inputs, forward_states, backward_states,
                      blocks=None):
    """Both directions in one fused call, as ``torch.nn.LSTM(bidirectional=True)`` runs them.

    ``blocks`` (right padding only, no empty sequence) or ``None``. Returns the forward
    outputs, the backward outputs in input order (zeros on padding), and each direction's
    final states.
    """
    steps = inputs.shape[1]
    states = [torch.stack([f, b]) for f, b in zip(forward_states, backward_states)]
    weights = forward_weights + backward_weights
    with _separate_weights_expected(inputs):
        if blocks is None:
            result = KERNELS[kind](inputs, _hidden(kind, states, stacked=True), weights, has_biases, 1, 0.0,
                                   _train_flag(), True, True)
            outputs, final = result[0], list(result[1:])
        else:
            packed = pack_padded_sequence(inputs, blocks.cpu_length, batch_first=True, enforce_sorted=False)
            states = [s.index_select(1, packed.sorted_indices) for s in states]
            result = KERNELS[kind](packed.data, packed.batch_sizes, _hidden(kind, states, stacked=True), weights,
                                   has_biases, 1, 0.0, _train_flag(), True)
            outputs = _unpack(result[0], packed, steps)
            final = [s.index_select(1, packed.unsorted_indices) for s in result[1:]]
    units = outputs.shape[-1] // 2
    return outputs[..., :units], outputs[..., units:], [s[0] for s in final], [s[1] for s in final]


def _unpack(data, packed, steps):
    padded, _ = pad_packed_sequence(PackedSequence(data, packed.batch_sizes, packed.sorted_indices,
                                                   packed.unsorted_indices), batch_first=True, total_length=steps)
    return padded


@contextlib.contextmanager
def _separate_weights_expected(inputs):
    """cuDNN warns when the weights are not one flat buffer and copies them per call.
    Here they are separate parameters in Keras's layout on purpose; the copy is cheap
    (measured on the GPU: GRU as fast as torch.nn.GRU) and the warning only alarms.
    The CPU kernels never warn, and skip the filter's few µs per call."""
    if inputs.device.type == "cpu":
        yield
        return
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="RNN module weights are not part of single contiguous chunk")
        yield


def _train_flag() -> bool:
    # cuDNN keeps what backward needs only in training mode; ask for it whenever autograd records.
    return torch.is_grad_enabled()


def _hidden(kind, states, stacked=False):
    states = [s.contiguous() if stacked else s.unsqueeze(0).contiguous() for s in states]
    return tuple(states) if kind == "lstm" else states[0]


def _call(kind, weights, has_biases, inputs, states):
    with _separate_weights_expected(inputs):
        result = KERNELS[kind](inputs, _hidden(kind, states), weights, has_biases, 1, 0.0, _train_flag(),
                               False, True)
    return result[0], [s.squeeze(0) for s in result[1:]]


def _call_packed(kind, weights, has_biases, packed, states):
    with _separate_weights_expected(packed.data):
        result = KERNELS[kind](packed.data, packed.batch_sizes, _hidden(kind, states), weights, has_biases, 1,
                               0.0, _train_flag(), False)
    return result[0], [s.squeeze(0) for s in result[1:]]

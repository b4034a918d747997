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

import torch
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

KERNELS = {"lstm": torch._VF.lstm, "gru": torch._VF.gru, "rnn_tanh": torch._VF.rnn_tanh,
           "rnn_relu": torch._VF.rnn_relu}


class Blocks:
    """Per sequence: where its valid block starts and how many steps it holds."""

    def __init__(self, start, length, aligned):
        self.start = start  # (batch,) long
        self.length = length  # (batch,) long
        self.aligned = aligned  # every block starts at step 0 (right padding)


def mask_blocks(mask):
    """``Blocks`` for a ``(batch, time)`` bool mask; ``"full"`` when nothing is masked;
    ``None`` when a sequence has holes."""
    steps = mask.shape[1]
    position = torch.arange(steps, device=mask.device)
    length = mask.sum(1)
    start = torch.where(length > 0, mask.to(torch.uint8).argmax(1), torch.zeros_like(length))
    block = (position >= start[:, None]) & (position < (start + length)[:, None])
    contiguous, full, aligned = torch.stack([(block == mask).all(), (length == steps).all(),
                                             (start == 0).all()]).tolist()  # one device sync
    if not contiguous:
        return None
    if full:
        return "full"
    return Blocks(start, length, aligned)


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
    batch, steps = inputs.shape[:2]
    position = torch.arange(steps, device=inputs.device)
    start, length = blocks.start, blocks.length
    if not blocks.aligned:  # move each block to the front
        index = (start[:, None] + position).clamp(max=steps - 1)
        inputs = inputs.gather(1, index[..., None].expand(-1, -1, inputs.shape[-1]))
    run_length = length.clamp(min=1)  # packing refuses empty sequences; they are put right below
    packed = pack_padded_sequence(inputs, run_length.cpu(), batch_first=True, enforce_sorted=False)
    sorted_states = [s.index_select(0, packed.sorted_indices) for s in states]
    data, final = _call_packed(kind, weights, has_biases, packed, sorted_states)
    final = [s.index_select(0, packed.unsorted_indices) for s in final]
    empty = (length == 0)[:, None]
    final = [torch.where(empty, s0, s) for s0, s in zip(states, final)]

    after_start = (position >= start[:, None]) & (length > 0)[:, None]
    keep = (after_start & (position < (start + length)[:, None])) if zero_output_for_mask else after_start
    last_output = torch.where(keep[:, -1:], final[0], torch.zeros_like(final[0]))
    if not return_sequences:
        return last_output, None, final
    padded, _ = pad_packed_sequence(PackedSequence(data, packed.batch_sizes, packed.sorted_indices,
                                                   packed.unsorted_indices),
                                    batch_first=True, total_length=steps)
    source = torch.minimum((position - start[:, None]).clamp(min=0), (run_length - 1)[:, None])
    outputs = padded.gather(1, source[..., None].expand(-1, -1, padded.shape[-1]))
    outputs = torch.where(keep[..., None], outputs, torch.zeros_like(outputs))
    return last_output, outputs, final


def _train_flag() -> bool:
    # cuDNN keeps what backward needs only in training mode; ask for it whenever autograd records.
    return torch.is_grad_enabled()


def _hidden(kind, states):
    if kind == "lstm":
        return (states[0].unsqueeze(0).contiguous(), states[1].unsqueeze(0).contiguous())
    return states[0].unsqueeze(0).contiguous()


def _call(kind, weights, has_biases, inputs, states):
    result = KERNELS[kind](inputs, _hidden(kind, states), weights, has_biases, 1, 0.0, _train_flag(),
                           False, True)
    return result[0], [s.squeeze(0) for s in result[1:]]


def _call_packed(kind, weights, has_biases, packed, states):
    result = KERNELS[kind](packed.data, packed.batch_sizes, _hidden(kind, states), weights, has_biases, 1,
                           0.0, _train_flag(), False)
    return result[0], [s.squeeze(0) for s in result[1:]]

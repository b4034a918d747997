"""Integer indices → one-hot, multi-hot or count vectors, as Keras 3 computes them on torch.

Rules that hold for every layer here (checked against Keras 3, torch backend):

- a scalar input is treated as one sample of one index;
- ``one_hot`` first drops a trailing axis of size 1, then adds an axis of ``depth``;
- ``multi_hot`` (the maximum of the one-hot vectors) and ``count`` (their sum, each
  scaled by ``count_weights`` when given) reduce over axis 1 when the input has a
  batch axis, else over axis 0: ``(batch, n)`` → ``(batch, depth)``; a rank-3
  ``(batch, n, k)`` input gives ``(batch, k, depth)``;
- a negative index encodes to all zeros; an index ``>= depth`` is an error.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ...errors import DataError, SpecError

ENCODED_MODES = ("one_hot", "multi_hot", "count")


def check_output_mode(value, allowed, where="output_mode") -> str:
    if value not in allowed:
        raise SpecError(f"expected one of {', '.join(map(repr, allowed))}, got {value!r}", where=where)
    return value


def refuse_sparse(sparse, layer_name) -> None:
    if sparse:
        raise SpecError(f"{layer_name}: sparse=True gives sparse tensors, which Keras's torch backend and "
                        "modelcli do not support", where="sparse", hint="use sparse=False (dense outputs)")


def _recording(tensor) -> bool:
    """Whether ``tensor``'s ops are being recorded into a CUDA graph (no host reads allowed)."""
    return tensor.is_cuda and torch.cuda.is_current_stream_capturing()


def _one_hot(indices: torch.Tensor, depth: int, dtype: torch.dtype, where) -> torch.Tensor:
    indices = indices.to(torch.int64)
    # A clear error wherever the host may look (on CUDA that costs a sync). Inside a CUDA graph
    # recording it may not, and a replay cannot raise: there an index out of range encodes as
    # zeros, as a negative one does. torch's own one_hot would hit a device assert instead, which
    # leaves the CUDA context unusable for the rest of the process.
    if not _recording(indices) and bool((indices >= depth).any()):
        raise DataError(f"an index is out of range: {int(indices.max())} >= depth {depth}", where=where)
    encoded = F.one_hot(indices.clamp(0, depth - 1), depth)
    return (encoded * ((indices >= 0) & (indices < depth)).unsqueeze(-1)).to(dtype)


def encode(indices: torch.Tensor, mode: str, depth: int, dtype: torch.dtype, count_weights=None,
           where=None) -> torch.Tensor:
    """Encode ``indices`` in ``mode`` (``one_hot``, ``multi_hot`` or ``count``) as ``dtype``."""
    if indices.dim() == 0:
        indices = indices.reshape(1)
    if mode == "one_hot":
        if indices.dim() > 1 and indices.shape[-1] == 1:
            indices = indices.squeeze(-1)
        return _one_hot(indices, depth, dtype, where)
    axis = 1 if indices.dim() > 1 else 0
    if mode == "multi_hot":
        return _one_hot(indices, depth, dtype, where).amax(dim=axis)
    if count_weights is None:
        return _one_hot(indices, depth, dtype, where).sum(dim=axis)
    encoded = _one_hot(indices, depth, count_weights.dtype, where) * count_weights.unsqueeze(-1)
    return encoded.sum(dim=axis)


def encoded_shape(input_shape, mode: str, depth: int) -> tuple:
    """The shape :func:`encode` gives for ``input_shape`` (``None`` for unknown sizes)."""
    shape = tuple(input_shape) or (1,)
    if mode == "one_hot":
        if len(shape) > 1 and shape[-1] == 1:
            shape = shape[:-1]
        return shape + (depth,)
    return (shape[:1] + shape[2:] if len(shape) > 1 else ()) + (depth,)

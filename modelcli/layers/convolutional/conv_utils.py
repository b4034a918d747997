"""Argument checks, Keras padding arithmetic and layout moves shared by conv and pooling layers.

Keras's ``same`` padding (TensorFlow's rule) pads each spatial dimension by
``total = max((ceil(n / s) - 1)·s + (k - 1)·d + 1 - n, 0)``, ``total // 2`` before
and the rest after, so an odd extra pixel goes after. torch's own ``padding``
argument is symmetric, so it is used only when the split is; otherwise the input
is padded explicitly.
"""
from __future__ import annotations

import numbers

import torch
import torch.nn.functional as F

from ...engine.weights import Layout, Permuted
from ...errors import SpecError

CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
CONV_TRANSPOSE = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}


# ----- arguments -------------------------------------------------------------------------------
def is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def positive_int(value, name):
    if not is_int(value) or value <= 0:
        raise SpecError(f"expected a positive integer, got {value!r}", where=name)
    return int(value)


def int_tuple(value, rank, name, allow_zero=False) -> tuple:
    """An int or ``rank`` ints (Keras 2 files write lists) -> a tuple of ``rank`` ints."""
    if is_int(value):
        values = (int(value),) * rank
    elif isinstance(value, (list, tuple)) and len(value) == rank and all(is_int(v) for v in value):
        values = tuple(int(v) for v in value)
    else:
        raise SpecError(f"expected an integer or a list of {rank} integers, got {value!r}", where=name)
    if any(v < 0 or (v == 0 and not allow_zero) for v in values):
        kind = "non-negative" if allow_zero else "positive"
        raise SpecError(f"expected {kind} integers, got {value!r}", where=name)
    return values


def padding_mode(value, allowed=("valid", "same")) -> str:
    if not isinstance(value, str) or value.lower() not in allowed:
        raise SpecError(f"expected one of {', '.join(map(repr, allowed))}, got {value!r}", where="padding")
    return value.lower()


def data_format_name(value) -> str:
    if value is None:
        return "channels_last"
    if not isinstance(value, str) or value.lower() not in ("channels_last", "channels_first"):
        raise SpecError(f"expected 'channels_last' or 'channels_first', got {value!r}", where="data_format")
    return value.lower()


def drop_legacy_default(kwargs: dict, key: str, default) -> None:
    """Accept a key older Keras writes (Keras 2 DepthwiseConv2D's ``groups: 1``) only at its default."""
    if key in kwargs:
        value = kwargs.pop(key)
        if value != default:
            raise SpecError(f"expected {default!r} (the only value this layer supports), got {value!r}", where=key)


def drop_ignored(kwargs: dict, *keys: str) -> None:
    """Drop keys older Keras writes but never used (Keras 2 SeparableConv2D's ``kernel_initializer``)."""
    for key in keys:
        kwargs.pop(key, None)


def no_strides_with_dilation(strides, dilation_rate) -> None:
    if max(strides) > 1 and max(dilation_rate) > 1:
        raise SpecError(f"strides > 1 cannot be combined with dilation_rate > 1, got strides={strides} "
                        f"and dilation_rate={dilation_rate}", where="dilation_rate")


# ----- shapes ------------------------------------------------------------------------------------
def check_rank(layer, input_shape, rank) -> None:
    if len(input_shape) != rank + 2:
        raise SpecError(f"{type(layer).__name__} expects inputs of rank {rank + 2} (batch, {rank} spatial "
                        f"dimension(s), channels), got shape {tuple(input_shape)}", where=layer.name)


def spatial_dims(input_shape, data_format) -> tuple:
    return tuple(input_shape[1:-1] if data_format == "channels_last" else input_shape[2:])


def channel_dim(input_shape, data_format):
    return input_shape[-1] if data_format == "channels_last" else input_shape[1]


def known_channels(layer, input_shape, data_format) -> int:
    channels = channel_dim(input_shape, data_format)
    if channels is None:
        raise SpecError(f"{type(layer).__name__} needs a known channel dimension, got input shape "
                        f"{tuple(input_shape)}", where=layer.name)
    return channels


def with_channels(batch, spatial, channels, data_format) -> tuple:
    if data_format == "channels_last":
        return (batch, *spatial, channels)
    return (batch, channels, *spatial)


def window_output_length(length, window, stride, dilation, padding):
    """Keras's output length of a convolution or pooling window; None stays None."""
    if length is None:
        return None
    if padding == "valid":
        return (length - (window - 1) * dilation - 1) // stride + 1
    return (length - 1) // stride + 1  # same, causal


def window_output_shape(layer, input_shape, rank, windows, strides, dilations, padding, data_format, channels):
    check_rank(layer, input_shape, rank)
    lengths = tuple(window_output_length(n, k, s, d, padding)
                    for n, k, s, d in zip(spatial_dims(input_shape, data_format), windows, strides, dilations))
    if any(n is not None and n <= 0 for n in lengths):
        raise SpecError(f"input shape {tuple(input_shape)} is too small for a window of {windows} with "
                        f"strides {strides} and padding '{padding}' (the output would be empty)",
                        where=layer.name)
    return with_channels(input_shape[0], lengths, channels, data_format)


# ----- padding -----------------------------------------------------------------------------------
def same_padding(length, window, stride, dilation=1) -> tuple[int, int]:
    """(before, after) of Keras's ``same``: the odd extra pixel goes after."""
    total = max((-(-length // stride) - 1) * stride + (window - 1) * dilation + 1 - length, 0)
    return total // 2, total - total // 2


def torch_padding(spatial, windows, strides, dilations, padding):
    """``(symmetric, explicit)``: the torch op's ``padding`` argument, and an ``F.pad`` list or None."""
    if padding == "valid":
        return 0, None
    if padding == "causal":
        return 0, [(windows[0] - 1) * dilations[0], 0]
    pairs = [same_padding(n, k, s, d) for n, k, s, d in zip(spatial, windows, strides, dilations)]
    if all(before == after for before, after in pairs):
        return tuple(before for before, _ in pairs), None
    return 0, [p for pair in reversed(pairs) for p in pair]


# ----- layouts ------------------------------------------------------------------------------------
def channels_first(x: torch.Tensor, data_format: str) -> torch.Tensor:
    """An (N, C, spatial...) view; of a contiguous channels_last tensor it is in channels_last memory format."""
    return x.movedim(-1, 1) if data_format == "channels_last" else x


def back_to(data_format: str, y: torch.Tensor) -> torch.Tensor:
    return y.movedim(1, -1) if data_format == "channels_last" else y


def match_input_memory_format(param: torch.Tensor, rank: int, data_format: str) -> None:
    """Store a 2-D/3-D kernel in channels_last memory format when the inputs are channels_last.

    cuDNN runs an NHWC input with the kernel in the same format; a contiguous kernel would be
    converted on every call (and its gradient back). The Keras view is a permutation either way.
    """
    if data_format == "channels_last" and rank in (2, 3):
        fmt = torch.channels_last if rank == 2 else torch.channels_last_3d
        param.data = param.data.contiguous(memory_format=fmt)


def conv_kernel_layout(rank: int) -> Permuted:
    """Keras ``(k..., in, out)`` -> torch ``(out, in, k...)``.

    The same permutation takes a transposed kernel, Keras ``(k..., out, in)``, to torch's ``(in, out, k...)``.
    """
    return Permuted((rank + 1, rank) + tuple(range(rank)))


class DepthwiseLayout(Layout):
    """Keras ``(k..., in, depth_multiplier)`` <-> torch ``(in·depth_multiplier, 1, k...)`` for ``groups=in``.

    Output channel ``c·depth_multiplier + m`` is input channel ``c`` through kernel ``[..., c, m]``
    in both, so the conversion is a permutation and a reshape (a view towards Keras).
    """

    def __init__(self, rank: int, depth_multiplier: int):
        self.rank = rank
        self.depth_multiplier = depth_multiplier

    def torch_shape(self, keras_shape):
        *kernel, channels, multiplier = keras_shape
        return (channels * multiplier, 1, *kernel)

    def to_torch(self, keras_value):
        order = (self.rank, self.rank + 1) + tuple(range(self.rank))
        return keras_value.permute(order).reshape(self.torch_shape(tuple(keras_value.shape)))

    def to_keras(self, torch_value):
        channels = torch_value.shape[0] // self.depth_multiplier
        grouped = torch_value.reshape(channels, self.depth_multiplier, *torch_value.shape[2:])
        return grouped.permute(tuple(range(2, self.rank + 2)) + (0, 1))

"""The N-D transposed convolution shared by Conv1DTranspose, Conv2DTranspose and Conv3DTranspose.

Keras's kernel is ``(k..., filters, in)``; torch's ``conv_transpose`` weight is
``(in, filters, k...)``, the same permutation as a convolution kernel.

Output length per dimension (Keras, i.e. TensorFlow's rule), with ``ke = (k - 1)·d + 1``:
``valid``: ``(n - 1)·s + ke + p`` where ``p`` defaults to ``max(ke, s) - ke``;
``same``: ``n·s`` when ``output_padding`` is None, else ``(n - 1)·s + ke % 2 + p``.
That output is a window of the full transposed convolution (length ``(n - 1)·s + ke``,
zero-extended on the right), cropped by ``(left, right)`` below. torch crops ``padding``
on both sides and adds ``output_padding`` on the right, so it computes the window in one
call when ``0 <= left - right < max(s, d)``; otherwise (``same`` with an odd ``s + ke``,
e.g. k=3, s=2) the full output is sliced and the bias added after.
"""
from __future__ import annotations

import torch.nn.functional as F

from ... import activations, constraints, initializers, regularizers
from ...engine.layer import Layer
from ...errors import SpecError
from . import conv_utils as cu


def transpose_crops(kernel, stride, dilation, padding, output_padding) -> tuple[int, int]:
    """(left, right) cut from the full transposed output; a negative right extends it with zeros."""
    ke = (kernel - 1) * dilation + 1
    if padding == "valid":
        extra = max(ke, stride) - ke if output_padding is None else output_padding
        return 0, -extra
    total = stride + ke - 2 if output_padding is None else ke + ke % 2 - 2 + output_padding
    before = min(total // 2 + total % 2, ke - 1)
    return ke - 1 - before, ke - 1 - (total - before)


def transpose_output_length(length, kernel, stride, dilation, padding, output_padding):
    if length is None:
        return None
    left, right = transpose_crops(kernel, stride, dilation, padding, output_padding)
    return (length - 1) * stride + (kernel - 1) * dilation + 1 - left - right


class BaseConvTranspose(Layer):
    rank: int

    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None, data_format=None,
                 dilation_rate=1, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        cu.drop_legacy_default(kwargs, "groups", 1)  # Keras 2 writes it (its Conv2DTranspose subclasses Conv2D)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        rank = self.rank
        self.filters = cu.positive_int(filters, "filters")
        self.kernel_size = cu.int_tuple(kernel_size, rank, "kernel_size")
        self.strides = cu.int_tuple(strides, rank, "strides")
        self.padding = cu.padding_mode(padding)
        self.output_padding = (None if output_padding is None
                               else cu.int_tuple(output_padding, rank, "output_padding", allow_zero=True))
        if self.output_padding is not None and any(p >= s for p, s in zip(self.output_padding, self.strides)):
            raise SpecError(f"each output_padding must be smaller than its stride, got "
                            f"output_padding={self.output_padding} and strides={self.strides}",
                            where="output_padding")
        self.data_format = cu.data_format_name(data_format)
        self.dilation_rate = cu.int_tuple(dilation_rate, rank, "dilation_rate")
        cu.no_strides_with_dilation(self.strides, self.dilation_rate)
        self.activation = activations.get(activation, "activation")
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer, "kernel_initializer")
        self.bias_initializer = initializers.get(bias_initializer, "bias_initializer")
        self.kernel_regularizer = regularizers.get(kernel_regularizer, "kernel_regularizer")
        self.bias_regularizer = regularizers.get(bias_regularizer, "bias_regularizer")
        self.kernel_constraint = constraints.get(kernel_constraint, "kernel_constraint")
        self.bias_constraint = constraints.get(bias_constraint, "bias_constraint")
        self._crops = [transpose_crops(k, s, d, self.padding, None if self.output_padding is None else p)
                       for k, s, d, p in zip(self.kernel_size, self.strides, self.dilation_rate,
                                             self.output_padding or (0,) * rank)]

    def build(self, input_shape):
        channels = cu.known_channels(self, input_shape, self.data_format)
        self.compute_output_shape(input_shape)
        self.add_weight("kernel", self.kernel_size + (self.filters, channels), self.kernel_initializer,
                        layout=cu.conv_kernel_layout(self.rank),
                        regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        if self.use_bias:
            self.add_weight("bias", (self.filters,), self.bias_initializer,
                            regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        else:
            self.register_parameter("bias", None)

    def call(self, inputs):
        x = cu.channels_first(inputs, self.data_format)
        conv = cu.CONV_TRANSPOSE[self.rank]
        extras = [left - right for left, right in self._crops]
        if all(0 <= e < max(s, d) for e, s, d in zip(extras, self.strides, self.dilation_rate)):
            y = conv(x, self.kernel, self.bias, self.strides, tuple(left for left, _ in self._crops),
                     tuple(extras), 1, self.dilation_rate)
        else:
            shared = tuple(max(min(left, right), 0) for left, right in self._crops)
            y = conv(x, self.kernel, None, self.strides, shared, 0, 1, self.dilation_rate)
            cuts = [(left - p, right - p) for (left, right), p in zip(self._crops, shared)]
            if all(right >= 0 for _, right in cuts):
                y = y[(slice(None), slice(None)) + tuple(slice(left, n - right)
                                                         for (left, right), n in zip(cuts, y.shape[2:]))]
            else:
                y = F.pad(y, [-c for pair in reversed(cuts) for c in pair])
            if self.bias is not None:
                y = y + self.bias.view((-1,) + (1,) * self.rank)
        return self.activation(cu.back_to(self.data_format, y))

    def compute_output_shape(self, input_shape):
        cu.check_rank(self, input_shape, self.rank)
        lengths = tuple(
            transpose_output_length(n, k, s, d, self.padding, None if self.output_padding is None else p)
            for n, k, s, d, p in zip(cu.spatial_dims(input_shape, self.data_format), self.kernel_size,
                                     self.strides, self.dilation_rate, self.output_padding or (0,) * self.rank))
        return cu.with_channels(input_shape[0], lengths, self.filters, self.data_format)

    def get_config(self):
        config = super().get_config()
        config.pop("activity_regularizer", None)
        return {**config, "filters": self.filters, "kernel_size": self.kernel_size, "strides": self.strides,
                "padding": self.padding, "output_padding": self.output_padding, "data_format": self.data_format,
                "dilation_rate": self.dilation_rate, "activation": activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "activity_regularizer": regularizers.serialize(self.activity_regularizer),
                "kernel_constraint": constraints.serialize(self.kernel_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint)}

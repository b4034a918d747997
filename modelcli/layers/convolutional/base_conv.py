"""The N-D convolution shared by Conv1D, Conv2D and Conv3D.

Keras's kernel is ``(k..., in / groups, filters)``; it is stored as torch's
``(filters, in / groups, k...)`` so ``F.conv{1,2,3}d`` takes it as it is. A
channels_last input is handed to torch as an NC... view (no copy) and the result
is moved back the same way; with channels_last inputs the 2-D/3-D kernel is kept in
channels_last memory format too (on an H200, a float32 3×3 conv's forward and backward
ran without any copy kernel and about 10% faster than with a contiguous kernel).
"""
from __future__ import annotations

import torch.nn.functional as F

from ... import activations, constraints, initializers, regularizers
from ...engine.layer import Layer
from ...errors import SpecError
from . import conv_utils as cu


class BaseConv(Layer):
    rank: int
    paddings = ("valid", "same")

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 groups=1, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        rank = self.rank
        self.filters = cu.positive_int(filters, "filters")
        self.kernel_size = cu.int_tuple(kernel_size, rank, "kernel_size")
        self.strides = cu.int_tuple(strides, rank, "strides")
        self.padding = cu.padding_mode(padding, self.paddings)
        self.data_format = cu.data_format_name(data_format)
        self.dilation_rate = cu.int_tuple(dilation_rate, rank, "dilation_rate")
        self.groups = cu.positive_int(groups, "groups")
        if self.filters % self.groups:
            raise SpecError(f"filters ({self.filters}) must be divisible by groups ({self.groups})",
                            where="groups")
        cu.no_strides_with_dilation(self.strides, self.dilation_rate)
        self.activation = activations.get(activation, "activation")
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer, "kernel_initializer")
        self.bias_initializer = initializers.get(bias_initializer, "bias_initializer")
        self.kernel_regularizer = regularizers.get(kernel_regularizer, "kernel_regularizer")
        self.bias_regularizer = regularizers.get(bias_regularizer, "bias_regularizer")
        self.kernel_constraint = constraints.get(kernel_constraint, "kernel_constraint")
        self.bias_constraint = constraints.get(bias_constraint, "bias_constraint")

    def build(self, input_shape):
        channels = cu.known_channels(self, input_shape, self.data_format)
        if channels % self.groups:
            raise SpecError(f"the input's {channels} channels must be divisible by groups ({self.groups})",
                            where="groups")
        self.compute_output_shape(input_shape)
        kernel = self.add_weight("kernel", self.kernel_size + (channels // self.groups, self.filters),
                                 self.kernel_initializer, layout=cu.conv_kernel_layout(self.rank),
                                 regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        cu.match_input_memory_format(kernel, self.rank, self.data_format)
        if self.use_bias:
            self.add_weight("bias", (self.filters,), self.bias_initializer,
                            regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        else:
            self.register_parameter("bias", None)

    def call(self, inputs):
        x = cu.channels_first(inputs, self.data_format)
        padding, explicit = cu.torch_padding(x.shape[2:], self.kernel_size, self.strides, self.dilation_rate,
                                             self.padding)
        if explicit:
            x = F.pad(x, explicit)
        y = cu.CONV[self.rank](x, self.kernel, self.bias, self.strides, padding, self.dilation_rate, self.groups)
        return self.activation(cu.back_to(self.data_format, y))

    def compute_output_shape(self, input_shape):
        return cu.window_output_shape(self, input_shape, self.rank, self.kernel_size, self.strides,
                                      self.dilation_rate, self.padding, self.data_format, self.filters)

    def get_config(self):
        config = super().get_config()
        config.pop("activity_regularizer", None)
        return {**config, "filters": self.filters, "kernel_size": self.kernel_size, "strides": self.strides,
                "padding": self.padding, "data_format": self.data_format, "dilation_rate": self.dilation_rate,
                "groups": self.groups, "activation": activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "activity_regularizer": regularizers.serialize(self.activity_regularizer),
                "kernel_constraint": constraints.serialize(self.kernel_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint)}

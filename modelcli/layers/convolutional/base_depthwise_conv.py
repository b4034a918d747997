"""The N-D depthwise convolution shared by DepthwiseConv1D and DepthwiseConv2D.

Each input channel is convolved with its own ``depth_multiplier`` filters: torch's
grouped convolution with ``groups = in``. Keras's ``depthwise_kernel`` is
``(k..., in, depth_multiplier)``; torch's weight is ``(in·depth_multiplier, 1, k...)``.
"""
from __future__ import annotations

import torch.nn.functional as F

from ... import activations, constraints, initializers, regularizers
from ...engine.layer import Layer
from . import conv_utils as cu


class BaseDepthwiseConv(Layer):
    rank: int

    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier=1, data_format=None,
                 dilation_rate=1, activation=None, use_bias=True, depthwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, depthwise_constraint=None, bias_constraint=None, **kwargs):
        cu.drop_legacy_default(kwargs, "groups", 1)  # Keras 2 writes it (its DepthwiseConv2D subclasses Conv2D)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        rank = self.rank
        self.kernel_size = cu.int_tuple(kernel_size, rank, "kernel_size")
        self.strides = cu.int_tuple(strides, rank, "strides")
        self.padding = cu.padding_mode(padding)
        self.depth_multiplier = cu.positive_int(depth_multiplier, "depth_multiplier")
        self.data_format = cu.data_format_name(data_format)
        self.dilation_rate = cu.int_tuple(dilation_rate, rank, "dilation_rate")
        self.activation = activations.get(activation, "activation")
        self.use_bias = bool(use_bias)
        self.depthwise_initializer = initializers.get(depthwise_initializer, "depthwise_initializer")
        self.bias_initializer = initializers.get(bias_initializer, "bias_initializer")
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer, "depthwise_regularizer")
        self.bias_regularizer = regularizers.get(bias_regularizer, "bias_regularizer")
        self.depthwise_constraint = constraints.get(depthwise_constraint, "depthwise_constraint")
        self.bias_constraint = constraints.get(bias_constraint, "bias_constraint")

    def build(self, input_shape):
        channels = cu.known_channels(self, input_shape, self.data_format)
        self.compute_output_shape(input_shape)
        self.add_weight("depthwise_kernel", self.kernel_size + (channels, self.depth_multiplier),
                        self.depthwise_initializer, layout=cu.DepthwiseLayout(self.rank, self.depth_multiplier),
                        regularizer=self.depthwise_regularizer, constraint=self.depthwise_constraint)
        if self.use_bias:
            self.add_weight("bias", (channels * self.depth_multiplier,), self.bias_initializer,
                            regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        else:
            self.register_parameter("bias", None)

    def call(self, inputs):
        x = cu.channels_first(inputs, self.data_format)
        y = depthwise(x, self.depthwise_kernel, self.bias, self.rank, self.kernel_size, self.strides,
                      self.dilation_rate, self.padding)
        return self.activation(cu.back_to(self.data_format, y))

    def compute_output_shape(self, input_shape):
        channels = cu.channel_dim(input_shape, self.data_format)
        return cu.window_output_shape(self, input_shape, self.rank, self.kernel_size, self.strides,
                                      self.dilation_rate, self.padding, self.data_format,
                                      None if channels is None else channels * self.depth_multiplier)

    def get_config(self):
        config = super().get_config()
        config.pop("activity_regularizer", None)
        return {**config, "depth_multiplier": self.depth_multiplier, "kernel_size": self.kernel_size,
                "strides": self.strides, "padding": self.padding, "data_format": self.data_format,
                "dilation_rate": self.dilation_rate, "activation": activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "depthwise_initializer": initializers.serialize(self.depthwise_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "depthwise_regularizer": regularizers.serialize(self.depthwise_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "activity_regularizer": regularizers.serialize(self.activity_regularizer),
                "depthwise_constraint": constraints.serialize(self.depthwise_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint)}


def depthwise(x, weight, bias, rank, kernel_size, strides, dilation_rate, padding):
    """Depthwise convolution of an (N, C, spatial...) tensor with Keras's padding."""
    pad, explicit = cu.torch_padding(x.shape[2:], kernel_size, strides, dilation_rate, padding)
    if explicit:
        x = F.pad(x, explicit)
    return cu.CONV[rank](x, weight, bias, strides, pad, dilation_rate, x.shape[1])

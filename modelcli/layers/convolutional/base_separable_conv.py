"""The N-D separable convolution shared by SeparableConv1D and SeparableConv2D.

A depthwise convolution (``depthwise_kernel``, Keras ``(k..., in, depth_multiplier)``)
followed by a 1×1 convolution (``pointwise_kernel``, Keras ``(1..., in·depth_multiplier,
filters)``, torch ``(filters, in·depth_multiplier, 1...)``) and the bias.
"""
from __future__ import annotations

from ... import activations, constraints, initializers, regularizers
from ...engine.layer import Layer
from . import conv_utils as cu
from .base_depthwise_conv import depthwise


class BaseSeparableConv(Layer):
    rank: int

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 depth_multiplier=1, activation=None, use_bias=True, depthwise_initializer="glorot_uniform",
                 pointwise_initializer="glorot_uniform", bias_initializer="zeros", depthwise_regularizer=None,
                 pointwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, pointwise_constraint=None, bias_constraint=None, **kwargs):
        # Keras 2 subclasses its Conv2D here and writes that class's groups and kernel_* arguments,
        # which its separable convolution never uses.
        cu.drop_legacy_default(kwargs, "groups", 1)
        cu.drop_ignored(kwargs, "kernel_initializer", "kernel_regularizer", "kernel_constraint")
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        rank = self.rank
        self.filters = cu.positive_int(filters, "filters")
        self.kernel_size = cu.int_tuple(kernel_size, rank, "kernel_size")
        self.strides = cu.int_tuple(strides, rank, "strides")
        self.padding = cu.padding_mode(padding)
        self.data_format = cu.data_format_name(data_format)
        self.dilation_rate = cu.int_tuple(dilation_rate, rank, "dilation_rate")
        self.depth_multiplier = cu.positive_int(depth_multiplier, "depth_multiplier")
        self.activation = activations.get(activation, "activation")
        self.use_bias = bool(use_bias)
        self.depthwise_initializer = initializers.get(depthwise_initializer, "depthwise_initializer")
        self.pointwise_initializer = initializers.get(pointwise_initializer, "pointwise_initializer")
        self.bias_initializer = initializers.get(bias_initializer, "bias_initializer")
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer, "depthwise_regularizer")
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer, "pointwise_regularizer")
        self.bias_regularizer = regularizers.get(bias_regularizer, "bias_regularizer")
        self.depthwise_constraint = constraints.get(depthwise_constraint, "depthwise_constraint")
        self.pointwise_constraint = constraints.get(pointwise_constraint, "pointwise_constraint")
        self.bias_constraint = constraints.get(bias_constraint, "bias_constraint")

    def build(self, input_shape):
        channels = cu.known_channels(self, input_shape, self.data_format)
        self.compute_output_shape(input_shape)
        self.add_weight("depthwise_kernel", self.kernel_size + (channels, self.depth_multiplier),
                        self.depthwise_initializer, layout=cu.DepthwiseLayout(self.rank, self.depth_multiplier),
                        regularizer=self.depthwise_regularizer, constraint=self.depthwise_constraint)
        self.add_weight("pointwise_kernel", (1,) * self.rank + (channels * self.depth_multiplier, self.filters),
                        self.pointwise_initializer, layout=cu.conv_kernel_layout(self.rank),
                        regularizer=self.pointwise_regularizer, constraint=self.pointwise_constraint)
        if self.use_bias:
            self.add_weight("bias", (self.filters,), self.bias_initializer,
                            regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        else:
            self.register_parameter("bias", None)

    def call(self, inputs):
        x = cu.channels_first(inputs, self.data_format)
        x = depthwise(x, self.depthwise_kernel, None, self.rank, self.kernel_size, self.strides,
                      self.dilation_rate, self.padding)
        y = cu.CONV[self.rank](x, self.pointwise_kernel, self.bias)
        return self.activation(cu.back_to(self.data_format, y))

    def compute_output_shape(self, input_shape):
        return cu.window_output_shape(self, input_shape, self.rank, self.kernel_size, self.strides,
                                      self.dilation_rate, self.padding, self.data_format, self.filters)

    def get_config(self):
        config = super().get_config()
        config.pop("activity_regularizer", None)
        return {**config, "depth_multiplier": self.depth_multiplier, "filters": self.filters,
                "kernel_size": self.kernel_size, "strides": self.strides, "padding": self.padding,
                "data_format": self.data_format, "dilation_rate": self.dilation_rate,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                "depthwise_initializer": initializers.serialize(self.depthwise_initializer),
                "pointwise_initializer": initializers.serialize(self.pointwise_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "depthwise_regularizer": regularizers.serialize(self.depthwise_regularizer),
                "pointwise_regularizer": regularizers.serialize(self.pointwise_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "activity_regularizer": regularizers.serialize(self.activity_regularizer),
                "depthwise_constraint": constraints.serialize(self.depthwise_constraint),
                "pointwise_constraint": constraints.serialize(self.pointwise_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint)}

"""LayerNormalization: ``gamma · (x − mean) / √(var + ε) + beta`` over ``axis`` of each sample.

Mean and (biased) variance are taken over the normalized axes of every sample;
``gamma`` and ``beta`` have the shape of those axes. When the axes are the
trailing dimensions (the usual case) torch's fused ``layer_norm`` kernel does
the work. ``rms_scaling=True`` (deprecated in Keras 3, kept for its files)
computes ``x · gamma / √(var + ε)``: no centering and no beta.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ...engine.layer import Layer
from ...errors import SpecError
from ..registry import register_layer
from ._gamma_beta import gamma_beta_config, set_gamma_beta_options


@register_layer("LayerNormalization")
class LayerNormalization(Layer):
    supports_masking = True

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", beta_regularizer=None, gamma_regularizer=None,
                 beta_constraint=None, gamma_constraint=None, rms_scaling=False, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            if not axis or not all(isinstance(a, int) and not isinstance(a, bool) for a in axis):
                raise SpecError(f"expected an integer or a list of integers, got {axis!r}", where="axis")
            axis = list(axis)
        elif not isinstance(axis, int) or isinstance(axis, bool):
            raise SpecError(f"expected an integer or a list of integers, got {axis!r}", where="axis")
        self.axis = axis
        self.epsilon = float(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)
        self.rms_scaling = bool(rms_scaling)
        set_gamma_beta_options(self, beta_initializer=beta_initializer, gamma_initializer=gamma_initializer,
                               beta_regularizer=beta_regularizer, gamma_regularizer=gamma_regularizer,
                               beta_constraint=beta_constraint, gamma_constraint=gamma_constraint)

    def build(self, input_shape):
        # Keras keeps the axes as a sorted list once built (and writes them so).
        self.axis = sorted(self.axis) if isinstance(self.axis, list) else [self.axis]
        resolved, shape, self._trailing, self._param_shape = plan_axes(self, input_shape)
        self._axes = sorted(resolved)
        self.gamma = self.add_weight("gamma", shape, self.gamma_initializer, regularizer=self.gamma_regularizer,
                                     constraint=self.gamma_constraint) if self.scale or self.rms_scaling else None
        self.beta = self.add_weight("beta", shape, self.beta_initializer, regularizer=self.beta_regularizer,
                                    constraint=self.beta_constraint) \
            if self.center and not self.rms_scaling else None

    def call(self, inputs):
        dtype = inputs.dtype
        x = inputs.float() if dtype in (torch.float16, torch.bfloat16) else inputs
        if self.rms_scaling:
            out = x * torch.rsqrt(torch.var(x, self._axes, correction=0, keepdim=True) + self.epsilon)
            out = out * self.gamma.reshape(self._param_shape)
        elif self._trailing:
            normalized = tuple(x.shape[a] for a in self._axes)
            out = F.layer_norm(x, normalized, _reshaped(self.gamma, normalized), _reshaped(self.beta, normalized),
                               self.epsilon)
        else:
            variance, mean = torch.var_mean(x, self._axes, correction=0, keepdim=True)
            inv = torch.rsqrt(variance + self.epsilon)
            if self.gamma is not None:
                inv = inv * self.gamma.reshape(self._param_shape)
            out = (x - mean) * inv
            if self.beta is not None:
                out = out + self.beta.reshape(self._param_shape)
        return out.to(dtype)

    def compute_output_shape(self, input_shape):
        _check_axes(self.axis if isinstance(self.axis, list) else [self.axis], input_shape, self.name)
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon, "center": self.center,
                "scale": self.scale, "rms_scaling": self.rms_scaling,
                **gamma_beta_config(self)}


def _reshaped(weight, shape):
    return None if weight is None else weight.reshape(shape)


def plan_axes(layer, input_shape):
    """How ``layer`` (its ``axis`` list) normalizes inputs of ``input_shape``: the axes as
    non-negative indices in the list's order, the weight shape, whether they are the trailing
    dimensions (torch's fused kernels normalize only those) and the weight's broadcast shape."""
    rank = len(input_shape)
    resolved = _check_axes(layer.axis, input_shape, layer.name)
    shape = tuple(input_shape[a] for a in layer.axis)
    if None in shape:
        raise SpecError(f"{type(layer).__name__} needs known sizes on axes {layer.axis}, got input shape "
                        f"{tuple(input_shape)}", where=layer.name)
    axes = sorted(resolved)
    trailing = axes == list(range(rank - len(axes), rank))
    return resolved, shape, trailing, [input_shape[a] if a in axes else 1 for a in range(rank)]


def _check_axes(axes, input_shape, name) -> list[int]:
    rank = len(input_shape)
    for axis in axes:
        if not -rank <= axis < rank:
            raise SpecError(f"axis {axis} is out of bounds for input shape {tuple(input_shape)}", where=name)
    return [a % rank for a in axes]

"""GroupNormalization: each sample's channels split into ``groups`` runs, each run normalized.

The channels on ``axis`` are cut into ``groups`` consecutive runs of ``C / groups``;
mean and (biased) variance are taken over a run together with every other
non-batch axis, and ``gamma · (x − mean) / √(var + ε) + beta`` follows with
per-channel ``gamma`` and ``beta`` of shape ``(C,)``. ``groups=1`` is a layer norm
over all features with per-channel weights, ``groups=-1`` (one channel per group)
an instance norm; Keras replaces -1 by ``C`` when it builds, and so do we.

torch's fused ``group_norm`` computes exactly this on a channels-first view. Keras
computes the variance as ``E[x²] − E[x]²``; torch's kernel takes it from centred
values, which agrees to float32 rounding and does not lose digits when the mean is
large. Half-precision inputs are computed in float32 and the result cast back, as
Keras does. The mask passes through untouched: Keras normalizes masked steps too.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ...engine.layer import Layer
from ...errors import SpecError
from ..registry import register_layer
from ._gamma_beta import gamma_beta_config, set_gamma_beta_options
from .layer_normalization import _check_axes


@register_layer("GroupNormalization")
class GroupNormalization(Layer):
    supports_masking = True

    def __init__(self, groups=32, axis=-1, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", beta_regularizer=None, gamma_regularizer=None,
                 beta_constraint=None, gamma_constraint=None, **kwargs):
        if not _is_int(groups) or (groups <= 0 and groups != -1):
            raise SpecError(f"expected a positive integer (or -1 for instance normalization), got {groups!r}",
                            where="groups")
        if not _is_int(axis):
            raise SpecError(f"expected an integer (the channels axis), got {axis!r}", where="axis")
        super().__init__(**kwargs)
        self.groups = groups
        self.axis = axis
        self.epsilon = float(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)
        set_gamma_beta_options(self, beta_initializer=beta_initializer, gamma_initializer=gamma_initializer,
                               beta_regularizer=beta_regularizer, gamma_regularizer=gamma_regularizer,
                               beta_constraint=beta_constraint, gamma_constraint=gamma_constraint)

    def build(self, input_shape):
        self._channel_axis = self._resolve_axis(input_shape)
        channels = input_shape[self._channel_axis]
        if channels is None:
            raise SpecError(f"axis {self.axis} needs a known size, got input shape {tuple(input_shape)}",
                            where=self.name)
        if self.groups == -1:
            self.groups = channels
        if self.groups > channels:
            raise SpecError(f"groups={self.groups} is more than the {channels} channels on axis {self.axis}",
                            where=self.name)
        if channels % self.groups:
            raise SpecError(f"the {channels} channels on axis {self.axis} do not split into groups={self.groups} "
                            f"equal groups", where=self.name)
        # Keras's order: gamma, then beta.
        self.gamma = self.add_weight("gamma", (channels,), self.gamma_initializer,
                                     regularizer=self.gamma_regularizer, constraint=self.gamma_constraint) \
            if self.scale else None
        self.beta = self.add_weight("beta", (channels,), self.beta_initializer,
                                    regularizer=self.beta_regularizer, constraint=self.beta_constraint) \
            if self.center else None

    def call(self, inputs):
        dtype = inputs.dtype
        x = inputs.float() if dtype in (torch.float16, torch.bfloat16) else inputs
        # group_norm wants (N, C, ...); a channels-last tensor moved so is a view, not a copy.
        x = x.movedim(self._channel_axis, 1)
        out = F.group_norm(x, self.groups, _as(self.gamma, x.dtype), _as(self.beta, x.dtype), self.epsilon)
        return out.movedim(1, self._channel_axis).to(dtype)

    def compute_output_shape(self, input_shape):
        self._resolve_axis(input_shape)
        return tuple(input_shape)

    def _resolve_axis(self, input_shape) -> int:
        (axis,) = _check_axes([self.axis], input_shape, self.name)
        if axis == 0:
            raise SpecError(f"axis {self.axis} is the batch axis of input shape {tuple(input_shape)}; "
                            f"groups are taken over a feature axis", where=self.name)
        return axis

    def get_config(self):
        return {**super().get_config(), "groups": self.groups, "axis": self.axis, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale,
                **gamma_beta_config(self)}


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _as(weight, dtype):
    return None if weight is None else weight.to(dtype)

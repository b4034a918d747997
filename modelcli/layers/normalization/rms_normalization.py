"""RMSNormalization: ``x · scale / √(mean(x²) + ε)`` over ``axis`` of each sample.

No centering and no offset; ε (default 1e-6) is added to the mean square inside the
root. One weight, ``scale``, with the shape of the normalized axes (ones at the
start; Keras offers no initializer, regularizer or constraint for it). Keras keeps
``axis`` as a sorted list once built and writes it so. When the axes are the
trailing ones torch's fused ``rms_norm`` does the work, as in Keras on torch; other
axes are computed directly (Keras on torch normalizes the trailing axes there, a
bug we do not copy). Half-precision inputs are computed in float32 and cast back.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ...engine.layer import Layer
from ..registry import register_layer
from .layer_normalization import _check_axes, plan_axes
from .unit_normalization import _axis_argument


@register_layer("RMSNormalization")
class RMSNormalization(Layer):
    supports_masking = False  # as in Keras: a mask stops here and the layers after see none

    def __init__(self, axis=-1, epsilon=1e-6, **kwargs):
        super().__init__(**kwargs)
        self.axis = _axis_argument(axis)
        self.epsilon = float(epsilon)

    def build(self, input_shape):
        self.axis = sorted(self.axis) if isinstance(self.axis, list) else [self.axis]
        resolved, shape, self._trailing, self._param_shape = plan_axes(self, input_shape)
        self._axes = sorted(resolved)
        # The weight follows the (sorted) axis list, which need not be the axes' order in the
        # input when it mixes signs ([-1, 1]); the maths wants the input's order.
        order = sorted(range(len(resolved)), key=resolved.__getitem__)
        self._weight_order = None if order == list(range(len(order))) else order
        self.scale = self.add_weight("scale", shape, "ones")

    def call(self, inputs):
        dtype = inputs.dtype
        x = inputs.float() if dtype in (torch.float16, torch.bfloat16) else inputs
        scale = self.scale.to(x.dtype)
        if self._weight_order is not None:
            scale = scale.permute(self._weight_order)
        if self._trailing:
            normalized = tuple(x.shape[a] for a in self._axes)
            out = F.rms_norm(x, normalized, scale.reshape(normalized), self.epsilon)
        else:
            mean_square = torch.mean(x * x, dim=self._axes, keepdim=True)
            out = x * torch.rsqrt(mean_square + self.epsilon) * scale.reshape(self._param_shape)
        return out.to(dtype)

    def compute_output_shape(self, input_shape):
        _check_axes(self.axis if isinstance(self.axis, list) else [self.axis], input_shape, self.name)
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon}

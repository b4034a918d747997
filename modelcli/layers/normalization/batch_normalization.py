"""BatchNormalization: ``gamma · (x − mean) / √(var + ε) + beta`` per feature of ``axis``.

Training (``training=True`` on a trainable layer) normalizes with the batch's
mean and *biased* variance and updates ``moving = moving · momentum + batch ·
(1 − momentum)``; inference uses the moving statistics. A layer with
``trainable=False`` always runs in inference mode, as in Keras.

Without a mask, the maths runs in torch's batch-norm kernel on a view with the
feature axis moved to position 1 (for an NHWC input that view is NCHW in
channels-last memory, which the kernel reads without a copy). torch updates
running statistics with the *unbiased* variance, so the kernel writes the batch
statistics into scratch buffers (momentum 1) and the moving variance is
updated here with ``unbiased · (n − 1) / n``.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ... import initializers
from ...engine.layer import Layer
from ...errors import DataError, SpecError
from ..registry import register_layer
from ._gamma_beta import gamma_beta_config, set_gamma_beta_options

# Keras's ``backend.epsilon()``: keeps the masked mean finite when every step is masked.
_MASK_EPSILON = 1e-7


@register_layer("BatchNormalization")
class BatchNormalization(Layer):
    supports_masking = True

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", moving_mean_initializer="zeros",
                 moving_variance_initializer="ones", beta_regularizer=None, gamma_regularizer=None,
                 beta_constraint=None, gamma_constraint=None, synchronized=False, renorm=False,
                 renorm_clipping=None, renorm_momentum=0.99, virtual_batch_size=None, adjustment=None,
                 fused=None, **kwargs):
        super().__init__(**kwargs)
        self.axis = _single_axis(axis)
        if synchronized:
            raise SpecError("synchronized=True (TensorFlow cross-replica statistics) is not supported",
                            where="synchronized")
        if renorm:
            raise SpecError("batch renormalization (renorm=True) is not supported", where="renorm")
        if virtual_batch_size is not None:
            raise SpecError(f"virtual_batch_size={virtual_batch_size!r} is not supported (only None)",
                            where="virtual_batch_size")
        if adjustment is not None:
            raise SpecError("a custom adjustment function is not supported", where="adjustment")
        # ``fused`` (Keras 2) only picked a TensorFlow kernel; every value computes the same numbers.
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        if self.epsilon <= 0:
            raise SpecError(f"expected a positive number, got {epsilon!r}", where="epsilon")
        self.center = bool(center)
        self.scale = bool(scale)
        set_gamma_beta_options(self, beta_initializer=beta_initializer, gamma_initializer=gamma_initializer,
                               beta_regularizer=beta_regularizer, gamma_regularizer=gamma_regularizer,
                               beta_constraint=beta_constraint, gamma_constraint=gamma_constraint)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer, "moving_mean_initializer")
        self.moving_variance_initializer = initializers.get(moving_variance_initializer,
                                                            "moving_variance_initializer")
        self.renorm_momentum = renorm_momentum

    def build(self, input_shape):
        axis = _check_axis(self.axis, input_shape, self.name)
        dim = input_shape[axis]
        if dim is None:
            raise SpecError(f"BatchNormalization needs a known size on axis {self.axis}, got input shape "
                            f"{tuple(input_shape)}", where=self.name)
        self._channel_axis = axis
        self.gamma = self.add_weight("gamma", (dim,), self.gamma_initializer, regularizer=self.gamma_regularizer,
                                     constraint=self.gamma_constraint) if self.scale else None
        self.beta = self.add_weight("beta", (dim,), self.beta_initializer, regularizer=self.beta_regularizer,
                                    constraint=self.beta_constraint) if self.center else None
        self.add_weight("moving_mean", (dim,), self.moving_mean_initializer, trainable=False)
        self.add_weight("moving_variance", (dim,), self.moving_variance_initializer, trainable=False)

    def call(self, inputs, training=None, mask=None):
        if mask is not None and mask.dim() != inputs.dim() - 1:
            raise DataError(f"the mask must have one dimension less than the inputs, got mask shape "
                            f"{tuple(mask.shape)} for inputs of shape {tuple(inputs.shape)}", where=self.name)
        dtype = inputs.dtype
        x = inputs.float() if dtype in (torch.float16, torch.bfloat16) else inputs
        if training and self.trainable:
            out = self._normalize_with_batch_statistics(x, mask)
        else:
            out = F.batch_norm(x.movedim(self._channel_axis, 1), self.moving_mean, self.moving_variance,
                               self.gamma, self.beta, False, 0.0, self.epsilon).movedim(1, self._channel_axis)
        return out.to(dtype)

    def _normalize_with_batch_statistics(self, x, mask):
        channels_second = x.movedim(self._channel_axis, 1)
        count = x.numel() // max(x.shape[self._channel_axis], 1)
        if mask is None and count > 1:
            # With momentum 1 torch's running buffers receive the batch mean and the unbiased variance.
            mean = torch.zeros(x.shape[self._channel_axis], dtype=x.dtype, device=x.device)
            unbiased = torch.zeros_like(mean)
            out = F.batch_norm(channels_second, mean, unbiased, self.gamma, self.beta, True, 1.0, self.epsilon)
            self._update_moving_statistics(mean, unbiased * ((count - 1) / count))
            return out.movedim(1, self._channel_axis)
        mean, variance = self._moments(x, mask)
        self._update_moving_statistics(mean, variance)
        shape = [1] * x.dim()
        shape[self._channel_axis] = -1
        inv = torch.rsqrt(variance + self.epsilon)
        if self.gamma is not None:
            inv = inv * self.gamma
        out = (x - mean.reshape(shape)) * inv.reshape(shape)
        return out + self.beta.reshape(shape) if self.beta is not None else out

    def _moments(self, x, mask):
        """Mean and biased variance per feature; with a mask (over all but the last axis), of the kept steps."""
        axes = [a for a in range(x.dim()) if a != self._channel_axis]
        if mask is None:
            variance, mean = torch.var_mean(x, axes, correction=0)
            return mean, variance
        keep = mask.to(torch.bool).unsqueeze(-1).expand_as(x)
        count = keep.sum(axes, keepdim=True, dtype=x.dtype) + _MASK_EPSILON
        mean = torch.where(keep, x, 0).sum(axes, keepdim=True) / count
        variance = torch.where(keep, x - mean, 0).square().sum(axes, keepdim=True) / count
        return mean.flatten(), variance.flatten()

    def _update_moving_statistics(self, mean, variance):
        with torch.no_grad():
            m = self.momentum
            self.moving_mean.copy_(self.moving_mean * m + mean.detach().to(self.moving_mean.dtype) * (1.0 - m))
            self.moving_variance.copy_(self.moving_variance * m
                                       + variance.detach().to(self.moving_variance.dtype) * (1.0 - m))

    def compute_output_shape(self, input_shape):
        _check_axis(self.axis, input_shape, self.name)
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale,
                **gamma_beta_config(self),
                "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
                "moving_variance_initializer": initializers.serialize(self.moving_variance_initializer),
                "synchronized": False, "renorm": False, "renorm_clipping": None,
                "renorm_momentum": self.renorm_momentum}


def _single_axis(axis) -> int:
    """Keras 3 takes one int; Keras 2 writes a list such as ``[3]`` once built."""
    if isinstance(axis, (list, tuple)):
        if len(axis) != 1:
            raise SpecError(f"normalizing over several axes ({list(axis)}) is not supported; give one axis",
                            where="axis")
        axis = axis[0]
    if not isinstance(axis, int) or isinstance(axis, bool):
        raise SpecError(f"expected an integer axis, got {axis!r}", where="axis")
    return axis


def _check_axis(axis, input_shape, name) -> int:
    rank = len(input_shape)
    if not -rank <= axis < rank:
        raise SpecError(f"axis {axis} is out of bounds for input shape {tuple(input_shape)}", where=name)
    return axis % rank

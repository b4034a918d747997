"""Keras activation functions on torch tensors, looked up by their Keras names.

Formulas follow Keras. ``hard_sigmoid`` is flavour-dependent: Keras 2 computes
``clip(0.2·x + 0.5, 0, 1)`` and Keras 3 ``relu6(x + 3) / 6``; a Keras 2 file keeps
its meaning through the internal name ``keras2_hard_sigmoid``.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from . import flavour
from .errors import SpecError
from .registry import Registry

ACTIVATIONS = Registry("activation")

def _activation(*names):
    def decorate(fn):
        fn.keras_name = names[0]
        ACTIVATIONS.register(*names)(fn)
        return fn
    return decorate


@_activation("linear")
def linear(x):
    return x


@_activation("sigmoid")
def sigmoid(x):
    return torch.sigmoid(x)


@_activation("tanh")
def tanh(x):
    return torch.tanh(x)


@_activation("relu")
def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return torch.relu(x)
    y = torch.where(x >= threshold, x, negative_slope * (x - threshold))
    return y if max_value is None else torch.clamp(y, max=max_value)


@_activation("relu6")
def relu6(x):
    return F.relu6(x)


@_activation("leaky_relu")
def leaky_relu(x, negative_slope=0.2):
    return F.leaky_relu(x, negative_slope)


@_activation("elu")
def elu(x, alpha=1.0):
    return F.elu(x, alpha)


@_activation("selu")
def selu(x):
    return F.selu(x)


@_activation("celu")
def celu(x, alpha=1.0):
    return F.celu(x, alpha)


@_activation("softmax")
def softmax(x, axis=-1):
    return torch.softmax(x, dim=axis)


@_activation("log_softmax")
def log_softmax(x, axis=-1):
    return torch.log_softmax(x, dim=axis)


@_activation("softplus")
def softplus(x):
    return F.softplus(x)


@_activation("softsign")
def softsign(x):
    return F.softsign(x)


@_activation("silu", "swish")
def silu(x):
    return F.silu(x)


@_activation("gelu")
def gelu(x, approximate=False):
    return F.gelu(x, approximate="tanh" if approximate else "none")


@_activation("hard_sigmoid")
def hard_sigmoid(x):
    """Keras 3: relu6(x + 3) / 6."""
    return F.hardsigmoid(x)


@_activation("keras2_hard_sigmoid")
def keras2_hard_sigmoid(x):
    """Keras 2: clip(0.2·x + 0.5, 0, 1)."""
    return torch.clamp(0.2 * x + 0.5, 0.0, 1.0)


@_activation("hard_silu", "hard_swish")
def hard_silu(x):
    return F.hardswish(x)


@_activation("mish")
def mish(x):
    return F.mish(x)


@_activation("exponential")
def exponential(x):
    return torch.exp(x)


@_activation("log_sigmoid")
def log_sigmoid(x):
    return F.logsigmoid(x)


@_activation("hard_tanh")
def hard_tanh(x):
    return F.hardtanh(x)


@_activation("tanh_shrink")
def tanh_shrink(x):
    return F.tanhshrink(x)


swish = silu
hard_swish = hard_silu

_FLAVOUR_NAMES = {flavour.KERAS2: {"hard_sigmoid": "keras2_hard_sigmoid"}}


def get(identifier, where: str | None = None):
    """An activation function from a name, a Keras dict, a callable or None (linear)."""
    if identifier is None:
        return linear
    if callable(identifier):
        return identifier
    if isinstance(identifier, dict):
        from .serialization import check_safe
        check_safe(identifier, where)
        name = identifier.get("config") if identifier.get("class_name") == "function" else identifier.get("class_name")
        return get(name, where)
    if isinstance(identifier, str):
        name = _FLAVOUR_NAMES.get(flavour.current(), {}).get(identifier, identifier)
        return ACTIVATIONS.get(name, where)
    raise SpecError(f"expected an activation name, got {identifier!r}", where=where)


def serialize(fn) -> str:
    """The Keras name of an activation (what ``get_config`` writes)."""
    name = getattr(fn, "keras_name", None)
    if name is None:
        raise SpecError(f"activation {fn!r} is not a Keras activation and cannot be saved")
    return name


__all__ = [n for n in ACTIVATIONS.names()] + ["get", "serialize"]

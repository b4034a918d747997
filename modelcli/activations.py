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
    """Keras's relu: ``where(x > threshold, x, 0)`` clipped to [0, max_value], minus
    ``negative_slope·relu(threshold - x)`` (so x == threshold gives 0)."""
    if max_value is None and threshold == 0.0:
        return torch.relu(x) if negative_slope == 0.0 else F.leaky_relu(x, negative_slope)
    y = torch.relu(x) if threshold == 0.0 else torch.where(x > threshold, x, torch.zeros_like(x))
    if max_value is not None:
        y = torch.clamp(y, 0.0, max_value)
    if negative_slope != 0.0:
        y = y - negative_slope * torch.relu(threshold - x)
    return y


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


@_activation("glu")
def glu(x, axis=-1):
    """Halves ``x`` along ``axis`` into (a, b) and returns ``a·sigmoid(b)``."""
    return F.glu(x, dim=axis)


@_activation("hard_shrink")
def hard_shrink(x, threshold=0.5):
    return F.hardshrink(x, threshold)


@_activation("soft_shrink")
def soft_shrink(x, threshold=0.5):
    return F.softshrink(x, threshold)


@_activation("sparse_plus")
def sparse_plus(x):
    """0 below -1, ``(x + 1)²/4`` on [-1, 1), x above."""
    return torch.where(x <= -1, torch.zeros_like(x), torch.where(x < 1, 0.25 * (x + 1) ** 2, x))


@_activation("sparse_sigmoid")
def sparse_sigmoid(x):
    """0 below -1, ``(x + 1)/2`` on (-1, 1), 1 above."""
    return torch.clamp(0.5 * (x + 1), 0.0, 1.0)


@_activation("squareplus")
def squareplus(x, b=4):
    return (x + torch.sqrt(x * x + b)) / 2


@_activation("sparsemax")
def sparsemax(x, axis=-1):
    """The Euclidean projection of ``x`` onto the simplex along ``axis`` (Martins & Astudillo)."""
    z, _ = torch.sort(x, dim=axis, descending=True)
    cumsum = torch.cumsum(z, dim=axis)
    shape = [1] * x.dim()
    shape[axis] = -1
    k = torch.arange(1, x.shape[axis] + 1, device=x.device, dtype=x.dtype).view(shape)
    support = z - (cumsum - 1) / k > 0
    size = support.sum(dim=axis, keepdim=True)
    tau = (torch.where(support, cumsum, torch.zeros_like(cumsum)).sum(dim=axis, keepdim=True) - 1) / size
    return torch.clamp(x - tau, min=0.0)


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

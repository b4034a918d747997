"""Keras initializers with Keras's formulas and fan computation.

Every initializer is called with a shape *in Keras's layout* (a Dense kernel is
``(in, out)``, a Conv2D kernel ``(kh, kw, in, out)``) so fans match Keras; the layer
converts the result to its torch layout. A given ``seed`` makes the values
repeatable (the same on every call, as in Keras), drawn from torch's generator.
"""
from __future__ import annotations

import math

import torch

from .errors import SpecError
from .registry import Registry
from .serialization import deserialize, serialize as _serialize

INITIALIZERS = Registry("initializer")


def compute_fans(shape, input_axes=None, output_axes=None) -> tuple[float, float]:
    """Keras's fans: the last two axes are (in, out), the rest is the receptive field.

    Keras ≥ 3.12 lets an initializer name the input and output axes instead.
    """
    shape = tuple(shape)
    if input_axes is not None and output_axes is not None:
        return float(math.prod(shape[a] for a in input_axes)), float(math.prod(shape[a] for a in output_axes))
    if len(shape) == 0:
        return 1.0, 1.0
    if len(shape) == 1:
        return float(shape[0]), float(shape[0])
    if len(shape) == 2:
        return float(shape[0]), float(shape[1])
    receptive = math.prod(shape[:-2])
    return float(shape[-2] * receptive), float(shape[-1] * receptive)


class Initializer:
    """Base: subclasses implement ``_draw(shape, generator)``; config mirrors __init__."""

    def __init__(self, seed=None):
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
            raise SpecError(f"expected an integer seed or null, got {seed!r}", where="seed")
        self.seed = seed

    def __call__(self, shape, dtype=torch.float32) -> torch.Tensor:
        generator = None
        if self.seed is not None:
            generator = torch.Generator().manual_seed(int(self.seed))
        return self._draw(tuple(int(d) for d in shape), generator).to(dtype)

    def _draw(self, shape, generator):  # pragma: no cover - abstract
        raise NotImplementedError

    def get_config(self) -> dict:
        return {"seed": self.seed}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _register(*names):
    return INITIALIZERS.register(*names)


def _truncated_normal(shape, mean, stddev, generator):
    """Normal values redrawn until inside mean ± 2·stddev (as Keras does)."""
    out = torch.empty(shape)
    torch.nn.init.trunc_normal_(out, 0.0, 1.0, -2.0, 2.0, generator=generator)
    return out * stddev + mean


@_register("Zeros", "zeros", "zero")
class Zeros(Initializer):
    def __init__(self):
        super().__init__(None)

    def _draw(self, shape, generator):
        return torch.zeros(shape)

    def get_config(self):
        return {}


@_register("Ones", "ones", "one")
class Ones(Zeros):
    def _draw(self, shape, generator):
        return torch.ones(shape)


@_register("Constant", "constant")
class Constant(Initializer):
    def __init__(self, value=0.0):
        super().__init__(None)
        self.value = value

    def _draw(self, shape, generator):
        return torch.as_tensor(self.value, dtype=torch.float32) * torch.ones(shape)

    def get_config(self):
        return {"value": self.value}


@_register("RandomNormal", "random_normal", "normal")
class RandomNormal(Initializer):
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def _draw(self, shape, generator):
        return torch.randn(shape, generator=generator) * self.stddev + self.mean

    def get_config(self):
        return {"seed": self.seed, "mean": self.mean, "stddev": self.stddev}


@_register("TruncatedNormal", "truncated_normal")
class TruncatedNormal(RandomNormal):
    def _draw(self, shape, generator):
        return _truncated_normal(shape, self.mean, self.stddev, generator)


@_register("RandomUniform", "random_uniform", "uniform")
class RandomUniform(Initializer):
    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        super().__init__(seed)
        self.minval, self.maxval = minval, maxval

    def _draw(self, shape, generator):
        return torch.rand(shape, generator=generator) * (self.maxval - self.minval) + self.minval

    def get_config(self):
        return {"seed": self.seed, "minval": self.minval, "maxval": self.maxval}


_MODES = ("fan_in", "fan_out", "fan_avg")
_DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")


@_register("VarianceScaling", "variance_scaling")
class VarianceScaling(Initializer):
    """scale / fan, then: truncated normal (σ = √s / 0.8796), normal (σ = √s) or uniform (±√(3s)).

    ``distribution="normal"`` means the truncated normal, in Keras 2 and 3 alike.
    """

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None,
                 input_axes=None, output_axes=None):
        super().__init__(seed)
        self.input_axes, self.output_axes = input_axes, output_axes
        if scale <= 0:
            raise SpecError(f"scale must be positive, got {scale}", where="scale")
        if isinstance(distribution, str):
            distribution = distribution.lower()
            distribution = "truncated_normal" if distribution == "normal" else distribution
        if mode not in _MODES:
            raise SpecError(f"mode must be one of {_MODES}, got {mode!r}", where="mode")
        if distribution not in _DISTRIBUTIONS:
            raise SpecError(f"distribution must be one of {_DISTRIBUTIONS}, got {distribution!r}",
                            where="distribution")
        self.scale, self.mode, self.distribution = scale, mode, distribution

    def _draw(self, shape, generator):
        fan_in, fan_out = compute_fans(shape, self.input_axes, self.output_axes)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        scale = self.scale / max(1.0, fan)
        if self.distribution == "truncated_normal":
            return _truncated_normal(shape, 0.0, math.sqrt(scale) / 0.87962566103423978, generator)
        if self.distribution == "untruncated_normal":
            return torch.randn(shape, generator=generator) * math.sqrt(scale)
        limit = math.sqrt(3.0 * scale)
        return torch.rand(shape, generator=generator) * (2 * limit) - limit

    def get_config(self):
        return {"seed": self.seed, "scale": self.scale, "mode": self.mode,
                "distribution": self.distribution, **self._axes_config()}

    def _axes_config(self) -> dict:
        """Only Keras ≥ 3.12 knows these keys, so they are written only when set."""
        if self.input_axes is None and self.output_axes is None:
            return {}
        return {"input_axes": self.input_axes, "output_axes": self.output_axes}


def _fixed_variance_scaling(class_name, alias, scale, mode, distribution):
    """Glorot / He / Lecun: VarianceScaling with fixed arguments and only ``seed`` in config."""

    def __init__(self, seed=None, input_axes=None, output_axes=None):
        VarianceScaling.__init__(self, scale, mode, distribution, seed, input_axes, output_axes)

    def get_config(self):
        return {"seed": self.seed, **self._axes_config()}

    cls = type(class_name, (VarianceScaling,), {"__init__": __init__, "get_config": get_config,
                                                "__doc__": f"VarianceScaling({scale}, {mode}, {distribution})."})
    cls.__module__ = __name__
    INITIALIZERS.register(class_name, alias)(cls)
    return cls


GlorotUniform = _fixed_variance_scaling("GlorotUniform", "glorot_uniform", 1.0, "fan_avg", "uniform")
GlorotNormal = _fixed_variance_scaling("GlorotNormal", "glorot_normal", 1.0, "fan_avg", "truncated_normal")
HeUniform = _fixed_variance_scaling("HeUniform", "he_uniform", 2.0, "fan_in", "uniform")
HeNormal = _fixed_variance_scaling("HeNormal", "he_normal", 2.0, "fan_in", "truncated_normal")
LecunUniform = _fixed_variance_scaling("LecunUniform", "lecun_uniform", 1.0, "fan_in", "uniform")
LecunNormal = _fixed_variance_scaling("LecunNormal", "lecun_normal", 1.0, "fan_in", "truncated_normal")


@_register("Orthogonal", "orthogonal", "OrthogonalInitializer")
class Orthogonal(Initializer):
    """QR of a normal matrix over (prod(shape[:-1]), shape[-1]), signs fixed by diag(R)."""

    def __init__(self, gain=1.0, seed=None):
        super().__init__(seed)
        self.gain = gain

    def _draw(self, shape, generator):
        if len(shape) < 2:
            raise SpecError(f"the orthogonal initializer needs a shape of rank 2 or more, got {shape}")
        rows = math.prod(shape[:-1])
        cols = shape[-1]
        a = torch.randn((max(rows, cols), min(rows, cols)), generator=generator, dtype=torch.float64)
        q, r = torch.linalg.qr(a)
        q = q * torch.sign(torch.diagonal(r))
        if rows < cols:
            q = q.T
        return (self.gain * q.reshape(shape)).float()

    def get_config(self):
        return {"seed": self.seed, "gain": self.gain}


@_register("Identity", "identity", "IdentityInitializer")
class Identity(Initializer):
    def __init__(self, gain=1.0):
        super().__init__(None)
        self.gain = gain

    def _draw(self, shape, generator):
        if len(shape) != 2:
            raise SpecError(f"the identity initializer needs a 2D shape, got {shape}")
        return self.gain * torch.eye(*shape)

    def get_config(self):
        return {"gain": self.gain}


def get(identifier, where: str | None = None) -> Initializer:
    return deserialize(identifier, INITIALIZERS, where)


def serialize(initializer) -> dict | None:
    return _serialize(initializer, "keras.initializers")

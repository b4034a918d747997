"""Learning-rate schedules: the learning rate as a function of the optimizer step.

Each schedule computes in float32 with torch ops, in the order Keras 3 computes
it, so its values (and its float32 quirks at restart boundaries) are Keras's.
A Python-number step gives a Python float and runs on the CPU, never touching
the accelerator; a tensor step gives a tensor on the step's device.
"""
from __future__ import annotations

import math
import numbers

import torch

from ..errors import SpecError
from ..registry import Registry
from ..serialization import deserialize as _deserialize, serialize as _serialize

SCHEDULES = Registry("learning rate schedule")

_MODULE = "keras.optimizers.schedules"


class LearningRateSchedule:
    """Base class: ``schedule(step)`` is the learning rate after ``step`` optimizer steps."""

    def __call__(self, step):
        is_number = isinstance(step, numbers.Number)
        value = self.compute(torch.as_tensor(step))
        return float(value) if is_number else value

    def compute(self, step: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError(f"{type(self).__name__} must define compute(step)")

    def get_config(self) -> dict:
        raise NotImplementedError(f"{type(self).__name__} must define get_config()")

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _float32(value, like: torch.Tensor) -> torch.Tensor:
    return torch.as_tensor(value, dtype=torch.float32, device=like.device)


def _check_positive(name: str, value) -> None:
    if not value > 0:
        raise SpecError(f"`{name}` must be > 0. Received: {name}={value}")


class _StepRatioDecay(LearningRateSchedule):
    """Decay driven by ``p = step / decay_steps`` (floored when ``staircase``); subclasses apply ``p``."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, name=None):
        _check_positive("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name or type(self).__name__

    def _ratio(self, step):
        p = _float32(step, step) / _float32(self.decay_steps, step)
        return torch.floor(p) if self.staircase else p

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "decay_rate": self.decay_rate, "staircase": self.staircase, "name": self.name}


@SCHEDULES.register("ExponentialDecay")
class ExponentialDecay(_StepRatioDecay):
    """``initial_learning_rate · decay_rate^(step / decay_steps)`` (floored exponent if staircase)."""

    def compute(self, step):
        return _float32(self.initial_learning_rate, step) * torch.pow(_float32(self.decay_rate, step),
                                                                      self._ratio(step))


@SCHEDULES.register("PiecewiseConstantDecay")
class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` while ``step <= boundaries[0]``, ``values[i]`` while
    ``boundaries[i-1] < step <= boundaries[i]``, ``values[-1]`` after the last boundary."""

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        if len(boundaries) != len(values) - 1:
            raise SpecError("The length of boundaries should be 1 less than the length of values. "
                            f"Received: boundaries={boundaries} of length {len(boundaries)}, "
                            f"and values={values} of length {len(values)}.")
        self.boundaries = list(boundaries)
        self.values = list(values)
        self.name = name

    def compute(self, step):
        # Boundaries take the step's dtype, as Keras casts them; a sum of masks, as Keras computes it.
        bounds = [torch.as_tensor(b, device=step.device).to(step.dtype) for b in self.boundaries]
        values = [_float32(v, step) for v in self.values]
        result = (step <= bounds[0]).float() * values[0] + (step > bounds[-1]).float() * values[-1]
        for low, high, value in zip(bounds[:-1], bounds[1:], values[1:-1]):
            result = result + ((step > low) & (step <= high)).float() * value
        return result

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


@SCHEDULES.register("PolynomialDecay")
class PolynomialDecay(LearningRateSchedule):
    """``(initial − end)·(1 − step/decay_steps)^power + end``; the step stops at ``decay_steps``,
    or with ``cycle`` the horizon grows to the next multiple of ``decay_steps``."""

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0,
                 cycle=False, name="PolynomialDecay"):
        _check_positive("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name

    def compute(self, step):
        initial = _float32(self.initial_learning_rate, step)
        end = _float32(self.end_learning_rate, step)
        step = _float32(step, step)
        decay_steps = _float32(self.decay_steps, step)
        if self.cycle:
            multiplier = torch.where(step == 0, _float32(1.0, step), torch.ceil(step / self.decay_steps))
            decay_steps = decay_steps * multiplier
        else:
            step = torch.minimum(step, decay_steps)
        p = step / decay_steps
        return (initial - end) * torch.pow(1 - p, _float32(self.power, step)) + end

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "end_learning_rate": self.end_learning_rate, "power": self.power, "cycle": self.cycle,
                "name": self.name}


@SCHEDULES.register("InverseTimeDecay")
class InverseTimeDecay(_StepRatioDecay):
    """``initial_learning_rate / (1 + decay_rate · step / decay_steps)`` (floored ratio if staircase)."""

    def compute(self, step):
        decay = 1 + _float32(self.decay_rate, step) * self._ratio(step)
        return _float32(self.initial_learning_rate, step) / decay


@SCHEDULES.register("CosineDecay")
class CosineDecay(LearningRateSchedule):
    """An optional linear warmup from ``initial_learning_rate`` to ``warmup_target`` over
    ``warmup_steps``, then ``lr₀·((1 − alpha)·½(1 + cos(π·step/decay_steps)) + alpha)``, where
    ``lr₀`` is ``warmup_target`` (or ``initial_learning_rate`` without warmup)."""

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay",
                 warmup_target=None, warmup_steps=0):
        _check_positive("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name
        self.warmup_target = warmup_target
        self.warmup_steps = warmup_steps

    def _decay(self, step, decay_steps, start):
        cosine = 0.5 * (1.0 + torch.cos(_float32(math.pi, step) * (step / decay_steps)))
        return start * ((1 - self.alpha) * cosine + self.alpha)

    def compute(self, step):
        initial = _float32(self.initial_learning_rate, step)
        decay_steps = _float32(self.decay_steps, step)
        step = _float32(step, step)
        if self.warmup_target is None:
            return self._decay(torch.minimum(step, decay_steps), decay_steps, initial)
        target = _float32(self.warmup_target, step)
        warmup_steps = _float32(self.warmup_steps, step)
        step = torch.minimum(step, decay_steps + warmup_steps)
        warmup = (target - initial) * (step / warmup_steps) + initial
        return torch.where(step < warmup_steps, warmup, self._decay(step - warmup_steps, decay_steps, target))

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "alpha": self.alpha, "name": self.name, "warmup_target": self.warmup_target,
                "warmup_steps": self.warmup_steps}


@SCHEDULES.register("CosineDecayRestarts")
class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay (SGDR) restarted after ``first_decay_steps``, each period ``t_mul`` times
    longer and starting ``m_mul`` times lower than the one before."""

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0,
                 name="SGDRDecay"):
        _check_positive("first_decay_steps", first_decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = first_decay_steps
        self.t_mul = t_mul
        self.m_mul = m_mul
        self.alpha = alpha
        self.name = name

    def compute(self, step):
        initial = _float32(self.initial_learning_rate, step)
        alpha = _float32(self.alpha, step)
        t_mul = _float32(self.t_mul, step)
        fraction = _float32(step, step) / _float32(self.first_decay_steps, step)
        if self.t_mul == 1.0:
            restart = torch.floor(fraction)
            fraction = fraction - restart
        else:  # period i lasts t_mul^i: find i from the geometric sum of the periods before it
            restart = torch.floor(torch.log(1.0 - fraction * (1.0 - t_mul)) / torch.log(t_mul))
            done = (1.0 - torch.pow(t_mul, restart)) / (1.0 - t_mul)
            fraction = (fraction - done) / torch.pow(t_mul, restart)
        scale = torch.pow(_float32(self.m_mul, step), restart)
        cosine = 0.5 * scale * (1.0 + torch.cos(_float32(math.pi, step) * fraction))
        return initial * ((1 - alpha) * cosine + alpha)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "first_decay_steps": self.first_decay_steps, "t_mul": self.t_mul,
                "m_mul": self.m_mul, "alpha": self.alpha, "name": self.name}


def serialize(schedule) -> dict:
    """Keras 3's ``{module, class_name, config, registered_name}`` form."""
    return _serialize(schedule, _MODULE)


def deserialize(config, where: str | None = None):
    schedule = _deserialize(config, SCHEDULES, where)
    if not isinstance(schedule, LearningRateSchedule):
        raise SpecError(f"expected a learning rate schedule, got {schedule!r}", where=where)
    return schedule


def get(identifier, where: str | None = None):
    """A schedule from a class name, a ``{class_name, config}`` dict or an instance (``None`` stays)."""
    if identifier is None or isinstance(identifier, LearningRateSchedule):
        return identifier
    return deserialize(identifier, where)

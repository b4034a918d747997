"""Dynamic loss scaling around another optimizer, with Keras 3's rules.

float16 gradients underflow to zero long before float32 ones do; multiplying the loss
by a large scale keeps them representable, and the update divides it back out:

- ``scale_loss(loss)`` returns ``loss · scale``;
- ``apply()`` checks every gradient for inf/NaN. All finite: the inner optimizer steps
  on ``g / scale``, then the counter grows, and after ``dynamic_growth_steps`` finite
  steps in a row the scale doubles (the counter restarts). Any non-finite: no update at
  all (the inner optimizer's step count stays too), the scale halves, the counter restarts.

The scale and the counter are Python numbers: the one host sync a step needs is reading
the finite check, which decides whether the update runs.
"""
from __future__ import annotations

import numpy as np
import torch

from ..errors import SpecError, WeightsError
from .base import OPTIMIZERS, Optimizer

# Base-optimizer arguments Keras accepts only at their defaults (they belong on the inner optimizer).
_INNER_ONLY = {"weight_decay": None, "clipnorm": None, "global_clipnorm": None, "clipvalue": None,
               "use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None,
               "loss_scale_factor": None, "gradient_accumulation_steps": None, "learning_rate": None}


@OPTIMIZERS.register("LossScaleOptimizer")
class LossScaleOptimizer(Optimizer):
    def __init__(self, inner_optimizer, initial_scale=2.0 ** 15, dynamic_growth_steps=2000, name=None,
                 **kwargs):
        from . import get
        if not kwargs.pop("dynamic", True):
            raise SpecError("LossScaleOptimizer no longer supports `dynamic=False`", where="dynamic",
                            hint="set `loss_scale_factor` on the inner optimizer for a fixed scale")
        for key, default in _INNER_ONLY.items():
            if key in kwargs and kwargs.pop(key) != default:
                raise SpecError(f"LossScaleOptimizer does not support `{key}`", where=key,
                                hint=f"set `{key}` on the `inner_optimizer`")
        if kwargs:
            raise SpecError(f"unknown LossScaleOptimizer argument '{next(iter(kwargs))}'", where=next(iter(kwargs)))
        if not (isinstance(dynamic_growth_steps, int) and dynamic_growth_steps >= 1):
            raise SpecError(f"`dynamic_growth_steps` must be a positive integer. "
                            f"Received: dynamic_growth_steps={dynamic_growth_steps!r}", where="dynamic_growth_steps")
        super().__init__(learning_rate=0.0, name=name)
        self.inner_optimizer = get(inner_optimizer, where="inner_optimizer")
        self.inner_optimizer.loss_scale_factor = None
        self.initial_scale = initial_scale
        self.dynamic_growth_steps = dynamic_growth_steps
        self.dynamic_scale = float(np.float32(initial_scale))  # Keras keeps it in a float32 variable
        self.step_counter = 0

    # -- what the trainer and callbacks read: the inner optimizer's ------------------------------

    @property
    def iterations(self) -> int:
        return self.inner_optimizer.iterations

    @property
    def learning_rate(self):
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        self.inner_optimizer.learning_rate = value

    # -- the step --------------------------------------------------------------------------------

    def build(self, params, names=None) -> None:
        if self.built:
            return
        self.inner_optimizer.build(params, names=names)
        super().build(params, names=names)

    def scale_loss(self, loss):
        return loss * self.dynamic_scale

    @torch.no_grad()
    def apply(self, grads=None) -> None:
        if not self.built:
            raise ValueError("Call `optimizer.build(params)` before `optimizer.apply()`.")
        grads = [p.grad for p in self._params] if grads is None else list(grads)
        present = [i for i, g in enumerate(grads) if g is not None]
        if not _all_finite([grads[i] for i in present]):
            self.step_counter = 0
            self.dynamic_scale *= 0.5
            return
        unscaled = [None] * len(grads)
        for i, g in zip(present, torch._foreach_div([grads[i] for i in present], self.dynamic_scale)):
            unscaled[i] = g
        self.inner_optimizer.apply(unscaled)
        if self.step_counter == self.dynamic_growth_steps - 1:
            self.step_counter = 0
            self.dynamic_scale *= 2.0
        else:
            self.step_counter += 1

    @torch.no_grad()
    def finalize_variable_values(self, var_list=None) -> None:
        self.inner_optimizer.finalize_variable_values(var_list)

    # -- state -----------------------------------------------------------------------------------

    @property
    def variables(self) -> list[torch.Tensor]:
        """Keras's order: this optimizer's iterations and learning rate (never used), the step
        counter and the scale, then the inner optimizer's variables."""
        own = super().variables
        if self.built:
            own += [torch.tensor(self.step_counter, dtype=torch.int64),
                    torch.tensor(self.dynamic_scale, dtype=torch.float32)]
        return own + self.inner_optimizer.variables

    @torch.no_grad()
    def set_weights(self, weights) -> None:
        if not self.built:
            raise ValueError("Call `optimizer.build(params)` before `set_weights()`.")
        weights = list(weights)
        if len(weights) != len(self.variables):
            raise WeightsError(f"LossScaleOptimizer has {len(self.variables)} variables; got {len(weights)} values")
        self._iterations = int(weights[0])
        self.step_counter = int(weights[2])
        self.dynamic_scale = float(weights[3])
        self.inner_optimizer.set_weights(weights[4:])

    def get_state(self) -> dict:
        return {"iterations": self._iterations, "step_counter": self.step_counter,
                "dynamic_scale": self.dynamic_scale, "inner_optimizer": self.inner_optimizer.get_state()}

    @torch.no_grad()
    def set_state(self, state: dict) -> None:
        if not self.built:
            raise ValueError("Call `optimizer.build(params)` before `set_state()`.")
        expected = {"iterations", "step_counter", "dynamic_scale", "inner_optimizer"}
        if set(state) != expected:
            raise WeightsError(f"LossScaleOptimizer state does not fit: missing {sorted(expected - set(state))}, "
                               f"unexpected {sorted(set(state) - expected)}")
        self.inner_optimizer.set_state(state["inner_optimizer"])
        self._iterations = int(state["iterations"])
        self.step_counter = int(state["step_counter"])
        self.dynamic_scale = float(state["dynamic_scale"])

    # -- config ----------------------------------------------------------------------------------

    def get_config(self) -> dict:
        from . import serialize
        return {"name": self.name, "inner_optimizer": serialize(self.inner_optimizer),
                "initial_scale": self.initial_scale, "dynamic_growth_steps": self.dynamic_growth_steps}

    @classmethod
    def from_config(cls, config: dict):
        from . import deserialize
        config = dict(config)
        if "inner_optimizer" not in config:
            raise SpecError("LossScaleOptimizer needs an `inner_optimizer`", where="inner_optimizer")
        inner = deserialize(config.pop("inner_optimizer"), where="inner_optimizer")
        return cls(inner, **config)

    def __repr__(self) -> str:
        return f"<LossScaleOptimizer name={self.name!r} inner={self.inner_optimizer!r}>"


def wrap_for_policy(model, optimizer):
    """What Keras's ``compile(auto_scale_loss=True)`` does: a model computing in float16 under
    a mixed policy trains through a LossScaleOptimizer."""
    from ..mixed_precision.autocast import model_policy
    if optimizer is None or isinstance(optimizer, LossScaleOptimizer):
        return optimizer
    if model_policy(model).name != "mixed_float16":
        return optimizer
    return LossScaleOptimizer(optimizer, name="loss_scale_optimizer")


def _all_finite(grads) -> bool:
    """Whether no gradient holds an inf or a NaN (max |g| per tensor, NaN propagating)."""
    if not grads:
        return True
    peaks = torch._foreach_norm(grads, float("inf"))
    return bool(torch.stack([p.float() for p in peaks]).isfinite().all())

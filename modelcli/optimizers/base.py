"""The optimizer base: Keras 3's step semantics over a list of torch parameters.

One ``apply()`` follows Keras's order: drop parameters without a gradient,
unscale (``loss_scale_factor``), accumulate (``gradient_accumulation_steps``),
clip (``clipnorm``, else ``global_clipnorm``, else ``clipvalue``), decay the
weights (``w ← w·(1 − weight_decay·lr)``, decoupled from the gradient), run the
subclass's update, update the moving average (``use_ema``), count the step.

Everything that depends on the step count is computed on the host from a
Python ``int``, so a step never waits for the accelerator; the tensor work is
``torch._foreach_*`` ops over all parameters at once. Those step-dependent
factors are computed in float32 with torch's CPU ops, as Keras computes them:
``1 − β₂ᵗ`` loses digits in float32 and Keras's updates carry that loss.

Slot variables (momentums, velocities...) are tensors shaped like their
parameter, in the parameter's torch layout. A subclass names them in groups
(``slot_groups``) whose order gives Keras's variable order: the groups one after
another, the names of a group interleaved per parameter.
"""
from __future__ import annotations

import inspect
import numbers
import re
import warnings

import numpy as np
import torch

from ..backend import snake_case, unique_name
from ..errors import SpecError, WeightsError, did_you_mean
from ..registry import Registry
from . import schedules as _schedules

OPTIMIZERS = Registry("optimizer")

# Keys Keras 2 (tf.keras) wrote that change nothing here.
_HARMLESS_KERAS2_KEYS = ("jit_compile", "is_legacy_optimizer")


class Optimizer:
    """Subclasses set ``slot_groups`` (or override ``_slot_groups``) and write ``update_step``."""

    slot_groups: tuple[tuple[str, ...], ...] = ()
    scalar_names: tuple[str, ...] = ()  # per-optimizer numbers kept in the state (Nadam's u_product)
    # True when every number that changes from step to step reaches the update through ``_factor``,
    # so a captured training step (trainer/step_capture.py) can feed it from device tensors.
    graph_safe = False
    _device_factors = None  # {name: 0-d tensor} while a captured step's update is being recorded

    def __init__(self, learning_rate, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None,
                 loss_scale_factor=None, gradient_accumulation_steps=None, name=None):
        clips = {"clipnorm": clipnorm, "clipvalue": clipvalue, "global_clipnorm": global_clipnorm}
        if sum(v is not None for v in clips.values()) > 1:
            given = ", ".join(f"{k}={v}" for k, v in clips.items())
            raise SpecError(f"Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. "
                            f"Received: {given}")
        if gradient_accumulation_steps is not None and not (
                isinstance(gradient_accumulation_steps, int) and gradient_accumulation_steps >= 2):
            raise SpecError("`gradient_accumulation_steps` must be an integer >= 2. "
                            f"Received: gradient_accumulation_steps={gradient_accumulation_steps}")
        if use_ema:
            if not 0 <= ema_momentum <= 1:
                raise SpecError(f"`ema_momentum` must be in the range [0, 1]. "
                                f"Received: ema_momentum={ema_momentum}")
            if ema_overwrite_frequency is not None and not (
                    isinstance(ema_overwrite_frequency, int) and ema_overwrite_frequency >= 1):
                raise SpecError("`ema_overwrite_frequency` must be an integer >= 1 or None. "
                                f"Received: ema_overwrite_frequency={ema_overwrite_frequency}")
        self.name = name if name is not None else unique_name(snake_case(type(self).__name__))
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        self.use_ema = bool(use_ema)
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self._learning_rate = _check_learning_rate(learning_rate)
        self._iterations = 0
        self._params: list[torch.Tensor] = []
        self._slots: dict[str, list[torch.Tensor]] = {}
        self._excluded_ids: set[int] = set()
        self._excluded_pattern = None
        self._decayed: list[bool] = []
        self.built = False

    # -- step count and learning rate ---------------------------------------------------------

    @property
    def iterations(self) -> int:
        """Optimizer steps taken; with gradient accumulation, the number of weight updates."""
        if self.gradient_accumulation_steps:
            return StepCount(self._iterations // self.gradient_accumulation_steps)
        return StepCount(self._iterations)

    @property
    def learning_rate(self) -> float:
        """The learning rate now: the float, or the schedule's value at the step count."""
        if isinstance(self._learning_rate, _schedules.LearningRateSchedule):
            return LearningRate(self._learning_rate(self._iterations), self)
        return LearningRate(self._learning_rate, self)

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        if not isinstance(value, _schedules.LearningRateSchedule) and isinstance(
                self._learning_rate, _schedules.LearningRateSchedule):
            raise TypeError("This optimizer was created with a LearningRateSchedule as its "
                            "`learning_rate`, hence its learning rate is not settable; create it "
                            "with a float `learning_rate` to set it.")
        self._learning_rate = _check_learning_rate(value)

    # -- building ---------------------------------------------------------------------------

    def _slot_groups(self) -> tuple[tuple[str, ...], ...]:
        return self.slot_groups

    def _slot_initial_value(self, name: str) -> float:
        return 0.0

    def _scalar_initial_value(self, name: str) -> float:
        return 0.0

    def _all_slot_groups(self) -> list[tuple[str, ...]]:
        groups = []
        if self.use_ema:
            groups.append(("average",))
        if self.gradient_accumulation_steps:
            groups.append(("gradient_accumulator",))
        return groups + list(self._slot_groups())

    def build(self, params, names=None) -> None:
        """Create the slot variables for ``params`` (the model's trainable weights, in order).

        ``names`` (Keras weight names such as ``"kernel"``) lets
        ``exclude_from_weight_decay(var_names=...)`` match by name.
        """
        if self.built:
            return
        self._params = list(params)
        for i, p in enumerate(self._params):
            if not (isinstance(p, torch.Tensor) and p.is_floating_point()):
                raise TypeError(f"optimizer.build expects floating-point torch tensors; "
                                f"parameter {i} is {type(p).__name__}")
        names = list(names) if names is not None else [""] * len(self._params)
        with torch.no_grad():
            for group in self._all_slot_groups():
                for slot in group:
                    self._slots[slot] = [torch.full_like(p, self._slot_initial_value(slot),
                                                         memory_format=torch.preserve_format)
                                         for p in self._params]
        for scalar in self.scalar_names:
            setattr(self, scalar, self._scalar_initial_value(scalar))
        pattern = self._excluded_pattern
        self._decayed = [id(p) not in self._excluded_ids and not (pattern and pattern.search(n))
                         for p, n in zip(self._params, names)]
        self.built = True

    def exclude_from_weight_decay(self, var_list=None, var_names=None) -> None:
        """Keep weight decay off the given parameters, or off those whose name contains any of
        ``var_names`` (names come from ``build(params, names)``). Call before ``build``."""
        if self.built:
            raise ValueError("`exclude_from_weight_decay()` can only be configured before the "
                             "optimizer is built.")
        self._excluded_ids = {id(p) for p in var_list or ()}
        self._excluded_pattern = re.compile("|".join(set(var_names))) if var_names else None

    # -- one step -----------------------------------------------------------------------------

    def scale_loss(self, loss):
        """Multiply the loss by ``loss_scale_factor`` (``apply`` divides the gradients back)."""
        return loss * self.loss_scale_factor if self.loss_scale_factor is not None else loss

    @torch.no_grad()
    def apply(self, grads=None) -> None:
        """One optimizer step from ``grads`` (one per built parameter, ``None`` to skip one), or
        from each parameter's ``.grad``. The given gradients are never modified."""
        if not self.built:
            raise ValueError("Call `optimizer.build(params)` before `optimizer.apply()`.")
        if grads is None:
            grads = [p.grad for p in self._params]  # autograd keeps .grad in the parameter's dtype
        elif len(grads) != len(self._params):
            raise ValueError(f"optimizer.apply got {len(grads)} gradients for the "
                             f"{len(self._params)} parameters it was built with.")
        else:
            grads = [g if g is None or g.dtype == p.dtype else g.to(p.dtype)
                     for g, p in zip(grads, self._params)]
        params, slots, decayed = self._params, self._slots, self._decayed
        if any(g is None for g in grads):
            index = [i for i, g in enumerate(grads) if g is not None]
            if not index:
                raise ValueError("No gradients provided for any variable.")
            warnings.warn(f"Gradients do not exist for {len(grads) - len(index)} of "
                          f"{len(grads)} parameters; they are not updated.", stacklevel=2)
            grads = [grads[i] for i in index]
            params = [params[i] for i in index]
            slots = {name: [values[i] for i in index] for name, values in slots.items()}
            decayed = [decayed[i] for i in index]
        if self.loss_scale_factor is not None:
            grads = torch._foreach_div(grads, self.loss_scale_factor)

        steps = self.gradient_accumulation_steps
        if steps:
            accumulated = slots["gradient_accumulator"]
            if (self._iterations + 1) % steps == 0:
                grads = torch._foreach_div(torch._foreach_add(grads, accumulated), steps)
                self._update(grads, params, slots, decayed)
                torch._foreach_zero_(accumulated)
            else:
                torch._foreach_add_(accumulated, grads)
        else:
            self._update(grads, params, slots, decayed)
        if self.use_ema:
            self._update_moving_average()
        self._iterations += 1

    def apply_gradients(self, grads_and_vars) -> int:
        """Keras's ``apply_gradients(zip(grads, params))``; builds on first use."""
        grads_and_vars = list(grads_and_vars)
        if not self.built:
            self.build([v for _, v in grads_and_vars])
        position = {id(p): i for i, p in enumerate(self._params)}
        grads = [None] * len(self._params)
        for g, v in grads_and_vars:
            if id(v) not in position:
                raise ValueError("This optimizer can only be called for the parameters it was "
                                 "built with.")
            grads[position[id(v)]] = g
        self.apply(grads)
        return self._iterations

    def _update(self, grads, params, slots, decayed) -> None:
        lr = self.learning_rate
        if any(g.is_sparse for g in grads):
            self._update_sparse_rows(grads, params, slots, lr)
            return
        grads = self._clip(grads)
        if self.weight_decay:
            to_decay = params if all(decayed) else [p for p, d in zip(params, decayed) if d]
            if to_decay:
                torch._foreach_mul_(to_decay, self._factor("decay", lr))
        self.update_step(grads, params, slots, lr)

    # -- row-sparse gradients (trainer/sparse_rows.py) ---------------------------------------------

    def supports_sparse_rows(self) -> bool:
        """Whether a row-sparse gradient can be applied exactly as its dense form would be: the
        update must leave a parameter alone where its gradient is zero, and nothing may need the
        whole gradient (clipping, weight decay, loss scaling, accumulation)."""
        return self._exact_on_zero_gradient() and not (
            self.clipnorm or self.clipvalue or self.global_clipnorm or self.weight_decay
            or self.loss_scale_factor or self.gradient_accumulation_steps)

    def _exact_on_zero_gradient(self) -> bool:
        """True where the subclass writes ``sparse_update_step`` and, with these settings, rows
        whose gradient is zero keep their weights (a slot may still decay, as RMSprop's does)."""
        return False

    def sparse_update_step(self, rows, values, param, slots, lr) -> None:
        """Keras's update of ``param`` for a gradient that is ``values`` on ``rows`` (unique) and
        zero elsewhere; ``slots[name]`` is the parameter's slot tensor."""
        raise NotImplementedError

    def _update_sparse_rows(self, grads, params, slots, lr) -> None:
        if not self.supports_sparse_rows():
            raise ValueError(f"{type(self).__name__} with these settings cannot apply a sparse gradient; "
                             "pass dense gradients (F.embedding(..., sparse=False))")
        dense = [i for i, g in enumerate(grads) if not g.is_sparse]
        if dense:
            self.update_step(*_pick(dense, grads, params, slots), lr)
        for i, g in enumerate(grads):
            if g.is_sparse:
                g = g.coalesce()
                self.sparse_update_step(g.indices()[0], g.values(), params[i],
                                        {name: values[i] for name, values in slots.items()}, lr)

    # -- numbers that change from step to step ---------------------------------------------------

    def _factor_names(self) -> tuple[str, ...]:
        return ("lr", "decay") if self.weight_decay else ("lr",)

    def step_factors(self) -> dict[str, float]:
        """The next step's step-dependent numbers, computed on the host in Keras's float32.

        A captured step writes them into device tensors before each replay: a Python
        float would be frozen into the CUDA graph at its capture-time value."""
        lr = self.learning_rate
        return {name: getattr(self, f"_{name}_factor")(lr) for name in self._factor_names()}

    def _factor(self, name, lr):
        """``name``'s value this step: the host float, or the device tensor a captured step feeds."""
        device = self._device_factors
        return device[name] if device is not None else getattr(self, f"_{name}_factor")(lr)

    def _lr_factor(self, lr) -> float:
        return float(lr)

    def _decay_factor(self, lr) -> float:
        # w ← w·(1 − weight_decay·lr), the factor rounded to float32 as Keras computes it
        return float(1 - self.weight_decay * float32(lr))

    def _clip(self, grads):
        if self.clipnorm and self.clipnorm > 0:
            # g·c / max(‖g‖, c), each gradient on its own
            norms = torch.sqrt(torch.stack(_sums_of_squares(grads))).unbind()
            return torch._foreach_div(torch._foreach_mul(grads, self.clipnorm),
                                      torch._foreach_clamp_min(norms, self.clipnorm))
        if self.global_clipnorm and self.global_clipnorm > 0:
            # g·c·min(1/‖G‖, 1/c) over the norm of all gradients; a non-finite norm makes it NaN
            norm = torch.sqrt(torch.sum(torch.stack(_sums_of_squares(grads))))
            c = self.global_clipnorm
            scale = c * torch.clamp_max(1.0 / norm, 1.0 / c) + (norm - norm)
            return torch._foreach_mul(grads, scale)
        if self.clipvalue and self.clipvalue > 0:
            clipped = torch._foreach_clamp_min(grads, -self.clipvalue)
            torch._foreach_clamp_max_(clipped, self.clipvalue)
            return clipped
        return grads

    def update_step(self, grads, params, slots, lr) -> None:
        """Update ``params`` in place from ``grads``; ``slots[name]`` lists their slot tensors."""
        raise NotImplementedError

    def _update_moving_average(self) -> None:
        # average ← m·average + (1 − m)·w, with m = 0 on the first step
        momentum = float32(self.ema_momentum if self.iterations != 0 else 0.0)
        averages = self._slots["average"]
        torch._foreach_mul_(averages, float(momentum))
        torch._foreach_add_(averages, torch._foreach_mul(self._params, float(1 - momentum)))
        if self.ema_overwrite_frequency and (self.iterations + 1) % self.ema_overwrite_frequency == 0:
            torch._foreach_copy_(self._params, averages)

    @torch.no_grad()
    def finalize_variable_values(self, var_list=None) -> None:
        """With ``use_ema``, overwrite the parameters with their moving averages (end of fit)."""
        if self.use_ema and self.built:
            torch._foreach_copy_(self._params, self._slots["average"])

    # -- state ----------------------------------------------------------------------------------

    @property
    def variables(self) -> list[torch.Tensor]:
        """Keras's ``optimizer.variables`` order: iterations, the learning rate (when a float),
        the slots (shaped like the torch parameters), then any scalar state. The first two and
        the scalars are fresh tensors; the slots are the live ones."""
        values = [torch.tensor(self._iterations, dtype=torch.int64)]
        if not isinstance(self._learning_rate, _schedules.LearningRateSchedule):
            values.append(torch.tensor(self._learning_rate, dtype=torch.float32))
        for group in self._all_slot_groups() if self.built else ():
            for i in range(len(self._params)):
                values.extend(self._slots[name][i] for name in group)
        values.extend(torch.tensor(getattr(self, s), dtype=torch.float32) for s in self.scalar_names
                      if self.built)
        return values

    @torch.no_grad()
    def set_weights(self, weights) -> None:
        """Assign values in the order of ``variables`` (e.g. arrays Keras saved for this optimizer)."""
        if not self.built:
            raise ValueError("Call `optimizer.build(params)` before `set_weights()`.")
        current = self.variables
        if len(weights) != len(current):
            raise WeightsError(f"{type(self).__name__} has {len(current)} variables; "
                               f"got {len(weights)} values")
        weights = list(weights)
        for k, (var, value) in enumerate(zip(current, weights)):
            value = torch.as_tensor(value)
            if tuple(value.shape) != tuple(var.shape):
                raise WeightsError(f"optimizer variable {k} has shape {tuple(var.shape)}; "
                                   f"got {tuple(value.shape)}")
        self._iterations = int(weights.pop(0))
        if not isinstance(self._learning_rate, _schedules.LearningRateSchedule):
            self._learning_rate = float(weights.pop(0))
        for group in self._all_slot_groups():
            for i in range(len(self._params)):
                for name in group:
                    self._slots[name][i].copy_(torch.as_tensor(weights.pop(0)))
        for scalar in self.scalar_names:
            setattr(self, scalar, float(weights.pop(0)))

    def get_state(self) -> dict:
        """A copy of everything a resumed run needs: ``iterations``, ``learning_rate`` (when a
        float), each slot as a list of tensors, the scalar state."""
        state = {"iterations": self._iterations}
        if not isinstance(self._learning_rate, _schedules.LearningRateSchedule):
            state["learning_rate"] = self._learning_rate
        for name, values in self._slots.items():
            state[name] = [v.detach().clone() for v in values]
        for scalar in self.scalar_names if self.built else ():
            state[scalar] = getattr(self, scalar)
        return state

    @torch.no_grad()
    def set_state(self, state: dict) -> None:
        """Restore ``get_state()``'s values (tensors or arrays); the optimizer must be built."""
        if not self.built:
            raise ValueError("Call `optimizer.build(params)` before `set_state()`.")
        expected = set(self._slots) | set(self.scalar_names) | {"iterations"}
        missing = expected - set(state)
        unknown = set(state) - expected - {"learning_rate"}
        if missing or unknown:
            raise WeightsError(f"{type(self).__name__} state does not fit: missing {sorted(missing)}, "
                               f"unexpected {sorted(unknown)}")
        for name in self._slots:
            values = state[name]
            if len(values) != len(self._params):
                raise WeightsError(f"state '{name}' has {len(values)} tensors for "
                                   f"{len(self._params)} parameters")
            for i, (slot, value) in enumerate(zip(self._slots[name], values)):
                value = torch.as_tensor(value)
                if tuple(value.shape) != tuple(slot.shape):
                    raise WeightsError(f"state '{name}'[{i}] has shape {tuple(value.shape)}; "
                                       f"the parameter has {tuple(slot.shape)}")
        for name in self._slots:
            for slot, value in zip(self._slots[name], state[name]):
                slot.copy_(torch.as_tensor(value))
        self._iterations = int(state["iterations"])
        if "learning_rate" in state and not isinstance(self._learning_rate,
                                                       _schedules.LearningRateSchedule):
            self._learning_rate = float(state["learning_rate"])
        for scalar in self.scalar_names:
            setattr(self, scalar, float(state[scalar]))

    # -- config ---------------------------------------------------------------------------------

    def get_config(self) -> dict:
        if isinstance(self._learning_rate, _schedules.LearningRateSchedule):
            learning_rate = _schedules.serialize(self._learning_rate)
        else:
            learning_rate = self._learning_rate
        return {
            "name": self.name,
            "learning_rate": learning_rate,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
            "use_ema": self.use_ema,
            "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
            "loss_scale_factor": self.loss_scale_factor,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
        }

    @classmethod
    def from_config(cls, config: dict):
        """Build from a Keras 3 config, or a Keras 2 one (``lr``, ``decay``, ``jit_compile``...)."""
        config = _upgrade_keras2(cls, dict(config))
        known = _init_arguments(cls)
        for key in config:
            if key not in known:
                hint = did_you_mean(key, sorted(known))
                raise SpecError(f"unknown {cls.__name__} argument '{key}'", where=key, hint=hint)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = _schedules.deserialize(config["learning_rate"], "learning_rate")
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} learning_rate={self._learning_rate!r}>"


def float32(value) -> torch.Tensor:
    """A CPU float32 scalar, for computing a step's factors in Keras's precision."""
    return torch.tensor(value, dtype=torch.float32)


def addcdiv_(targets, numerators, denominators, factor) -> None:
    """``targets += factor · numerators / denominators`` over lists of tensors.

    ``factor`` is a float in an eager step; in a captured one it is a device tensor, which
    ``addcdiv``'s ``value`` cannot take, so the numerators are scaled first. On the CPU that is
    bit for bit the same (its kernel computes ``value·t1/t2`` in that order; tests/test_step_capture.py
    checks it). CUDA's kernel rounds the fused form differently, so on CUDA the eager step scales
    first too: eager and captured steps then give the same bits, and a run that resumes (its first
    steps eager) continues exactly as the uninterrupted one."""
    if _scales_first(targets, factor):
        torch._foreach_addcdiv_(targets, torch._foreach_mul(numerators, factor), denominators)
    else:
        torch._foreach_addcdiv_(targets, numerators, denominators, value=factor)


def add_scaled_(targets, values, factor) -> None:
    """``targets += factor · values`` over lists of tensors. ``alpha`` takes no device tensor (a
    captured step's factor), so there the product is formed first; on CUDA the eager step does the
    same, so both give the same bits (on the CPU it keeps the fused op, as Keras's torch backend runs it)."""
    if _scales_first(targets, factor):
        torch._foreach_add_(targets, torch._foreach_mul(values, factor))
    else:
        torch._foreach_add_(targets, values, alpha=factor)


def _scales_first(targets, factor) -> bool:
    """Whether an update multiplies by ``factor`` in an op of its own: a captured step's device-tensor
    factor needs it, and eager steps on CUDA do the same to round as the captured ones do."""
    return isinstance(factor, torch.Tensor) or bool(targets and targets[0].is_cuda)


def _pick(index, grads, params, slots):
    """``update_step``'s arguments restricted to the weights at ``index``."""
    return ([grads[i] for i in index], [params[i] for i in index],
            {name: [values[i] for i in index] for name, values in slots.items()})


def _sums_of_squares(grads) -> list[torch.Tensor]:
    # Σg² per gradient with torch.sum, as Keras sums (torch._foreach_norm rounds differently).
    return [s.sum() for s in torch._foreach_mul(grads, grads)]


class LearningRate(float):
    """``optimizer.learning_rate`` as read: a float that also answers the calls Keras code makes
    on Keras's learning-rate variable, ``assign(value)`` (sets the optimizer's rate) and ``numpy()``."""

    __slots__ = ("_optimizer",)

    def __new__(cls, value, optimizer):
        self = super().__new__(cls, value)
        self._optimizer = optimizer
        return self

    def assign(self, value):
        self._optimizer.learning_rate = value

    def numpy(self):
        return np.float32(self)


class StepCount(int):
    """``optimizer.iterations`` as read: an int with the ``numpy()`` of Keras's step variable."""

    __slots__ = ()

    def numpy(self):
        return np.int64(self)


def _check_learning_rate(value):
    if isinstance(value, _schedules.LearningRateSchedule):
        return value
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise SpecError("`learning_rate` should be a float or a LearningRateSchedule. "
                        f"Received: learning_rate={value!r}")
    return float(value)


def _init_arguments(cls) -> set[str]:
    names = set()
    for klass in cls.__mro__:
        if "__init__" in vars(klass):
            names |= {p for p in inspect.signature(klass.__init__).parameters if p != "self"}
    return names - {"args", "kwargs"}


def _upgrade_keras2(cls, config: dict) -> dict:
    """Keras 2 spellings to Keras 3 ones; a Keras 2 setting whose meaning we lack is refused."""
    for key in _HARMLESS_KERAS2_KEYS:
        config.pop(key, None)
    if "lr" in config:
        if "learning_rate" in config:
            raise SpecError("both `lr` and `learning_rate` are given", where="lr")
        config["learning_rate"] = config.pop("lr")
    decay = config.pop("decay", None)
    if decay:
        raise SpecError(f"Keras 2's learning-rate `decay` ({decay}) is not supported", where="decay",
                        hint="use learning_rate=InverseTimeDecay(initial_learning_rate=lr, "
                             f"decay_steps=1, decay_rate={decay}), which is the same schedule")
    if "schedule_decay" in config:
        raise SpecError("Keras 2's Nadam `schedule_decay` follows another momentum schedule than "
                        "Keras 3's Nadam", where="schedule_decay",
                        hint="remove it to train with Keras 3's Nadam")
    if config.get("epsilon", 0.0) is None:  # Keras 2.0-2.2 wrote None for the backend's 1e-7
        config["epsilon"] = 1e-7
    return config

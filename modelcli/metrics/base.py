"""The ``Metric`` base class: state that accumulates over the batches of an epoch.

State lives in torch tensors created by ``add_variable``. They move to the device
of the first batch they see and are updated in place there, so ``update_state``
never waits for the device (no ``.item()``, no Python branch on a tensor value);
``result()`` returns a tensor on that device, read once when the epoch's logs are written.
"""
from __future__ import annotations

import torch

from .. import backend
from ..errors import SpecError
from ..registry import Registry

METRICS = Registry("metric")
METRIC_FUNCTIONS = Registry("metric function")


def metric_function(fn):
    """Record a metric function by name, so a ``MeanMetricWrapper`` of it can be saved and read back."""
    return METRIC_FUNCTIONS.register(fn.__name__)(fn)


def function_named(identifier, where: str | None = None):
    """A metric or loss function from its name or Keras 3's ``{class_name: "function", config: name}``."""
    from .. import losses

    name = identifier.get("config") if isinstance(identifier, dict) else identifier
    if isinstance(name, str) and name in METRIC_FUNCTIONS:
        return METRIC_FUNCTIONS.get(name)
    fn = losses.get(name, where) if isinstance(name, str) else None
    if not callable(fn) or isinstance(fn, losses.Loss):
        raise SpecError(f"expected the name of a metric or loss function, got {name!r}", where=where)
    return fn


def function_name(fn) -> dict:
    """Keras 3's form of a built-in function: ``{module: builtins, class_name: function, config: name}``."""
    from .. import losses

    name = getattr(fn, "__name__", None)
    known = (name in METRIC_FUNCTIONS and METRIC_FUNCTIONS.get(name) is fn) or (
        name in losses.LOSSES and losses.LOSSES.get(name) is fn)
    if not known:
        raise SpecError(f"{fn!r} is not a Keras metric or loss function and cannot be saved by name")
    return {"module": "builtins", "class_name": "function", "config": name, "registered_name": "function"}


@METRICS.register("Metric")
class Metric:
    """Subclasses create state in ``__init__`` with ``add_variable`` and define
    ``update_state(y_true, y_pred, sample_weight=None)`` and ``result()``."""

    @property
    def concatenable(self) -> bool:
        """Whether one update with several batches concatenated equals an update with each in turn
        (the fit loop then updates a few dozen steps at once). True for modelcli's own metrics,
        whose state is a sum over samples; a user's subclass is updated batch by batch, as Keras does."""
        return type(self).__module__.startswith("modelcli.")

    def __init__(self, dtype=None, name=None):
        self.name = name or backend.unique_name(backend.snake_case(type(self).__name__))
        self._dtype = dtype or backend.floatx()
        self._torch_dtype = backend.torch_dtype(self._dtype)
        self._variable_names: list[str] = []
        self._constant_names: list[str] = []
        self._updated = False

    @property
    def dtype(self) -> str:
        return self._dtype

    def add_variable(self, shape, name: str, dtype: torch.dtype | None = None) -> torch.Tensor:
        """A zero state tensor kept as ``self.<name>``; ``reset_state`` zeroes it again."""
        device = getattr(self, name).device if hasattr(self, name) else None
        value = torch.zeros(tuple(shape), dtype=dtype or self._torch_dtype, device=device)
        setattr(self, name, value)
        if name not in self._variable_names:
            self._variable_names.append(name)
        return value

    def add_constant(self, value, name: str) -> torch.Tensor:
        """A fixed tensor (thresholds, label weights) kept as ``self.<name>`` beside the state."""
        value = torch.as_tensor(value, dtype=self._torch_dtype)
        setattr(self, name, value)
        self._constant_names.append(name)
        return value

    @property
    def variables(self) -> list[torch.Tensor]:
        return [getattr(self, name) for name in self._variable_names]

    def _place(self, device: torch.device) -> None:
        """Put the state on ``device`` before an update: a metadata check, and at most one move.

        State that has not been updated since the last reset is still zero, so it is
        created on the device rather than copied there.
        """
        for name in self._variable_names:
            value = getattr(self, name)
            if value.device != device:
                setattr(self, name, value.to(device) if self._updated else torch.zeros_like(value, device=device))
        for name in self._constant_names:
            value = getattr(self, name)
            if value.device != device:
                setattr(self, name, value.to(device))
        self._updated = True

    def update_state(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must implement update_state")

    def result(self):
        raise NotImplementedError(f"{type(self).__name__} must implement result")

    def reset_state(self) -> None:
        for value in self.variables:
            value.zero_()
        self._updated = False

    def __call__(self, *args, **kwargs):
        """Update with one batch and return the running result (as Keras's ``Metric.__call__``)."""
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"

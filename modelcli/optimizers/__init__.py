"""Keras 3's optimizers over torch parameters: Keras's defaults, update formulas and configs.

    optimizer = optimizers.get("adam")          # or Adam(1e-3), or a Keras config dict
    optimizer.build(params)                     # the model's trainable parameters, in order
    loss.backward()
    optimizer.apply()                           # one step from each parameter's .grad
    state = optimizer.get_state()               # plain numbers and tensors; set_state() resumes

On the CPU the weights after each step equal real Keras 3's (torch backend) bit for bit.
"""
from __future__ import annotations

from ..errors import SpecError, did_you_mean
from ..serialization import check_safe, from_config
from . import schedules
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .base import OPTIMIZERS, Optimizer
from .loss_scale_optimizer import LossScaleOptimizer
from .nadam import Nadam
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "RMSprop", "Adam", "AdamW", "Adamax", "Nadam", "Adagrad",
           "Adadelta", "LossScaleOptimizer", "schedules", "get", "serialize", "deserialize", "OPTIMIZERS"]

_MODULE = "keras.optimizers"


def _lookup(name, where):
    """Class names match case-insensitively, as Keras 3 matches them; TF 2.11+ wrote ``Custom>Adam``."""
    by_lower = {n.lower(): n for n in OPTIMIZERS.names()}
    key = name.removeprefix("Custom>").lower() if isinstance(name, str) else None
    if key not in by_lower:
        raise SpecError(f"unknown optimizer '{name}'", where=where,
                        hint=did_you_mean(key, by_lower) or f"known: {', '.join(sorted(by_lower))}")
    return OPTIMIZERS.get(by_lower[key], where)


def deserialize(config: dict, where: str | None = None) -> Optimizer:
    """An optimizer from Keras's ``{class_name, config}`` dict (Keras 3, or Keras 2's)."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise SpecError("expected an optimizer name or a {class_name, config} mapping", where=where)
    check_safe(config, where)
    cls = _lookup(config["class_name"], f"{where}.class_name" if where else "class_name")
    return from_config(cls, config.get("config") or {}, where=f"{where}.config" if where else "config")


def get(identifier, where: str | None = None) -> Optimizer | None:
    """Like ``keras.optimizers.get``: a name (``"adam"``, ``"RMSprop"``), a config dict, or an
    optimizer (ours passes through; a real Keras one is rebuilt from its config)."""
    if identifier is None or isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        return _lookup(identifier, where)()
    if isinstance(identifier, dict):
        return deserialize(identifier, where)
    module = type(identifier).__module__ or ""
    if module.split(".")[0] == "keras" and hasattr(identifier, "get_config"):
        return deserialize({"class_name": type(identifier).__name__,
                            "config": identifier.get_config()}, where)
    raise SpecError(f"Could not interpret optimizer identifier: {identifier!r}", where=where,
                    hint="give a name such as 'adam', a {class_name, config} mapping, "
                         "or a modelcli.optimizers.Optimizer")


def serialize(optimizer: Optimizer) -> dict:
    """Keras 3's ``{module, class_name, config, registered_name}`` form."""
    return {"module": _MODULE, "class_name": type(optimizer).__name__,
            "config": optimizer.get_config(), "registered_name": None}

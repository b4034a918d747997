"""Callbacks from a config: ``{"class_name": "EarlyStopping", "config": {"patience": 3}}``.

A config file lists callbacks this way (Keras's object form); a bare name builds
the callback with its defaults. Callbacks that need Python functions
(``LambdaCallback``, ``LearningRateScheduler``) exist only in Python.
"""
from __future__ import annotations

import inspect

from ..errors import SpecError, did_you_mean
from ..serialization import check_safe
from .callback import Callback
from .registry import CALLBACKS

_PYTHON_ONLY = {"LambdaCallback", "LearningRateScheduler"}


def deserialize(config, where: str | None = None) -> Callback:
    """A callback from a ``{class_name, config}`` mapping (or a class name)."""
    if isinstance(config, str):
        config = {"class_name": config}
    if not isinstance(config, dict) or "class_name" not in config:
        raise SpecError("expected a callback name or a {class_name, config} mapping", where=where)
    check_safe(config, where)
    name = config["class_name"]
    if name in _PYTHON_ONLY:
        raise SpecError(f"{name} takes Python functions, so it cannot come from a config",
                        where=_join(where, "class_name"), hint=f"create {name} in Python and pass it to fit()")
    cls = CALLBACKS.get(name, _join(where, "class_name"))
    arguments = config.get("config") or {}
    if not isinstance(arguments, dict):
        raise SpecError(f"expected a mapping of {name} arguments, got {type(arguments).__name__}",
                        where=_join(where, "config"))
    _check_arguments(cls, arguments, _join(where, "config"))
    try:
        return cls(**arguments)
    except SpecError as err:
        raise err.at(_join(where, "config")) from None


def get(identifier, where: str | None = None) -> Callback:
    """A callback from a callback (returned as is), a class name, or a ``{class_name, config}`` mapping."""
    if isinstance(identifier, Callback):
        return identifier
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier, where)
    raise SpecError(f"Could not interpret callback identifier: {identifier!r}", where=where,
                    hint="give a name such as 'EarlyStopping', a {class_name, config} mapping, "
                         "or a modelcli.callbacks.Callback")


def serialize(callback: Callback) -> dict:
    """The ``{class_name, config}`` form of a callback that a config can hold."""
    name = type(callback).__name__
    if name not in CALLBACKS or not hasattr(callback, "get_config"):
        raise SpecError(f"{name} cannot be written to a config", hint="only built-in callbacks can")
    return {"class_name": name, "config": callback.get_config()}


def _check_arguments(cls, arguments, where):
    parameters = inspect.signature(cls.__init__).parameters
    known = [p for p in parameters if p != "self"]
    for key in arguments:
        if key not in parameters:
            raise SpecError(f"unknown {cls.__name__} argument '{key}'", where=_join(where, key),
                            hint=did_you_mean(key, known))
    for p in parameters.values():
        if p.name != "self" and p.default is p.empty and p.name not in arguments:
            raise SpecError(f"{cls.__name__} needs the argument '{p.name}'", where=where)


def _join(where, key):
    return f"{where}.{key}" if where else key

"""Reading and writing Keras's ``{module, class_name, config}`` object dicts.

Keras 3 writes ``{"module", "class_name", "config", "registered_name"}``; Keras 2
writes ``{"class_name", "config"}``. Both resolve through a :class:`Registry`.
Anything Keras would only load with custom objects or unsafe deserialization (a
``Lambda``, a function given as bytecode, a class from a user module) is refused
here: a model file never executes code.
"""
from __future__ import annotations

from .errors import SpecError

_KERAS_MODULE_PREFIXES = ("keras", "tf_keras", "tensorflow", "modelcli")


def check_safe(spec: dict, where: str | None) -> None:
    """Refuse objects that only custom code (or code in the file) could build."""
    module = spec.get("module")
    name = spec.get("class_name")
    builtin_function = module == "builtins" and name == "function" and isinstance(spec.get("config"), str)
    if module is not None and not builtin_function and str(module).split(".")[0] not in _KERAS_MODULE_PREFIXES:
        raise SpecError(
            f"'{name}' comes from the user module '{module}'; custom objects are never "
            "loaded from a file", where=where,
            hint="rewrite it with built-in layers, or build it in Python and load only the weights")
    if name in ("Lambda", "TFOpLambda", "SlicingOpLambda", "function") and isinstance(spec.get("config"), dict) \
            and ("function" in spec["config"] or "code" in spec["config"]):
        raise SpecError(f"a {name} layer holds Python code, which modelcli never executes",
                        where=where, hint="replace it with built-in layers")


def deserialize(identifier, registry, where: str | None = None, **extra):
    """Turn a string, a ``{class_name, config}`` dict or an instance into an object.

    ``None`` stays ``None``. A string is looked up and called with no arguments
    when the registry holds a class (``"glorot_uniform"`` → ``GlorotUniform()``).
    """
    if identifier is None:
        return None
    if isinstance(identifier, str):
        obj = registry.get(identifier, where)
        return obj(**extra) if isinstance(obj, type) else obj
    if isinstance(identifier, dict):
        if "class_name" not in identifier:
            raise SpecError("expected a name or a {class_name, config} mapping, got a mapping "
                            f"with keys {sorted(identifier)}", where=where)
        check_safe(identifier, where)
        name = identifier["class_name"]
        config = identifier.get("config") or {}
        if name == "function" and isinstance(config, str):  # Keras 3 writes some functions so
            return deserialize(config, registry, where)
        cls = registry.get(name, f"{where}.class_name" if where else "class_name")
        if not isinstance(cls, type):
            return cls
        return from_config(cls, config, where=f"{where}.config" if where else "config")
    return identifier  # already an object


def from_config(cls, config: dict, where: str | None = None):
    """``cls.from_config(config)`` turning a bad key or value into a SpecError at ``where``."""
    if not isinstance(config, dict):
        raise SpecError(f"expected a mapping of {cls.__name__} arguments, got {type(config).__name__}",
                        where=where)
    try:
        return cls.from_config(dict(config))
    except SpecError as err:
        raise err.at(where or "") from None
    except TypeError as err:
        raise SpecError(_explain_type_error(cls, config, err), where=where) from None


def _explain_type_error(cls, config, err) -> str:
    import inspect

    from .errors import did_you_mean

    params = inspect.signature(cls.__init__).parameters
    if not any(p.kind == p.VAR_KEYWORD for p in params.values()):
        for key in config:
            if key not in params:
                hint = did_you_mean(key, [p for p in params if p != "self"])
                return f"unknown {cls.__name__} argument '{key}'" + (f"; {hint}" if hint else "")
    return f"{cls.__name__}: {err}"


def serialize(obj, module: str):
    """Keras 3's dict form of an object with ``get_config`` (initializer, regularizer, ...)."""
    if obj is None:
        return None
    return {"module": module, "class_name": type(obj).__name__, "config": obj.get_config(),
            "registered_name": None}


def keras_class_name(obj) -> str:
    """The ``class_name`` Keras writes for ``obj``: its class's name, unless Keras exports the class
    under another (``keras_class_name`` on the class)."""
    return getattr(type(obj), "keras_class_name", type(obj).__name__)

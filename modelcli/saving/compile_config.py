"""Compile a loaded model as Keras does: from a ``.keras`` archive's ``compile_config``
or a full-model ``.h5``'s ``training_config`` (Keras 3 and tf.keras both write one).

The values are data: optimizers, losses and metrics resolve through our registries
only. Anything we cannot honour leaves the model uncompiled, with one warning that
names it, so that loading for inference never fails over training settings.
"""
from __future__ import annotations

import warnings

from ..errors import ModelcliError


def compile_arguments(config: dict) -> dict:
    """``compile()``'s keyword arguments from Keras's ``compile_config`` or ``training_config``."""
    from .. import losses, optimizers
    optimizer = config.get("optimizer", config.get("optimizer_config"))
    return {
        "optimizer": optimizers.get(optimizer, where="optimizer") if optimizer is not None else "rmsprop",
        "loss": _nested(config.get("loss"), losses.get, "loss"),
        "loss_weights": config.get("loss_weights"),
        "metrics": _nested(config.get("metrics"), _metric, "metrics"),
        "weighted_metrics": _nested(config.get("weighted_metrics"), _metric, "weighted_metrics"),
    }


def compile_from_config(model, config: dict, where: str) -> bool:
    """``model.compile(...)`` from the saved config; warn and return False where it cannot."""
    try:
        if not isinstance(config, dict):
            raise ModelcliError(f"expected a mapping, got {type(config).__name__}")
        arguments = compile_arguments(config)
        arguments["metrics"] = _single_output(model, arguments["metrics"])
        arguments["weighted_metrics"] = _single_output(model, arguments["weighted_metrics"])
        model.compile(**arguments)
    except (ModelcliError, TypeError, ValueError) as err:
        model.compiled = False
        warnings.warn(f"{where}: the model was loaded uncompiled; its saved compile settings were "
                      f"skipped ({err}). Call `model.compile()` to train or evaluate it.", stacklevel=3)
        return False
    return True


def serialized_compile_config(model) -> dict | None:
    """Keras's ``compile_config`` for a compiled model; None (with a warning) where a loss or
    metric has no Keras name, as Keras skips what it cannot serialize."""
    from .. import losses, metrics, optimizers
    arguments = getattr(model, "_compile_arguments", None)
    if not model.compiled or arguments is None:
        return None
    try:
        return {
            "optimizer": optimizers.serialize(arguments["optimizer"]),
            "loss": _nested_out(arguments["loss"], losses.serialize),
            "loss_weights": arguments["loss_weights"],
            "metrics": _nested_out(arguments["metrics"], metrics.serialize),
            "weighted_metrics": _nested_out(arguments["weighted_metrics"], metrics.serialize),
            "run_eagerly": model.run_eagerly, "steps_per_execution": 1, "jit_compile": model._jit_compile,
        }
    except (ModelcliError, TypeError, ValueError) as err:
        warnings.warn(f"the compile settings were not saved ({err}); the saved model loads uncompiled.",
                      stacklevel=3)
        return None


def restore_optimizer_variables(model, values, where: str) -> None:
    """Set the optimizer's variables (Keras's ``optimizer.variables`` order); warn and keep a
    fresh optimizer state when they do not fit."""
    try:
        model._prepare_training()
        model.optimizer.set_weights(_torch_layout(model, values))
    except (ModelcliError, TypeError, ValueError) as err:
        warnings.warn(f"{where}: the saved optimizer state was skipped ({err}); "
                      f"training starts from a fresh optimizer state.", stacklevel=3)


def _torch_layout(model, values):
    """Keras saves each slot in its variable's Keras layout; ours are shaped like the torch
    parameters (a Dense kernel's slots are transposed)."""
    import torch
    optimizer = model.optimizer
    by_param = {id(w.parameter): w for w in model.trainable_weights}
    weights = [by_param[id(p)] for p in model._trainable_params]
    per_param = sum(len(group) for group in optimizer._all_slot_groups())
    first = len(values) - per_param * len(weights) - len(optimizer.scalar_names)
    values = list(values)
    for j in range(per_param * len(weights)):
        weight = weights[j // per_param]
        value = values[first + j]
        if tuple(value.shape) == weight.keras_shape:
            values[first + j] = weight.layout.to_torch(torch.as_tensor(value))
    return values


def _nested(value, resolve, where):
    """Resolve each leaf of a loss / metric structure: a name or a ``{class_name, config}`` dict,
    inside lists and per-output dicts."""
    if value is None:
        return None
    if isinstance(value, dict) and "class_name" not in value:
        return {k: _nested(v, resolve, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_nested(v, resolve, f"{where}[{i}]") for i, v in enumerate(value)]
    return resolve(value, where=where)


def _nested_out(value, serialize):
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dict):
        return {k: _nested_out(v, serialize) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_nested_out(v, serialize) for v in value]
    return serialize(value)


def _metric(identifier, where):
    """A metric name stays a name (``"accuracy"`` depends on the loss and shapes), once known."""
    from .. import metrics
    if isinstance(identifier, str):
        metrics.resolve(identifier, where=where)
        return identifier
    return metrics.get(identifier, where=where)


def _single_output(model, metrics):
    """tf.keras wrote a single output's metrics as ``[[...]]``."""
    if isinstance(metrics, list) and len(metrics) == 1 and isinstance(metrics[0], list) \
            and len(model.output_names) == 1:
        return metrics[0]
    return metrics

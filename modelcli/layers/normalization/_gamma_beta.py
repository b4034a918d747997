"""The scale (``gamma``) and offset (``beta``) weights the normalization layers share: their
initializers, regularizers and constraints, read and written under Keras's argument names."""
from __future__ import annotations

from ... import constraints, initializers, regularizers

_KINDS = (("initializer", initializers), ("regularizer", regularizers), ("constraint", constraints))
_WEIGHTS = ("beta", "gamma")


def set_gamma_beta_options(layer, **options) -> None:
    """Set ``layer.beta_initializer`` … ``layer.gamma_constraint`` from the Keras arguments."""
    for kind, module in _KINDS:
        for weight in _WEIGHTS:
            name = f"{weight}_{kind}"
            setattr(layer, name, module.get(options[name], name))


def gamma_beta_config(layer) -> dict:
    """The six options as Keras writes them, in Keras's order."""
    return {f"{weight}_{kind}": module.serialize(getattr(layer, f"{weight}_{kind}"))
            for kind, module in _KINDS for weight in _WEIGHTS}

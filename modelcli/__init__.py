"""modelcli: Keras's model API and file formats on PyTorch.

``import modelcli as keras`` serves Keras code: ``keras.Sequential``,
``keras.Model``, ``keras.Input``, ``keras.layers``, ``keras.models``,
``keras.activations``, ``keras.initializers``... Submodules load on first use,
so importing the package (and ``modelcli --help``) does not import torch.
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"

_SUBMODULES = {"layers", "models", "activations", "initializers", "regularizers", "constraints",
               "losses", "metrics", "optimizers", "callbacks", "backend", "errors", "saving", "utils",
               "mixed_precision", "config"}
_NAMES = {
    "Sequential": ("models", "Sequential"),
    "Model": ("models", "Model"),
    "Input": ("layers", "Input"),
    "Layer": ("layers", "Layer"),
    "InputLayer": ("layers", "InputLayer"),
    "load_model": ("models", "load_model"),
    "model_from_json": ("models", "model_from_json"),
    "model_from_yaml": ("models", "model_from_yaml"),
}


def __getattr__(name):
    if name in _SUBMODULES:
        module = importlib.import_module(f".{name}", __name__)
        if name == "layers":
            importlib.import_module(".models", __name__)  # nested models are layers too
        return module
    if name in _NAMES:
        module_name, attr = _NAMES[name]
        return getattr(__getattr__(module_name), attr)
    raise AttributeError(f"module 'modelcli' has no attribute '{name}'")


def __dir__():
    return sorted(list(globals()) + list(_SUBMODULES) + list(_NAMES))

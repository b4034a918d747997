"""Where a command's model comes from: a model file, a training config, or a run folder.

A model file is ``.keras``, ``.h5``, ``.json`` or ``.yaml`` (a Keras spec). A
training config is a YAML/JSON mapping whose ``model`` key holds an inline spec
or a path relative to the config file (and optionally ``weights``). A run folder
holds ``model.json`` and ``model.weights.h5``.
"""
from __future__ import annotations

import os

from .errors import ConfigError, SpecError
from .saving.load import SPEC_SUFFIXES


def load_model_source(path):
    from .models import load_model
    from .models.spec import model_from_config, parse_spec_text

    if os.path.isdir(path):
        return _load_run_folder(path)
    if not os.path.exists(path):
        raise SpecError("no such file or folder", where=path)
    if not path.lower().endswith(SPEC_SUFFIXES):
        return load_model(path)
    with open(path, encoding="utf8") as f:
        document = parse_spec_text(f.read(), path)
    if "class_name" in document:
        try:
            return model_from_config(document)
        except SpecError as err:
            raise err.at(path) from None
    if "model" in document:
        return _model_from_config_file(document, path)
    raise ConfigError("expected a Keras model spec (with class_name) or a training config (with model)",
                      where=path)


def _model_from_config_file(document, path):
    from .models import load_model
    from .models.spec import model_from_config

    base = os.path.dirname(os.path.abspath(path))
    source = document["model"]
    if isinstance(source, dict):
        try:
            model = model_from_config(source, where="model")
        except SpecError as err:
            raise err.at(path) from None
    elif isinstance(source, str):
        model = load_model(os.path.join(base, source))
    else:
        raise ConfigError(f"expected an inline spec or a path, got {type(source).__name__}",
                          where=f"{path}: model")
    weights = document.get("weights")
    if weights:
        model.load_weights(os.path.join(base, weights))
    return model


def _load_run_folder(path):
    from .models import load_model

    spec = os.path.join(path, "model.json")
    if not os.path.exists(spec):
        raise SpecError("not a run folder: it has no model.json", where=path)
    model = load_model(spec)
    weights = os.path.join(path, "model.weights.h5")
    if os.path.exists(weights):
        model.load_weights(weights)
    return model

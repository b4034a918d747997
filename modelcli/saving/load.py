"""``load_model`` and ``model.save``: whole models in Keras's file formats.

- ``.keras``: a zip of ``config.json`` (the spec), ``metadata.json`` and
  ``model.weights.h5`` (Keras 3 weights layout).
- ``.h5`` / ``.hdf5``: legacy full model, attribute ``model_config`` (JSON) and
  the legacy weights under ``model_weights``.
- ``.json`` / ``.yaml`` / ``.yml``: a spec only (fresh weights).

A model saved after ``compile`` loads compiled (``compile_config`` in the archive's
``config.json``, ``training_config`` in an ``.h5``); see ``compile_config.py``.
"""
from __future__ import annotations

import io
import json
import os
import zipfile

from ..errors import SpecError, WeightsError
from .atomic import atomic_path
from .h5 import open_h5, text_attr

SPEC_SUFFIXES = (".json", ".yaml", ".yml")
H5_SUFFIXES = (".h5", ".hdf5")
MODEL_SUFFIXES = (".keras",) + H5_SUFFIXES


def load_model(filepath, custom_objects=None, compile=True):
    from ..models.spec import model_from_config, parse_spec_text
    path = os.fspath(filepath)
    if not os.path.exists(path):
        raise SpecError("no such model file", where=path)
    lower = path.lower()
    if lower.endswith(".keras"):
        return _load_archive(path, compile)
    if lower.endswith(H5_SUFFIXES):
        return _load_h5_model(path, compile)
    if lower.endswith(SPEC_SUFFIXES):
        with open(path, encoding="utf8") as f:
            return model_from_config(parse_spec_text(f.read(), path), custom_objects)
    raise SpecError("unknown model file type", where=path,
                    hint="use a .keras, .h5, .json or .yaml file")


def _load_archive(path, compile=True):
    from ..models.spec import model_from_config, parse_spec_text
    from .compile_config import compile_from_config, restore_optimizer_variables
    from .weights import load_weights_from_group
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "config.json" not in names:
                raise SpecError("not a .keras archive: it has no config.json", where=path)
            config = parse_spec_text(archive.read("config.json").decode("utf8"), f"{path}:config.json")
            weights = archive.read("model.weights.h5") if "model.weights.h5" in names else None
    except zipfile.BadZipFile:
        raise SpecError("not a .keras archive (not a zip file, or truncated)", where=path) from None
    try:
        model = model_from_config(config)
    except SpecError as err:
        raise err.at(f"{path}:config.json") from None
    compiled = compile and config.get("compile_config") is not None and \
        compile_from_config(model, config["compile_config"], f"{path}:config.json")
    if weights is not None:
        with open_h5(io.BytesIO(weights), what="model.weights.h5") as f:
            load_weights_from_group(model, f, where=f"{path}:model.weights.h5")
            saved = f.get("optimizer/vars")
            if compiled and saved is not None and len(saved):
                values = [saved[str(i)][()] for i in range(len(saved))]
                restore_optimizer_variables(model, values, f"{path}:model.weights.h5")
    return model


def _load_h5_model(path, compile=True):
    from ..models.spec import model_from_config, parse_spec_text
    from .compile_config import compile_from_config
    from .weights import load_weights_from_group
    with open_h5(path, what="model file") as f:
        if "model_config" not in f.attrs:
            raise WeightsError("this HDF5 file holds weights only, no model config", where=path,
                               hint="build the model from its spec, then call load_weights()")
        config = parse_spec_text(text_attr(f.attrs["model_config"]), f"{path}:model_config")
        version = text_attr(f.attrs.get("keras_version", ""))
        if version:
            config.setdefault("keras_version", version)
        try:
            model = model_from_config(config)
        except SpecError as err:
            raise err.at(f"{path}:model_config") from None
        load_weights_from_group(model, f, where=path)
        if compile and "training_config" in f.attrs:
            try:
                training_config = json.loads(text_attr(f.attrs["training_config"]))
            except ValueError:
                training_config = None
            compile_from_config(model, training_config, f"{path}:training_config")
    return model


def save_model(model, filepath, overwrite=True) -> None:
    path = os.fspath(filepath)
    if not overwrite and os.path.exists(path):
        raise SpecError("file exists and overwrite=False", where=path)
    if path.lower().endswith(".keras"):
        _save_archive(model, path)
    elif path.lower().endswith(H5_SUFFIXES):
        _save_h5_model(model, path)
    else:
        raise SpecError("model.save() writes .keras or .h5 files", where=path,
                        hint="use to_json() / to_yaml() for a spec alone")


def _save_archive(model, path):
    from . import keras3_weights
    from .compile_config import serialized_compile_config
    from .spec_writer import model_spec
    buffer = io.BytesIO()
    with open_h5(buffer, "w") as f:
        keras3_weights.write(model, f)
    metadata = {"saved_by": "modelcli"}
    config = model_spec(model)
    compile_config = serialized_compile_config(model)
    if compile_config is not None:
        config["compile_config"] = compile_config
    with atomic_path(path) as tmp:
        with zipfile.ZipFile(tmp, "w") as archive:
            archive.writestr("metadata.json", json.dumps(metadata))
            archive.writestr("config.json", json.dumps(config))
            archive.writestr("model.weights.h5", buffer.getvalue())


def _save_h5_model(model, path):
    from . import legacy_weights
    with atomic_path(path) as tmp:
        with open_h5(tmp, "w") as f:
            f.attrs["model_config"] = model.to_json().encode("utf8")
            f.attrs["backend"] = b"torch"
            legacy_weights.write(model, f.create_group("model_weights"))

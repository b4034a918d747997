"""``save_weights`` / ``load_weights``: pick the layout from the file, write atomically."""
from __future__ import annotations

import os

from ..errors import WeightsError
from . import keras3_weights, legacy_weights
from .atomic import atomic_path
from .h5 import open_h5


def save_weights(model, filepath, overwrite=True, save_format=None) -> None:
    """Keras 3 layout for ``*.weights.h5``; the legacy layout for another ``.h5`` or save_format='h5'."""
    path = os.fspath(filepath)
    if not overwrite and os.path.exists(path):
        raise WeightsError("file exists and overwrite=False", where=path)
    legacy = save_format in ("h5", "legacy") or (save_format is None and not path.endswith(".weights.h5"))
    with atomic_path(path) as tmp:
        with open_h5(tmp, "w") as f:
            if legacy:
                legacy_weights.write(model, f)
            else:
                keras3_weights.write(model, f)


def load_weights(model, filepath, by_name=False, skip_mismatch=False) -> None:
    path = os.fspath(filepath)
    with open_h5(path) as f:
        load_weights_from_group(model, f, by_name=by_name, skip_mismatch=skip_mismatch, where=path)


def load_weights_from_group(model, f, by_name=False, skip_mismatch=False, where=None) -> None:
    try:
        if "layer_names" in f.attrs or "model_weights" in f:
            group = f["model_weights"] if "model_weights" in f else f
            legacy_weights.read(model, group, by_name=by_name, skip_mismatch=skip_mismatch)
            return
        if by_name:
            raise WeightsError("by_name=True needs a legacy .h5 weights file; Keras 3 .weights.h5 files "
                               "are matched by structure", where=where)
        if "layers" not in f and "vars" not in f:
            raise WeightsError("not a Keras weights file (no 'layers' or 'layer_names' inside)", where=where)
        used = set()
        keras3_weights.read(model, f, skip_mismatch=skip_mismatch, used=used)
        extra = sorted(n for n in keras3_weights.all_datasets(f) if n not in used
                       and not n.startswith("/optimizer"))
        if extra and not skip_mismatch:
            raise WeightsError(f"the file has weights the model does not use (first: {extra[0]})", where=where,
                               hint="the weights were saved from a different architecture")
    except WeightsError as err:
        if where and str(where) not in (err.where or ""):
            err.where = f"{where}, {err.where}" if err.where else str(where)
            err.args = (err.format(),)
        raise
    except KeyError as err:
        raise WeightsError(f"the file is missing an entry the model needs: {err}", where=where) from None

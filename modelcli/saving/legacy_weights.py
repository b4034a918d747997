"""The legacy (Keras 2) HDF5 weights layout, also inside full-model ``.h5`` files.

The root (or the ``model_weights`` group) lists ``layer_names``; each layer's
group lists ``weight_names`` (``dense/kernel:0``) and holds them as datasets at
those paths. Weights are matched by order: the i-th layer with weights in the file
goes to the i-th layer with weights in the model, or by layer name with ``by_name``.
"""
from __future__ import annotations

import numpy as np

from ..errors import WeightsError
from .assign import assign_weights
from .h5 import text_attr


def weight_names(layer) -> list[str]:
    """Keras 2 names for ``layer.legacy_weights``, e.g. ``lstm/lstm_cell/kernel:0``."""
    names = {}

    def walk(owner, prefix):
        from ..models.model import Model
        for w in owner._own_weights:
            names[id(w)] = f"{prefix}{owner.name}/{w.name}:0"
        for child in owner._keras_sublayers.values():
            walk(child, f"{prefix}{owner.name}/")
        if isinstance(owner, Model):
            for child in owner.layers:
                walk(child, prefix if owner is layer else f"{prefix}{owner.name}/")

    from ..models.model import Model
    if isinstance(layer, Model):
        for child in layer.layers:
            walk(child, "")
    else:
        walk(layer, "")
    return [names[id(w)] for w in layer.legacy_weights]


def write(model, group) -> None:
    group.attrs["layer_names"] = np.array([l.name.encode("utf8") for l in model.layers])
    group.attrs["backend"] = b"torch"
    group.attrs["keras_version"] = b"modelcli"
    for layer in model.layers:
        g = group.create_group(layer.name)
        names = weight_names(layer)
        g.attrs["weight_names"] = np.array([n.encode("utf8") for n in names])
        for name, weight in zip(names, layer.legacy_weights):
            g.create_dataset(name, data=weight.numpy())


def read(model, group, by_name=False, skip_mismatch=False) -> None:
    if "layer_names" not in group.attrs:
        raise WeightsError("not a Keras weights file: the HDF5 file has no 'layer_names' attribute",
                           hint="use a file written by save_weights() or model.save()")
    file_layers = []
    for name in (text_attr(n) for n in group.attrs["layer_names"]):
        g = group[name]
        names = [text_attr(n) for n in g.attrs.get("weight_names", [])]
        if names:
            file_layers.append((name, [np.asarray(g[n]) for n in names]))
    if by_name:
        _read_by_name(model, file_layers, skip_mismatch)
        return
    layers = [l for l in model.layers if l.legacy_weights]
    if len(layers) != len(file_layers):
        raise WeightsError(f"the file holds weights for {len(file_layers)} layers "
                           f"({', '.join(n for n, _ in file_layers) or 'none'}) but the model has "
                           f"{len(layers)} layers with weights ({', '.join(l.name for l in layers) or 'none'})",
                           hint="the weights were saved from a different architecture; "
                                "by_name=True loads the layers whose names match")
    for layer, (name, values) in zip(layers, file_layers):
        assign_weights(layer.legacy_weights, values, f"layer '{layer.name}' (file layer '{name}')",
                       skip_mismatch=skip_mismatch)


def _read_by_name(model, file_layers, skip_mismatch):
    by_layer = {l.name: l for l in model.layers}
    for name, values in file_layers:
        layer = by_layer.get(name)
        if layer is None:
            continue
        weights = layer.legacy_weights
        if len(weights) != len(values) and skip_mismatch:
            continue
        assign_weights(weights, values, f"layer '{name}'", skip_mismatch=skip_mismatch)

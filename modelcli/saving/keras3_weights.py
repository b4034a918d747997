"""The Keras 3 ``.weights.h5`` layout.

``layers/<key>/vars/<i>`` where ``<key>`` is the snake_case *class* name with a
counter in order of ``model.layers`` (``dense``, ``dense_1``), not the layer's
name; child layers nest under their attribute (``layers/lstm/cell/vars/0``),
nested models under ``layers/<key>/layers/...``. Each ``vars`` group holds the
layer's own variables in order, with the layer's name as attribute ``name``.
"""
from __future__ import annotations

import numpy as np

from ..backend import snake_case
from ..errors import WeightsError
from .assign import assign_weights


def _children(layer):
    """(key, child) pairs the way Keras 3 walks a layer when saving."""
    from ..models.model import Model
    pairs = list(layer._keras_sublayers.items())
    if isinstance(layer, Model):
        counts = {}
        for child in layer.layers:
            base = snake_case(type(child).__name__)
            n = counts.get(base, 0)
            counts[base] = n + 1
            pairs.append((f"layers/{base}" if n == 0 else f"layers/{base}_{n}", child))
    return pairs


def _own_weights(layer):
    own = layer._own_weights
    return [w for w in own if w.trainable] + [w for w in own if not w.trainable]


def write(layer, group) -> None:
    vars_group = group.create_group("vars")
    vars_group.attrs["name"] = layer.name
    for i, weight in enumerate(_own_weights(layer)):
        vars_group.create_dataset(str(i), data=weight.numpy())
    for key, child in _children(layer):
        write(child, group.require_group(key))


def read(layer, group, path="", skip_mismatch=False, used=None) -> None:
    """Assign every weight of ``layer`` from ``group``; record the datasets used in ``used``."""
    own = _own_weights(layer)
    vars_group = group.get("vars") if group is not None else None
    if own:
        if vars_group is None:
            raise WeightsError(f"the file has no weights for layer '{layer.name}' (expected group "
                               f"'{path or '/'}vars')", where=layer.name,
                               hint="the weights were saved from a different architecture")
        values = [np.asarray(vars_group[str(i)]) for i in range(len(vars_group))]
        assign_weights(own, values, f"layer '{layer.name}'", skip_mismatch=skip_mismatch)
        if used is not None:
            used.update(f"{vars_group.name}/{i}" for i in range(len(values)))
    for key, child in _children(layer):
        child_group = group.get(key) if group is not None else None
        read(child, child_group, f"{path}{key}/", skip_mismatch, used)


def all_datasets(group) -> set[str]:
    import h5py
    names = set()
    group.visititems(lambda name, obj: names.add(obj.name) if isinstance(obj, h5py.Dataset) else None)
    return names

"""Running a model in its layers' compute dtypes with ``torch.autocast``.

Keras casts each mixed layer's inputs and variables to its compute dtype; torch's
autocast does the same for the ops that gain from it (matmuls, convolutions, RNNs)
and keeps the sensitive ones (softmax, norms, losses) in float32. ``plan(model)``
walks the layers once per change of any policy and gives the model's ``call`` one
autocast region for the whole forward; a layer whose policy differs from the region
around it (a ``dtype="float32"`` softmax at the end of a mixed model) gets a region
of its own: autocast off and its float inputs cast up, as Keras casts a float32
layer's inputs. A model with no mixed layer gets no wrapper at all, so the float32
path runs exactly as before.

The wrappers live in the layers' instance ``call`` attribute: a graph model calls
``layer.call`` directly, an eager call goes through ``__call__`` to ``call``, so both
find them.
"""
from __future__ import annotations

from collections import Counter

import torch

from .. import backend
from ..engine import tree
from ..engine.layer import Layer
from . import policy as dtype_policies


class _Region:
    """A layer's ``call`` run under autocast to ``dtype``, or (``autocast=False``) with autocast
    off and the float inputs cast to ``dtype``."""

    def __init__(self, layer, dtype: str, autocast: bool):
        self.layer = layer
        self.dtype = backend.torch_dtype(dtype)
        self.autocast = autocast

    def __call__(self, *args, **kwargs):
        call = type(self.layer).call
        device_type = _device_type(args)
        if self.autocast:
            # a CUDA graph capture must not keep autocast's cast weights (torch's CUDA-graph notes)
            cache = not (device_type == "cuda" and torch.cuda.is_current_stream_capturing())
            with torch.autocast(device_type, dtype=self.dtype, cache_enabled=cache):
                return call(self.layer, *args, **kwargs)
        with torch.autocast(device_type, enabled=False):
            args, kwargs = tree.map_structure(self._cast, (args, kwargs))
            return call(self.layer, *args, **kwargs)

    def _cast(self, value):
        if isinstance(value, torch.Tensor) and value.is_floating_point() and value.dtype != self.dtype:
            return value.to(self.dtype)
        return value


def refresh(model) -> None:
    """Plan ``model`` again if any policy changed since its last plan (fit/evaluate/predict call this)."""
    if vars(model).get("_autocast_plan") != dtype_policies.version():
        plan(model)


def plan(root: Layer) -> None:
    """Install the autocast regions ``root``'s layers need (none when nothing is mixed)."""
    layers = [root] + list(_sublayers(root))
    for layer in layers:
        if isinstance(vars(layer).get("call"), _Region):
            del vars(layer)["call"]
    if any(layer.dtype_policy.is_mixed for layer in layers):
        context = _root_context(root, layers)
        if context[0]:
            vars(root)["call"] = _Region(root, context[1], autocast=True)
        _place_regions(root, context)
    version = dtype_policies.version()
    for layer in layers:
        vars(layer)["_autocast_plan"] = version


def model_policy(model) -> dtype_policies.DTypePolicy:
    """The policy a model computes with: its own when mixed, else the one most of its layers
    carry (a Functional's config holds no dtype, so a model Keras loads keeps float32 while
    its layers compute in float16)."""
    if model.dtype_policy.is_mixed:
        return model.dtype_policy
    counts = Counter(layer.dtype_policy.name for layer in _computing_layers(model))
    return dtype_policies.DTypePolicy(counts.most_common(1)[0][0]) if counts else model.dtype_policy


def set_model_policy(model, policy) -> None:
    """Give the model, and every layer carrying the model's policy, ``policy``; a layer the
    file pinned to another policy (the float32 output of a mixed model) keeps its own.
    Variables move to the new variable dtype."""
    new = dtype_policies.get(policy, where="mixed_precision")
    old = model_policy(model)
    for layer in [model] + list(_sublayers(model)):
        if layer is model or layer.dtype_policy == old:
            layer.dtype_policy = new
            _cast_own_weights(layer, backend.torch_dtype(new.variable_dtype))


def _context(layer):
    """(autocast?, dtype) a layer computes in."""
    return (layer.dtype_policy.is_mixed, layer.compute_dtype)


def _root_context(root, layers):
    if root.dtype_policy.is_mixed or not _is_graph_model(root):
        return _context(root)
    # a graph model only dispatches to its layers: run it in the dtype most of them want
    counts = Counter(l.compute_dtype for l in layers if l.dtype_policy.is_mixed)
    return (True, counts.most_common(1)[0][0])


def _place_regions(layer, outer) -> None:
    for sub in _sublayers(layer, deep=False):
        wanted = _context(sub)
        if wanted != outer and not _is_input(sub):
            vars(sub)["call"] = _Region(sub, wanted[1], autocast=wanted[0])
        _place_regions(sub, wanted)


def _sublayers(module, deep=True):
    for child in module.children():
        if isinstance(child, Layer):
            yield child
            if deep:
                yield from _sublayers(child)
        else:
            yield from _sublayers(child, deep)


def _computing_layers(model):
    return [l for l in _sublayers(model) if not _is_input(l) and not _is_graph_model(l)]


def _is_input(layer) -> bool:
    from ..layers.core.input_layer import InputLayer
    return isinstance(layer, InputLayer)


def _is_graph_model(layer) -> bool:
    from ..models.functional import Functional
    from ..models.sequential import Sequential
    return isinstance(layer, (Functional, Sequential))


def _cast_own_weights(layer, dtype) -> None:
    for weight in layer._own_weights:
        param = weight.parameter
        if param.is_floating_point() and param.dtype != dtype:
            param.data = param.data.to(dtype)


def _device_type(args) -> str:
    first = args[0] if args else None
    if not isinstance(first, torch.Tensor):
        first = next((t for t in tree.flatten(args) if isinstance(t, torch.Tensor)), None)
    return first.device.type if first is not None else "cpu"

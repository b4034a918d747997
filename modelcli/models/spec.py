"""Reading model specs exactly as Keras writes them: Keras 2 and Keras 3, JSON or YAML.

The two flavours differ in how a functional graph is written:
- Keras 2: ``inbound_nodes`` is a list of nodes, each a list of
  ``[layer_name, node_index, tensor_index, kwargs]`` (kwargs may hold more such
  references, e.g. MultiHeadAttention's ``value``); inputs carry ``batch_input_shape``.
- Keras 3: each node is ``{"args": [...], "kwargs": {...}}`` whose tensors are
  ``{"class_name": "__keras_tensor__", "config": {"keras_history": [...]}}``;
  inputs carry ``batch_shape``; dtypes are ``DTypePolicy`` dicts; a single model
  input or output is written as one flat ``[name, 0, 0]``.
Both are rebuilt by calling each layer on the tensors its nodes name, in order.
"""
from __future__ import annotations

import json

from .. import flavour
from ..engine import tree
from ..engine.keras_tensor import KerasTensor
from ..errors import SpecError, did_you_mean
from ..layers.deserialize import deserialize_layer


# ----- text -------------------------------------------------------------------------------------
def parse_spec_text(text: str, source: str = "spec") -> dict:
    """JSON or YAML text to a dict (YAML with ``safe_load`` only), with the line of a syntax error."""
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            spec = json.loads(text)
        except json.JSONDecodeError as err:
            raise SpecError(f"invalid JSON at line {err.lineno}, column {err.colno}: {err.msg}",
                            where=source) from None
    else:
        import yaml
        try:
            spec = yaml.safe_load(text)
        except yaml.YAMLError as err:
            mark = getattr(err, "problem_mark", None)
            place = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            problem = getattr(err, "problem", None) or str(err).splitlines()[0]
            raise SpecError(f"invalid YAML{place}: {problem}", where=source) from None
    if not isinstance(spec, dict):
        raise SpecError(f"expected a model as a mapping with class_name and config, got "
                        f"{type(spec).__name__}", where=source)
    return spec


def model_from_json(json_string, custom_objects=None):
    return model_from_config(parse_spec_text(json_string, "json"), custom_objects)


def model_from_yaml(yaml_string, custom_objects=None):
    return model_from_config(parse_spec_text(yaml_string, "yaml"), custom_objects)


def model_from_config(config, custom_objects=None, where: str = ""):
    """A model (or layer) from its Keras dict, in the flavour that wrote it."""
    if custom_objects:
        raise SpecError("custom_objects are not supported: modelcli never runs code from a model file")
    if not isinstance(config, dict) or "class_name" not in config:
        raise SpecError("expected a model as a mapping with class_name and config", where=where or None)
    with flavour.reading(detect_flavour(config)):
        return deserialize_any(config, where)


def detect_flavour(spec: dict) -> str:
    version = spec.get("keras_version")
    if version:
        return flavour.KERAS2 if str(version).startswith("2.") else flavour.KERAS3
    text = json.dumps(spec)
    if '"batch_input_shape"' in text or '"inbound_nodes": [[' in text:
        return flavour.KERAS2
    return flavour.KERAS3


def deserialize_any(spec, where: str):
    """A layer, a nested model or a Keras 3 op (``keras.src.ops``) from its dict. Keras 3's legacy
    ``.h5`` config drops ``module``: there a name only the op registry knows (GetItem) is an op."""
    from ..layers.ops import OPS
    from ..layers.registry import LAYERS
    if isinstance(spec, dict) and (str(spec.get("module") or "").startswith("keras.src.ops") or (
            "module" not in spec and spec.get("class_name") in OPS and spec.get("class_name") not in LAYERS)):
        cls = OPS.get(spec.get("class_name"), f"{where}.class_name" if where else "class_name")
        from ..serialization import from_config
        return from_config(cls, spec.get("config") or {}, where=f"{where}.config")
    return deserialize_layer(spec, where or "model")


# ----- Sequential ------------------------------------------------------------------------------
def sequential_from_config(config, cls):
    if isinstance(config, list):  # Keras 2.0-2.2 wrote a bare list of layers
        config = {"layers": config}
    _check_keys(config, ("name", "layers", "trainable", "dtype", "build_input_shape"), "Sequential")
    specs = config.get("layers")
    if not isinstance(specs, list):
        raise SpecError("expected a list of layers", where="layers")
    model = cls(name=config.get("name"), trainable=config.get("trainable", True), dtype=config.get("dtype"))
    for i, spec in enumerate(specs):
        try:
            model.add(deserialize_any(spec, f"layers[{i}]"), rebuild=False)
        except SpecError as err:
            if err.where and err.where.startswith(f"layers[{i}]"):
                raise
            raise err.at(f"layers[{i}]") from None
    model._maybe_build_graph()
    shape = config.get("build_input_shape")
    if not model.inputs and shape:
        model.build(shape)
    return model


# ----- Functional ------------------------------------------------------------------------------
def functional_from_config(config, cls):
    _check_keys(config, ("name", "layers", "input_layers", "output_layers", "trainable"), "Functional")
    specs = config.get("layers")
    if not isinstance(specs, list):
        raise SpecError("expected a list of layers", where="layers")
    layers, pending = {}, []
    for i, spec in enumerate(specs):
        where = f"layers[{i}]"
        layer = deserialize_any(spec, where)
        name = spec.get("name") or layer.name
        if name in layers:
            raise SpecError(f"two layers are named '{name}'; layer names must be unique", where=where)
        layers[name] = layer
        nodes = spec.get("inbound_nodes") or []
        if not isinstance(nodes, list):
            raise SpecError("expected a list of nodes", where=f"{where}.inbound_nodes")
        pending.append([layer, where, list(nodes)])
    _call_all(layers, pending)
    inputs = _tensors(config.get("input_layers"), layers, "input_layers")
    outputs = _tensors(config.get("output_layers"), layers, "output_layers")
    return cls(inputs=inputs, outputs=outputs, name=config.get("name"), trainable=config.get("trainable", True))


def _call_all(layers, pending):
    """Call every layer on its nodes' inputs, deferring nodes whose inputs do not exist yet."""
    while any(nodes for _, _, nodes in pending):
        progress = False
        for entry in pending:
            layer, where, nodes = entry
            while nodes:
                call = _resolve_node(nodes[0], layers, f"{where}.inbound_nodes")
                if call is None:
                    break
                args, kwargs = call
                try:
                    layer(*args, **kwargs)
                except SpecError as err:
                    if err.where == layer.name:  # the layer named itself; the path below says it
                        err.where = None
                    raise err.at(f"{where} ({layer.name})") from None
                nodes.pop(0)
                progress = True
        if not progress:
            stuck = [f"'{layer.name}'" for layer, _, nodes in pending if nodes]
            raise SpecError(f"the graph has a cycle: layers {', '.join(stuck)} wait on each other",
                            where="layers", hint="each layer's inbound_nodes must name earlier outputs")


class _NotReady(Exception):
    pass


def _resolve_node(node, layers, where):
    """(args, kwargs) of one node with KerasTensors in place, or None if an input is not ready."""
    try:
        if isinstance(node, dict):  # Keras 3
            args = _resolve(node.get("args", []), layers, where, keras3=True)
            kwargs = _resolve(node.get("kwargs", {}), layers, where, keras3=True)
            return list(args), kwargs
        if isinstance(node, list):  # Keras 2
            tensors = [_tensor_ref(entry[:3], layers, where) for entry in node]
            kwargs = {}
            for entry in node:
                if len(entry) > 3 and isinstance(entry[3], dict):
                    kwargs.update(_resolve(entry[3], layers, where, keras3=False))
            return [tensors[0] if len(tensors) == 1 else tensors], kwargs
    except _NotReady:
        return None
    raise SpecError(f"expected a node as a list (Keras 2) or {{args, kwargs}} (Keras 3), got {node!r}",
                    where=where)


def _resolve(value, layers, where, keras3):
    if isinstance(value, dict):
        if keras3 and value.get("class_name") == "__keras_tensor__":
            return _tensor_ref(value.get("config", {}).get("keras_history"), layers, where)
        if keras3 and value.get("class_name") in _INDEX_OBJECTS:
            return _INDEX_OBJECTS[value["class_name"]](value.get("config") or {})
        return {k: _resolve(v, layers, where, keras3) for k, v in value.items()}
    if isinstance(value, list):
        if not keras3 and _looks_like_ref(value, layers):
            return _tensor_ref(value, layers, where)
        return [_resolve(v, layers, where, keras3) for v in value]
    return value


# The index objects Keras 3 writes in a GetItem node's key (``x[:, 1:3]``, ``x[..., 0]``).
_INDEX_OBJECTS = {
    "__slice__": lambda config: slice(config.get("start"), config.get("stop"), config.get("step")),
    "__ellipsis__": lambda config: Ellipsis,
}


def _looks_like_ref(value, layers) -> bool:
    return (len(value) in (3, 4) and isinstance(value[0], str) and value[0] in layers
            and all(isinstance(v, int) for v in value[1:3]))


def _tensor_ref(ref, layers, where):
    if not isinstance(ref, (list, tuple)) or len(ref) < 3:
        raise SpecError(f"expected a tensor reference [layer_name, node_index, tensor_index], got {ref!r}",
                        where=where)
    name, node_index, tensor_index = ref[0], ref[1], ref[2]
    if name not in layers:
        raise SpecError(f"refers to layer '{name}', which the model does not have", where=where,
                        hint=did_you_mean(name, layers))
    layer = layers[name]
    node_index -= _node_offset(layer)
    if node_index >= len(layer.inbound_nodes):
        raise _NotReady
    outputs = tree.flatten(layer.inbound_nodes[node_index].outputs)
    if tensor_index >= len(outputs):
        raise SpecError(f"layer '{name}' has {len(outputs)} outputs; tensor_index {tensor_index} does not exist",
                        where=where)
    return outputs[tensor_index]


def _node_offset(layer) -> int:
    """Keras 2 counts a nested model's own graph as its node 0, so its calls start at 1."""
    from .model import Model
    return 1 if flavour.current() == flavour.KERAS2 and isinstance(layer, Model) else 0


def _tensors(refs, layers, where):
    if refs is None:
        raise SpecError("missing", where=where)
    if isinstance(refs, dict):
        return {k: _tensor_ref_ready(v, layers, where) for k, v in refs.items()}
    if isinstance(refs, list) and len(refs) == 3 and isinstance(refs[0], str):  # Keras 3 single tensor
        return _tensor_ref_ready(refs, layers, where)
    if not isinstance(refs, list):
        raise SpecError(f"expected a list of [layer_name, node_index, tensor_index], got {refs!r}", where=where)
    return [_tensor_ref_ready(r, layers, f"{where}[{i}]") for i, r in enumerate(refs)]


def _tensor_ref_ready(ref, layers, where) -> KerasTensor:
    try:
        return _tensor_ref(ref, layers, where)
    except _NotReady:
        raise SpecError(f"refers to node {ref[1]} of layer '{ref[0]}', which does not exist",
                        where=where) from None


def _check_keys(config, allowed, what):
    if not isinstance(config, dict):
        raise SpecError(f"expected the {what} config as a mapping, got {type(config).__name__}")
    for key in config:
        if key not in allowed:
            raise SpecError(f"unknown {what} config key '{key}'", where=key, hint=did_you_mean(key, allowed))

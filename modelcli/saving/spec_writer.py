"""Writing model specs as Keras 3 writes them, so real Keras 3 rebuilds what we write."""
from __future__ import annotations

from ..engine import tree
from ..engine.keras_tensor import KerasTensor
from ..engine.layer import Layer
from ..layers.core.input_layer import InputLayer
from ..serialization import keras_class_name

_FUNCTIONAL_MODULE = "keras.src.models.functional"


def layer_entry(layer) -> dict:
    """``{module, class_name, config, registered_name[, build_config]}`` for one layer."""
    from ..models.functional import Functional
    is_functional = isinstance(layer, Functional)
    entry = {
        "module": _FUNCTIONAL_MODULE if is_functional else getattr(layer, "keras_module", "keras.layers"),
        "class_name": "Functional" if is_functional else keras_class_name(layer),
        "config": layer.get_config(),
        "registered_name": _registered_name(layer, is_functional),
    }
    if hasattr(layer, "get_build_config") and layer.built:
        entry["build_config"] = layer.get_build_config()
    elif layer.inbound_nodes and not isinstance(layer, InputLayer) and not getattr(layer, "is_op", False):
        first = layer.inbound_nodes[0]
        if len(first.args) == 1:  # several tensor arguments (attention) have their own build_config
            entry["build_config"] = {"input_shape": _shape_json(tree.map_structure(
                lambda t: t.shape if isinstance(t, KerasTensor) else t, first.args[0]))}
    return entry


def _registered_name(layer, is_functional):
    if is_functional:
        return "Functional"
    return type(layer).__name__ if getattr(layer, "is_op", False) else None


def model_spec(model) -> dict:
    """The whole document ``model.to_json()`` writes."""
    return layer_entry(model)


def sequential_config(model) -> dict:
    layers = [layer_entry(l) for l in model._stack]
    if model.inputs and not isinstance(model._stack[0], InputLayer):
        layers.insert(0, layer_entry(model._input_layer))
    config = {**Layer.get_config(model), "layers": layers}
    if model.inputs:
        config["build_input_shape"] = list(model.inputs[0].shape)
    return config


def functional_config(model) -> dict:
    node_ids = {}
    model_nodes = set(model._nodes)
    for layer in model._operations:
        kept = [n for n in layer.inbound_nodes if n in model_nodes]
        for new_index, node in enumerate(kept):
            node_ids[id(node)] = new_index

    def ref(tensor):
        layer, node_index, tensor_index = tensor.history
        return [layer.name, node_ids.get(id(layer.inbound_nodes[node_index]), node_index), tensor_index]

    def arg(value):
        if isinstance(value, KerasTensor):
            return {"class_name": "__keras_tensor__",
                    "config": {"shape": list(value.shape), "dtype": value.dtype, "keras_history": ref(value)}}
        if isinstance(value, slice):
            return {"class_name": "__slice__", "config": {"start": value.start, "stop": value.stop,
                                                          "step": value.step}}
        if value is Ellipsis:
            return {"class_name": "__ellipsis__", "config": {}}
        return value

    layers = []
    for layer in model._operations:
        entry = layer_entry(layer)
        entry["name"] = layer.name
        entry["inbound_nodes"] = [
            {"args": tree.map_structure(arg, list(node.args)),
             "kwargs": {k: tree.map_structure(arg, v) for k, v in node.kwargs.items()}}
            for node in layer.inbound_nodes if node in model_nodes and not node.is_input]
        layers.append(entry)

    def refs(structure):
        if isinstance(structure, dict):
            return {k: ref(v) for k, v in structure.items()}
        if isinstance(structure, (list, tuple)):
            return [ref(t) for t in tree.flatten(structure)]
        return ref(structure)

    return {"name": model.name, "trainable": model.trainable, "layers": layers,
            "input_layers": refs(model._input_structure), "output_layers": refs(model._output_structure)}


def _shape_json(shape):
    if isinstance(shape, tuple):
        return list(shape)
    if isinstance(shape, list):
        return [_shape_json(s) for s in shape]
    return shape

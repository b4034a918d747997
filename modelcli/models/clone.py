"""``clone_model``: the same architecture with new layers (and new weights), as Keras clones.

Each layer is replaced by ``clone_function(layer)`` (by default a layer built from its config,
so with freshly drawn weights); a Sequential model gets the new layers in order, a functional
model is rebuilt by calling the new layers on the new tensors node by node. A layer used at
several nodes is cloned once and stays shared.
"""
from __future__ import annotations

from ..engine import tree
from ..engine.keras_tensor import KerasTensor
from ..errors import SpecError
from ..layers.core.input_layer import Input, InputLayer
from .functional import Functional
from .sequential import Sequential


def _clone_layer(layer):
    return type(layer).from_config(layer.get_config())


def clone_model(model, input_tensors=None, clone_function=None, **kwargs):
    if kwargs:
        raise SpecError(f"clone_model() got unexpected arguments {sorted(kwargs)}")
    clone_function = clone_function or _clone_layer
    if isinstance(model, Sequential):
        return _clone_sequential(model, input_tensors, clone_function)
    if isinstance(model, Functional):
        return _clone_functional(model, input_tensors, clone_function)
    raise SpecError(f"clone_model() clones Sequential and functional models, got {type(model).__name__}")


def _clone_sequential(model, input_tensors, clone_function):
    layers = [clone_function(layer) for layer in model.layers]
    if input_tensors is not None:
        layers.insert(0, tree.flatten(input_tensors)[0])
    elif model.inputs:
        source = model._input_layer
        layers.insert(0, InputLayer(batch_shape=source.batch_shape, dtype=source.input_dtype,
                                    name=source.name))
    return Sequential(layers, name=model.name, trainable=model.trainable)


def _clone_functional(model, input_tensors, clone_function):
    if input_tensors is None:
        new_inputs = [Input(batch_shape=t.shape, dtype=t.dtype, name=t.history[0].name) for t in model.inputs]
    else:
        new_inputs = tree.flatten(input_tensors)
        if len(new_inputs) != len(model.inputs):
            raise SpecError(f"clone_model() got {len(new_inputs)} input tensors for a model with "
                            f"{len(model.inputs)} inputs")
    tensor_map = {id(old): new for old, new in zip(model.inputs, new_inputs)}
    layer_map = {}

    def new_tensor(value):
        return tensor_map[id(value)] if isinstance(value, KerasTensor) else value

    for node in model._nodes:
        if node.is_input or all(id(t) in tensor_map for t in node.output_tensors):
            continue
        layer = node.layer
        if id(layer) not in layer_map:
            layer_map[id(layer)] = _clone_layer(layer) if getattr(layer, "is_op", False) else clone_function(layer)
        args = tree.map_structure(new_tensor, list(node.args))
        kwargs = {k: tree.map_structure(new_tensor, v) for k, v in node.kwargs.items()}
        outputs = layer_map[id(layer)](*args, **kwargs)
        for old, new in zip(node.output_tensors, tree.flatten(outputs)):
            tensor_map[id(old)] = new
    inputs = _restructure(model._input_structure, new_inputs)
    outputs = tree.map_structure(lambda t: tensor_map[id(t)], model._output_structure)
    return Functional(inputs, outputs, name=model.name, trainable=model.trainable)


def _restructure(structure, flat):
    """``flat`` laid out as ``structure`` (a tensor, a list, or a dict of input tensors)."""
    if isinstance(structure, dict):
        return dict(zip(structure, flat))
    if isinstance(structure, (list, tuple)):
        return list(flat)
    return flat[0]

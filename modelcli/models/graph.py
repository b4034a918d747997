"""Ordering a functional graph the way Keras does.

Keras orders a model's layers by depth (inputs deepest, outputs at depth 0) and,
within a depth, by the order a walk back from the outputs first met them. That
order decides ``model.layers``, ``get_weights()`` and the names in a Keras 3
``.weights.h5`` file, so it has to be reproduced exactly.
"""
from __future__ import annotations

from ..errors import SpecError


def map_graph(inputs, outputs):
    """Return (nodes ordered for execution, layers in Keras order) for the graph."""
    finished, in_progress = set(), set()
    nodes_in_decreasing_depth, layer_indices = [], {}

    def visit(tensor):
        layer, node_index, _ = tensor.history
        node = layer.inbound_nodes[node_index]
        if node in finished:
            return
        if node in in_progress:
            raise SpecError(f"the graph has a cycle through layer '{layer.name}'", where=layer.name)
        layer_indices.setdefault(layer, len(layer_indices))
        in_progress.add(node)
        if not node.is_input and not any(tensor is t for t in inputs):
            for parent in node.input_tensors:
                visit(parent)
        finished.add(node)
        in_progress.discard(node)
        nodes_in_decreasing_depth.append(node)

    for tensor in outputs:
        _check_history(tensor)
        visit(tensor)

    node_depth, layer_depth = {}, {}
    for node in reversed(nodes_in_decreasing_depth):
        depth = max(node_depth.setdefault(node, 0), layer_depth.get(node.layer, 0))
        layer_depth[node.layer] = depth
        node_depth[node] = depth
        if any(t is out for out in inputs for t in node.output_tensors):
            continue
        for parent in node.parent_nodes:
            node_depth[parent] = max(depth + 1, node_depth.get(parent, 0))
    for tensor in inputs:
        layer = tensor.history[0]
        if layer not in layer_depth:  # an input no output depends on
            layer_depth[layer] = 0
            layer_indices[layer] = -1
            node_depth[layer.inbound_nodes[0]] = 0

    nodes = sorted(node_depth, key=lambda n: -node_depth[n])
    by_depth: dict[int, list] = {}
    for layer, depth in layer_depth.items():
        by_depth.setdefault(depth, []).append(layer)
    layers = []
    for depth in sorted(by_depth, reverse=True):
        layers.extend(sorted(by_depth[depth], key=lambda layer: layer_indices[layer]))
    _check_inputs_reach(inputs, nodes)
    return nodes, layers


def _check_history(tensor):
    if getattr(tensor, "history", None) is None:
        raise SpecError(f"model outputs must come from layers called on Input() tensors, got {tensor!r}")


def _check_inputs_reach(inputs, nodes):
    """Every tensor a node consumes must be computable from the model's inputs."""
    available = {id(t) for t in inputs}
    for node in nodes:
        if node.is_input and not any(id(t) in available for t in node.output_tensors):
            raise SpecError(f"the graph needs input '{node.layer.name}', which is not among the model's "
                            "inputs", where=node.layer.name, hint="pass it in Model(inputs=[...])")
        for t in node.output_tensors:
            available.add(id(t))

"""Symbolic tensors and call nodes: how the functional API records a graph.

``Input(shape=(32,))`` returns a :class:`KerasTensor`; calling a layer on it
records a :class:`Node` (which layer, on which tensors, with which keyword
arguments) and returns new KerasTensors whose ``history`` points at that node.
A :class:`~modelcli.models.Model` later walks these nodes to build its plan.
"""
from __future__ import annotations

from . import tree


class KerasTensor:
    """Shape (``None`` for unknown dims, batch first), dtype name and where it came from."""

    def __init__(self, shape, dtype="float32", history=None, name=None):
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = dtype
        self.history = history  # (layer, node_index, tensor_index)
        self.name = name

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        origin = f", from={self.history[0].name}" if self.history else ""
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}{origin}>"

    def __getitem__(self, key):
        """``x[:, 0]`` in a functional model: a GetItem op node, as Keras 3 records it."""
        from ..layers.ops import OPS

        return OPS.get("GetItem")()(self, list(key) if isinstance(key, tuple) else key)

    def __len__(self):
        raise TypeError("a KerasTensor has no length; it stands for a batch of unknown size")


def is_symbolic(structure) -> bool:
    return any(isinstance(t, KerasTensor) for t in tree.flatten(structure))


class Node:
    """One call of a layer on symbolic inputs: ``layer(*args, **kwargs) -> outputs``."""

    def __init__(self, layer, args, kwargs, outputs):
        self.layer = layer
        self.args = args
        self.kwargs = kwargs
        self.outputs = outputs
        self.index = len(layer.inbound_nodes)
        layer.inbound_nodes.append(self)
        for i, t in enumerate(tree.flatten(outputs)):
            t.history = (layer, self.index, i)

    @property
    def input_tensors(self) -> list[KerasTensor]:
        return [t for t in tree.flatten((self.args, self.kwargs)) if isinstance(t, KerasTensor)]

    @property
    def output_tensors(self) -> list[KerasTensor]:
        return tree.flatten(self.outputs)

    @property
    def parent_nodes(self) -> list["Node"]:
        return [t.history[0].inbound_nodes[t.history[1]] for t in self.input_tensors if t.history]

    @property
    def is_input(self) -> bool:
        return not self.input_tensors

"""``model.summary()``: the layer table Keras prints, drawn with rich.

Columns: Layer (type), Output Shape, Param #, and for functional models
Connected to (``layer[node][tensor]`` of each input). Totals give the parameter
counts and their size in memory, as Keras does.
"""
from __future__ import annotations

import io

import numpy as np

from .engine import tree


def _shape_text(shape) -> str:
    if isinstance(shape, list):
        return "[" + ", ".join(_shape_text(s) for s in shape) + "]"
    dims = ["None" if d is None else str(d) for d in shape]
    return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"


def _output_shape(layer) -> str:
    shapes = []
    for node in layer.inbound_nodes:
        outs = node.outputs
        shapes.append(_shape_text([t.shape for t in tree.flatten(outs)]) if isinstance(outs, (list, tuple, dict))
                      else _shape_text(outs.shape))
    if not shapes:
        return "?"
    return shapes[0] if len(set(shapes)) == 1 else "multiple"


def _connections(layer, model) -> str:
    model_nodes = set(getattr(model, "_nodes", []))
    parts = []
    for node in layer.inbound_nodes:
        if node not in model_nodes or node.is_input:
            continue
        for t in node.input_tensors:
            src, node_index, tensor_index = t.history
            parts.append(f"{src.name}[{node_index}][{tensor_index}]")
    return ",\n".join(parts) or "-"


def _sequential_like(model) -> bool:
    """Keras drops the Connected to column for a functional model that is one chain: one input,
    each node fed by one tensor, no tensor feeding two nodes, no layer called twice."""
    nodes = [node for node in model._nodes if not node.is_input]
    fed = [id(t) for node in nodes for t in node.input_tensors]
    layers = [node.layer for node in nodes]
    return (len(model.inputs) == 1 and all(len(node.input_tensors) == 1 for node in nodes)
            and len(set(fed)) == len(fed) and len(set(map(id, layers))) == len(layers))


def readable_size(n_bytes: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n_bytes < 1024 or unit == "GB":
            return f"{n_bytes:.2f} {unit}"
        n_bytes /= 1024
    return f"{n_bytes:.2f} TB"


def _bytes(weights) -> int:
    return int(sum(np.prod(w.shape) * w.parameter.element_size() for w in weights))


def _count(weights) -> int:
    return int(sum(np.prod(w.shape) for w in weights))


def build_table(model, show_trainable=False):
    from rich import box
    from rich.table import Table

    functional = hasattr(model, "_nodes") and not _sequential_like(model)
    table = Table(box=box.HEAVY_HEAD, show_lines=False, title=f'Model: "{model.name}"', title_justify="left")
    table.add_column("Layer (type)", no_wrap=False)
    table.add_column("Output Shape")
    table.add_column("Param #", justify="right")
    if functional:
        table.add_column("Connected to")
    if show_trainable:
        table.add_column("Trainable")
    for layer in model.layers:
        row = [f"{layer.name} ({type(layer).__name__})", _output_shape(layer), f"{layer.count_params():,}"]
        if functional:
            row.append(_connections(layer, model))
        if show_trainable:
            row.append("Y" if layer.trainable else "N")
        table.add_row(*row)
    return table


def summary_text(model, width=None, show_trainable=False) -> str:
    from rich.console import Console

    buffer = io.StringIO()
    console = Console(file=buffer, width=width or 100, force_terminal=False, color_system=None)
    render(console, model, show_trainable)
    return buffer.getvalue()


def render(console, model, show_trainable=False) -> None:
    console.print(build_table(model, show_trainable))
    weights = model.weights
    trainable, frozen = model.trainable_weights, model.non_trainable_weights
    console.print(f" Total params: {_count(weights):,} ({readable_size(_bytes(weights))})")
    console.print(f" Trainable params: {_count(trainable):,} ({readable_size(_bytes(trainable))})")
    console.print(f" Non-trainable params: {_count(frozen):,} ({readable_size(_bytes(frozen))})")


def print_summary(model, print_fn=None, expand_nested=False, show_trainable=False, line_length=None):
    if print_fn is not None:
        for line in summary_text(model, line_length, show_trainable).splitlines():
            print_fn(line)
        return
    from rich.console import Console
    render(Console(width=line_length), model, show_trainable)

"""Row-sparse gradients for embedding tables on the CPU.

A batch of 32 sequences of 100 tokens touches at most 3,200 of an Embedding(10000, 128)'s
rows, yet the dense gradient is the whole 5 MB table: zeroed, filled, then read by every
pass of the optimizer. For the optimizers whose update leaves a parameter untouched where
its gradient is zero (plain SGD, RMSprop without momentum or centering, Adagrad), the rows
without gradient need at most one pass over a slot (RMSprop's velocity decays everywhere),
and the rest of the update runs on the touched rows alone. Per element the arithmetic is
Keras's dense update; where the gradient is zero that update adds an exact zero. Only the
gradient's sum over repeated tokens may round differently (it is summed in sorted order).

``plan`` picks the tables this applies to when training starts; the trainer asks for the
row-sparse gradient only around its own forward pass (``gradients``), so a user's own loop
around the model, even after ``fit``, still sees dense ``.grad`` tensors. Under several
devices the tables stay dense: the replicas' all-reduce sums dense gradients.
"""
from __future__ import annotations

import contextlib

from ..distributed import context
from ..layers.core.embedding import Embedding

ENABLED = True  # tests turn it off to compare with the dense update


def plan(model) -> list[Embedding]:
    """The Embedding layers whose tables train with row-sparse gradients in this model's fit."""
    optimizer = model.optimizer
    if not ENABLED or getattr(model, "_jit_compile", False) or not optimizer.supports_sparse_rows():
        return []
    if context.world().distributed:  # the replica's all-reduce sums dense gradients
        return []
    trainable = {id(p) for p in model._trainable_params}
    owners = {}
    for module in model.modules():
        for p in module.parameters(recurse=False):
            owners[id(p)] = owners.get(id(p), 0) + 1
    return [layer for layer in model.modules() if isinstance(layer, Embedding) and layer.table_only_looked_up
            and _suits(layer.embeddings, trainable, owners) and layer.embeddings_regularizer is None]


def _suits(table, trainable, owners) -> bool:
    """A trainable CPU table that no other layer uses (a tied weight would mix in a dense gradient)."""
    return id(table) in trainable and table.device.type == "cpu" and owners.get(id(table)) == 1


@contextlib.contextmanager
def gradients(layers):
    """The given Embedding layers record a row-sparse backward for the forward passes inside."""
    for layer in layers:
        layer.__dict__["sparse_gradient"] = True
    try:
        yield
    finally:
        for layer in layers:
            layer.__dict__["sparse_gradient"] = False

"""Embedding: integer ids -> rows of an ``(input_dim, output_dim)`` table.

The table has the same layout in Keras and torch (``F.embedding``'s weight).
With ``mask_zero`` id 0 is padding: the output mask is ``ids != 0``.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ... import backend, constraints, initializers, regularizers
from ...engine.layer import Layer
from ..registry import register_layer
from ..reshaping._spatial import positive_int


@register_layer("Embedding")
class Embedding(Layer):
    default_input_dtype = "int32"  # a Sequential starting here builds an integer input
    sparse_gradient = False  # fit turns it on around its forward pass: trainer/sparse_rows.py
    table_only_looked_up = True  # no other op reads the table (else its gradient is dense anyway)
    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform", embeddings_regularizer=None,
                 embeddings_constraint=None, mask_zero=False, **kwargs):
        super().__init__(**kwargs)  # the base also takes Keras 2's input_length, which changes nothing
        self.input_dim = positive_int(input_dim, "input_dim")
        self.output_dim = positive_int(output_dim, "output_dim")
        self.embeddings_initializer = initializers.get(embeddings_initializer, "embeddings_initializer")
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer, "embeddings_regularizer")
        self.embeddings_constraint = constraints.get(embeddings_constraint, "embeddings_constraint")
        self.mask_zero = bool(mask_zero)

    def build(self, input_shape):
        self.add_weight("embeddings", (self.input_dim, self.output_dim), self.embeddings_initializer,
                        regularizer=self.embeddings_regularizer, constraint=self.embeddings_constraint)

    def call(self, inputs):
        if inputs.is_floating_point():  # Keras casts non-integer ids to int32 (truncation)
            inputs = inputs.to(torch.int64)
        rows = F.embedding(inputs, self.embeddings, sparse=self.sparse_gradient)
        return rows.to(backend.torch_dtype(self.compute_dtype))  # Keras casts to the compute dtype (bfloat16 when mixed)

    def compute_mask(self, inputs, mask=None):
        return inputs != 0 if self.mask_zero else None

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def get_config(self):
        return {**super().get_config(), "input_dim": self.input_dim, "output_dim": self.output_dim,
                "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
                "embeddings_regularizer": regularizers.serialize(self.embeddings_regularizer),
                "activity_regularizer": regularizers.serialize(self.activity_regularizer),
                "embeddings_constraint": constraints.serialize(self.embeddings_constraint),
                "mask_zero": self.mask_zero, "quantization_config": None}

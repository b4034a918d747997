"""GroupQueryAttention: attention whose key/value heads are shared by groups of query heads.

``query`` (B, T, dim) is projected to ``num_query_heads`` heads and ``key`` /
``value`` (B, S, dim') to ``num_key_value_heads`` heads, all of ``head_dim``
channels. Each key/value head serves ``num_query_heads / num_key_value_heads``
consecutive query heads (query head i reads key/value head i // group), then
``softmax(q·kᵀ / √head_dim) · v`` per head, an optional sigmoid gate projected
from the query, and ``attention_output`` maps the heads back to ``dim``.

Keras exports the class as ``keras.layers.GroupQueryAttention`` but names it
``GroupedQueryAttention``: layers default to the name ``grouped_query_attention``,
a ``.weights.h5`` file keys the layer under that name and a legacy ``.h5`` model
writes that class name, so this class carries Keras's class name and is
registered under both.

Masks combine with a logical AND as in MultiHeadAttention: ``query_mask`` (or
the query's Keras mask) as (B, T, 1), ``value_mask`` / ``key_mask`` as (B, 1, S),
``attention_mask``, the causal mask and the symmetric ``sliding_window`` band
``|t - s| < sliding_window``. Keras takes its fused kernel unless ``dropout > 0``
or scores are requested; the two differ only for a query step that may attend
nowhere (fused: the mean of all values; explicit: zero), and both are reproduced.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ... import backend, constraints, initializers, regularizers
from ...engine.keras_tensor import KerasTensor
from ...errors import SpecError
from ..registry import register_layer
from .einsum_dense import EinsumDense
from .multi_head_attention import (_FUSED_MASK_VALUE, _FUSED_MASK_VALUE_FP16, _carried_mask, _causal_mask,
                                   _check_positive, _fresh, _WeightlessPart, QueryValueKeyLayer,
                                   combined_mask)

# Keras's Softmax layer writes -1e9 into masked logits (-3e4 in float16); the rows are zeroed afterwards.
_SOFTMAX_MASK_VALUE = -1e9
_SOFTMAX_MASK_VALUE_FP16 = -3e4


@register_layer("GroupQueryAttention", "GroupedQueryAttention")
class GroupedQueryAttention(QueryValueKeyLayer):
    # Keras's class is GroupedQueryAttention (its weight files name groups after it), exported and
    # written into JSON as keras.layers.GroupQueryAttention.
    keras_class_name = "GroupQueryAttention"
    supports_masking = True

    def __init__(self, head_dim, num_query_heads, num_key_value_heads, dropout=0.0, use_bias=True,
                 sliding_window=None, flash_attention=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, use_gate=False, seed=None, **kwargs):
        super().__init__(**kwargs)
        _check_positive(head_dim, "head_dim")
        _check_positive(num_query_heads, "num_query_heads")
        _check_positive(num_key_value_heads, "num_key_value_heads")
        if num_query_heads % num_key_value_heads:
            raise SpecError(f"num_query_heads must be a multiple of num_key_value_heads, got num_query_heads="
                            f"{num_query_heads} and num_key_value_heads={num_key_value_heads}",
                            where="num_key_value_heads")
        if not 0.0 <= float(dropout) < 1.0:
            raise SpecError(f"expected a rate in [0, 1), got {dropout!r}", where="dropout")
        if sliding_window is not None:
            _check_positive(sliding_window, "sliding_window")
        if flash_attention and dropout > 0:
            raise SpecError(f"flash_attention=True cannot apply dropout, got dropout={dropout!r}",
                            where="flash_attention")
        self.head_dim = head_dim
        self.num_query_heads = num_query_heads
        self.num_key_value_heads = num_key_value_heads
        self.dropout = float(dropout)
        self.use_bias = bool(use_bias)
        self.sliding_window = sliding_window
        # Only a kernel choice in Keras (and never in its config): torch picks the kernel here.
        self.flash_attention = flash_attention
        self.use_gate = bool(use_gate)
        self.seed = seed
        self.kernel_initializer = initializers.get(kernel_initializer, "kernel_initializer")
        self.bias_initializer = initializers.get(bias_initializer, "bias_initializer")
        self.kernel_regularizer = regularizers.get(kernel_regularizer, "kernel_regularizer")
        self.bias_regularizer = regularizers.get(bias_regularizer, "bias_regularizer")
        self.kernel_constraint = constraints.get(kernel_constraint, "kernel_constraint")
        self.bias_constraint = constraints.get(bias_constraint, "bias_constraint")
        self._group = num_query_heads // num_key_value_heads
        self._scale = 1.0 / math.sqrt(float(head_dim))

    def get_config(self):
        return {**super().get_config(), "head_dim": self.head_dim, "num_query_heads": self.num_query_heads,
                "num_key_value_heads": self.num_key_value_heads, "use_bias": self.use_bias,
                "use_gate": self.use_gate, "sliding_window": self.sliding_window, "dropout": self.dropout,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "activity_regularizer": regularizers.serialize(self.activity_regularizer),
                "kernel_constraint": constraints.serialize(self.kernel_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint), "seed": self.seed}

    # ----- building -------------------------------------------------------------------------
    def build(self, query_shape, value_shape, key_shape=None):
        self._record_build_shapes(query_shape, value_shape, key_shape)
        key_shape = value_shape if key_shape is None else key_shape
        # Keras's attribute names are the groups of a .weights.h5 file; this order is its weight order.
        q, kv = self.num_query_heads, self.num_key_value_heads
        self.track_sublayer("_query_dense", self._projection("bqm,muh->bquh", q, "uh", "query", query_shape))
        self.track_sublayer("_key_dense", self._projection("bkm,mvh->bkvh", kv, "vh", "key", key_shape))
        if self.use_gate:
            self.track_sublayer("_gate_dense", self._projection("bqm,muh->bquh", q, "uh", "gate", query_shape,
                                                                activation="sigmoid"))
        self.track_sublayer("_value_dense", self._projection("bkm,mvh->bkvh", kv, "vh", "value", value_shape))
        # Keras names these with its global counters, so building one uses up "softmax" and "dropout".
        self.track_sublayer("_softmax", _WeightlessPart(name=backend.unique_name("softmax"),
                                                        dtype=self.dtype_policy))
        self.track_sublayer("_dropout_layer", _WeightlessPart(name=backend.unique_name("dropout"),
                                                              dtype=self.dtype_policy))
        self.track_sublayer("_output_dense", self._einsum_dense(
            "bquh,uhm->bqm", (None, query_shape[-1]), "m", "attention_output",
            input_shape=(None, None, q, self.head_dim)))

    def _projection(self, equation, heads, bias_axes, name, input_shape, activation=None):
        return self._einsum_dense(equation, (None, heads, self.head_dim), bias_axes, name, input_shape, activation)

    def _einsum_dense(self, equation, output_shape, bias_axes, name, input_shape, activation=None):
        layer = EinsumDense(equation, output_shape, activation=activation,
                            bias_axes=bias_axes if self.use_bias else None, name=name,
                            kernel_initializer=_fresh(self.kernel_initializer),
                            bias_initializer=_fresh(self.bias_initializer),
                            kernel_regularizer=self.kernel_regularizer, bias_regularizer=self.bias_regularizer,
                            activity_regularizer=self.activity_regularizer,
                            kernel_constraint=self.kernel_constraint, bias_constraint=self.bias_constraint,
                            dtype=self.dtype_policy)
        layer.build(tuple(input_shape))
        return layer

    # ----- calling ---------------------------------------------------------------------------
    def call(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None, attention_mask=None,
             return_attention_scores=False, training=None, use_causal_mask=False):
        if self.flash_attention and return_attention_scores:
            raise SpecError("flash_attention=True cannot return attention scores, got "
                            "return_attention_scores=True", where=self.name)
        # As Keras fills them: a *_mask argument wins over the Keras mask its tensor carries.
        carried_query_mask = getattr(query, "_keras_mask", None)
        query_mask = _carried_mask(query, query_mask)
        value_mask = _carried_mask(value, value_mask)
        if key is None:
            key = value
        else:
            key_mask = _carried_mask(key, key_mask)

        causal_only = (use_causal_mask and query_mask is None and value_mask is None and key_mask is None
                       and attention_mask is None and self.sliding_window is None)
        mask = None if causal_only else self._attention_mask(query, value, query_mask, value_mask, key_mask,
                                                             attention_mask, use_causal_mask)
        gate = self._gate_dense(query) if self.use_gate else None
        q = self._query_dense(query)
        k = self._key_dense(key).repeat_interleave(self._group, dim=2)
        v = self._value_dense(value).repeat_interleave(self._group, dim=2)
        if self.dropout > 0 or return_attention_scores:
            if causal_only:
                mask = _causal_mask(q.shape[1], v.shape[1], q.device)
            out, scores = self._attend_explicitly(q, k, v, mask, self.dropout if training else 0.0)
        else:
            out = self._attend_fused(q, k, v, mask, causal_only)
        if gate is not None:
            out = out * gate
        out = self._output_dense(out)
        if carried_query_mask is not None:  # Keras gives the first output the query's own mask
            out._keras_mask = carried_query_mask
        return (out, scores) if return_attention_scores else out

    def _attention_mask(self, query, value, query_mask, value_mask, key_mask, attention_mask, use_causal_mask):
        """The AND of every mask that applies, broadcastable to (B, T, S); ``attention_mask`` alone stays as given."""
        return combined_mask(query, value, query_mask, value_mask, key_mask, attention_mask, use_causal_mask,
                             self.sliding_window, lone_attention_mask_as_given=True)

    def _attend_explicitly(self, q, k, v, mask, dropout):
        """Keras's einsum path: scores (B, heads, T, S) and the weighted values (B, T, heads, head_dim)."""
        scores = torch.einsum("bquh,bkuh->buqk", q * self._scale, k)
        if mask is not None:
            # Keras's Softmax layer reads a non-boolean mask as ``mask > 0.5``.
            mask = _to_rank(mask if mask.dtype == torch.bool else mask > 0.5, scores.dim())
            fill = _SOFTMAX_MASK_VALUE_FP16 if scores.dtype == torch.float16 else _SOFTMAX_MASK_VALUE
            scores = torch.where(mask, scores, torch.tensor(fill, dtype=scores.dtype, device=scores.device))
        probabilities = torch.softmax(scores, dim=-1)
        if mask is not None:
            probabilities = torch.where(mask, probabilities, 0.0)
        dropped = F.dropout(probabilities, dropout, training=True) if dropout > 0 else probabilities
        return torch.einsum("buqk,bkuh->bquh", dropped, v), probabilities

    def _attend_fused(self, q, k, v, mask, is_causal):
        """torch's scaled_dot_product_attention over (B, heads, positions, head_dim), Keras's additive mask."""
        bias = None
        if mask is not None:
            mask = _to_rank(mask.to(torch.bool), 4)
            fill = _FUSED_MASK_VALUE_FP16 if q.dtype == torch.float16 else _FUSED_MASK_VALUE
            bias = torch.zeros(mask.shape, dtype=q.dtype, device=q.device).masked_fill_(~mask, fill)
        out = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2),
                                             attn_mask=bias, is_causal=is_causal, scale=self._scale)
        return out.transpose(1, 2)

    # ----- shapes and masks --------------------------------------------------------------------
    def compute_output_shape(self, query_shape, value_shape, key_shape=None):
        query_shape, value_shape = tuple(query_shape), tuple(value_shape)
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        if query_shape[-1] != value_shape[-1]:
            raise SpecError(f"query and value must have the same last axis, got query shape {query_shape} and "
                            f"value shape {value_shape}", where=self.name)
        if value_shape[1:-1] != key_shape[1:-1]:
            raise SpecError(f"value and key must agree on all but their last axis, got value shape "
                            f"{value_shape} and key shape {key_shape}", where=self.name)
        return query_shape

    def compute_output_spec(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None,
                            attention_mask=None, return_attention_scores=False, training=None,
                            use_causal_mask=False):
        output = KerasTensor(self.compute_output_shape(query.shape, value.shape,
                                                       None if key is None else key.shape), self.compute_dtype)
        if not return_attention_scores:
            return output
        source_length = (value if key is None else key).shape[1]
        scores_shape = (query.shape[0], self.num_query_heads, query.shape[1], source_length)
        return output, KerasTensor(scores_shape, self.compute_dtype)


# The public name, as keras.layers exports it.
GroupQueryAttention = GroupedQueryAttention


def _to_rank(mask, rank):
    """Keras's broadcast of a (B, T, S) mask to the scores: new axes go before the query axis."""
    while mask.dim() < rank:
        mask = mask.unsqueeze(-3)
    return mask

"""MultiHeadAttention: Keras's layer, with its EinsumDense projections and masks.

``query`` (B, T, dim) and ``value`` / ``key`` (B, S, dim) are projected to
heads (``query_dense`` kernel (dim, heads, key_dim), bias (heads, key_dim)),
attention is ``softmax(q·kᵀ / √key_dim) · v`` over ``attention_axes``, and
``output_dense`` (kernel (heads, value_dim, out)) maps the heads back.

Masks combine with a logical AND: the query's Keras mask as (B, T, 1), the
value's and key's as (B, 1, S), ``attention_mask`` (B, T, S), the causal mask
and the sliding window. Masked logits are pushed to a large negative number.
Two Keras paths are reproduced exactly: torch's fused attention (used unless
scores are requested), where a query step that may attend nowhere averages all
values, and the explicit einsum softmax path (Keras's whenever ``dropout > 0``
or the inputs are not 3D), where such a step gets zero attention.
"""
from __future__ import annotations

import math
import string

import numpy as np
import torch
import torch.nn.functional as F

from ... import backend, constraints, initializers, regularizers
from ...engine.keras_tensor import KerasTensor
from ...engine.layer import Layer
from ...errors import SpecError
from ...serialization import keras_class_name
from ..registry import register_layer
from .einsum_dense import EinsumDense

# Keras's masked logits: the fused path adds -0.7·3.38953e38 (-0.7·65500 in float16), the softmax path
# writes -1e9.
_FUSED_MASK_VALUE = -0.7 * 3.38953e38
_FUSED_MASK_VALUE_FP16 = -0.7 * 65500.0
_SOFTMAX_MASK_VALUE = -1e9


class _WeightlessPart(Layer):
    """A weightless Keras sublayer (MHA's softmax and dropout): saved as an empty group, never called."""


class QueryValueKeyLayer(Layer):
    """A layer called on a query, a value and an optional key (MultiHeadAttention,
    GroupQueryAttention): built from their shapes, which its build_config records as Keras 3 writes them."""

    _build_shapes = None

    def build_from_call(self, args, kwargs):
        names = ("query", "value", "key")
        given = dict(zip(names, args))
        given.update({k: kwargs[k] for k in names if kwargs.get(k) is not None})
        if given.get("value") is None:
            raise SpecError(f"{keras_class_name(self)} needs a query and a value", where=self.name)
        self.build(*(None if given.get(k) is None else tuple(given[k].shape) for k in names))

    def build_from_config(self, config):
        """Keras 3's ``{"shapes_dict": {"query_shape", "value_shape"[, "key_shape"]}}``; else build on call."""
        shapes = config.get("shapes_dict", config)
        if shapes.get("query_shape") is None or shapes.get("value_shape") is None:
            return
        self.build(*(None if shapes.get(k) is None else tuple(shapes[k])
                     for k in ("query_shape", "value_shape", "key_shape")))

    def get_build_config(self):
        return {"shapes_dict": dict(self._build_shapes)} if self._build_shapes else None

    def _record_build_shapes(self, query_shape, value_shape, key_shape):
        self._build_shapes = {"query_shape": tuple(query_shape), "value_shape": tuple(value_shape)}
        if key_shape is not None:
            self._build_shapes["key_shape"] = tuple(key_shape)


@register_layer("MultiHeadAttention")
class MultiHeadAttention(QueryValueKeyLayer):
    supports_masking = True

    def __init__(self, num_heads, key_dim, value_dim=None, dropout=0.0, use_bias=True, output_shape=None,
                 attention_axes=None, sliding_window=None, flash_attention=None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, bias_constraint=None, use_gate=False, seed=None,
                 softmax_robust_masking=False, **kwargs):
        super().__init__(**kwargs)
        if softmax_robust_masking:  # tf-keras ≥ 2.15 writes this key, False by default
            raise SpecError("softmax_robust_masking=True (tf-keras) is not supported", where="softmax_robust_masking")
        _check_positive(num_heads, "num_heads")
        _check_positive(key_dim, "key_dim")
        if value_dim is not None:
            _check_positive(value_dim, "value_dim")
        if not 0.0 <= float(dropout) < 1.0:
            raise SpecError(f"expected a rate in [0, 1), got {dropout!r}", where="dropout")
        if sliding_window is not None:
            _check_positive(sliding_window, "sliding_window")
        if isinstance(attention_axes, int):
            attention_axes = (attention_axes,)
        elif attention_axes is not None and not isinstance(attention_axes, (list, tuple)):
            raise SpecError(f"expected an integer or a list of integers, got {attention_axes!r}",
                            where="attention_axes")
        if output_shape:
            output_shape = (output_shape,) if isinstance(output_shape, int) else tuple(output_shape)
        self.num_heads = num_heads
        self.key_dim = key_dim
        self.value_dim = value_dim or key_dim
        self.dropout = float(dropout)
        self.use_bias = bool(use_bias)
        self.output_shape_arg = output_shape
        self.attention_axes = attention_axes
        self.sliding_window = sliding_window
        # flash_attention only chose a kernel in Keras; torch picks the fastest one here.
        self.flash_attention = flash_attention
        self.use_gate = bool(use_gate)
        self.seed = seed
        self.kernel_initializer = initializers.get(kernel_initializer, "kernel_initializer")
        self.bias_initializer = initializers.get(bias_initializer, "bias_initializer")
        self.kernel_regularizer = regularizers.get(kernel_regularizer, "kernel_regularizer")
        self.bias_regularizer = regularizers.get(bias_regularizer, "bias_regularizer")
        self.kernel_constraint = constraints.get(kernel_constraint, "kernel_constraint")
        self.bias_constraint = constraints.get(bias_constraint, "bias_constraint")
        self._scale = 1.0 / math.sqrt(float(key_dim))

    @classmethod
    def from_config(cls, config):
        """Keras 2 writes the build shapes into the config (``query_shape``, ``key_shape``, ``value_shape``)."""
        config = dict(config)
        shapes = {k: config.pop(k) for k in ("query_shape", "key_shape", "value_shape") if k in config}
        layer = cls(**config)
        if shapes.get("query_shape") is not None and shapes.get("value_shape") is not None:
            layer.build_from_config({"shapes_dict": shapes})
        return layer

    # ----- building -------------------------------------------------------------------------
    def build(self, query_shape, value_shape=None, key_shape=None):
        if value_shape is None:
            raise SpecError("MultiHeadAttention is built from a query and a value shape", where=self.name)
        self._record_build_shapes(query_shape, value_shape, key_shape)
        key_shape = value_shape if key_shape is None else key_shape
        if tuple(value_shape[1:-1]) != tuple(key_shape[1:-1]):
            raise SpecError(f"value and key must agree on all but their last axis, got value shape "
                            f"{tuple(value_shape)} and key shape {tuple(key_shape)}", where=self.name)
        self.track_sublayer("query_dense", self._projection(len(query_shape), self.key_dim, "query", query_shape))
        self.track_sublayer("key_dense", self._projection(len(key_shape), self.key_dim, "key", key_shape))
        if self.use_gate:
            self.track_sublayer("_gate_dense", self._projection(len(query_shape), self.value_dim, "gate",
                                                                query_shape, activation="sigmoid"))
        self.track_sublayer("value_dense", self._projection(len(value_shape), self.value_dim, "value", value_shape))
        rank = len(query_shape) + 1  # of the projected tensors: (..., heads, channels)
        axes = tuple(range(1, rank - 2)) if self.attention_axes is None else self.attention_axes
        self.attention_axes = tuple(a if a >= 0 else rank - 1 + a for a in axes)
        self._dot_equation, self._combine_equation, self._scores_rank = _attention_equations(
            rank, self.attention_axes)
        # Keras names these with its global counters, so creating an MHA uses up "softmax" and "dropout".
        self.track_sublayer("_softmax", _WeightlessPart(name=backend.unique_name("softmax"),
                                                        dtype=self.dtype_policy))
        self.track_sublayer("_dropout_layer", _WeightlessPart(name=backend.unique_name("dropout"),
                                                              dtype=self.dtype_policy))
        out = self.output_shape_arg or (query_shape[-1],)
        equation, bias_axes, out_rank = _projection_equation(len(query_shape) - 1, bound_dims=2,
                                                             output_dims=len(out))
        output_dense = self._einsum_dense(equation, [None] * (out_rank - 1 - len(out)) + list(out), bias_axes,
                                          "attention_output")
        output_dense.build(tuple(query_shape[:-1]) + (self.num_heads, self.value_dim))
        self.track_sublayer("output_dense", output_dense)

    def _projection(self, input_rank, channels, name, input_shape, activation=None):
        equation, bias_axes, out_rank = _projection_equation(input_rank - 1, bound_dims=1, output_dims=2)
        layer = self._einsum_dense(equation, [None] * (out_rank - 3) + [self.num_heads, channels], bias_axes, name,
                                   activation)
        layer.build(tuple(input_shape))
        return layer

    def _einsum_dense(self, equation, output_shape, bias_axes, name, activation=None):
        return EinsumDense(equation, output_shape, activation=activation,
                           bias_axes=bias_axes if self.use_bias else None, name=name,
                           kernel_initializer=_fresh(self.kernel_initializer),
                           bias_initializer=_fresh(self.bias_initializer),
                           kernel_regularizer=self.kernel_regularizer, bias_regularizer=self.bias_regularizer,
                           activity_regularizer=self.activity_regularizer,
                           kernel_constraint=self.kernel_constraint, bias_constraint=self.bias_constraint,
                           dtype=self.dtype_policy)

    # ----- calling ---------------------------------------------------------------------------
    def call(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None, attention_mask=None,
             return_attention_scores=False, training=None, use_causal_mask=False, mask=None):
        # Keras takes each tensor's own mask unless a *_mask argument is given, and always the query's own mask.
        # ``mask`` is the query's mask as the engine passes it; it also serves a value or key that IS the query.
        query_own = _carried_mask(query, mask)
        query_mask = query_own if query_own is not None else query_mask
        value_mask = _carried_mask(value, value_mask, mask if value is query else None)
        if key is not None:
            key_mask = _carried_mask(key, key_mask, mask if key is query else None)
        key = value if key is None else key

        if use_causal_mask and len(self.attention_axes) > 1:
            raise SpecError(f"use_causal_mask needs a single attention axis, got attention_axes="
                            f"{self.attention_axes}", where=self.name)
        causal_only = (use_causal_mask and query_mask is None and value_mask is None and key_mask is None
                       and attention_mask is None and self.sliding_window is None)
        if not causal_only:
            attention_mask = self._attention_mask(query, value, query_mask, value_mask, key_mask, attention_mask,
                                                  use_causal_mask)

        gate = self._gate_dense(query) if self.use_gate else None
        q, k, v = self.query_dense(query), self.key_dense(key), self.value_dense(value)
        is_causal = causal_only and q.dim() == 4 and not return_attention_scores
        if causal_only and not is_causal:
            # Keras's explicit path builds the (1, T, S) causal mask from axis 1, whatever the rank.
            attention_mask = _causal_mask(q.shape[1], v.shape[1], q.device)
        dropout = self.dropout if training else 0.0
        if return_attention_scores:
            out, scores = self._attend_explicitly(q, k, v, attention_mask, dropout)
        else:
            out = self._attend_fused(q, k, v, attention_mask, is_causal, dropout)
        if gate is not None:
            out = out * gate
        out = self.output_dense(out)
        if query_mask is not None:
            out._keras_mask = query_mask
        return (out, scores) if return_attention_scores else out

    def _attention_mask(self, query, value, query_mask, value_mask, key_mask, attention_mask, use_causal_mask):
        return combined_mask(query, value, query_mask, value_mask, key_mask, attention_mask, use_causal_mask,
                             self.sliding_window)

    def _expanded_mask(self, mask, scores_rank):
        """Keras's broadcast of a (B, T, S) mask to the scores: new axes before the query attention axes."""
        axis = -len(self.attention_axes) * 2 - 1
        while mask.dim() < scores_rank:
            mask = mask.unsqueeze(axis)
        return mask

    def _attend_explicitly(self, q, k, v, mask, dropout):
        """The einsum path: scores (batch dims, heads, query axes, key axes) and the weighted values."""
        scores = torch.einsum(self._dot_equation, k, q * self._scale)
        if mask is not None:
            mask = self._expanded_mask(mask, scores.dim())
            scores = torch.where(mask, scores, torch.tensor(_SOFTMAX_MASK_VALUE, dtype=scores.dtype,
                                                            device=scores.device))
        n = len(self.attention_axes)
        probabilities = torch.softmax(scores.flatten(-n), dim=-1).unflatten(-1, scores.shape[-n:])
        if mask is not None:
            probabilities = torch.where(mask, probabilities, 0.0)
        dropped = F.dropout(probabilities, dropout, training=True) if dropout > 0 else probabilities
        return torch.einsum(self._combine_equation, dropped, v), probabilities

    def _attend_fused(self, q, k, v, mask, is_causal, dropout):
        """torch's scaled_dot_product_attention over (batch dims, query positions, channels)."""
        rank = q.dim()
        batch_axes = [d for d in range(rank - 1) if d not in self.attention_axes]
        order = batch_axes + list(self.attention_axes) + [rank - 1]
        qp, kp, vp = q.permute(order), k.permute(order), v.permute(order)
        nb = len(batch_axes)
        query_positions = qp.shape[nb:-1]
        key_positions = kp.shape[nb:-1]
        qf, kf, vf = (t.flatten(nb, -2) for t in (qp, kp, vp))
        bias = None
        if mask is not None:
            mask = self._expanded_mask(mask, nb + 2 * len(self.attention_axes))
            mask = mask.expand(*mask.shape[:nb], *query_positions, *key_positions)
            mask = mask.reshape(*mask.shape[:nb], math.prod(query_positions), math.prod(key_positions))
            fill = _FUSED_MASK_VALUE_FP16 if qf.dtype == torch.float16 else _FUSED_MASK_VALUE
            bias = torch.zeros(mask.shape, dtype=qf.dtype, device=qf.device).masked_fill_(~mask, fill)
        out = F.scaled_dot_product_attention(qf, kf, vf, attn_mask=bias, dropout_p=dropout, is_causal=is_causal,
                                             scale=self._scale)
        if mask is not None and (self.dropout > 0 or rank != 4):
            # Keras would have taken its explicit path, where a query step with nothing to attend gets 0.
            out = out * mask.any(-1, keepdim=True)
        out = out.unflatten(-2, query_positions)
        return out.permute(tuple(int(i) for i in np.argsort(order)))

    # ----- shapes and masks --------------------------------------------------------------------
    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        if value_shape is None and isinstance(query_shape, list) and query_shape \
                and isinstance(query_shape[0], (list, tuple)):
            query_shape, value_shape, key_shape = (list(query_shape) + [None, None])[:3]
        value_shape = tuple(query_shape if value_shape is None else value_shape)
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        if value_shape[1:-1] != key_shape[1:-1]:
            raise SpecError(f"value and key must agree on all but their last axis, got value shape "
                            f"{value_shape} and key shape {key_shape}", where=self.name)
        query_shape = tuple(query_shape)
        return query_shape[:-1] + tuple(self.output_shape_arg) if self.output_shape_arg else query_shape

    def compute_output_spec(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None,
                            attention_mask=None, return_attention_scores=False, training=None,
                            use_causal_mask=False):
        shape = self.compute_output_shape(query.shape, value.shape, None if key is None else key.shape)
        output = KerasTensor(shape, self.compute_dtype)
        if not return_attention_scores:
            return output
        return output, KerasTensor(self._scores_shape(query.shape, value.shape if key is None else key.shape),
                                   self.compute_dtype)

    def _scores_shape(self, query_shape, key_shape):
        rank = len(query_shape) + 1
        axes = tuple(range(1, rank - 2)) if self.attention_axes is None else self.attention_axes
        projected = tuple(query_shape[:-1]) + (self.num_heads,)
        batch_axes = [d for d in range(rank - 1) if d not in axes]
        return tuple(projected[d] for d in batch_axes) + tuple(query_shape[a] for a in axes) \
            + tuple(key_shape[a] for a in axes)

    def compute_mask(self, inputs, mask=None):
        """The output keeps the query's mask."""
        return mask if mask is not None else getattr(inputs, "_keras_mask", None)

    def get_config(self):
        return {**super().get_config(), "num_heads": self.num_heads, "key_dim": self.key_dim,
                "value_dim": self.value_dim, "dropout": self.dropout, "use_bias": self.use_bias,
                "use_gate": self.use_gate, "output_shape": self.output_shape_arg,
                "attention_axes": self.attention_axes, "sliding_window": self.sliding_window,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "activity_regularizer": regularizers.serialize(self.activity_regularizer),
                "kernel_constraint": constraints.serialize(self.kernel_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint), "seed": self.seed}


def _check_positive(value, name):
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise SpecError(f"expected a positive integer, got {value!r}", where=name)


def _fresh(initializer):
    """A new initializer object per sublayer (Keras clones them so each draws its own values)."""
    return type(initializer).from_config(initializer.get_config())


def _carried_mask(tensor, given, fallback=None):
    """An explicit mask wins; then the Keras mask the tensor carries; then ``fallback``."""
    if given is not None:
        return torch.as_tensor(given, device=tensor.device)
    carried = getattr(tensor, "_keras_mask", None)
    return carried if carried is not None else fallback


def combined_mask(query, value, query_mask, value_mask, key_mask, attention_mask, use_causal_mask, sliding_window,
                  lone_attention_mask_as_given=False):
    """The AND of every mask that applies, as a bool tensor broadcastable to (B, T, S), or None.

    ``lone_attention_mask_as_given``: an ``attention_mask`` with no other mask is returned as
    given, not as bool (GroupQueryAttention's two paths read a non-bool mask differently)."""
    masks = []
    if query_mask is not None:
        masks.append(query_mask.to(torch.bool).unsqueeze(-1))
    for mask in (value_mask, key_mask):
        if mask is not None:
            masks.append(mask.to(torch.bool).unsqueeze(-2))
    if use_causal_mask:
        masks.append(_causal_mask(query.shape[1], value.shape[1], query.device))
    if sliding_window is not None:
        rows = torch.arange(query.shape[1], device=query.device).view(1, -1, 1)
        cols = torch.arange(value.shape[1], device=query.device).view(1, 1, -1)
        masks.append((rows - cols).abs() < sliding_window)
    if attention_mask is not None:
        attention_mask = torch.as_tensor(attention_mask, device=query.device)
        if not masks and lone_attention_mask_as_given:
            return attention_mask
        masks.insert(0, attention_mask.to(torch.bool))
    if not masks:
        return None
    combined = masks[0]
    for mask in masks[1:]:
        combined = combined & mask
    return combined


def _causal_mask(query_length, value_length, device):
    """(1, T, S): step t may attend to steps s ≤ t."""
    return torch.ones(query_length, value_length, dtype=torch.bool, device=device).tril().unsqueeze(0)


def _projection_equation(free_dims, bound_dims, output_dims):
    """Keras's projection einsum: free axes kept, bound axes summed, output axes created."""
    letters = string.ascii_lowercase
    free = letters[:free_dims]
    bound = letters[free_dims:free_dims + bound_dims]
    out = letters[free_dims + bound_dims:free_dims + bound_dims + output_dims]
    return f"{free}{bound},{bound}{out}->{free}{out}", out, len(free + out)


def _attention_equations(rank, attention_axes):
    """Keras's einsum equations for the scores (key, query -> scores) and the combination."""
    letters = string.ascii_lowercase
    target = letters[:rank]
    batch_axes = [i for i in range(rank) if i not in attention_axes and i != rank - 1]
    source = list(target)
    for n, axis in enumerate(attention_axes):
        source[axis] = letters[rank + n]
    source = "".join(source)
    product = "".join([target[i] for i in batch_axes] + [target[i] for i in attention_axes]
                      + [source[i] for i in attention_axes])
    return f"{source},{target}->{product}", f"{product},{source}->{target}", len(product)

"""Attention: Keras's dot-product (Luong-style) attention over ``[query, value]`` or ``[query, value, key]``.

``query`` is (B, Tq, dim), ``value`` (B, Tv, dv) and ``key`` (B, Tv, dim); the key
defaults to the value. The scores (B, Tq, Tv) are

    dot:     scale · (q · kᵀ)
    concat:  concat_score_weight · Σ_dim tanh(scale · (q_i + k_j))

with ``scale`` a trainable scalar (ones-initialized) only when ``use_scale``, and
``concat_score_weight`` a trainable scalar (ones) only in concat mode. Keras then
subtracts 1e9 (65504 in float16) from every score the value mask or the causal
mask rules out, takes the softmax over Tv, applies dropout to those weights while
training, and returns ``weights · value`` (B, Tq, dv), zero at the query steps the
query mask rules out. The output carries the query mask; a key mask is ignored.
"""
from __future__ import annotations

import numbers

import torch

from ...engine.keras_tensor import KerasTensor
from ...errors import SpecError
from ..regularization._random import RandomLayer
from ..regularization._random import dropout as random_dropout
from ..registry import register_layer

# Subtracted from masked scores (not written over them), as Keras does: a query step that may
# attend nowhere still gets a softmax of its shifted scores.
_MASK_OFFSET = 1.0e9
_MASK_OFFSET_FP16 = 65504.0


@register_layer("Attention")
class Attention(RandomLayer):
    # A RandomLayer for its seeded generator: the dropout on the attention weights repeats for a given seed.

    def __init__(self, use_scale=False, score_mode="dot", dropout=0.0, seed=None, causal=False, **kwargs):
        super().__init__(seed=seed, **kwargs)
        if score_mode not in ("dot", "concat"):
            raise SpecError(f"expected 'dot' or 'concat', got {score_mode!r}", where="score_mode")
        self.use_scale = bool(use_scale)
        self.score_mode = score_mode
        self.dropout = _check_dropout(dropout)
        # Keras 2 up to TF 2.9 saved causal masking as this constructor flag; Keras 3 has only the call argument.
        self.causal = bool(causal)

    def build(self, input_shape):
        self._check_shapes(input_shape)
        if self.use_scale:
            self.add_weight("scale", (), initializer="ones")
        if self.score_mode == "concat":
            self.add_weight("concat_score_weight", (), initializer="ones")

    # ----- calling ---------------------------------------------------------------------------
    def call(self, inputs, mask=None, training=False, return_attention_scores=False, use_causal_mask=False):
        query, value, key = self._split(inputs)
        query_mask, value_mask = self._split_mask(mask)
        scores = self._scores(query, key)
        allowed = _allowed_scores(scores, value_mask, use_causal_mask or self.causal)
        if allowed is not None:
            offset = _MASK_OFFSET_FP16 if scores.dtype == torch.float16 else _MASK_OFFSET
            scores = torch.where(allowed, scores, scores - offset)
        weights = torch.softmax(scores, dim=-1)
        if training and self.dropout > 0:
            weights = random_dropout(weights, self.dropout, None, self._generator(weights.device))
        output = torch.matmul(weights, value)
        if query_mask is not None:
            output = torch.where(query_mask.to(torch.bool).unsqueeze(-1), output, 0.0)
            output._keras_mask = query_mask  # also when the scores come back beside it
        return (output, weights) if return_attention_scores else output

    def _scores(self, query, key):
        """(B, Tq, Tv) from query (B, Tq, dim) and key (B, Tv, dim)."""
        if self.score_mode == "dot":
            scores = torch.matmul(query, key.transpose(-2, -1))
            return scores * self.scale if self.use_scale else scores
        pairs = query.unsqueeze(-2) + key.unsqueeze(-3)  # (B, Tq, Tv, dim)
        if self.use_scale:
            pairs = self.scale * pairs
        return self.concat_score_weight * torch.tanh(pairs).sum(-1)

    def _split(self, inputs):
        """(query, value, key) from Keras's input list (of tensors, or of shapes when building)."""
        if not isinstance(inputs, (list, tuple)):
            got = type(inputs).__name__
        elif all(item is None or isinstance(item, numbers.Integral) for item in inputs):
            got = f"a single shape {tuple(inputs)}"  # a shape is a tuple too; its items are sizes
        elif not 2 <= len(inputs) <= 3:
            got = f"{len(inputs)} items"
        else:
            query, value = inputs[0], inputs[1]
            return query, value, inputs[2] if len(inputs) == 3 else value
        raise SpecError(f"{type(self).__name__} takes a list [query, value] or [query, value, key], got {got}",
                        where=self.name)

    def _split_mask(self, mask):
        """(query_mask, value_mask) from Keras's mask list; a key mask, if any, plays no part."""
        if mask is None:
            return None, None
        if not isinstance(mask, (list, tuple)) or not 2 <= len(mask) <= 3:
            raise SpecError(f"{type(self).__name__} takes masks as a list [query_mask, value_mask], got "
                            f"{mask!r}", where=self.name)
        return mask[0], mask[1]

    # ----- shapes and masks --------------------------------------------------------------------
    def _check_shapes(self, shapes):
        query, value, key = self._split(shapes)
        if len(value) > 1 and len(key) > 1 and None not in (value[-2], key[-2]) and value[-2] != key[-2]:
            raise SpecError(f"value and key must have the same number of steps, got value shape {tuple(value)} "
                            f"and key shape {tuple(key)}", where=self.name)
        if None not in (query[-1], key[-1]) and query[-1] != key[-1]:
            raise SpecError(f"query and key must have the same last dimension, got query shape {tuple(query)} "
                            f"and key shape {tuple(key)}", where=self.name)

    def compute_output_shape(self, input_shape):
        query, value, _ = self._split(input_shape)
        return (*tuple(query)[:-1], value[-1])

    def compute_output_spec(self, inputs, mask=None, return_attention_scores=False, training=None,
                            use_causal_mask=False):
        query, value, key = self._split(inputs)
        output = KerasTensor(self.compute_output_shape([query.shape, value.shape]), self.compute_dtype)
        if not return_attention_scores:
            return output
        return output, KerasTensor((*tuple(query.shape)[:-1], key.shape[-2]), self.compute_dtype)

    def compute_mask(self, inputs, mask=None):
        """The output keeps the query's mask."""
        query_mask, _ = self._split_mask(mask)
        return query_mask

    def get_config(self):
        config = {**super().get_config(), "use_scale": self.use_scale, "score_mode": self.score_mode,
                  "dropout": self.dropout, "seed": self.seed}
        if self.causal:  # Keras 3 has no such key; keep the Keras 2 meaning rather than drop it
            config["causal"] = True
        return config


def _check_dropout(rate):
    if not isinstance(rate, numbers.Real) or isinstance(rate, bool) or not 0 <= rate <= 1:
        raise SpecError(f"expected a number with 0 <= dropout <= 1, got {rate!r}", where="dropout")
    return rate


def _allowed_scores(scores, value_mask, causal):
    """Where a query step may attend, broadcastable to the scores (B, Tq, Tv); None where everywhere."""
    allowed = None if value_mask is None else value_mask.to(torch.bool).unsqueeze(-2)
    if causal:
        steps = torch.ones(scores.shape[-2:], dtype=torch.bool, device=scores.device).tril()
        allowed = steps if allowed is None else allowed & steps
    return allowed

"""AdditiveAttention: Keras's Bahdanau-style attention, Attention with an additive score.

For query (B, Tq, dim) and key (B, Tv, dim) the scores are

    scores[b, i, j] = Σ_dim scale · tanh(q_i + k_j)

where ``scale`` is a trainable (dim,) vector, glorot-uniform initialized, when
``use_scale`` (the default) and 1 otherwise. Masks, softmax, dropout and the
weighted sum of the values are Attention's.
"""
from __future__ import annotations

import torch

from ..registry import register_layer
from .attention import Attention


@register_layer("AdditiveAttention")
class AdditiveAttention(Attention):
    def __init__(self, use_scale=True, dropout=0.0, seed=None, causal=False, **kwargs):
        super().__init__(use_scale=use_scale, dropout=dropout, seed=seed, causal=causal, **kwargs)

    def build(self, input_shape):
        self._check_shapes(input_shape)
        if self.use_scale:
            self.add_weight("scale", (input_shape[0][-1],), initializer="glorot_uniform")

    def _scores(self, query, key):
        terms = torch.tanh(query.unsqueeze(-2) + key.unsqueeze(-3))  # (B, Tq, Tv, dim)
        return (self.scale * terms if self.use_scale else terms).sum(-1)

    def get_config(self):
        config = super().get_config()
        del config["score_mode"]  # always additive; Keras writes no such key here
        return config

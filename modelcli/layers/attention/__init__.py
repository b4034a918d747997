"""Attention layers: dot-product and additive Attention, MultiHeadAttention and its EinsumDense projections."""
from .additive_attention import AdditiveAttention
from .attention import Attention
from .einsum_dense import EinsumDense
from .multi_head_attention import MultiHeadAttention

__all__ = ["AdditiveAttention", "Attention", "EinsumDense", "MultiHeadAttention"]

"""Attention layers: dot-product and additive Attention, MultiHeadAttention, GroupQueryAttention and their
EinsumDense projections."""
from .additive_attention import AdditiveAttention
from .attention import Attention
from .einsum_dense import EinsumDense
from .grouped_query_attention import GroupedQueryAttention, GroupQueryAttention
from .multi_head_attention import MultiHeadAttention

__all__ = ["AdditiveAttention", "Attention", "EinsumDense", "GroupQueryAttention", "GroupedQueryAttention",
           "MultiHeadAttention"]

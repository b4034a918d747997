"""Attention layers: MultiHeadAttention and the EinsumDense projections it is made of."""
from .einsum_dense import EinsumDense
from .multi_head_attention import MultiHeadAttention

__all__ = ["EinsumDense", "MultiHeadAttention"]

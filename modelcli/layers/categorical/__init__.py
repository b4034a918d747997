"""Layers that turn integers and numbers into categories: CategoryEncoding, Discretization."""
from .category_encoding import CategoryEncoding
from .discretization import Discretization

__all__ = ["CategoryEncoding", "Discretization"]

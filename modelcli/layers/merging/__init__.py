"""Merge layers (a list of tensors in, one out) and Keras's functional helpers for them."""
from .arithmetic import (Add, Average, Maximum, Minimum, Multiply, Subtract, add, average, maximum, minimum,
                         multiply, subtract)
from .base_merge import Merge
from .concatenate import Concatenate, concatenate
from .dot import Dot, dot

__all__ = ["Merge", "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot",
           "add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate", "dot"]

"""Preprocessing layers that belong in a model file: Rescaling, Normalization, CenterCrop, Resizing."""
from .center_crop import CenterCrop
from .normalization import Normalization
from .rescaling import Rescaling
from .resizing import Resizing

__all__ = ["CenterCrop", "Normalization", "Rescaling", "Resizing"]

"""Preprocessing layers that belong in a model file: Rescaling, Normalization, CenterCrop, Resizing,
and the Pipeline that chains layers."""
from .center_crop import CenterCrop
from .normalization import Normalization
from .pipeline import Pipeline
from .rescaling import Rescaling
from .resizing import Resizing

__all__ = ["CenterCrop", "Normalization", "Pipeline", "Rescaling", "Resizing"]

"""Models: ``Sequential``, ``Model`` (functional), and loading them from Keras files."""
from .. import layers as _layers  # noqa: F401  (registers every layer class)
from ..layers.registry import LAYERS
from .clone import clone_model
from .functional import Functional
from .model import Model
from .sequential import Sequential
from .spec import model_from_config, model_from_json, model_from_yaml

LAYERS.add("Sequential", Sequential)
LAYERS.add("Functional", Functional)
LAYERS.add("Model", Functional)


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """A model from ``.keras``, a full-model ``.h5``, or a ``.json`` / ``.yaml`` spec."""
    from ..saving.load import load_model as _load
    return _load(filepath, custom_objects=custom_objects, compile=compile)


__all__ = ["Functional", "Model", "Sequential", "clone_model", "load_model", "model_from_config", "model_from_json",
           "model_from_yaml"]

"""Reading and writing Keras files: weights (Keras 3 and legacy HDF5), .keras archives.

``keras.saving.load_model`` / ``save_model`` are here too, loaded on first use so that
importing the package stays light.
"""


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """``keras.saving.load_model``: a model from ``.keras``, a full-model ``.h5``, or a spec file."""
    from ..models import load_model as _load
    return _load(filepath, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode)


def save_model(model, filepath, overwrite=True, **kwargs):
    """``keras.saving.save_model``: the same as ``model.save(filepath)``."""
    model.save(filepath, overwrite=overwrite, **kwargs)

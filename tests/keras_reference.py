"""Compare a modelcli layer with the real Keras 3 layer it mirrors.

``assert_layer_matches_keras(keras_layer, inputs)`` calls the Keras layer, rebuilds
it in modelcli from the config Keras serialized, copies Keras's weights over with
``set_weights`` and asserts both give the same numbers (and the same config back).
"""
from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from modelcli.layers.deserialize import deserialize_layer  # noqa: E402


def keras_spec(keras_layer) -> dict:
    return keras.saving.serialize_keras_object(keras_layer)


def ours_from(keras_layer):
    """The modelcli layer rebuilt from the config Keras serializes for ``keras_layer``."""
    return deserialize_layer(keras_spec(keras_layer))


def to_numpy(value):
    if isinstance(value, (list, tuple)):
        return [to_numpy(v) for v in value]
    return keras.ops.convert_to_numpy(value)


def assert_layer_matches_keras(keras_layer, inputs, call_kwargs=None, atol=1e-5, training=False):
    """Build both layers on ``inputs`` (an array or list of arrays) and compare outputs and weights."""
    call_kwargs = call_kwargs or {}
    args = inputs if isinstance(inputs, tuple) else (inputs,)
    expected = to_numpy(keras_layer(*args, training=training, **call_kwargs) if _takes_training(keras_layer)
                        else keras_layer(*args, **call_kwargs))
    ours = ours_from(keras_layer)
    ours(*args, **call_kwargs)  # build
    ours.set_weights(keras_layer.get_weights())
    got = to_numpy_torch(ours(*args, **call_kwargs))
    _assert_close(got, expected, atol)
    for mine, theirs in zip(ours.get_weights(), keras_layer.get_weights()):
        np.testing.assert_allclose(mine, to_numpy(theirs), atol=0, rtol=0)
    assert [w.shape for w in ours.get_weights()] == [tuple(w.shape) for w in keras_layer.get_weights()]
    return ours


def to_numpy_torch(value):
    if isinstance(value, (list, tuple)):
        return [to_numpy_torch(v) for v in value]
    return value.detach().cpu().numpy()


def _assert_close(got, expected, atol):
    if isinstance(expected, list):
        assert isinstance(got, (list, tuple)) and len(got) == len(expected)
        for g, e in zip(got, expected):
            _assert_close(g, e, atol)
        return
    assert tuple(got.shape) == tuple(expected.shape), f"shape {got.shape} != keras {expected.shape}"
    np.testing.assert_allclose(got, expected, atol=atol, rtol=1e-5)


def _takes_training(layer) -> bool:
    import inspect
    return "training" in inspect.signature(layer.call).parameters

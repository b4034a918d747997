"""Every activation in modelcli.activations against keras.activations on the same input."""
import numpy as np
import pytest
import torch

from keras_reference import keras
from modelcli import activations, flavour

# Wide enough to reach every branch: saturations (hard_*, relu6, sparse_*), shrink thresholds, exp growth.
X = np.concatenate([np.linspace(-7, 7, 57), [-1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 6.0]]).astype("float32").reshape(8, 8)

KERAS_NAMES = [n for n in activations.ACTIVATIONS.names() if n != "keras2_hard_sigmoid"]

# Options worth checking beyond the defaults, as Keras names them.
OPTIONS = [
    ("relu", {"negative_slope": 0.1}), ("relu", {"max_value": 6.0}), ("relu", {"max_value": 2.5}),
    ("relu", {"threshold": 1.0}), ("relu", {"threshold": 0.5, "negative_slope": 0.2, "max_value": 3.0}),
    ("leaky_relu", {"negative_slope": 0.01}), ("elu", {"alpha": 0.5}), ("celu", {"alpha": 2.0}),
    ("gelu", {"approximate": True}), ("softmax", {"axis": 0}), ("log_softmax", {"axis": 0}),
    ("glu", {"axis": 0}), ("hard_shrink", {"threshold": 1.5}), ("soft_shrink", {"threshold": 1.5}),
    ("squareplus", {"b": 1}), ("sparsemax", {"axis": 0}),
]


def keras_value(name, **kwargs):
    return keras.ops.convert_to_numpy(getattr(keras.activations, name)(X, **kwargs))


def test_every_registered_name_is_a_keras_activation_or_the_keras2_hard_sigmoid():
    missing = [n for n in KERAS_NAMES if not hasattr(keras.activations, n)]
    assert missing == []


@pytest.mark.parametrize("name", KERAS_NAMES)
def test_activation_matches_keras(name):
    got = activations.get(name)(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(got, keras_value(name), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name, kwargs", OPTIONS, ids=[f"{n}-{k}" for n, k in OPTIONS])
def test_activation_options_match_keras(name, kwargs):
    got = activations.get(name)(torch.from_numpy(X), **kwargs).numpy()
    np.testing.assert_allclose(got, keras_value(name, **kwargs), rtol=1e-6, atol=1e-6)


def test_keras2_hard_sigmoid_is_the_clipped_line():
    got = activations.keras2_hard_sigmoid(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(got, np.clip(0.2 * X + 0.5, 0, 1), rtol=1e-6)


def test_hard_sigmoid_means_the_keras2_formula_only_in_keras2_files():
    assert activations.get("hard_sigmoid") is activations.hard_sigmoid  # relu6(x + 3) / 6
    with flavour.reading(flavour.KERAS2):
        assert activations.get("hard_sigmoid") is activations.keras2_hard_sigmoid
    x = torch.tensor([2.0])
    assert activations.hard_sigmoid(x).item() == pytest.approx(5 / 6)
    assert activations.keras2_hard_sigmoid(x).item() == pytest.approx(0.9)


@pytest.mark.parametrize("name", ["swish", "silu", "hard_swish", "relu", "linear", "gelu", "softmax"])
def test_serialize_writes_the_name_keras3_writes(name):
    assert activations.serialize(activations.get(name)) == \
        keras.activations.serialize(keras.activations.get(name))


def test_get_accepts_none_callables_and_keras_function_dicts():
    assert activations.get(None) is activations.linear
    assert activations.get(torch.tanh) is torch.tanh
    assert activations.get({"class_name": "function", "config": "relu"}) is activations.relu


def test_get_rejects_unknown_names_with_a_hint():
    with pytest.raises(ValueError, match="unknown activation 'sigmod'.*did you mean 'sigmoid'"):
        activations.get("sigmod")

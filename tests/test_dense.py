import numpy as np
import pytest

from keras_reference import assert_layer_matches_keras, keras
from modelcli import layers


def test_dense_matches_keras_on_2d_and_3d_inputs(rng):
    for shape in [(4, 6), (2, 5, 6)]:
        x = rng.normal(size=shape).astype("float32")
        assert_layer_matches_keras(keras.layers.Dense(3, activation="tanh"), x)


def test_dense_without_bias_has_only_a_kernel():
    layer = layers.Dense(2, use_bias=False)
    layer(np.zeros((1, 3), "float32"))
    assert [w.shape for w in layer.get_weights()] == [(3, 2)]


def test_dense_rejects_non_positive_units():
    with pytest.raises(ValueError, match="units: expected a positive integer, got -4"):
        layers.Dense(-4)

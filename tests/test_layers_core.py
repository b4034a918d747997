"""Activation, Embedding, Masking and Identity against real Keras 3."""
import numpy as np
import pytest
import torch

from keras_reference import assert_layer_matches_keras, keras, keras_spec
from modelcli import layers
from modelcli.layers.deserialize import deserialize_layer


def roundtrip(layer):
    config = layer.get_config()
    assert type(layer).from_config(config).get_config() == config
    return config


# ----- Activation ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["relu", "gelu", "softmax", "hard_sigmoid", "silu", "linear"])
def test_activation_layer_matches_keras(rng, name):
    x = rng.normal(size=(3, 5)).astype("float32") * 3
    assert_layer_matches_keras(keras.layers.Activation(name), x)


def test_activation_config_round_trip_and_keras_keys():
    ours = deserialize_layer(keras_spec(keras.layers.Activation("tanh", name="act")))
    assert roundtrip(ours) == keras.layers.Activation("tanh", name="act").get_config()


def test_activation_rejects_unknown_names():
    with pytest.raises(ValueError, match="activation: unknown activation 'relux'.*'relu'"):
        layers.Activation("relux")


# ----- Embedding ----------------------------------------------------------------------------------
def test_embedding_matches_keras_on_2d_and_3d_ids(rng):
    for shape in [(2, 6), (2, 3, 4)]:
        ids = rng.integers(0, 10, size=shape)
        assert_layer_matches_keras(keras.layers.Embedding(10, 4), ids)


def test_embedding_casts_float_ids_like_keras(rng):
    ids = rng.integers(0, 7, size=(3, 4)).astype("float32")
    assert_layer_matches_keras(keras.layers.Embedding(7, 3), ids)


def test_embedding_mask_zero_mask_equals_keras():
    ids = np.array([[3, 1, 0, 0], [0, 2, 5, 0]])
    keras_layer = keras.layers.Embedding(6, 2, mask_zero=True)
    ours = assert_layer_matches_keras(keras_layer, ids)
    expected = keras.ops.convert_to_numpy(keras_layer.compute_mask(ids))
    np.testing.assert_array_equal(ours.compute_mask(torch.as_tensor(ids)).numpy(), expected)
    # An eager call carries the mask on to the next layer.
    np.testing.assert_array_equal(ours(ids)._keras_mask.numpy(), expected)


def test_embedding_without_mask_zero_has_no_mask():
    layer = layers.Embedding(6, 2)
    assert layer.compute_mask(torch.tensor([[0, 1]])) is None
    assert not hasattr(layer(np.array([[0, 1]])), "_keras_mask")


def test_embedding_weights_default_initializer_and_shape():
    layer = layers.Embedding(50, 8)
    layer(np.zeros((1, 3), "int64"))
    [table] = layer.get_weights()
    assert table.shape == (50, 8)
    assert np.abs(table).max() <= 0.05 and table.std() > 0.01  # uniform in ±0.05
    assert [w.name for w in layer.weights] == ["embeddings"]


def test_embedding_config_matches_keras_and_round_trips():
    keras_layer = keras.layers.Embedding(10, 3, mask_zero=True, embeddings_regularizer="l2",
                                         embeddings_constraint="non_neg", name="emb")
    ours = deserialize_layer(keras_spec(keras_layer))
    assert roundtrip(ours) == keras_layer.get_config()


def test_embedding_reads_keras2_config_with_input_length():
    keras2 = {"class_name": "Embedding", "config": {
        "name": "embedding", "trainable": True, "batch_input_shape": [None, 5], "dtype": "float32",
        "input_dim": 20, "output_dim": 4, "embeddings_initializer": {"class_name": "RandomUniform",
                                                                     "config": {"minval": -0.05, "maxval": 0.05,
                                                                                "seed": None}},
        "embeddings_regularizer": None, "activity_regularizer": None, "embeddings_constraint": None,
        "mask_zero": False, "input_length": 5}}
    layer = deserialize_layer(keras2)
    assert (layer.input_dim, layer.output_dim) == (20, 4)
    assert "input_length" not in layer.get_config()


def test_embedding_compute_output_shape_matches_keras():
    for shape in [(None, 7), (2, None, 3)]:
        assert layers.Embedding(9, 5).compute_output_shape(shape) == \
            tuple(keras.layers.Embedding(9, 5).compute_output_shape(shape))


@pytest.mark.parametrize("kwargs, where", [({"input_dim": 0, "output_dim": 2}, "input_dim"),
                                           ({"input_dim": 3, "output_dim": -1}, "output_dim"),
                                           ({"input_dim": 3.5, "output_dim": 2}, "input_dim")])
def test_embedding_rejects_bad_dims(kwargs, where):
    with pytest.raises(ValueError, match=f"{where}: expected a positive integer"):
        layers.Embedding(**kwargs)


# ----- Masking ------------------------------------------------------------------------------------
@pytest.mark.parametrize("mask_value", [0.0, -1.0])
def test_masking_matches_keras_outputs_and_mask(rng, mask_value):
    x = rng.normal(size=(2, 5, 3)).astype("float32")
    x[0, 1] = mask_value
    x[1, 3:] = mask_value
    x[1, 0, 0] = mask_value  # one feature equal to mask_value does not mask the step
    keras_layer = keras.layers.Masking(mask_value)
    ours = assert_layer_matches_keras(keras_layer, x)
    expected = keras.ops.convert_to_numpy(keras_layer.compute_mask(x))
    out = ours(x)
    np.testing.assert_array_equal(out._keras_mask.numpy(), expected)
    assert expected.tolist() == [[True, False, True, True, True], [True, True, True, False, False]]


def test_masking_zeroes_masked_steps():
    x = np.array([[[2.0, 2.0], [1.0, 2.0]]], "float32")
    np.testing.assert_array_equal(layers.Masking(2.0)(x).numpy(), [[[0.0, 0.0], [1.0, 2.0]]])


def test_masking_config_and_shape():
    ours = deserialize_layer(keras_spec(keras.layers.Masking(-1.0, name="m")))
    assert roundtrip(ours) == keras.layers.Masking(-1.0, name="m").get_config()
    assert ours.compute_output_shape((None, 4, 2)) == (None, 4, 2)


def test_masking_rejects_non_numbers():
    with pytest.raises(ValueError, match="mask_value: expected a number"):
        layers.Masking("zero")


# ----- Identity -----------------------------------------------------------------------------------
def test_identity_matches_keras_and_keeps_masks(rng):
    x = rng.normal(size=(2, 3)).astype("float32")
    assert_layer_matches_keras(keras.layers.Identity(), x)
    mask = torch.tensor([[True, False, True]])
    assert layers.Identity().compute_mask(torch.as_tensor(x), mask) is mask
    assert roundtrip(layers.Identity(name="i")) == keras.layers.Identity(name="i").get_config()

"""Activation, Embedding, Masking and Identity against real Keras 3."""
import numpy as np
import pytest
import torch

from keras_reference import assert_layer_matches_keras, keras, keras_spec, to_numpy
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
@pytest.mark.parametrize("make, shape, ids", [
    (lambda: layers.Dense(3), (None, 5), False),
    (lambda: layers.Embedding(10, 4), (None, 3), True),
    (lambda: layers.LSTM(2), (None, 4, 5), False),
])
def test_a_layer_built_by_hand_keeps_the_weights_set_before_its_first_call(make, shape, ids, rng):
    """As in Keras: ``build`` marks the layer built, so the first call does not draw new weights."""
    keras_layer = {"Dense": keras.layers.Dense(3), "Embedding": keras.layers.Embedding(10, 4),
                   "LSTM": keras.layers.LSTM(2)}[type(make()).__name__]
    keras_layer.build(shape)
    layer = make()
    layer.build(shape)
    assert layer.built
    layer.set_weights(keras_layer.get_weights())
    x = rng.integers(0, 10, (2,) + shape[1:]) if ids else rng.normal(size=(2,) + shape[1:]).astype("float32")
    np.testing.assert_allclose(layer(x).detach().cpu().numpy(), to_numpy(keras_layer(x)), atol=1e-6)


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
    np.testing.assert_array_equal(ours.compute_mask(torch.as_tensor(ids)).cpu().numpy(), expected)
    # An eager call carries the mask on to the next layer.
    np.testing.assert_array_equal(ours(ids)._keras_mask.cpu().numpy(), expected)


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
    np.testing.assert_array_equal(out._keras_mask.cpu().numpy(), expected)
    assert expected.tolist() == [[True, False, True, True, True], [True, True, True, False, False]]


def test_masking_zeroes_masked_steps():
    x = np.array([[[2.0, 2.0], [1.0, 2.0]]], "float32")
    np.testing.assert_array_equal(layers.Masking(2.0)(x).cpu().numpy(), [[[0.0, 0.0], [1.0, 2.0]]])


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


# ----- Dropout and the noise layers (Keras 2 kept Dropout in core) --------------------------------------
NOISE_LAYERS = [
    (lambda: keras.layers.Dropout(0.3, noise_shape=(None, 1, 4), seed=1), (2, 3, 4)),
    (lambda: keras.layers.SpatialDropout1D(0.3), (2, 3, 4)),
    (lambda: keras.layers.SpatialDropout2D(0.3, data_format="channels_first"), (2, 3, 4, 5)),
    (lambda: keras.layers.SpatialDropout3D(0.3), (1, 2, 3, 2, 2)),
    (lambda: keras.layers.GaussianNoise(0.2, seed=3), (2, 5)),
    (lambda: keras.layers.GaussianDropout(0.4), (2, 5)),
    (lambda: keras.layers.AlphaDropout(0.2), (2, 5)),
    (lambda: keras.layers.ActivityRegularization(l1=0.01, l2=0.1), (2, 5)),
]


@pytest.mark.parametrize("make, shape", NOISE_LAYERS)
def test_noise_layers_are_the_identity_at_inference_as_in_keras(rng, make, shape):
    keras_layer = make()
    x = rng.normal(size=shape).astype("float32")
    ours = assert_layer_matches_keras(keras_layer, x)
    np.testing.assert_array_equal(ours(x).cpu().numpy(), x)
    assert roundtrip(ours) == keras_layer.get_config()
    assert ours.compute_output_shape((None,) + shape[1:]) == tuple(keras_layer.compute_output_shape((None,) + shape[1:]))
    mask = torch.ones(shape[:2], dtype=torch.bool)
    assert ours.compute_mask(torch.as_tensor(x), mask) is mask


def test_dropout_when_training_zeroes_rate_and_scales_the_rest():
    x = torch.ones(200, 100)
    out = layers.Dropout(0.3)(x, training=True)
    dropped = (out == 0).float().mean().item()
    assert abs(dropped - 0.3) < 0.02
    np.testing.assert_allclose(out[out != 0].cpu().numpy(), 1 / 0.7, rtol=1e-6)


def test_dropout_noise_shape_shares_the_draw_along_size_one_axes():
    out = layers.Dropout(0.5, noise_shape=(None, 1, 8), seed=0)(torch.ones(4, 6, 8), training=True)
    zeros = (out == 0)
    assert torch.equal(zeros, zeros[:, :1, :].expand_as(zeros))
    assert 0 < zeros.float().mean() < 1


def test_dropout_seed_repeats_the_sequence_of_a_fresh_layer():
    x = torch.ones(10, 10)
    first, second = layers.Dropout(0.5, seed=7), layers.Dropout(0.5, seed=7)
    a1, a2 = first(x, training=True), first(x, training=True)
    assert torch.equal(a1, second(x, training=True))
    assert not torch.equal(a1, a2)  # the seed starts a sequence; calls still differ


def test_dropout_rate_one_drops_everything():
    assert torch.count_nonzero(layers.Dropout(1.0)(torch.ones(3, 3), training=True)) == 0


@pytest.mark.parametrize("cls, shape, channel_axis", [(layers.SpatialDropout1D, (8, 5, 16), 2),
                                                      (layers.SpatialDropout2D, (8, 16, 3, 4), 1),
                                                      (layers.SpatialDropout3D, (8, 2, 3, 2, 16), 4)])
def test_spatial_dropout_drops_whole_channels(cls, shape, channel_axis):
    kwargs = {"data_format": "channels_first"} if channel_axis == 1 else {}
    out = cls(0.5, **kwargs)(torch.ones(shape), training=True)
    per_channel = out.movedim(channel_axis, 1).reshape(shape[0], shape[channel_axis], -1)
    assert torch.all((per_channel == 0).all(-1) | (per_channel == 2.0).all(-1))
    assert 0 < (per_channel == 0).float().mean() < 1


def test_spatial_dropout_reads_keras2_config_with_trainable_and_noise_shape():
    keras2 = {"class_name": "SpatialDropout2D", "config": {
        "name": "sd", "trainable": True, "dtype": "float32", "rate": 0.2, "noise_shape": None, "seed": None,
        "data_format": "channels_last"}}
    layer = deserialize_layer(keras2)
    assert layer.get_config() == {"rate": 0.2, "seed": None, "name": "sd", "dtype": "float32",
                                  "data_format": "channels_last"}
    keras.layers.SpatialDropout2D.from_config(layer.get_config())  # Keras 3 reads what we write


def test_gaussian_noise_adds_noise_of_stddev_when_training():
    x = torch.full((400, 100), 3.0)
    noise = layers.GaussianNoise(0.5)(x, training=True).cpu() - x
    assert abs(noise.mean().item()) < 0.01 and abs(noise.std().item() - 0.5) < 0.01


def test_gaussian_dropout_multiplies_by_noise_around_one_when_training():
    x = torch.full((400, 100), 2.0)
    factor = layers.GaussianDropout(0.2, seed=0)(x, training=True).cpu() / x
    assert abs(factor.mean().item() - 1) < 0.01
    assert abs(factor.std().item() - (0.2 / 0.8) ** 0.5) < 0.01


def test_alpha_dropout_keeps_mean_and_variance_of_normal_inputs():
    x = torch.randn(400, 100, generator=torch.Generator().manual_seed(0))
    out = layers.AlphaDropout(0.2, seed=1)(x, training=True)
    assert abs(out.mean().item()) < 0.02 and abs(out.var().item() - 1) < 0.03
    _, counts = out.unique(return_counts=True)
    assert abs(counts.max().item() / out.numel() - 0.2) < 0.02  # dropped values share one level


def test_activity_regularization_holds_an_l1l2_penalty():
    layer = deserialize_layer(keras_spec(keras.layers.ActivityRegularization(l1=0.5, l2=2.0)))
    assert float(layer.activity_regularizer(torch.tensor([1.0, -2.0]))) == 0.5 * 3 + 2.0 * 5
    assert "activity_regularizer" not in layer.get_config()


@pytest.mark.parametrize("make, message", [
    (lambda: layers.Dropout(1.5), "rate: expected a number with 0 <= rate <= 1, got 1.5"),
    (lambda: layers.Dropout(0.5, noise_shape="batch"), "noise_shape: expected a list of positive integers"),
    (lambda: layers.Dropout(0.5, seed="x"), "seed: expected an integer or null"),
    (lambda: layers.GaussianDropout(1.0), "rate: expected a number with 0 <= rate < 1"),
    (lambda: layers.GaussianNoise(-0.1), "stddev: expected a non-negative number"),
    (lambda: layers.SpatialDropout2D(0.1, data_format="NCHW"), "data_format: expected 'channels_last'"),
    (lambda: layers.SpatialDropout1D(0.1, noise_shape=(1, 1, 4)), "noise_shape: SpatialDropout1D chooses"),
])
def test_noise_layers_reject_bad_arguments(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_dropout_noise_shape_must_fit_the_input():
    with pytest.raises(ValueError, match=r"noise_shape \[None, 1\] does not fit inputs of shape \(2, 3, 4\)"):
        layers.Dropout(0.5, noise_shape=(None, 1))(torch.ones(2, 3, 4), training=True)

"""ReLU, LeakyReLU, PReLU, ELU, Softmax (and Keras 2's ThresholdedReLU) against real Keras 3."""
import numpy as np
import pytest
import torch

from keras_reference import assert_layer_matches_keras, keras, keras_spec
from modelcli import layers
from modelcli.layers.deserialize import deserialize_layer


def matches_keras(keras_layer, x, **kwargs):
    ours = assert_layer_matches_keras(keras_layer, x, **kwargs)
    config = ours.get_config()
    assert config == keras_layer.get_config()
    assert type(ours).from_config(config).get_config() == config
    assert ours.compute_output_shape((None,) + x.shape[1:]) == (None,) + x.shape[1:]
    return ours


@pytest.fixture
def x(rng):
    """Values around the interesting points (0, thresholds, caps), plus exact hits on them."""
    values = rng.normal(size=(4, 6)).astype("float32") * 3
    values[0, :4] = [0.0, 0.5, 1.0, 6.0]
    return values


# ----- ReLU ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs", [{}, {"max_value": 6.0}, {"max_value": 1.5, "negative_slope": 0.2},
                                    {"threshold": 0.5}, {"threshold": 1.0, "negative_slope": 0.1},
                                    {"threshold": 0.5, "max_value": 2.0, "negative_slope": 0.3}])
def test_relu_matches_keras(x, kwargs):
    matches_keras(keras.layers.ReLU(**kwargs), x)


def test_relu_at_the_threshold_gives_zero_as_keras():
    out = layers.ReLU(threshold=1.0, negative_slope=0.5)(np.array([[0.0, 1.0, 2.0]], "float32"))
    np.testing.assert_allclose(out.cpu().numpy(), [[-0.5, 0.0, 2.0]])


@pytest.mark.parametrize("kwargs, where", [({"max_value": -1}, "max_value"), ({"negative_slope": -0.1}, "negative_slope"),
                                           ({"threshold": None}, "threshold")])
def test_relu_rejects_negative_arguments(kwargs, where):
    with pytest.raises(ValueError, match=f"{where}: expected a non-negative number"):
        layers.ReLU(**kwargs)


# ----- LeakyReLU -------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs", [{}, {"negative_slope": 0.01}, {"negative_slope": 1.5}])
def test_leaky_relu_matches_keras(x, kwargs):
    matches_keras(keras.layers.LeakyReLU(**kwargs), x)


def test_leaky_relu_default_slope_is_keras3_0_3():
    assert layers.LeakyReLU().negative_slope == 0.3 == keras.layers.LeakyReLU().negative_slope


def test_leaky_relu_reads_keras2_alpha_and_writes_negative_slope():
    keras2 = {"class_name": "LeakyReLU", "config": {"name": "leaky", "trainable": True, "dtype": "float32",
                                                     "alpha": 0.1}}
    layer = deserialize_layer(keras2)
    np.testing.assert_allclose(layer(np.array([[-2.0, 3.0]], "float32")).cpu().numpy(), [[-0.2, 3.0]])
    config = layer.get_config()
    assert config["negative_slope"] == 0.1 and "alpha" not in config
    assert keras.layers.LeakyReLU.from_config(config).negative_slope == 0.1


def test_leaky_relu_rejects_negative_slope():
    with pytest.raises(ValueError, match="negative_slope: expected a non-negative number, got -1"):
        layers.LeakyReLU(-1)


# ----- PReLU -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("shared_axes", [None, 1, [1, 2]])
def test_prelu_matches_keras_with_random_alpha(rng, shared_axes):
    x = rng.normal(size=(2, 3, 4, 5)).astype("float32")
    keras_layer = keras.layers.PReLU(alpha_initializer=keras.initializers.RandomUniform(0.1, 0.5),
                                     shared_axes=shared_axes)
    ours = matches_keras(keras_layer, x)
    assert [w.name for w in ours.weights] == ["alpha"]


def test_prelu_alpha_shape_follows_keras():
    for shared_axes, expected in [(None, (3, 4, 5)), ([1, 2], (1, 1, 5)), (3, (3, 4, 1))]:
        layer = layers.PReLU(shared_axes=shared_axes)
        layer(np.zeros((2, 3, 4, 5), "float32"))
        keras_layer = keras.layers.PReLU(shared_axes=shared_axes)
        keras_layer.build((2, 3, 4, 5))
        assert layer.get_weights()[0].shape == expected == tuple(keras_layer.alpha.shape)


def test_prelu_config_with_regularizer_and_constraint_round_trips():
    keras_layer = keras.layers.PReLU(alpha_regularizer="l1", alpha_constraint="non_neg", shared_axes=[1])
    ours = deserialize_layer(keras_spec(keras_layer))
    config = ours.get_config()
    assert config == keras_layer.get_config()
    assert layers.PReLU.from_config(config).get_config() == config


def test_prelu_needs_known_unshared_axes():
    with pytest.raises(ValueError, match="PReLU needs known sizes"):
        layers.PReLU().build((None, None, 3))
    layers.PReLU(shared_axes=1).build((None, None, 3))
    with pytest.raises(ValueError, match="shared_axes: expected axis numbers counted from 1"):
        layers.PReLU(shared_axes=[0])


# ----- ELU ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("alpha", [1.0, 0.3, 2.0])
def test_elu_matches_keras(x, alpha):
    matches_keras(keras.layers.ELU(alpha=alpha), x)


# ----- Softmax -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("axis", [-1, 1, [1, 2]])
def test_softmax_matches_keras(rng, axis):
    x = rng.normal(size=(2, 3, 4)).astype("float32")
    keras_layer = keras.layers.Softmax(axis=axis)
    ours = assert_layer_matches_keras(keras_layer, x)
    assert ours.get_config()["axis"] == (tuple(axis) if isinstance(axis, list) else axis)
    assert deserialize_layer(keras_spec(keras_layer)).compute_output_shape((None, 3, 4)) == (None, 3, 4)


@pytest.mark.parametrize("mask", [
    np.array([[True, True, False, False], [False, False, False, False], [True, True, True, True]]),
    np.array([[1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 1.0, 1.0], [1.0, 1.0, 0.0, 1.0]], "float32"),
    np.array([1.0, 0.0, 1.0, 1.0], "float32"),  # broadcast over the batch
])
def test_softmax_with_mask_matches_keras(rng, mask):
    x = rng.normal(size=(3, 4)).astype("float32")
    expected = keras.ops.convert_to_numpy(keras.layers.Softmax()(x, mask=mask))
    got = layers.Softmax()(x, mask=torch.as_tensor(mask)).cpu().numpy()
    np.testing.assert_allclose(got, expected, atol=1e-6)
    assert np.all(got[np.broadcast_to(mask, x.shape) == 0] == 0)  # masked out, fully masked rows too


def test_softmax_takes_the_mask_an_eager_tensor_carries(rng):
    scores = torch.as_tensor(rng.normal(size=(1, 4)).astype("float32"))
    scores._keras_mask = torch.tensor([[True, True, False, False]])  # as a masking layer leaves it
    probs = layers.Softmax()(scores).cpu().numpy()
    assert probs[0, 2:].tolist() == [0.0, 0.0] and abs(probs.sum() - 1) < 1e-6


def test_softmax_rejects_masks_that_do_not_broadcast():
    with pytest.raises(ValueError, match=r"mask of shape \(2, 3\) does not broadcast"):
        layers.Softmax()(np.ones((1, 3), "float32"), mask=torch.ones(2, 3, dtype=torch.bool))
    with pytest.raises(ValueError, match="axis: expected an axis or a list of axes"):
        layers.Softmax(axis="last")


# ----- ThresholdedReLU (Keras 2) -------------------------------------------------------------------------
def test_thresholded_relu_reads_keras2_config():
    keras2 = {"class_name": "ThresholdedReLU", "config": {"name": "t", "trainable": True, "dtype": "float32",
                                                           "theta": 0.5}}
    layer = deserialize_layer(keras2)
    out = layer(np.array([[-1.0, 0.5, 0.6, 2.0]], "float32")).cpu().numpy()
    np.testing.assert_allclose(out, [[0.0, 0.0, 0.6, 2.0]])  # x where x > theta, else 0
    assert layer.get_config()["theta"] == 0.5


def test_activation_layers_pass_masks_through():
    mask = torch.tensor([[True, False]])
    for layer in [layers.ReLU(), layers.LeakyReLU(), layers.PReLU(), layers.ELU(), layers.Softmax()]:
        assert layer.compute_mask(torch.zeros(1, 2), mask) is mask

import numpy as np
import pytest
import torch

from keras_reference import assert_layer_matches_keras, keras, keras_spec, to_numpy
from modelcli import layers
from modelcli.errors import SpecError
from modelcli.layers.deserialize import deserialize_layer


def _with_random_weights(keras_layer, shape, rng):
    """Build the Keras layer and give it weights far from the initial ones, so a mix-up shows."""
    keras_layer.build(shape)
    keras_layer.set_weights([rng.uniform(0.5, 1.5, size=w.shape).astype("float32")
                             for w in keras_layer.get_weights()])
    return keras_layer


def _assert_one_training_call_matches(keras_layer, x, rng, mask=None):
    """From the same weights, one training-mode call of Keras's layer and of ours: same output, same stats."""
    start = _with_random_weights(keras_layer, x.shape, rng).get_weights()
    ours = deserialize_layer(keras_spec(keras_layer))
    ours.build(x.shape)
    ours.built = True
    ours.set_weights(start)
    extra = {} if mask is None else {"mask": mask}
    expected = to_numpy(keras_layer(x, training=True, **extra))
    got = ours(x, training=True, **({} if mask is None else {"mask": torch.as_tensor(mask)}))
    np.testing.assert_allclose(got.detach().cpu().numpy(), expected, atol=1e-5)
    for mine, theirs in zip(ours.get_weights(), keras_layer.get_weights()):
        np.testing.assert_allclose(mine, to_numpy(theirs), rtol=1e-6, atol=1e-6)
    return ours


# ----- BatchNormalization ------------------------------------------------------------------

@pytest.mark.parametrize("shape, axis", [((4, 3, 3, 5), -1), ((6, 5), -1), ((4, 5, 3, 2), 1), ((3, 4, 5), -1)])
def test_batch_norm_inference_matches_keras(rng, shape, axis):
    x = rng.normal(1.0, 2.0, size=shape).astype("float32")
    layer = _with_random_weights(keras.layers.BatchNormalization(axis=axis), shape, rng)
    assert_layer_matches_keras(layer, x)


@pytest.mark.parametrize("shape, axis", [((4, 3, 3, 5), -1), ((6, 5), -1), ((4, 5, 3, 2), 1), ((1, 5), -1)])
def test_batch_norm_training_matches_keras_output_and_moving_statistics(rng, shape, axis):
    x = rng.normal(1.0, 2.0, size=shape).astype("float32")
    ours = _assert_one_training_call_matches(keras.layers.BatchNormalization(axis=axis, momentum=0.8), x, rng)
    assert [w.name for w in ours.weights] == ["gamma", "beta", "moving_mean", "moving_variance"]


def test_batch_norm_training_without_center_and_scale_matches_keras(rng):
    x = rng.normal(size=(5, 3)).astype("float32")
    _assert_one_training_call_matches(keras.layers.BatchNormalization(center=False, scale=False), x, rng)


def test_batch_norm_training_with_a_mask_uses_only_unmasked_steps_like_keras(rng):
    x = rng.normal(1.0, 2.0, size=(3, 4, 5)).astype("float32")
    mask = np.array([[1, 1, 0, 0], [1, 1, 1, 0], [1, 0, 0, 0]], bool)
    _assert_one_training_call_matches(keras.layers.BatchNormalization(momentum=0.5), x, rng, mask=mask)


def test_batch_norm_moving_variance_takes_the_biased_batch_variance():
    layer = layers.BatchNormalization(momentum=0.0, center=False, scale=False)
    layer(np.array([[0.0], [2.0]], "float32"), training=True)
    moving_mean, moving_variance = layer.get_weights()
    assert moving_mean.tolist() == [1.0]
    assert moving_variance.tolist() == [1.0]  # torch's unbiased estimate would give 2


def test_batch_norm_with_trainable_false_runs_in_inference_mode_like_keras(rng):
    x = rng.normal(3.0, 2.0, size=(4, 3)).astype("float32")
    keras_layer = _with_random_weights(keras.layers.BatchNormalization(), x.shape, rng)
    keras_layer.trainable = False
    ours = deserialize_layer(keras_spec(keras_layer))
    ours(x)
    ours.set_weights(keras_layer.get_weights())
    before = ours.get_weights()
    got = ours(x, training=True).detach().cpu().numpy()
    np.testing.assert_allclose(got, to_numpy(keras_layer(x, training=True)), atol=1e-5)
    np.testing.assert_array_equal(ours.get_weights()[2], before[2])
    assert ours.trainable_weights == []


def test_batch_norm_gradients_flow_through_the_batch_statistics():
    layer = layers.BatchNormalization()
    x = torch.randn(8, 3, requires_grad=True)
    layer(x, training=True).sum().backward()
    # The output of a batch-normalized feature sums to beta · n whatever x is: d/dx is 0.
    assert torch.allclose(x.grad, torch.zeros_like(x), atol=1e-5)
    assert torch.allclose(layer.beta.grad.cpu(), torch.full((3,), 8.0))


def test_batch_norm_reads_a_keras2_config_and_writes_keras3_keys():
    keras2 = {"class_name": "BatchNormalization", "config": {
        "name": "bn", "trainable": True, "dtype": "float32", "axis": [3], "momentum": 0.9, "epsilon": 1e-5,
        "center": True, "scale": True, "beta_initializer": {"class_name": "Zeros", "config": {}},
        "gamma_initializer": {"class_name": "Ones", "config": {}},
        "moving_mean_initializer": {"class_name": "Zeros", "config": {}},
        "moving_variance_initializer": {"class_name": "Ones", "config": {}},
        "beta_regularizer": None, "gamma_regularizer": None, "beta_constraint": None, "gamma_constraint": None,
        "synchronized": False}}
    layer = deserialize_layer(keras2)
    assert layer.compute_output_shape((None, 8, 8, 6)) == (None, 8, 8, 6)
    config = layer.get_config()
    assert config["axis"] == 3 and config["momentum"] == 0.9 and config["renorm"] is False
    assert set(config) == set(keras.layers.BatchNormalization().get_config())


def test_batch_norm_config_round_trip_equals_keras():
    keras_layer = keras.layers.BatchNormalization(axis=1, momentum=0.9, epsilon=1e-4, center=False,
                                                 gamma_regularizer="l2", name="bn")
    ours = deserialize_layer(keras_spec(keras_layer))
    assert ours.get_config() == keras_layer.get_config()
    assert type(ours).from_config(ours.get_config()).get_config() == ours.get_config()


@pytest.mark.parametrize("kwargs, message", [
    ({"axis": [1, 2]}, "axis: normalizing over several axes"),
    ({"renorm": True}, "renorm: batch renormalization"),
    ({"virtual_batch_size": 8}, "virtual_batch_size"),
])
def test_batch_norm_refuses_what_it_cannot_compute(kwargs, message):
    with pytest.raises(SpecError, match=message):
        layers.BatchNormalization(**kwargs)


def test_batch_norm_axis_out_of_range_is_reported_with_the_shape():
    with pytest.raises(SpecError, match=r"axis 3 is out of bounds for input shape \(None, 4\)"):
        layers.BatchNormalization(axis=3).compute_output_shape((None, 4))


# ----- LayerNormalization --------------------------------------------------------------------

@pytest.mark.parametrize("kwargs", [
    {}, {"axis": [2, 3]}, {"axis": (1, 3)}, {"axis": [-2, -1], "center": False}, {"scale": False},
    {"epsilon": 1e-6},
])
def test_layer_norm_matches_keras(rng, kwargs):
    x = rng.normal(1.0, 3.0, size=(2, 3, 4, 5)).astype("float32")
    keras_layer = _with_random_weights(keras.layers.LayerNormalization(**kwargs), x.shape, rng)
    ours = assert_layer_matches_keras(keras_layer, x)
    assert ours.get_config() == keras_layer.get_config()  # the built axis list, as Keras writes it


def test_layer_norm_over_a_middle_axis_normalizes_each_position(rng):
    # Keras's torch backend cannot run this one (F.layer_norm wants trailing axes); check the maths.
    x = rng.normal(size=(2, 3, 4)).astype("float32")
    out = layers.LayerNormalization(axis=1, epsilon=0.0)(x).detach().cpu().numpy()
    expected = (x - x.mean(1, keepdims=True)) / x.std(1, keepdims=True)
    np.testing.assert_allclose(out, expected, atol=1e-5)


def test_layer_norm_rms_scaling_matches_keras(rng):
    x = rng.normal(size=(3, 6)).astype("float32")
    with pytest.warns(UserWarning):
        keras_layer = keras.layers.LayerNormalization(rms_scaling=True)
    ours = assert_layer_matches_keras(_with_random_weights(keras_layer, x.shape, rng), x)
    assert [w.name for w in ours.weights] == ["gamma"]


def test_layer_norm_passes_a_mask_through_and_keeps_the_shape():
    layer = layers.LayerNormalization()
    mask = torch.tensor([[True, True, False], [True, False, False]])
    assert torch.equal(layer.compute_mask(torch.zeros(2, 3, 4), mask), mask)
    assert layer.compute_output_shape((None, 3, 4)) == (None, 3, 4)


def test_layer_norm_config_round_trip():
    layer = layers.LayerNormalization(axis=[1, 2], epsilon=1e-5, beta_regularizer="l1")
    assert type(layer).from_config(layer.get_config()).get_config() == layer.get_config()

"""GroupNormalization, UnitNormalization and RMSNormalization against real Keras 3 (torch backend).

Keras's layers get random weights first (``_with_random_weights``), so a swapped or
misshaped weight shows in the numbers.
"""
import json
import warnings

import numpy as np
import pytest
import torch

from keras_reference import assert_layer_matches_keras, keras, keras_spec, to_numpy
from modelcli import layers
from modelcli.errors import SpecError
from modelcli.layers.deserialize import deserialize_layer
from modelcli.models import load_model, model_from_json

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy:DeprecationWarning")


def _with_random_weights(keras_layer, shape, rng):
    keras_layer.build(shape)
    keras_layer.set_weights([rng.uniform(0.5, 1.5, size=w.shape).astype("float32")
                             for w in keras_layer.get_weights()])
    return keras_layer


def _twin(keras_layer, shape):
    """Ours, built from Keras's spec on ``shape`` and holding Keras's weights."""
    ours = deserialize_layer(keras_spec(keras_layer))
    ours.build(shape)
    ours.built = True
    ours.set_weights(keras_layer.get_weights())
    return ours


def _assert_gradients_match_keras(keras_layer, x, rng):
    """d(Σ output·c)/d(input) and /d(each weight), for a random c, equal Keras's (autograd on both)."""
    keras_layer = _with_random_weights(keras_layer, x.shape, rng)
    ours = _twin(keras_layer, x.shape)
    cotangent = torch.as_tensor(rng.normal(size=x.shape).astype("float32"))

    def gradients(layer, parameters):
        inputs = torch.tensor(x, requires_grad=True)
        outputs = layer(inputs)
        return torch.autograd.grad(outputs, [inputs] + parameters, grad_outputs=cotangent.to(outputs.device))

    expected = gradients(keras_layer, [v.value for v in keras_layer.trainable_weights])
    got = gradients(ours, [w.parameter for w in ours.trainable_weights])
    assert len(got) == len(expected) == 1 + len(ours.weights)
    for mine, theirs in zip(got, expected):
        np.testing.assert_allclose(mine.cpu().numpy(), theirs.cpu().numpy(), rtol=1e-4, atol=1e-5)


# ----- GroupNormalization ------------------------------------------------------------------

@pytest.mark.parametrize("shape, kwargs", [
    ((5, 6), {"groups": 3}),
    ((2, 7, 8), {"groups": 4}),
    ((2, 4, 5, 6), {"groups": 3}),
    ((2, 6, 4, 5), {"groups": 2, "axis": 1}),  # channels first
    ((2, 3, 6, 4), {"groups": 3, "axis": -2}),
    ((2, 3, 8), {"groups": -1}),  # instance normalization
    ((2, 3, 8), {"groups": 1, "epsilon": 1e-5}),
    ((2, 3, 8), {"groups": 2, "center": False}),
    ((2, 3, 8), {"groups": 2, "scale": False}),
])
def test_group_norm_matches_keras(rng, shape, kwargs):
    x = rng.normal(1.0, 3.0, size=shape).astype("float32")
    keras_layer = _with_random_weights(keras.layers.GroupNormalization(**kwargs), shape, rng)
    ours = assert_layer_matches_keras(keras_layer, x)
    assert ours.get_config() == keras_layer.get_config()
    expected_names = [n for n, on in (("gamma", ours.scale), ("beta", ours.center)) if on]
    assert [w.name for w in ours.weights] == expected_names


@pytest.mark.parametrize("shape, kwargs", [
    ((2, 4, 5, 6), {"groups": 3}),
    ((2, 6, 4, 5), {"groups": 2, "axis": 1}),
    ((3, 8), {"groups": 8, "center": False}),
])
def test_group_norm_gradients_match_keras(rng, shape, kwargs):
    x = rng.normal(1.0, 3.0, size=shape).astype("float32")
    _assert_gradients_match_keras(keras.layers.GroupNormalization(**kwargs), x, rng)


def test_group_norm_groups_minus_one_becomes_the_channel_count_when_built_as_in_keras():
    keras_layer = keras.layers.GroupNormalization(groups=-1)
    ours = deserialize_layer(keras_spec(keras_layer))
    assert ours.get_config()["groups"] == -1
    keras_layer.build((None, 5, 6))
    ours.build((None, 5, 6))
    assert ours.get_config() == keras_layer.get_config()
    assert ours.get_config()["groups"] == 6


def test_group_norm_in_half_precision_computes_in_float32_like_keras(rng):
    # x² overflows float16 from |x| > 256: statistics taken in float16 would give inf or NaN.
    x = torch.as_tensor(rng.normal(0.0, 300.0, size=(2, 5, 6)).astype("float16"))
    keras_layer = keras.layers.GroupNormalization(groups=3, dtype="float16")
    expected = to_numpy(keras_layer(x))
    ours = _twin(keras_layer, x.shape)
    got = ours(x)
    assert got.dtype == torch.float16
    assert np.isfinite(expected).all()
    np.testing.assert_allclose(got.detach().cpu().numpy().astype("float32"), expected.astype("float32"), atol=2e-3)


def test_group_norm_passes_the_mask_on_and_normalizes_masked_steps_too(rng):
    """Keras's GroupNormalization keeps the mask for the layers after it, but its statistics
    include the masked steps: the pooling after it must see the mask, the norm must not."""
    x = rng.normal(size=(3, 5, 4)).astype("float32")
    x[0, 3:] = 0.0
    x[2, 1:] = 0.0
    inputs = keras.Input((5, 4))
    normalized = keras.layers.GroupNormalization(groups=2)(keras.layers.Masking(0.0)(inputs))
    kmodel = keras.Model(inputs, keras.layers.GlobalAveragePooling1D()(normalized))
    kmodel.layers[2].set_weights([rng.uniform(0.5, 1.5, size=4).astype("float32") for _ in range(2)])
    ours = model_from_json(kmodel.to_json())
    ours.set_weights(kmodel.get_weights())
    np.testing.assert_allclose(ours.predict(x), kmodel.predict(x, verbose=0), atol=1e-5)
    mask = torch.tensor([[True, True, False]])
    assert torch.equal(layers.GroupNormalization(groups=1).compute_mask(torch.zeros(1, 3, 2), mask), mask)


def test_group_norm_regularizers_and_constraints_sit_on_the_right_weights_as_in_keras(rng):
    keras_layer = keras.layers.GroupNormalization(
        groups=2, gamma_regularizer=keras.regularizers.L2(0.1), beta_regularizer=keras.regularizers.L1(0.2),
        gamma_constraint=keras.constraints.NonNeg(), beta_constraint=keras.constraints.MaxNorm(0.5))
    keras_layer.build((None, 4))
    keras_layer.set_weights([rng.normal(size=4).astype("float32") * 2 for _ in range(2)])
    ours = _twin(keras_layer, (None, 4))
    penalty = sum(float(w.regularizer(w.parameter.detach())) for w in ours.weights)
    assert penalty == pytest.approx(sum(float(to_numpy(loss)) for loss in keras_layer.losses), rel=1e-6)
    ours.apply_constraints()
    for mine, variable in zip(ours.get_weights(), keras_layer.weights):
        np.testing.assert_allclose(mine, to_numpy(variable.constraint(variable.value)), atol=1e-6)


@pytest.mark.parametrize("kwargs, shape, message", [
    ({"groups": 4}, (None, 6), r"6 channels on axis -1 do not split into groups=4"),
    ({"groups": 8}, (None, 3, 6), r"groups=8 is more than the 6 channels"),
    ({"groups": 2, "axis": 3}, (None, 3, 6), r"axis 3 is out of bounds for input shape \(None, 3, 6\)"),
    ({"groups": 2, "axis": 2}, (None, 3, None), r"axis 2 needs a known size"),
])
def test_group_norm_refuses_shapes_keras_refuses(kwargs, shape, message):
    with pytest.raises((ValueError, IndexError)):
        keras.layers.GroupNormalization(**kwargs).build(shape)
    with pytest.raises(SpecError, match=message):
        layers.GroupNormalization(**kwargs).build(shape)


@pytest.mark.parametrize("groups", [0, -2, 2.5, True])
def test_group_norm_refuses_a_group_count_that_is_not_a_positive_integer_or_minus_one(groups):
    if groups is not True:  # Keras takes True for 1
        with pytest.raises(ValueError, match="groups"):
            keras.layers.GroupNormalization(groups=groups)
    with pytest.raises(SpecError, match="groups: expected a positive integer"):
        layers.GroupNormalization(groups=groups)


# ----- UnitNormalization -------------------------------------------------------------------

@pytest.mark.parametrize("axis", [-1, 1, [1, 2], (1, 3), [-3, -1]])
def test_unit_norm_matches_keras(rng, axis):
    x = rng.normal(1.0, 3.0, size=(2, 3, 4, 5)).astype("float32")
    keras_layer = keras.layers.UnitNormalization(axis=axis)
    ours = assert_layer_matches_keras(keras_layer, x)
    assert ours.get_config() == keras_layer.get_config()
    assert ours.weights == []


def test_unit_norm_gradient_matches_keras(rng):
    x = rng.normal(size=(3, 4, 5)).astype("float32")
    _assert_gradients_match_keras(keras.layers.UnitNormalization(axis=[1, 2]), x, rng)


def test_unit_norm_of_a_zero_sample_is_zero_with_a_finite_gradient():
    # Keras's min(1/√Σx², 1e12) gives NaN gradients here (rsqrt(0) = inf in the backward pass).
    x = torch.zeros(1, 3, requires_grad=True)
    out = layers.UnitNormalization()(x)
    out.backward(torch.tensor([[1.0, 2.0, 3.0]], device=out.device))
    assert out.detach().tolist() == [[0.0, 0.0, 0.0]]
    assert torch.allclose(x.grad, torch.tensor([[1.0, 2.0, 3.0]]) * 1e12, rtol=1e-5)


def test_unit_norm_in_float16_sums_squares_in_float32():
    # Keras sums in float16 here, overflows, and returns zeros; the direction is [0.6, 0.8].
    x = torch.tensor([[600.0, 800.0]], dtype=torch.float16)
    out = layers.UnitNormalization()(x)
    assert out.dtype == torch.float16
    np.testing.assert_allclose(out.float().cpu().numpy(), [[0.6, 0.8]], atol=1e-3)


def _keras2_model(layer_config, width):
    return json.dumps({"class_name": "Sequential", "keras_version": "2.15.0", "backend": "tensorflow",
                       "config": {"name": "sequential", "layers": [
                           {"class_name": "InputLayer", "config": {"batch_input_shape": [None, width],
                                                                   "dtype": "float32", "sparse": False,
                                                                   "ragged": False, "name": "input_1"}},
                           layer_config]}})


def test_unit_norm_keeps_the_keras2_floor_in_keras2_files():
    # tf.math.l2_normalize floors Σx² at 1e-12 (1/‖x‖ ≤ 1e6); Keras 3 caps 1/‖x‖ at 1e12.
    tiny = np.array([[3e-8, 4e-8]], "float32")
    keras2 = model_from_json(_keras2_model({"class_name": "UnitNormalization", "config": {
        "name": "unit_normalization", "trainable": True, "dtype": "float32", "axis": [1]}}, 2))
    np.testing.assert_allclose(keras2.predict(tiny), tiny * 1e6, rtol=1e-5)
    keras3 = keras.layers.UnitNormalization()
    np.testing.assert_allclose(deserialize_layer(keras_spec(keras3))(tiny).detach().cpu().numpy(), to_numpy(keras3(tiny)),
                               rtol=1e-5)
    np.testing.assert_allclose(to_numpy(keras3(tiny)), [[0.6, 0.8]], rtol=1e-5)


@pytest.mark.parametrize("axis, error", [("channels", TypeError), (1.5, TypeError)])
def test_unit_norm_refuses_an_axis_that_is_not_integers(axis, error):
    with pytest.raises(error):
        keras.layers.UnitNormalization(axis=axis)
    with pytest.raises(SpecError, match="axis: expected an integer or a list of integers"):
        layers.UnitNormalization(axis=axis)


def test_unit_norm_axis_out_of_range_is_reported_with_the_shape():
    with pytest.raises(ValueError, match="out of bounds"):
        keras.layers.UnitNormalization(axis=[1, 3]).compute_output_shape((None, 4, 5))
    with pytest.raises(SpecError, match=r"axis 3 is out of bounds for input shape \(None, 4, 5\)"):
        layers.UnitNormalization(axis=[1, 3]).compute_output_shape((None, 4, 5))


# ----- RMSNormalization --------------------------------------------------------------------

@pytest.mark.parametrize("kwargs", [{}, {"axis": [2, 3]}, {"axis": (-2, -1), "epsilon": 1e-3}, {"axis": [1, 2, 3]}])
def test_rms_norm_matches_keras(rng, kwargs):
    x = rng.normal(1.0, 3.0, size=(2, 3, 4, 5)).astype("float32")
    keras_layer = _with_random_weights(keras.layers.RMSNormalization(**kwargs), x.shape, rng)
    ours = assert_layer_matches_keras(keras_layer, x)
    assert ours.get_config() == keras_layer.get_config()  # the built, sorted axis list
    assert [w.name for w in ours.weights] == ["scale"]


def test_rms_norm_gradients_match_keras(rng):
    x = rng.normal(1.0, 3.0, size=(2, 3, 4, 5)).astype("float32")
    _assert_gradients_match_keras(keras.layers.RMSNormalization(axis=[2, 3]), x, rng)


def test_rms_norm_over_leading_axes_normalizes_those_axes(rng):
    # Keras on torch normalizes the trailing axes here (F.rms_norm); check the maths instead,
    # with the weight in the order Keras gives it: the sorted axis list [-1, 1].
    x = rng.normal(size=(2, 3, 4, 5)).astype("float32")
    keras_layer = keras.layers.RMSNormalization(axis=[1, -1], epsilon=0.1)
    scale = _with_random_weights(keras_layer, x.shape, rng).get_weights()[0]
    ours = _twin(keras_layer, x.shape)
    assert scale.shape == (5, 3)
    expected = x / np.sqrt((x ** 2).mean(axis=(1, 3), keepdims=True) + 0.1) * scale.T[None, :, None, :]
    np.testing.assert_allclose(ours(x).detach().cpu().numpy(), expected, rtol=1e-5, atol=1e-6)


def test_rms_norm_in_half_precision_matches_keras(rng):
    x = torch.as_tensor(rng.normal(0.0, 300.0, size=(2, 3, 6)).astype("float16"))
    keras_layer = keras.layers.RMSNormalization(dtype="float16")
    expected = to_numpy(keras_layer(x))
    got = _twin(keras_layer, x.shape)(x)
    assert got.dtype == torch.float16 and np.isfinite(expected).all()
    np.testing.assert_allclose(got.detach().cpu().numpy().astype("float32"), expected.astype("float32"), atol=2e-3)


@pytest.mark.parametrize("name, keeps_mask", [("RMSNormalization", False), ("UnitNormalization", True),
                                               ("GroupNormalization", True)])
def test_which_layers_pass_a_mask_on_as_in_keras(rng, name, keeps_mask):
    x = torch.as_tensor(rng.normal(size=(2, 5, 4)).astype("float32"))
    x[0, 2:] = 0.0
    masked = keras.layers.Masking(0.0)(x)  # a torch tensor carrying Keras's mask
    kwargs = {"groups": 2} if name == "GroupNormalization" else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras warns that RMSNormalization destroys the mask
        theirs = getattr(keras.layers, name)(**kwargs)(masked)
    ours = getattr(layers, name)(**kwargs)(masked)
    assert (getattr(theirs, "_keras_mask", None) is not None) is keeps_mask
    assert (getattr(ours, "_keras_mask", None) is not None) is keeps_mask


def test_rms_norm_axis_out_of_range_is_reported_with_the_shape():
    with pytest.raises(IndexError):
        keras.layers.RMSNormalization(axis=2).build((None, 4))
    with pytest.raises(SpecError, match=r"axis 2 is out of bounds for input shape \(None, 4\)"):
        layers.RMSNormalization(axis=2).build((None, 4))


# ----- whole models ------------------------------------------------------------------------

def _keras_model_with_every_layer(rng):
    """Channels-last and channels-first group norms, then unit and RMS norms, with random weights."""
    image = keras.Input((6, 6, 4), name="image")
    x = keras.layers.Conv2D(8, 3, padding="same")(image)
    x = keras.layers.GroupNormalization(groups=4)(x)
    x = keras.layers.Permute((3, 1, 2))(x)
    x = keras.layers.GroupNormalization(groups=2, axis=1, center=False)(x)
    x = keras.layers.UnitNormalization(axis=[2, 3])(x)
    x = keras.layers.Reshape((8, 36))(x)
    x = keras.layers.RMSNormalization()(x)
    x = keras.layers.Dense(3)(keras.layers.Flatten()(x))
    model = keras.Model(image, x)
    model.set_weights([rng.normal(1.0, 0.3, size=w.shape).astype("float32") for w in model.get_weights()])
    return model, rng.normal(size=(4, 6, 6, 4)).astype("float32")


def test_keras_model_json_and_weights_file_predict_the_same_in_modelcli(rng, tmp_path):
    kmodel, x = _keras_model_with_every_layer(rng)
    kmodel.save_weights(tmp_path / "m.weights.h5")
    ours = model_from_json(kmodel.to_json())
    ours.load_weights(tmp_path / "m.weights.h5")
    np.testing.assert_allclose(ours.predict(x), kmodel.predict(x, verbose=0), rtol=1e-5, atol=1e-5)
    for mine, theirs in zip(ours.get_weights(), kmodel.get_weights()):
        np.testing.assert_array_equal(mine, np.asarray(theirs))


def test_keras_archive_with_the_layers_predicts_the_same_in_modelcli(rng, tmp_path):
    kmodel, x = _keras_model_with_every_layer(rng)
    kmodel.save(tmp_path / "m.keras")
    ours = load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(ours.predict(x), kmodel.predict(x, verbose=0), rtol=1e-5, atol=1e-5)


def test_training_with_regularizers_and_constraints_matches_keras(rng):
    x = rng.normal(size=(32, 5, 6)).astype("float32")
    y = rng.normal(size=(32, 3)).astype("float32")
    kmodel = keras.Sequential([
        keras.Input((5, 6)),
        keras.layers.GroupNormalization(groups=3, gamma_regularizer=keras.regularizers.L2(0.05),
                                        beta_constraint=keras.constraints.NonNeg()),
        keras.layers.UnitNormalization(axis=[1, 2]),
        keras.layers.RMSNormalization(),
        keras.layers.Flatten(),
        keras.layers.Dense(3)])
    start = [rng.normal(0.5, 0.5, size=w.shape).astype("float32") for w in kmodel.get_weights()]
    start[1] = np.full(6, -1.0, "float32")  # beta below the NonNeg constraint: every step must clip it
    kmodel.set_weights(start)
    ours = model_from_json(kmodel.to_json())
    ours.set_weights(kmodel.get_weights())
    sgd = {"class_name": "SGD", "config": {"learning_rate": 0.05}}
    kmodel.compile(optimizer=keras.optimizers.deserialize(sgd), loss="mse")
    ours.compile(optimizer=sgd, loss="mse")
    fit = dict(epochs=3, batch_size=8, shuffle=False, verbose=0)
    expected = kmodel.fit(x, y, **fit).history["loss"]
    got = ours.fit(x, y, **fit).history["loss"]
    np.testing.assert_allclose(got, expected, rtol=1e-4)
    for mine, theirs in zip(ours.get_weights(), kmodel.get_weights()):
        np.testing.assert_allclose(mine, np.asarray(theirs), rtol=1e-4, atol=1e-5)
    assert (ours.get_weights()[1] >= 0).all()


def test_keras2_group_and_unit_norm_configs_load(rng):
    """tf.keras 2.x writes the same keys, initializers without a module."""
    group = {"class_name": "GroupNormalization", "config": {
        "name": "group_normalization", "trainable": True, "dtype": "float32", "groups": 2, "axis": -1,
        "epsilon": 0.001, "center": True, "scale": True,
        "beta_initializer": {"class_name": "Zeros", "config": {}},
        "gamma_initializer": {"class_name": "Ones", "config": {}},
        "beta_regularizer": None, "gamma_regularizer": None, "beta_constraint": None, "gamma_constraint": None}}
    model = model_from_json(_keras2_model(group, 4))
    gamma, beta = rng.normal(size=(2, 4)).astype("float32")
    model.set_weights([gamma, beta])
    x = rng.normal(size=(3, 4)).astype("float32")
    grouped = x.reshape(3, 2, 2)
    expected = ((grouped - grouped.mean(-1, keepdims=True)) / np.sqrt(grouped.var(-1, keepdims=True) + 1e-3))
    np.testing.assert_allclose(model.predict(x), expected.reshape(3, 4) * gamma + beta, atol=1e-5)

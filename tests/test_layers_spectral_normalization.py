"""SpectralNormalization against real Keras 3 (torch backend).

Both layers start from the same weights (Keras's, copied with ``set_weights``); a
training call must then leave the same normalized kernel and ``vector_u`` behind.
"""
import numpy as np
import pytest
import torch

from keras_reference import keras, keras_spec, to_numpy
from modelcli import layers
from modelcli.errors import SpecError
from modelcli.layers.deserialize import deserialize_layer
from modelcli.models import model_from_json

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy:DeprecationWarning")


def _pair(keras_inner, shape, rng, **kwargs):
    """Keras's wrapper with random weights, and ours rebuilt from its spec holding the same weights."""
    theirs = keras.layers.SpectralNormalization(keras_inner, **kwargs)
    theirs.build(shape)
    theirs.set_weights([rng.normal(size=w.shape).astype("float32") for w in theirs.get_weights()])
    ours = deserialize_layer(keras_spec(theirs))
    ours.build(shape)
    ours.built = True
    ours.set_weights(theirs.get_weights())
    return theirs, ours


def _weights_equal(ours, theirs, atol=1e-5):
    got, expected = ours.get_weights(), [to_numpy(w) for w in theirs.get_weights()]
    assert [w.shape for w in got] == [w.shape for w in expected]
    for mine, ref in zip(got, expected):
        np.testing.assert_allclose(mine, ref, rtol=1e-5, atol=atol)


@pytest.mark.parametrize("make, shape, kwargs", [
    (lambda: keras.layers.Dense(4), (5, 3), {}),
    (lambda: keras.layers.Dense(3, use_bias=False), (2, 6, 5), {"power_iterations": 3}),
    (lambda: keras.layers.Conv2D(4, 3), (2, 7, 7, 2), {"power_iterations": 2}),
    (lambda: keras.layers.Embedding(10, 4), (3, 5), {}),
])
def test_training_call_normalizes_the_kernel_and_updates_vector_u_as_keras_does(make, shape, kwargs, rng):
    theirs, ours = _pair(make(), shape, rng, **kwargs)
    if isinstance(theirs.layer, keras.layers.Embedding):
        x = rng.integers(0, 10, size=shape).astype("int32")
    else:
        x = rng.normal(size=shape).astype("float32")
    u_before = ours.get_weights()[1].copy()

    expected = to_numpy(theirs(x, training=True))
    got = ours(x, training=True).detach().cpu().numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    _weights_equal(ours, theirs)
    assert not np.allclose(ours.get_weights()[1], u_before)  # vector_u moved
    # The normalized kernel now has spectral norm (close to) 1 along the flattened matrix.
    kernel = ours.get_weights()[0]
    sigma = np.linalg.norm(kernel.reshape(-1, kernel.shape[-1]), 2)
    assert sigma == pytest.approx(1.0, rel=0.5)

    # A second training call keeps tracking Keras (u is reused from the first one).
    expected = to_numpy(theirs(x, training=True))
    np.testing.assert_allclose(ours(x, training=True).detach().cpu().numpy(), expected, rtol=1e-5, atol=1e-5)
    _weights_equal(ours, theirs)


def test_inference_uses_the_stored_kernel_and_changes_no_weight(rng):
    theirs, ours = _pair(keras.layers.Dense(4), (5, 3), rng)
    x = rng.normal(size=(5, 3)).astype("float32")
    before = ours.get_weights()
    np.testing.assert_allclose(ours(x).detach().cpu().numpy(), to_numpy(theirs(x, training=False)), rtol=1e-5, atol=1e-5)
    # ... which is the plain Dense on the stored (not yet normalized) kernel.
    np.testing.assert_allclose(ours(x).detach().cpu().numpy(), x @ before[0] + before[2], rtol=1e-5, atol=1e-5)
    for a, b in zip(ours.get_weights(), before):
        np.testing.assert_array_equal(a, b)


def test_an_all_zero_kernel_is_left_alone_while_training(rng):
    theirs, ours = _pair(keras.layers.Dense(2), (3, 4), rng)
    weights = theirs.get_weights()
    weights[0] = np.zeros_like(weights[0])
    theirs.set_weights(weights)
    ours.set_weights(weights)
    x = rng.normal(size=(3, 4)).astype("float32")
    np.testing.assert_allclose(ours(x, training=True).detach().cpu().numpy(), to_numpy(theirs(x, training=True)),
                               atol=1e-6)
    _weights_equal(ours, theirs, atol=0)
    assert np.isfinite(ours.get_weights()[0]).all()


def test_weights_are_listed_as_keras_lists_them(rng):
    theirs, ours = _pair(keras.layers.Dense(4), (5, 3), rng)
    assert [w.path.split("/")[-1] for w in ours.weights] == ["kernel", "vector_u", "bias"]
    assert [w.path.split("/")[-1] for w in theirs.weights] == ["kernel", "vector_u", "bias"]
    assert [w.name for w in ours.trainable_weights] == ["kernel", "bias"]
    assert [w.name for w in ours.non_trainable_weights] == ["vector_u"]
    assert ours.count_params() == theirs.count_params() == 3 * 4 + 4 + 4


def test_gradients_flow_to_the_wrapped_kernel(rng):
    _, ours = _pair(keras.layers.Dense(4), (5, 3), rng)
    out = ours(torch.as_tensor(rng.normal(size=(5, 3)).astype("float32")), training=True)
    out.sum().backward()
    assert ours.layer.kernel.grad is not None and ours.layer.bias.grad is not None
    assert ours.vector_u.grad is None


def _without_version_keys(layer_spec):
    """The nested layer's spec less what newer Keras adds at its defaults (quantization_config: None)
    and the build_config it adds once built; the rest must match key for key."""
    config = {k: v for k, v in layer_spec["config"].items() if k != "quantization_config"}
    return {**{k: v for k, v in layer_spec.items() if k != "build_config"}, "config": config}


def test_get_config_is_keras_config():
    # (A zeros kernel: Keras >= 3.12 writes GlorotUniform with extra axis keys, a Dense matter.)
    inner = keras.layers.Dense(4, name="d", kernel_initializer="zeros")
    theirs = keras.layers.SpectralNormalization(inner, power_iterations=2, name="sn")
    ours = deserialize_layer(keras_spec(theirs))
    for built in (False, True):
        if built:
            theirs.build((None, 3))
            ours.build((None, 3))
        mine, expected = ours.get_config(), theirs.get_config()
        assert mine.keys() == expected.keys()
        assert {k: v for k, v in mine.items() if k != "layer"} == {k: v for k, v in expected.items() if k != "layer"}
        assert mine["power_iterations"] == 2 and mine["name"] == "sn"
        assert _without_version_keys(mine["layer"]) == _without_version_keys(expected["layer"])
    # And the config round-trips through modelcli.
    assert deserialize_layer({"class_name": "SpectralNormalization", "config": ours.get_config()}).get_config() \
        == ours.get_config()


def test_bad_arguments_are_refused():
    with pytest.raises(SpecError, match="power_iterations"):
        layers.SpectralNormalization(layers.Dense(2), power_iterations=0)
    with pytest.raises(SpecError, match="layer"):
        layers.SpectralNormalization("dense")
    with pytest.raises(SpecError, match="kernel"):
        layers.SpectralNormalization(layers.Flatten())(np.zeros((2, 3), "float32"))


def test_keras_model_saved_as_json_and_weights_h5_predicts_the_same(tmp_path, rng):
    model = keras.Sequential([keras.Input((3,)), keras.layers.SpectralNormalization(keras.layers.Dense(4)),
                              keras.layers.Dense(2)])
    x = rng.normal(size=(6, 3)).astype("float32")
    model(x, training=True)  # one training call: the stored kernel is now the normalized one
    model.save_weights(tmp_path / "m.weights.h5")

    ours = model_from_json(model.to_json())
    ours.load_weights(tmp_path / "m.weights.h5")
    np.testing.assert_allclose(ours.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    for mine, theirs in zip(ours.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(mine, to_numpy(theirs))

    # And back: our file loads into Keras.
    ours.save_weights(tmp_path / "ours.weights.h5")
    again = keras.models.model_from_json(model.to_json())
    again.load_weights(tmp_path / "ours.weights.h5")
    np.testing.assert_allclose(to_numpy(again(x)), model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)

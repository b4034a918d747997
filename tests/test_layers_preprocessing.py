"""Rescaling, Normalization, CenterCrop and Resizing against real Keras 3 (torch backend)."""
import json

import numpy as np
import pytest
import torch

from keras_reference import assert_layer_matches_keras, keras, keras_spec, to_numpy
from modelcli import Sequential, layers
from modelcli.errors import DataError, SpecError
from modelcli.layers.deserialize import deserialize_layer
from modelcli.models import load_model, model_from_json

K = keras.layers
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy:DeprecationWarning")


def _images(rng, shape=(2, 9, 7, 3)):
    return rng.uniform(0, 255, size=shape).astype("float32")


def _assert_same_layer_as_keras(keras_layer, x):
    """Same numbers and, once built, the same config as Keras's layer."""
    ours = assert_layer_matches_keras(keras_layer, x, atol=1e-4)
    assert ours.get_config() == keras_layer.get_config()
    assert type(ours).from_config(ours.get_config()).get_config() == ours.get_config()
    return ours


# ----- Rescaling ------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs", [{"scale": 1 / 255}, {"scale": 1 / 127.5, "offset": -1},
                                    {"scale": [1.0, 0.5, 0.25], "offset": [0.0, 1.0, 2.0]},
                                    {"scale": np.array([2.0, 3.0, 4.0], "float32"), "offset": 0.5}])
def test_rescaling_matches_keras(rng, kwargs):
    _assert_same_layer_as_keras(K.Rescaling(**kwargs), _images(rng))


def test_rescaling_reads_the_numpy_arrays_keras_writes_and_writes_them_back():
    keras_layer = K.Rescaling(np.array([1.0, 2.0], "float32"), offset=np.array([0.5, 0.25]))
    spec = json.loads(json.dumps(keras_spec(keras_layer)))
    assert spec["config"]["scale"] == {"class_name": "__numpy__", "config": {"value": [1.0, 2.0], "dtype": "float32"}}
    ours = deserialize_layer(spec)
    x = np.ones((1, 2), "float32")
    np.testing.assert_array_equal(ours(x).cpu().numpy(), [[1.5, 2.25]])
    assert ours.get_config() == keras_layer.get_config()


def test_rescaling_turns_integer_images_into_floats_like_keras(rng):
    x = rng.integers(0, 256, size=(2, 4, 4, 3)).astype("uint8")
    out = deserialize_layer(keras_spec(K.Rescaling(1 / 255)))(x)
    assert out.dtype == torch.float32
    np.testing.assert_allclose(out.cpu().numpy(), to_numpy(K.Rescaling(1 / 255)(x)), rtol=1e-6)


def test_rescaling_refuses_a_scale_that_is_not_numeric():
    with pytest.raises(SpecError, match="scale"):
        layers.Rescaling("1/255")


# ----- Normalization --------------------------------------------------------------------------

@pytest.mark.parametrize("shape, kwargs", [
    ((4, 3), {"mean": [1.0, 2.0, 3.0], "variance": [4.0, 0.5, 9.0]}),
    ((4, 3), {"axis": None, "mean": 2.0, "variance": 3.0}),
    ((2, 3, 4), {"axis": (1, 2), "mean": [1.0, 2.0, 3.0, 4.0], "variance": [1.0, 4.0, 9.0, 16.0]}),
    ((2, 3, 4), {"axis": 1, "mean": [1.0, 2.0, 3.0], "variance": [2.0, 0.0, 1.0], "invert": True}),
])
def test_normalization_with_given_statistics_matches_keras_and_has_no_weights(rng, shape, kwargs):
    x = rng.normal(2.0, 3.0, size=shape).astype("float32")
    ours = _assert_same_layer_as_keras(K.Normalization(**kwargs), x)
    assert ours.weights == []


@pytest.mark.parametrize("shape, axis", [((20, 5), -1), ((20, 5), None), ((6, 4, 3), (1, -1)), ((6, 4, 3), 1)])
def test_normalization_adapt_gives_keras_mean_and_variance(rng, shape, axis):
    data = rng.normal(3.0, 2.0, size=shape).astype("float32")
    keras_layer = K.Normalization(axis=axis)
    keras_layer.adapt(data)
    ours = layers.Normalization(axis=axis)
    ours.adapt(data)
    assert [w.name for w in ours.weights] == ["mean", "variance", "count"]
    assert [w.dtype for w in ours.get_weights()] == [np.float32, np.float32, np.int32]
    for mine, theirs in zip(ours.get_weights(), keras_layer.get_weights()):
        assert mine.shape == theirs.shape
        np.testing.assert_allclose(mine, theirs, rtol=1e-6)
    np.testing.assert_allclose(ours(data).cpu().numpy(), to_numpy(keras_layer(data)), atol=1e-5)


def test_normalization_adapt_on_integer_data_and_torch_tensors(rng):
    ints = rng.integers(0, 100, size=(30, 4))
    keras_layer = K.Normalization()
    keras_layer.adapt(ints)
    ours = layers.Normalization()
    ours.adapt(torch.as_tensor(ints))
    np.testing.assert_allclose(ours.get_weights()[0], keras_layer.get_weights()[0], rtol=1e-6)
    np.testing.assert_allclose(ours.get_weights()[1], keras_layer.get_weights()[1], rtol=1e-6)


def test_adapted_normalization_inverts_like_keras(rng):
    data = rng.normal(3.0, 2.0, size=(10, 3)).astype("float32")
    keras_layer = K.Normalization(invert=True)
    keras_layer.adapt(data)
    _assert_same_layer_as_keras(keras_layer, data)


def test_a_keras_model_with_an_adapted_normalization_predicts_the_same(rng, tmp_path):
    data = rng.normal(3.0, 2.0, size=(40, 5)).astype("float32")
    norm = K.Normalization()
    norm.adapt(data)
    model = keras.Sequential([keras.Input((5,)), norm, K.Dense(3)])
    model.save_weights(tmp_path / "model.weights.h5")
    model.save(tmp_path / "model.keras")
    expected = model.predict(data, verbose=0)
    ours = model_from_json(model.to_json())
    ours.load_weights(tmp_path / "model.weights.h5")
    np.testing.assert_allclose(ours.predict(data), expected, atol=1e-5)
    np.testing.assert_allclose(load_model(tmp_path / "model.keras").predict(data), expected, atol=1e-5)


@pytest.mark.parametrize("suffix", [".h5", ".weights.h5"])
def test_normalization_count_stays_an_integer_through_save_and_load(rng, tmp_path, suffix):
    model = Sequential([layers.Input((3,)), layers.Normalization(), layers.Dense(2)])
    mean, variance, _ = model.layers[0].get_weights()
    model.layers[0].set_weights([mean + 1.0, variance * 4.0, np.array(7, "int32")])
    model.save_weights(tmp_path / f"model{suffix}")
    again = model_from_json(model.to_json())
    again.load_weights(tmp_path / f"model{suffix}")
    count = again.layers[0].get_weights()[2]
    assert count.dtype == np.int32 and count == 7
    x = rng.normal(size=(4, 3)).astype("float32")
    np.testing.assert_array_equal(again.predict(x), model.predict(x))


def test_normalization_refuses_half_given_statistics_and_misfit_data():
    with pytest.raises(SpecError, match="together"):
        layers.Normalization(mean=1.0)
    with pytest.raises(DataError, match="config"):
        layers.Normalization(mean=1.0, variance=2.0).adapt(np.ones((4, 3), "float32"))
    layer = layers.Normalization()
    layer.adapt(np.ones((4, 3), "float32"))
    with pytest.raises(DataError, match="shape"):
        layer.adapt(np.ones((4, 5), "float32"))
    with pytest.raises(DataError, match="NumPy array"):
        layer.adapt([[1.0, 2.0, 3.0]])


# ----- CenterCrop -----------------------------------------------------------------------------

@pytest.mark.parametrize("shape, size, data_format", [
    ((2, 9, 7, 3), (4, 5), None),          # odd margins: the extra row/column stays after the window
    ((2, 8, 8, 3), (8, 8), None),
    ((2, 5, 6, 3), (9, 4), None),          # taller than the image: crop to aspect ratio, then resize
    ((2, 5, 6, 3), (8, 10), None),
    ((2, 3, 9, 7), (4, 5), "channels_first"),
    ((9, 7, 3), (4, 5), None),             # one image without a batch axis
])
def test_center_crop_matches_keras(rng, shape, size, data_format):
    _assert_same_layer_as_keras(K.CenterCrop(*size, data_format=data_format), _images(rng, shape))


def test_center_crop_returns_floats_for_integer_images(rng):
    x = rng.integers(0, 256, size=(1, 6, 6, 1)).astype("uint8")
    out = layers.CenterCrop(2, 2)(x)
    assert out.dtype == torch.float32
    np.testing.assert_array_equal(out.cpu().numpy(), x[:, 2:4, 2:4].astype("float32"))


# ----- Resizing -------------------------------------------------------------------------------

@pytest.mark.parametrize("shape, kwargs", [
    ((2, 9, 7, 3), {"height": 4, "width": 5}),
    ((2, 9, 7, 3), {"height": 13, "width": 17}),
    ((2, 9, 7, 3), {"height": 4, "width": 11, "interpolation": "nearest"}),
    ((2, 9, 7, 3), {"height": 20, "width": 3, "interpolation": "nearest"}),
    ((2, 9, 7, 3), {"height": 5, "width": 3, "crop_to_aspect_ratio": True}),
    ((2, 9, 7, 3), {"height": 3, "width": 8, "crop_to_aspect_ratio": True, "interpolation": "nearest"}),
    ((2, 9, 7, 3), {"height": 5, "width": 11, "pad_to_aspect_ratio": True, "fill_value": 3.0}),
    ((2, 9, 7, 3), {"height": 8, "width": 3, "pad_to_aspect_ratio": True}),
    ((2, 3, 9, 7), {"height": 4, "width": 5, "data_format": "channels_first"}),
    ((9, 7, 3), {"height": 4, "width": 5}),
])
def test_resizing_matches_keras(rng, shape, kwargs):
    _assert_same_layer_as_keras(K.Resizing(**kwargs), _images(rng, shape))


@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_resizing_keeps_integer_images_integer_like_keras3(rng, interpolation):
    x = rng.integers(0, 256, size=(2, 9, 7, 3)).astype("uint8")
    keras_layer = K.Resizing(5, 4, interpolation=interpolation)
    out = deserialize_layer(keras_spec(keras_layer))(x)
    assert out.dtype == torch.uint8
    np.testing.assert_array_equal(out.cpu().numpy(), to_numpy(keras_layer(x)))


@pytest.mark.parametrize("kwargs, option", [
    ({"interpolation": "bicubic"}, "interpolation"), ({"interpolation": "lanczos3"}, "interpolation"),
    ({"interpolation": "area"}, "interpolation"), ({"antialias": True}, "antialias"),
    ({"fill_mode": "reflect"}, "fill_mode"), ({"crop_to_aspect_ratio": True, "pad_to_aspect_ratio": True},
                                             "pad_to_aspect_ratio"),
])
def test_resizing_refuses_what_it_does_not_compute_naming_the_option(kwargs, option):
    with pytest.raises(SpecError, match=option):
        deserialize_layer({"class_name": "Resizing", "config": {"height": 4, "width": 4, **kwargs}})


# ----- whole models ---------------------------------------------------------------------------

def test_a_keras_image_model_on_uint8_inputs_predicts_the_same(rng):
    images = keras.Input((20, 24, 3), dtype="uint8")
    y = K.Resizing(10, 10, crop_to_aspect_ratio=True)(images)
    y = K.Rescaling(1 / 127.5, offset=-1)(y)
    y = K.CenterCrop(8, 6)(y)
    y = K.Conv2D(2, 3)(y)
    model = keras.Model(images, K.Flatten()(y))
    x = rng.integers(0, 256, size=(3, 20, 24, 3)).astype("uint8")
    ours = model_from_json(model.to_json())
    ours.set_weights(model.get_weights())
    assert [tuple(layer.output_shape) for layer in ours.layers] == \
        [tuple(layer.output.shape) for layer in model.layers]
    np.testing.assert_allclose(ours.predict(x), model.predict(x, verbose=0), atol=1e-5)


KERAS2_JSON = {
    "class_name": "Sequential", "keras_version": "2.12.0", "backend": "tensorflow",
    "config": {"name": "sequential", "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 6, 9, 3], "dtype": "uint8",
                                                "sparse": False, "ragged": False, "name": "input_1"}},
        {"class_name": "Resizing", "config": {"name": "resizing", "trainable": True, "dtype": "float32",
                                              "height": 4, "width": 5, "interpolation": "bilinear",
                                              "crop_to_aspect_ratio": False}},
        {"class_name": "CenterCrop", "config": {"name": "center_crop", "trainable": True, "dtype": "float32",
                                                "height": 3, "width": 3}},
        {"class_name": "Rescaling", "config": {"name": "rescaling", "trainable": True, "dtype": "float32",
                                               "scale": 0.5, "offset": 1.0}},
        {"class_name": "Normalization", "config": {"name": "normalization", "trainable": True,
                                                   "dtype": "float32", "axis": [-1], "invert": False,
                                                   "mean": None, "variance": None}}]}}


def test_a_keras2_file_with_preprocessing_layers_loads_with_keras2_resizing(rng):
    """tf.keras 2 cast the images to float32 before resizing, so no rounding back to uint8."""
    model = model_from_json(json.dumps(KERAS2_JSON))
    assert [w.name for w in model.layers[-1].weights] == ["mean", "variance", "count"]
    x = rng.integers(0, 256, size=(2, 6, 9, 3)).astype("uint8")
    reference = keras.Sequential([keras.Input((6, 9, 3)), K.Resizing(4, 5), K.CenterCrop(3, 3),
                                  K.Rescaling(0.5, offset=1.0), K.Normalization()])
    np.testing.assert_allclose(model.predict(x), reference.predict(x.astype("float32"), verbose=0), atol=1e-5)

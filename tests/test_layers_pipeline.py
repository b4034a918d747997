"""Pipeline (a layer applying a list of layers in order) against real Keras 3.

A Keras augmentation stack saved inside a model must load and predict what Keras
predicts, pass ``training`` on to the augmentation inside it, carry masks as Keras's
Pipeline carries them, keep its inner weights where Keras's weight files put them,
and write back a config Keras reads.
"""
import json

import numpy as np
import pytest

from keras_reference import keras, keras_spec, ours_from, to_numpy, to_numpy_torch
from modelcli import layers
from modelcli.errors import SpecError
from modelcli.layers.deserialize import deserialize_layer
from modelcli.models import model_from_json

pytestmark = [pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy:DeprecationWarning"),
              # Keras warns that a Pipeline (or a Conv1D) "destroys" a mask it is given; a Pipeline still
              # hands it on to its layers (tested below)
              pytest.mark.filterwarnings("ignore:Layer '.*' .*does not support masking:UserWarning"),
              pytest.mark.filterwarnings("ignore:`build\\(\\)` was called on layer:UserWarning")]


def augmentation_stack(**rotation):
    return keras.layers.Pipeline([keras.layers.Rescaling(1 / 255.0), keras.layers.RandomFlip(seed=1),
                                  keras.layers.RandomRotation(**({"factor": 0.1} | rotation))], name="augment")


@pytest.fixture
def images(rng):
    return rng.uniform(0, 255, size=(4, 8, 8, 3)).astype("float32")


def load_like_keras(keras_model, tmp_path):
    """The model rebuilt from Keras's JSON, with the weights Keras saved."""
    keras_model.save_weights(str(tmp_path / "keras.weights.h5"))
    model = model_from_json(keras_model.to_json())
    model.load_weights(str(tmp_path / "keras.weights.h5"))
    return model


# ----- config ---------------------------------------------------------------------------------

def test_config_is_keras_config_and_keras_reads_ours_back():
    keras_pipeline = augmentation_stack(fill_mode="constant")
    ours = ours_from(keras_pipeline)
    assert [type(layer).__name__ for layer in ours.layers] == ["Rescaling", "RandomFlip", "RandomRotation"]
    as_json = lambda config: json.loads(json.dumps(config))  # noqa: E731 (Keras writes the factor as a list)
    assert as_json(ours.get_config()) == as_json(keras_pipeline.get_config())  # only layers and name
    assert set(ours.get_config()) == {"layers", "name"}

    written = json.loads(json.dumps({"class_name": "Pipeline", "module": "keras.layers", "registered_name": None,
                                     "config": ours.get_config()}))
    back = keras.saving.deserialize_keras_object(written)
    assert isinstance(back, keras.layers.Pipeline)
    assert json.loads(json.dumps(back.get_config())) == written["config"]


def test_layer_objects_can_be_given_directly(images):
    ours = layers.Pipeline([layers.Resizing(4, 6), layers.Rescaling(0.5)], name="shrink")
    assert ours.compute_output_shape((None, 8, 8, 3)) == (None, 4, 6, 3)
    expected = to_numpy(keras.layers.Pipeline([keras.layers.Resizing(4, 6), keras.layers.Rescaling(0.5)])(images))
    np.testing.assert_allclose(to_numpy_torch(ours(images)), expected, rtol=1e-6, atol=1e-4)
    assert [entry["class_name"] for entry in ours.get_config()["layers"]] == ["Resizing", "Rescaling"]


# ----- a Keras model with an augmentation stack -----------------------------------------------

# Keras builds a model by tracing each layer on a symbolic batch, 83 images when the batch size is open,
# and a RandomRotation inside a Pipeline is traced image by image (15 s): a fixed batch keeps it short.
def keras_input():
    return keras.Input((8, 8, 3), batch_size=4)


def keras_sequential():
    return keras.Sequential([keras_input(), augmentation_stack(), keras.layers.Conv2D(2, 3)])


def keras_functional():
    inputs = keras_input()
    return keras.Model(inputs, keras.layers.Conv2D(2, 3)(augmentation_stack()(inputs)))


@pytest.mark.parametrize("make", [keras_sequential, keras_functional], ids=["sequential", "functional"])
def test_keras_model_with_a_pipeline_loads_predicts_and_is_read_back_by_keras(make, images, tmp_path):
    keras_model = make()
    expected = keras_model.predict(images, verbose=0)
    model = load_like_keras(keras_model, tmp_path)
    np.testing.assert_allclose(model.predict(images, verbose=0), expected, rtol=1e-6, atol=1e-5)

    model.save_weights(str(tmp_path / "ours.weights.h5"))
    keras_again = keras.models.model_from_json(model.to_json())
    keras_again.load_weights(str(tmp_path / "ours.weights.h5"))
    np.testing.assert_allclose(keras_again.predict(images, verbose=0), expected, rtol=1e-6, atol=1e-5)


def test_training_reaches_the_augmentation_inside(images, tmp_path):
    # A pinned quarter turn leaves nothing to chance, so the training outputs can be compared.
    keras_pipeline = keras.layers.Pipeline([keras.layers.Rescaling(0.5), keras.layers.RandomRotation((0.25, 0.25))])
    ours = ours_from(keras_pipeline)
    np.testing.assert_allclose(to_numpy_torch(ours(images, training=True)),
                               to_numpy(keras_pipeline(images, training=True)), atol=1e-4)
    np.testing.assert_allclose(to_numpy_torch(ours(images)), images * 0.5)  # inference: no rotation

    keras_model = keras.Sequential([keras_input(), keras_pipeline, keras.layers.Conv2D(2, 3)])
    model = load_like_keras(keras_model, tmp_path)
    np.testing.assert_allclose(to_numpy_torch(model(images, training=True)),
                               to_numpy(keras_model(images, training=True)), rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(model.predict(images, verbose=0), keras_model.predict(images, verbose=0), atol=1e-5)


def test_weights_inside_a_pipeline_live_where_keras_files_keep_them(rng, tmp_path):
    keras_model = keras.Sequential([keras.Input((4,)), keras.layers.Pipeline([keras.layers.Dense(3),
                                                                              keras.layers.Dense(2)]),
                                    keras.layers.Dense(1)])
    x = rng.uniform(size=(5, 4)).astype("float32")
    model = load_like_keras(keras_model, tmp_path)  # layers/pipeline/layers/dense, .../dense_1
    assert [w.shape for w in model.layers[0].weights] == [(4, 3), (3,), (3, 2), (2,)]
    np.testing.assert_allclose(model.predict(x, verbose=0), keras_model.predict(x, verbose=0), atol=1e-6)

    model.layers[0].layers[1].set_weights([np.ones((3, 2), "float32"), np.zeros(2, "float32")])
    model.save_weights(str(tmp_path / "ours.weights.h5"))
    keras_model.load_weights(str(tmp_path / "ours.weights.h5"))
    np.testing.assert_array_equal(to_numpy(keras_model.layers[0].layers[1].kernel), np.ones((3, 2)))


# ----- masks ----------------------------------------------------------------------------------

MASK_CASES = {  # Keras hands the mask from layer to layer; one that does not support masking ends it
    "dense keeps the mask": [lambda: keras.layers.Dense(3)],
    "masking inside makes one": [lambda: keras.layers.Masking()],
    "conv ends the mask": [lambda: keras.layers.Conv1D(3, 1)],
    "masking then conv": [lambda: keras.layers.Masking(), lambda: keras.layers.Conv1D(3, 1)],
}


@pytest.mark.parametrize("masked_before", [True, False], ids=["masked input", "plain input"])
@pytest.mark.parametrize("case", sorted(MASK_CASES))
def test_masks_pass_through_the_pipeline_as_in_keras(case, masked_before, rng, tmp_path):
    x = rng.uniform(size=(2, 5, 3)).astype("float32")
    x[:, 3:] = 0.0  # the last two steps are padding
    inputs = keras.Input((5, 3))
    hidden = keras.layers.Masking()(inputs) if masked_before else inputs
    hidden = keras.layers.Pipeline([make() for make in MASK_CASES[case]])(hidden)
    keras_model = keras.Model(inputs, keras.layers.LSTM(2, return_sequences=True)(hidden))
    expected = keras_model.predict(x, verbose=0)
    model = load_like_keras(keras_model, tmp_path)
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-5)

    # Called directly, the output carries the mask Keras's does.
    tensor = keras.ops.convert_to_tensor(x)
    keras_in = keras.layers.Masking()(tensor) if masked_before else tensor
    keras_mask = getattr(keras_model.layers[2 if masked_before else 1](keras_in), "_keras_mask", None)
    ours_in = layers.Masking()(x) if masked_before else x
    ours_mask = getattr(model.get_layer(keras_model.layers[2 if masked_before else 1].name)(ours_in),
                        "_keras_mask", None)
    assert (ours_mask is None) == (keras_mask is None)
    if keras_mask is not None:
        np.testing.assert_array_equal(to_numpy_torch(ours_mask), to_numpy(keras_mask))


# ----- refused configs ------------------------------------------------------------------------

def test_a_refused_or_bad_nested_layer_names_its_place():
    spec = json.loads(keras_sequential().to_json())
    nested = spec["config"]["layers"][1]["config"]["layers"]
    nested[1] = {"module": "keras.layers", "class_name": "StringLookup", "config": {"name": "lookup"},
                 "registered_name": None}
    with pytest.raises(SpecError, match="StringLookup layer runs through TensorFlow") as err:
        model_from_json(json.dumps(spec))
    assert err.value.where == "model.config.layers[1].config.layers[1]"

    nested[1] = keras_spec(keras.layers.RandomFlip())
    nested[1]["config"]["mode"] = "diagonal"
    with pytest.raises(SpecError) as err:
        model_from_json(json.dumps(spec))
    assert err.value.where == "model.config.layers[1].config.layers[1].config.mode"


@pytest.mark.parametrize("config, where, keras_refuses", [
    ({"name": "p"}, "layer.config.layers", True),
    ({"layers": "dense", "name": "p"}, "layer.config.layers", True),
    ({"layers": [], "name": "p", "trainable": False}, "layer.config", True),  # Keras's Pipeline takes no trainable
    ({"layers": [42], "name": "p"}, "layer.config.layers[0]", False),  # Keras fails later, when called
])
def test_a_config_that_is_not_a_list_of_layers_and_a_name_is_refused(config, where, keras_refuses):
    with pytest.raises(SpecError) as err:
        deserialize_layer({"class_name": "Pipeline", "config": config})
    assert err.value.where == where
    if keras_refuses:
        with pytest.raises((TypeError, ValueError)):
            keras.layers.Pipeline.from_config(config)

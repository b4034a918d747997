"""Image augmentation layers (RandomFlip, RandomRotation, RandomZoom, RandomTranslation,
RandomContrast, RandomBrightness, RandomCrop) against real Keras 3.

Keras's draws cannot be replayed, so a transform is pinned with a degenerate factor range
(``RandomRotation(factor=(0.25, 0.25))`` always turns by 90°) and the outputs are compared
number for number; random ranges are checked by reading each image's transform back.
"""
import json
import math

import numpy as np
import pytest
import torch

from keras_reference import keras, ours_from, to_numpy, to_numpy_torch
from modelcli import flavour, layers
from modelcli.errors import SpecError
from modelcli.models import model_from_json

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy:DeprecationWarning")

FILL_MODES = ["reflect", "wrap", "constant", "nearest"]
INTERPOLATIONS = ["bilinear", "nearest"]


@pytest.fixture
def images(rng):
    """Three 7×9 two-channel images (not square, so a mixed-up height and width shows)."""
    return rng.uniform(0, 255, size=(3, 7, 9, 2)).astype("float32")


def same_training_output_as_keras(keras_layer, x):
    """One training call of Keras's layer and of ours built from its config: same numbers, same config."""
    ours = ours_from(keras_layer)
    expected = to_numpy(keras_layer(x, training=True))
    got = to_numpy_torch(ours(x, training=True))
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-4)
    assert ours.get_config() == keras_layer.get_config()
    return got


def column_ramp(n=32, height=9, width=9):
    """Images whose value is the column index: a resampled pixel shows where it was read from."""
    return np.broadcast_to(np.arange(width, dtype="float32")[None, None, :, None], (n, height, width, 1)).copy()


# ----- inference ------------------------------------------------------------------------------

IDENTITY_AT_INFERENCE = {  # seeded, so that the training call below surely changes something
    "flip": lambda: keras.layers.RandomFlip(seed=1),
    "rotation": lambda: keras.layers.RandomRotation(0.3, seed=1),
    "zoom": lambda: keras.layers.RandomZoom(0.5, 0.2, seed=1),
    "translation": lambda: keras.layers.RandomTranslation(0.3, 0.3, seed=1),
    "contrast": lambda: keras.layers.RandomContrast(0.5, seed=1),
    "brightness": lambda: keras.layers.RandomBrightness(0.5, seed=1),
}


@pytest.mark.parametrize("kind", sorted(IDENTITY_AT_INFERENCE))
def test_augmentation_is_the_identity_at_inference_like_keras(images, kind):
    keras_layer = IDENTITY_AT_INFERENCE[kind]()
    expected = to_numpy(keras_layer(images, training=False))
    ours = ours_from(keras_layer)
    np.testing.assert_array_equal(to_numpy_torch(ours(images)), expected)
    np.testing.assert_array_equal(to_numpy_torch(ours(images, training=False)), images)
    assert not np.array_equal(to_numpy_torch(ours(images, training=True)), images)


# ----- one pinned transform, every fill_mode and interpolation -----------------------------------

PINNED_AFFINE = {
    "rotation by 90 degrees": lambda **kw: keras.layers.RandomRotation(factor=(0.25, 0.25), **kw),
    "rotation by 36 degrees": lambda **kw: keras.layers.RandomRotation(factor=(0.1, 0.1), **kw),
    "zoom in by 2": lambda **kw: keras.layers.RandomZoom((-0.5, -0.5), **kw),
    "zoom out, other width": lambda **kw: keras.layers.RandomZoom((0.7, 0.7), (0.3, 0.3), **kw),
    "translation down and right": lambda **kw: keras.layers.RandomTranslation((0.2, 0.2), (0.1, 0.1), **kw),
    "translation up past the edge": lambda **kw: keras.layers.RandomTranslation((-0.6, -0.6), (0.9, 0.9), **kw),
}


@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
@pytest.mark.parametrize("fill_mode", FILL_MODES)
@pytest.mark.parametrize("transform", sorted(PINNED_AFFINE))
def test_pinned_affine_transform_matches_keras(images, transform, fill_mode, interpolation):
    keras_layer = PINNED_AFFINE[transform](fill_mode=fill_mode, interpolation=interpolation, fill_value=-7.0)
    got = same_training_output_as_keras(keras_layer, images)
    assert not np.allclose(got, images)


def test_rotation_matches_keras_on_channels_first_and_unbatched_images(images):
    channels_first = np.ascontiguousarray(np.moveaxis(images, -1, 1))
    same_training_output_as_keras(keras.layers.RandomRotation((0.1, 0.1), data_format="channels_first"),
                                  channels_first)
    same_training_output_as_keras(keras.layers.RandomRotation((0.1, 0.1)), images[0])


def test_a_quarter_turn_is_counter_clockwise():
    square = np.arange(9, dtype="float32").reshape(1, 3, 3, 1)
    turned = layers.RandomRotation((0.25, 0.25))(square, training=True)
    np.testing.assert_allclose(to_numpy_torch(turned)[0, :, :, 0], np.rot90(square[0, :, :, 0]), atol=1e-5)


# ----- contrast and brightness -------------------------------------------------------------------

@pytest.mark.parametrize("value_range", [(0, 255), (40, 200)])
def test_pinned_contrast_matches_keras(images, value_range):
    # Keras 3 draws the contrast from [1 - lower, 1 + upper] after sorting the pair, so (-0.3, 0.3) pins 1.3.
    same_training_output_as_keras(keras.layers.RandomContrast((-0.3, 0.3), value_range=value_range), images)


@pytest.mark.parametrize("factor, value_range", [((0.2, 0.2), (0, 255)), ((-0.5, -0.5), (0, 100)),
                                                 ((0.3, 0.3), (-1, 1))])
def test_pinned_brightness_matches_keras(images, factor, value_range):
    low, high = value_range
    x = images / 255 * (high - low) + low
    same_training_output_as_keras(keras.layers.RandomBrightness(factor, value_range=value_range), x)


def test_contrast_factors_vary_per_image_within_keras3_range(rng):
    # Keras 3 reads a single number f as (0, f): contrast between 1 and 1 + f.
    x = rng.uniform(100, 140, size=(64, 5, 5, 3)).astype("float32")
    layer = layers.RandomContrast(0.5, seed=3)
    out = to_numpy_torch(layer(x, training=True))
    deviation_in = x - x.mean(axis=(1, 2), keepdims=True)
    deviation_out = out - out.mean(axis=(1, 2), keepdims=True)
    factors = (deviation_out * deviation_in).sum(axis=(1, 2, 3)) / (deviation_in ** 2).sum(axis=(1, 2, 3))
    np.testing.assert_allclose(deviation_out, deviation_in * factors[:, None, None, None], atol=1e-3)
    assert factors.min() >= 1 - 1e-5 and factors.max() <= 1.5 + 1e-5
    assert factors.std() > 0.1


def test_brightness_shifts_each_image_by_one_offset_within_the_range(rng):
    x = rng.uniform(0.4, 0.6, size=(64, 4, 4, 3)).astype("float32")
    out = to_numpy_torch(layers.RandomBrightness(0.25, value_range=(0, 1), seed=1)(x, training=True))
    shift = out - x
    np.testing.assert_allclose(shift, shift[:, :1, :1, :1] * np.ones_like(shift), atol=1e-6)
    assert np.abs(shift).max() <= 0.25 + 1e-6 and shift.std() > 0.05


def test_brightness_clips_to_the_value_range(images):
    out = to_numpy_torch(layers.RandomBrightness((1.0, 1.0))(images, training=True))
    np.testing.assert_array_equal(out, np.full_like(images, 255))


# ----- random ranges --------------------------------------------------------------------------------

def test_rotation_draws_one_angle_per_image_within_the_range():
    out = to_numpy_torch(layers.RandomRotation(0.1, seed=5)(column_ramp(), training=True))[..., 0]
    # At the centre a rotation by θ reads the ramp x at slope cos θ along a row and -sin θ down a column.
    along_row = out[:, 4, 5] - out[:, 4, 4]
    down_column = out[:, 5, 4] - out[:, 4, 4]
    angles = np.arctan2(-down_column, along_row)
    assert np.abs(angles).max() <= 0.1 * 2 * math.pi + 1e-4
    assert angles.std() > 0.1 and angles.min() < 0 < angles.max()


def test_zoom_draws_one_zoom_per_image_within_the_range():
    out = to_numpy_torch(layers.RandomZoom((-0.5, -0.2), seed=2)(column_ramp(), training=True))[..., 0]
    zooms = out[:, 4, 1:] - out[:, 4, :-1]  # zooming in reads the ramp at slope zoom everywhere
    np.testing.assert_allclose(zooms, zooms[:, :1] * np.ones_like(zooms), atol=1e-5)
    assert zooms.min() >= 0.5 - 1e-6 and zooms.max() <= 0.8 + 1e-6 and zooms.std() > 0.05


def test_zoom_without_width_factor_keeps_the_aspect_ratio():
    ramps = column_ramp() + column_ramp().transpose(0, 2, 1, 3) * 100  # value = 100·row + column
    out = to_numpy_torch(layers.RandomZoom((-0.5, -0.2), seed=2)(ramps, training=True))[..., 0]
    np.testing.assert_allclose(out[:, 5, 4] - out[:, 4, 4], 100 * (out[:, 4, 5] - out[:, 4, 4]), rtol=1e-4)


def test_translation_draws_one_shift_per_image_within_the_range():
    layer = layers.RandomTranslation(0, 0.3, fill_mode="constant", fill_value=-1, interpolation="nearest", seed=4)
    out = to_numpy_torch(layer(column_ramp(width=10), training=True))[..., 0]
    shifts = []
    for row in out[:, 0, :]:
        inside = np.flatnonzero(row >= 0)
        shifts.append(inside[0] - row[inside[0]])  # column c shows input column c - shift
        np.testing.assert_array_equal(np.diff(row[inside]), 1)
    assert max(map(abs, shifts)) <= 3 and len(set(shifts)) > 3


def test_flip_mirrors_each_image_or_leaves_it_like_keras(rng):
    x = rng.uniform(size=(64, 4, 5, 1)).astype("float32")
    mirrors = {"horizontal": x[:, :, ::-1], "vertical": x[:, ::-1], "horizontal_and_vertical": x[:, ::-1, ::-1]}
    for mode, mirrored in mirrors.items():
        keras_out = to_numpy(keras.layers.RandomFlip(mode)(x, training=True))
        ours = to_numpy_torch(ours_from(keras.layers.RandomFlip(mode))(x, training=True))
        for out in (keras_out, ours):
            kept = np.all(out == x, axis=(1, 2, 3))
            flipped = np.all(out == mirrored, axis=(1, 2, 3))
            assert np.all(kept | flipped), mode
            assert 10 < flipped.sum() < 54, mode


def test_a_seed_repeats_the_draws_and_each_call_draws_afresh(images):
    first, second = layers.RandomRotation(0.2, seed=11), layers.RandomRotation(0.2, seed=11)
    a = to_numpy_torch(first(images, training=True))
    np.testing.assert_array_equal(a, to_numpy_torch(second(images, training=True)))
    assert not np.allclose(a, to_numpy_torch(first(images, training=True)))


# ----- RandomCrop -------------------------------------------------------------------------------------

def test_random_crop_while_training_cuts_one_random_window_per_batch(rng):
    x = rng.uniform(size=(4, 10, 12, 2)).astype("float32")
    layer = layers.RandomCrop(6, 5, seed=0)
    offsets = set()
    for _ in range(12):
        out = to_numpy_torch(layer(x, training=True))
        assert out.shape == (4, 6, 5, 2)
        top, left = next((i, j) for i in range(5) for j in range(8)
                         if np.array_equal(out[0], x[0, i:i + 6, j:j + 5]))
        np.testing.assert_array_equal(out, x[:, top:top + 6, left:left + 5])
        offsets.add((top, left))
    assert len(offsets) > 3
    assert to_numpy(keras.layers.RandomCrop(6, 5)(x, training=True)).shape == (4, 6, 5, 2)


@pytest.mark.parametrize("shape, target", [((2, 10, 12, 3), (6, 5)), ((2, 8, 8, 1), (6, 6)),
                                           ((2, 5, 7, 2), (9, 4))])
def test_random_crop_at_inference_keeps_the_centred_window_of_the_target_aspect_ratio(rng, shape, target):
    # Keras documents it (and tf.keras 2 did it) as Resizing(crop_to_aspect_ratio=True); Keras 3.15's code
    # returns the images uncropped, against the output shape it declares (keras-team/keras#21868).
    x = rng.uniform(size=shape).astype("float32")
    keras_crop = keras.layers.RandomCrop(*target, seed=1)
    ours = ours_from(keras_crop)
    expected = to_numpy(keras.layers.Resizing(*target, crop_to_aspect_ratio=True)(x))
    np.testing.assert_allclose(to_numpy_torch(ours(x)), expected, atol=1e-6)
    assert ours.compute_output_shape((None,) + shape[1:]) == tuple(keras_crop.compute_output_shape((None,) + shape[1:]))
    if shape[1] < target[0]:  # too small to crop even while training
        np.testing.assert_allclose(to_numpy_torch(ours(x, training=True)), expected, atol=1e-6)


def test_random_crop_channels_first(rng):
    x = rng.uniform(size=(2, 3, 10, 12)).astype("float32")
    layer = layers.RandomCrop(4, 6, data_format="channels_first")
    assert tuple(layer(x, training=True).shape) == (2, 3, 4, 6) == layer.compute_output_shape(x.shape)


# ----- configs -----------------------------------------------------------------------------------------

CONFIGURED = [
    lambda: keras.layers.RandomFlip("vertical", seed=3),
    lambda: keras.layers.RandomRotation((-0.2, 0.3), fill_mode="constant", interpolation="nearest", seed=1,
                                        fill_value=2.5),
    lambda: keras.layers.RandomRotation(0.1),
    lambda: keras.layers.RandomZoom(0.2, (-0.3, 0.1), fill_mode="wrap", seed=7),
    lambda: keras.layers.RandomZoom([0.1, -0.2]),
    lambda: keras.layers.RandomTranslation(0.1, (-0.2, 0.2), fill_mode="nearest", fill_value=1.0),
    lambda: keras.layers.RandomContrast(0.4, value_range=(0, 1), seed=9),
    lambda: keras.layers.RandomContrast((0.3, 0.1)),
    lambda: keras.layers.RandomBrightness((0.3, -0.1), value_range=(255, 0), seed=2),
    lambda: keras.layers.RandomCrop(4, 5, seed=8, data_format="channels_first"),
]


@pytest.mark.parametrize("make", CONFIGURED)
def test_config_equals_keras_and_round_trips(make):
    keras_layer = make()
    ours = ours_from(keras_layer)
    assert ours.get_config() == keras_layer.get_config()
    written = json.dumps(ours.get_config())  # as to_json writes it: tuples become lists
    assert json.dumps(type(ours).from_config(json.loads(written)).get_config()) == written


def _keras2_sequential(*layer_specs):
    """A tf.keras 2.15 ``to_json``: Keras 2's own get_config keys for each layer."""
    specs = [{"class_name": "InputLayer", "config": {"batch_input_shape": [None, 8, 8, 3], "dtype": "float32",
                                                     "sparse": False, "ragged": False, "name": "input_1"}}]
    for class_name, config in layer_specs:
        specs.append({"module": "keras.layers", "class_name": class_name, "registered_name": None,
                      "config": {"name": class_name.lower(), "trainable": True, "dtype": "float32", **config}})
    return json.dumps({"class_name": "Sequential", "config": {"name": "sequential", "layers": specs},
                       "keras_version": "2.15.0", "backend": "tensorflow"})


def test_keras2_configs_load_and_keep_their_meaning(rng):
    model = model_from_json(_keras2_sequential(
        ("RandomFlip", {"mode": "horizontal", "seed": None}),
        ("RandomRotation", {"factor": 0.1, "fill_mode": "reflect", "fill_value": 0.0,
                            "interpolation": "bilinear", "seed": 1}),
        ("RandomZoom", {"height_factor": [-0.2, 0.2], "width_factor": None, "fill_mode": "constant",
                        "fill_value": 0.0, "interpolation": "nearest", "seed": None}),
        ("RandomTranslation", {"height_factor": 0.1, "width_factor": 0.2, "fill_mode": "wrap",
                               "fill_value": 0.0, "interpolation": "bilinear", "seed": None}),
        ("RandomContrast", {"factor": 0.2, "seed": None}),
        ("RandomBrightness", {"factor": [-0.2, 0.2], "value_range": [0, 255], "seed": None}),
        ("RandomCrop", {"height": 6, "width": 6, "seed": 4}),
    ))
    flip, rotation, zoom, translation, contrast, brightness, crop = model.layers
    assert (flip.mode, flip.data_format) == ("horizontal", "channels_last")
    assert rotation.factor == (-0.1, 0.1)
    assert zoom.height_factor == [-0.2, 0.2] and zoom.interpolation == "nearest"
    assert translation.fill_mode == "wrap"
    assert contrast.factor == (0.2, 0.2)  # tf.keras 2: contrast in [0.8, 1.2]; Keras 3 reads 0.2 as (0, 0.2)
    assert brightness.value_range == [0, 255]
    assert (crop.height, crop.width, crop.seed) == (6, 6, 4)
    x = rng.uniform(0, 255, size=(2, 8, 8, 3)).astype("float32")
    expected = to_numpy(keras.layers.Resizing(6, 6, crop_to_aspect_ratio=True)(x))
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, atol=1e-5)
    with flavour.reading(flavour.KERAS3):
        assert layers.RandomContrast(0.2).factor == (0, 0.2)


@pytest.mark.parametrize("make, option", [
    (lambda: layers.RandomRotation(0.1, fill_mode="mirror"), "fill_mode"),
    (lambda: layers.RandomZoom(0.1, interpolation="bicubic"), "interpolation"),
    (lambda: layers.RandomZoom((-1.0, 0.2)), "height_factor"),
    (lambda: layers.RandomTranslation(0.1, 1.5), "width_factor"),
    (lambda: layers.RandomFlip("diagonal"), "mode"),
    (lambda: layers.RandomContrast(1.5), "factor"),
    (lambda: layers.RandomBrightness(0.1, value_range=255), "value_range"),
    (lambda: layers.RandomCrop(0, 4), "height"),
    (lambda: layers.RandomRotation("0.1"), "factor"),
])
def test_bad_arguments_are_refused_naming_the_option(make, option):
    with pytest.raises(SpecError) as err:
        make()
    assert err.value.where == option


# ----- a Keras model with an augmentation block -------------------------------------------------------

def test_keras_model_with_augmentation_loads_predicts_and_trains(tmp_path, rng):
    keras_model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.RandomFlip(), keras.layers.RandomRotation(0.1),
                                    keras.layers.Conv2D(2, 3)])
    keras_model.save_weights(str(tmp_path / "m.weights.h5"))
    x = rng.uniform(size=(6, 8, 8, 3)).astype("float32")
    model = model_from_json(keras_model.to_json())
    model.load_weights(str(tmp_path / "m.weights.h5"))
    np.testing.assert_allclose(model.predict(x, verbose=0), keras_model.predict(x, verbose=0), atol=1e-5)

    assert not np.allclose(to_numpy_torch(model(x, training=True)), to_numpy_torch(model(x)))
    model.compile(optimizer="sgd", loss="mse")
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(x, rng.normal(size=(6, 6, 6, 2)).astype("float32"), epochs=1, batch_size=3, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_gradients_flow_through_the_resampling():
    x = torch.rand(2, 6, 6, 1, requires_grad=True)
    layers.RandomRotation((0.1, 0.1))(x, training=True).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0

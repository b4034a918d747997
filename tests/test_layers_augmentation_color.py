"""Colour augmentation layers (RandomGrayscale, RandomInvert, Solarization, RandomPosterization,
RandomSaturation, RandomHue, RandomColorDegeneration) against real Keras 3.

Each modelcli layer splits its training transform into ``random_params`` (the per-image draws,
named as Keras names them) and ``apply`` (the pixel maths). Keras's draws cannot be replayed,
so the pixel maths is compared by handing both libraries the same drawn parameters, and whole
training calls are compared with pinned factors that leave nothing to chance.
"""
import numpy as np
import pytest
import torch

from keras_reference import keras, ours_from, to_numpy, to_numpy_torch
from modelcli import layers
from modelcli.errors import SpecError
from modelcli.models import model_from_json

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy:DeprecationWarning")


@pytest.fixture
def images(rng):
    """Four 5×6 RGB images in [0, 255], with a few exact zeros and 255s to probe the edges."""
    x = rng.uniform(0, 255, size=(4, 5, 6, 3)).astype("float32")
    x[0, 0, 0] = 0.0
    x[1, 0, 0] = 255.0
    x[2, 0, :2] = 128.0  # equal channels: a grey pixel, hue 0
    return x


# ----- inference ------------------------------------------------------------------------------

IDENTITY_AT_INFERENCE = {  # factors chosen so that a training call surely changes the images
    "grayscale": lambda: keras.layers.RandomGrayscale(1.0),
    "invert": lambda: keras.layers.RandomInvert((1.0, 1.0), seed=1),
    "solarization": lambda: keras.layers.Solarization(0.5, 0.5, seed=1),
    "posterization": lambda: keras.layers.RandomPosterization((2, 5), seed=1),
    "saturation": lambda: keras.layers.RandomSaturation(0.8, seed=1),
    "hue": lambda: keras.layers.RandomHue((0.3, 0.6), seed=1),
    "degeneration": lambda: keras.layers.RandomColorDegeneration((0.5, 1.0), seed=1),
}


@pytest.mark.parametrize("kind", sorted(IDENTITY_AT_INFERENCE))
def test_colour_augmentation_is_the_identity_at_inference_like_keras(images, kind):
    keras_layer = IDENTITY_AT_INFERENCE[kind]()
    expected = to_numpy(keras_layer(images, training=False))
    ours = ours_from(keras_layer)
    np.testing.assert_array_equal(to_numpy_torch(ours(images)), expected)
    np.testing.assert_array_equal(to_numpy_torch(ours(images, training=False)), images)
    assert not np.allclose(to_numpy_torch(ours(images, training=True)), images)


# ----- the pixel maths for given draws --------------------------------------------------------------

def _bools(*values):
    return torch.tensor(values)


def on_keras_device(tree):
    """Arrays and tensors as tensors on the device Keras computes on (CUDA when the suite runs there)."""
    return keras.tree.map_structure(keras.ops.convert_to_tensor, tree)


GIVEN_DRAWS = {  # Keras layer, the drawn parameters as Keras's transform_images takes them
    "grayscale": (lambda: keras.layers.RandomGrayscale(0.5),
                  lambda: torch.tensor([True, False, True, False]).reshape(4, 1, 1, 1)),
    "invert": (lambda: keras.layers.RandomInvert(value_range=(0, 255)),
               lambda: {"apply_inversion": _bools(True, False, False, True)}),
    "solarization": (lambda: keras.layers.Solarization(0.3, 0.8, value_range=(0, 1)),
                     lambda: {"additions": torch.tensor([0.0, 20.0, 60.0, 5.0]).reshape(4, 1, 1, 1),
                              "thresholds": torch.tensor([0.0, 100.0, 200.0, 128.0]).reshape(4, 1, 1, 1)}),
    "posterization": (lambda: keras.layers.RandomPosterization(8, value_range=(0, 1)),
                      lambda: {"shift_factor": torch.tensor([7, 4, 1, 0], dtype=torch.uint8)}),
    "saturation": (lambda: keras.layers.RandomSaturation(0.5, value_range=(0, 1)),
                   lambda: {"factor": torch.tensor([0.0, 0.5, 1.0, 3.0])}),
    "hue": (lambda: keras.layers.RandomHue(0.9, value_range=(0, 1)),
            lambda: {"factor": torch.tensor([0.45, -0.45, 0.1, -0.2])}),
    "degeneration": (lambda: keras.layers.RandomColorDegeneration(1.0, value_range=(0, 1)),
                     lambda: {"factor": torch.tensor([1.0, -1.0, 0.3, -0.4]).reshape(4, 1, 1, 1)}),
}


@pytest.mark.parametrize("kind", sorted(GIVEN_DRAWS))
def test_pixel_maths_for_given_draws_matches_keras(images, kind):
    make, draws = GIVEN_DRAWS[kind]
    keras_layer = make()
    x = images / 255.0 if kind not in ("grayscale", "invert") else images
    expected = to_numpy(keras_layer.transform_images(on_keras_device(x), on_keras_device(draws()), training=True))
    ours = ours_from(keras_layer)
    params = draws() if isinstance(draws(), dict) else {"should_apply": draws()}
    got = to_numpy_torch(ours.apply(torch.as_tensor(x), params))
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-5)
    assert not np.allclose(got, x)


# ----- whole training calls with pinned factors ------------------------------------------------------

PINNED = {
    "all grey": lambda: keras.layers.RandomGrayscale(1.0),
    "none grey": lambda: keras.layers.RandomGrayscale(0.0),
    "always inverted": lambda: keras.layers.RandomInvert((1.0, 1.0), value_range=(0, 255)),
    "solarize everything": lambda: keras.layers.Solarization(value_range=(0, 255)),
    "3 bits": lambda: keras.layers.RandomPosterization((3, 3)),
    "desaturate": lambda: keras.layers.RandomSaturation((0.2, 0.2)),
    "oversaturate": lambda: keras.layers.RandomSaturation((0.9, 0.9), value_range=(0, 1)),
    "60% grey": lambda: keras.layers.RandomColorDegeneration((0.6, 0.6)),
    "exaggerated colour": lambda: keras.layers.RandomColorDegeneration((-0.5, -0.5)),
}


@pytest.mark.parametrize("kind", sorted(PINNED))
def test_training_with_a_pinned_factor_matches_keras(images, kind):
    keras_layer = PINNED[kind]()
    expected = to_numpy(keras_layer(images, training=True))
    ours = ours_from(keras_layer)
    np.testing.assert_allclose(to_numpy_torch(ours(images, training=True)), expected, rtol=1e-6, atol=1e-4)
    assert ours.get_config() == keras_layer.get_config()


def test_pinned_hue_turns_each_image_one_way_or_the_other_like_keras(rng):
    """A pinned size still has a random direction: each image matches Keras's +s/2 or -s/2 turn."""
    x = rng.uniform(0, 255, size=(16, 4, 4, 3)).astype("float32")
    keras_layer = keras.layers.RandomHue((0.4, 0.4))
    ours = ours_from(keras_layer)
    turned = {sign: to_numpy(keras_layer.transform_images(on_keras_device(x),
                                                          on_keras_device({"factor": torch.full((16,), sign)})))
              for sign in (0.2, -0.2)}
    got = to_numpy_torch(ours(x, training=True))
    directions = []
    for i in range(16):
        matches = [sign for sign, out in turned.items() if np.allclose(got[i], out[i], atol=1e-3)]
        assert len(matches) == 1
        directions.append(matches[0])
    assert set(directions) == {0.2, -0.2}
    assert ours.get_config() == keras_layer.get_config()


def test_channels_first_gives_the_same_images_transposed(images):
    keras_layer = keras.layers.RandomSaturation((0.3, 0.3), data_format="channels_first")
    x = images.transpose(0, 3, 1, 2).copy()
    expected = to_numpy(keras_layer(x, training=True))
    got = to_numpy_torch(ours_from(keras_layer)(x, training=True))
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-4)
    last = to_numpy_torch(layers.RandomSaturation((0.3, 0.3))(images, training=True))
    np.testing.assert_allclose(got, last.transpose(0, 3, 1, 2), atol=1e-5)


# ----- random ranges: one draw per image, inside the range ----------------------------------------

def test_degeneration_draws_one_factor_per_image_inside_the_range(rng):
    x = np.broadcast_to(np.array([200.0, 50.0, 10.0], "float32"), (32, 3, 3, 3)).copy()
    grey = 0.2989 * 200 + 0.587 * 50 + 0.114 * 10
    out = to_numpy_torch(layers.RandomColorDegeneration((0.2, 0.7), seed=3)(x, training=True))
    factors = (out[:, :, :, 0] - 200.0) / (grey - 200.0)  # read each image's f back
    assert np.allclose(factors, factors[:, :1, :1], atol=1e-4)  # one f per image
    f = factors[:, 0, 0]
    assert f.min() >= 0.2 - 1e-4 and f.max() <= 0.7 + 1e-4
    assert f.max() - f.min() > 0.2


def test_invert_and_grayscale_choose_whole_images_at_random(images):
    batch = np.concatenate([images] * 8)
    inverted = to_numpy_torch(layers.RandomInvert((0.5, 0.5), seed=2)(batch, training=True))
    flags = [np.allclose(o, 255 - x) for o, x in zip(inverted, batch)]
    assert all(f or np.array_equal(o, x) for f, o, x in zip(flags, inverted, batch))
    assert 0 < sum(flags) < len(batch)
    grey = to_numpy_torch(layers.RandomGrayscale(0.5, seed=2)(batch, training=True))
    chosen = [np.allclose(g, g[..., :1]) for g in grey]
    assert all(c or np.array_equal(g, x) for c, g, x in zip(chosen, grey, batch))
    assert 0 < sum(chosen) < len(batch)


def test_posterization_draws_bits_from_the_half_open_range(images):
    layer = layers.RandomPosterization((2, 6), seed=5)
    shifts = to_numpy_torch(layer.random_params(torch.zeros(200, 1, 1, 3))["shift_factor"])
    assert set((8 - shifts).tolist()) == {2, 3, 4, 5}  # like Keras's randint, never the upper end
    out = to_numpy_torch(layer(images, training=True))
    for o in out:  # each image keeps one number of bits: all its values are multiples of one 2**k
        assert any(np.all(np.mod(o, 2 ** k) == 0) for k in range(3, 7))


def test_hue_and_solarization_draws_stay_inside_keras_ranges():
    x = torch.zeros(300, 1, 1, 3)
    hue = to_numpy_torch(layers.RandomHue((0.2, 0.6), seed=1).random_params(x)["factor"])
    assert np.abs(hue).min() >= 0.1 and np.abs(hue).max() <= 0.3 and (hue < 0).any() and (hue > 0).any()
    solar = layers.Solarization((0.1, 0.2), (0.5, 0.5), seed=1).random_params(x)
    additions, thresholds = to_numpy_torch(solar["additions"]), to_numpy_torch(solar["thresholds"])
    assert additions.min() >= 0.1 and additions.max() <= 0.2 * 255  # Keras scales only the upper end
    assert thresholds.min() >= 0.5 and thresholds.max() <= 0.5 * 255 and thresholds.std() > 10


def test_configs_read_factors_like_keras():
    pairs = [(keras.layers.RandomInvert(0.4), layers.RandomInvert(0.4)),
             (keras.layers.RandomHue(0.3, value_range=[0, 1]), layers.RandomHue(0.3, value_range=[0, 1])),
             (keras.layers.RandomSaturation(0.5), layers.RandomSaturation(0.5)),
             (keras.layers.RandomPosterization(4), layers.RandomPosterization(4)),
             (keras.layers.Solarization((0.4, 0.1), 0.2), layers.Solarization((0.4, 0.1), 0.2)),
             (keras.layers.RandomColorDegeneration([0.7, -0.2]), layers.RandomColorDegeneration([0.7, -0.2])),
             (keras.layers.RandomGrayscale(0.3, seed=4), layers.RandomGrayscale(0.3, seed=4))]
    for theirs, mine in pairs:
        assert mine.get_config() == {**theirs.get_config(), "name": mine.name}
    assert "seed" not in layers.RandomGrayscale(seed=4).get_config()


@pytest.mark.parametrize("make, option", [
    (lambda: layers.RandomGrayscale(1.5), "factor"),
    (lambda: layers.RandomInvert(2.0), "factor"),
    (lambda: layers.Solarization(addition_factor=1.5), "addition_factor"),
    (lambda: layers.Solarization(threshold_factor=(0.2, 3)), "threshold_factor"),
    (lambda: layers.RandomPosterization(9), "factor"),
    (lambda: layers.RandomSaturation(0.5, value_range=1), "value_range"),
    (lambda: layers.RandomHue((-2, -1)), "factor"),
])
def test_bad_arguments_are_refused_naming_the_option(make, option):
    with pytest.raises(SpecError) as err:
        make()
    assert err.value.where == option


def test_hsv_layers_refuse_images_without_three_channels():
    with pytest.raises(SpecError, match="3 channels"):
        layers.RandomHue(0.2)(np.zeros((1, 4, 4, 2), "float32"), training=True)


# ----- a Keras model with a colour augmentation block -------------------------------------------------

def test_keras_model_with_colour_augmentation_loads_predicts_and_trains(tmp_path, rng):
    keras_model = keras.Sequential([
        keras.Input((8, 8, 3)), keras.layers.RandomGrayscale(0.3), keras.layers.RandomInvert(0.5),
        keras.layers.Solarization(0.1, 0.5), keras.layers.RandomPosterization(5),
        keras.layers.RandomSaturation(0.5), keras.layers.RandomHue(0.2), keras.layers.RandomColorDegeneration(0.3),
        keras.layers.Rescaling(1 / 255.0), keras.layers.Conv2D(2, 3)])
    keras_model.save_weights(str(tmp_path / "m.weights.h5"))
    x = rng.uniform(0, 255, size=(6, 8, 8, 3)).astype("float32")
    model = model_from_json(keras_model.to_json())
    model.load_weights(str(tmp_path / "m.weights.h5"))
    assert [type(layer).__name__ for layer in model.layers][:7] == [
        "RandomGrayscale", "RandomInvert", "Solarization", "RandomPosterization", "RandomSaturation", "RandomHue",
        "RandomColorDegeneration"]
    np.testing.assert_allclose(model.predict(x, verbose=0), keras_model.predict(x, verbose=0), atol=1e-5)

    assert not np.allclose(to_numpy_torch(model(x, training=True)), to_numpy_torch(model(x)))
    model.compile(optimizer="sgd", loss="mse")
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(x, rng.normal(size=(6, 6, 6, 2)).astype("float32"), epochs=1, batch_size=3, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))

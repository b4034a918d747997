"""RandomPerspective against real Keras 3 (torch backend).

Keras's draws cannot be replayed, so the layer is checked in three parts: the pixel
maths (``apply``) for given corner points, handed to Keras's ``transform_images`` and
to ours alike; whole training calls where the factors leave one possible output; and
the distribution of the draws, Keras's ``get_random_transformation`` against our
``random_params``.
"""
import json

import numpy as np
import pytest
import torch

from keras_reference import keras, keras_spec, ours_from, to_numpy, to_numpy_torch
from modelcli import layers
from modelcli.errors import SpecError
from modelcli.models import model_from_json

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy:DeprecationWarning")


@pytest.fixture
def images(rng):
    """Four 7×9 two-channel images in [0, 255] (not square, so a mixed-up height and width shows)."""
    return rng.uniform(0, 255, size=(4, 7, 9, 2)).astype("float32")


def corner_points(n, height, width, offsets):
    """Keras's transformation for given offsets d (N, 4, 2): corners s, moved to s + s·d."""
    start = np.tile(np.asarray([[0, 0], [width - 1, 0], [0, height - 1], [width - 1, height - 1]], "float32"),
                    (n, 1, 1))
    return start, (start + start * offsets).astype("float32")


def given_points(rng, n, height=7, width=9, scale=0.6):
    start, end = corner_points(n, height, width, rng.uniform(-scale / 2, scale / 2, size=(n, 4, 2)))
    apply = np.asarray([True, False, True, True][:n]) if n > 1 else np.asarray([True])
    return {"apply_perspective": apply, "start_points": start, "end_points": end}


def keras_transform(keras_layer, x, params):
    transformation = {k: keras.ops.convert_to_tensor(v) for k, v in params.items()}
    return to_numpy(keras_layer.transform_images(keras.ops.convert_to_tensor(x), transformation, training=True))


def ours_apply(ours, x, params):
    return to_numpy_torch(ours.apply(torch.as_tensor(x), {k: torch.as_tensor(v) for k, v in params.items()}))


# ----- the pixel maths for given points ---------------------------------------------------------

@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_pixel_maths_equals_keras_for_the_same_points(images, rng, interpolation):
    keras_layer = keras.layers.RandomPerspective(scale=0.6, interpolation=interpolation, fill_value=-7.0)
    params = given_points(rng, len(images))
    expected = keras_transform(keras_layer, images, params)
    got = ours_apply(ours_from(keras_layer), images, params)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-4)
    np.testing.assert_array_equal(got[1], images[1])  # not drawn for warping: untouched
    np.testing.assert_allclose(got[:, 0, 0], images[:, 0, 0], atol=1e-4)  # the top-left corner stays
    assert np.isclose(got, -7.0).any() and not np.allclose(got[0], images[0])  # warped, with fill off the image


@pytest.mark.parametrize("layout", ["channels_first", "unbatched"])
def test_pixel_maths_equals_keras_on_other_layouts(images, rng, layout):
    if layout == "channels_first":
        keras_layer = keras.layers.RandomPerspective(scale=0.6, data_format="channels_first")
        params = given_points(rng, len(images))
        expected = np.moveaxis(keras_transform(keras_layer, np.moveaxis(images, -1, 1), params), 1, -1)
        got = ours_apply(ours_from(keras_layer), images, params)
    else:
        keras_layer = keras.layers.RandomPerspective(scale=0.6)
        params = given_points(rng, 1)
        expected = keras_transform(keras_layer, images[0], params)
        got = ours_apply(ours_from(keras_layer), images[:1], params)[0]
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-4)


def test_our_layouts_draw_and_apply_the_same_warp(images):
    # Same seed, same draws: channels_first and unbatched images come out as channels_last ones do.
    def warp(x, **kw):
        return to_numpy_torch(layers.RandomPerspective(factor=(1, 1), seed=4, **kw)(x, training=True))

    last = warp(images)
    assert not np.allclose(last, images)
    np.testing.assert_array_equal(np.moveaxis(warp(np.moveaxis(images, -1, 1), data_format="channels_first"), 1, -1),
                                  last)
    np.testing.assert_array_equal(warp(images[0]), warp(images[:1])[0])


# ----- whole training calls -----------------------------------------------------------------------

@pytest.mark.parametrize("factor, scale", [((0.0, 0.0), 1.0), ((1.0, 1.0), 0.0)],
                         ids=["never warps", "warps by the identity"])
def test_training_call_with_a_pinned_outcome_equals_keras(images, factor, scale):
    keras_layer = keras.layers.RandomPerspective(factor=factor, scale=scale, seed=1)
    expected = to_numpy(keras_layer(images, training=True))
    ours = ours_from(keras_layer)
    got = to_numpy_torch(ours(images, training=True))
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-4)
    np.testing.assert_allclose(got, images, atol=1e-3)


def test_training_calls_warp_about_half_the_images_like_keras(rng):
    x = rng.uniform(0, 255, size=(48, 6, 8, 1)).astype("float32")
    keras_out = to_numpy(keras.layers.RandomPerspective(seed=3)(x, training=True))
    ours_out = to_numpy_torch(layers.RandomPerspective(seed=3)(x, training=True))
    for out in (keras_out, ours_out):  # the default factor 1.0 draws p in [0, 1], then warps when u < p
        warped = ~np.all(out == x, axis=(1, 2, 3))
        assert 12 <= warped.sum() <= 36
        np.testing.assert_allclose(out[:, 0, 0], x[:, 0, 0], atol=1e-3)


def test_draws_follow_keras_distribution():
    x = np.zeros((4000, 5, 6, 1), "float32")
    keras_draws = keras.layers.RandomPerspective(factor=(0.2, 0.6), scale=0.5, seed=1).get_random_transformation(
        keras.ops.convert_to_tensor(x), training=True)
    ours_draws = layers.RandomPerspective(factor=(0.2, 0.6), scale=0.5, seed=1).random_params(torch.as_tensor(x))
    keras_draws = {k: to_numpy(v) for k, v in keras_draws.items() if k != "input_shape"}
    for draws in (keras_draws, {k: to_numpy_torch(v) for k, v in ours_draws.items()}):
        start, end = draws["start_points"], draws["end_points"]
        np.testing.assert_array_equal(start[0], [[0, 0], [5, 0], [0, 4], [5, 4]])
        moving = start != 0  # a zero coordinate stays zero: s + s·d
        np.testing.assert_array_equal(end[~moving], 0)
        offsets = (end[moving] - start[moving]) / start[moving]  # each d uniform in [-scale/2, scale/2]
        assert offsets.min() >= -0.25 - 1e-6 and offsets.max() <= 0.25 + 1e-6
        assert abs(offsets.mean()) < 0.01 and offsets.std() == pytest.approx(0.5 / np.sqrt(12), rel=0.03)
        # p uniform in [0.2, 0.6], warped when u < p: 40% of the images
        assert draws["apply_perspective"].mean() == pytest.approx(0.4, abs=0.03)


def test_inference_is_the_identity_like_keras(images):
    keras_layer = keras.layers.RandomPerspective(seed=1)
    ours = ours_from(keras_layer)
    np.testing.assert_array_equal(to_numpy_torch(ours(images)), to_numpy(keras_layer(images, training=False)))
    np.testing.assert_array_equal(to_numpy_torch(ours(images, training=False)), images)


def test_integer_images_come_out_in_the_compute_dtype_like_keras(images):
    x = images.astype("uint8")
    keras_layer = keras.layers.RandomPerspective(factor=(1, 1), scale=0.0)
    ours = ours_from(keras_layer)
    for training in (True, False):
        expected = to_numpy(keras_layer(x, training=training))
        got = to_numpy_torch(ours(x, training=training))
        assert got.dtype == expected.dtype == np.float32
        np.testing.assert_allclose(got, expected, atol=1e-4)


def test_a_seed_repeats_the_draws_and_each_call_draws_afresh(images):
    first, second = layers.RandomPerspective(factor=(1, 1), seed=11), layers.RandomPerspective(factor=(1, 1), seed=11)
    a = to_numpy_torch(first(images, training=True))
    np.testing.assert_array_equal(a, to_numpy_torch(second(images, training=True)))
    assert not np.allclose(a, to_numpy_torch(first(images, training=True)))


def test_gradients_flow_through_the_warp():
    x = torch.rand(2, 6, 6, 1, requires_grad=True)
    layers.RandomPerspective(factor=(1, 1), seed=0)(x, training=True).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


# ----- configs --------------------------------------------------------------------------------------

CONFIGURED = [
    lambda: keras.layers.RandomPerspective(),
    lambda: keras.layers.RandomPerspective(factor=(0.7, 0.2), scale=0.3, interpolation="nearest", fill_value=2,
                                           seed=3, data_format="channels_first", name="warp"),
    lambda: keras.layers.RandomPerspective(factor=0.5, scale=0.0, fill_value=-1.5),
]


@pytest.mark.parametrize("make", CONFIGURED)
def test_config_equals_keras_and_round_trips(make):
    keras_layer = make()
    ours = ours_from(keras_layer)
    assert ours.get_config() == keras_layer.get_config()
    written = json.dumps(ours.get_config())  # as to_json writes it: tuples become lists
    assert json.dumps(type(ours).from_config(json.loads(written)).get_config()) == written
    back = keras.saving.deserialize_keras_object({**keras_spec(keras_layer), "config": json.loads(written)})
    assert json.loads(json.dumps(back.get_config())) == json.loads(written)


@pytest.mark.parametrize("kwargs, option", [
    ({"scale": 1.5}, "scale"), ({"scale": "big"}, "scale"), ({"factor": 1.5}, "factor"), ({"factor": -0.5}, "factor"),
    ({"interpolation": "bicubic"}, "interpolation"), ({"fill_value": "black"}, "fill_value"),
])
def test_bad_arguments_are_refused_naming_the_option(kwargs, option):
    with pytest.raises(SpecError) as err:
        layers.RandomPerspective(**kwargs)
    assert err.value.where == option


def test_images_too_small_to_warp_are_refused_while_training():
    with pytest.raises(SpecError, match="at least 2 pixels"):
        layers.RandomPerspective(factor=(1, 1))(np.zeros((2, 1, 5, 3), "float32"), training=True)


def test_keras_model_with_random_perspective_loads_and_predicts(rng, tmp_path):
    keras_model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.RandomPerspective(scale=0.4, seed=2),
                                    keras.layers.Conv2D(2, 3)])
    keras_model.save_weights(str(tmp_path / "m.weights.h5"))
    x = rng.uniform(size=(3, 8, 8, 3)).astype("float32")
    model = model_from_json(keras_model.to_json())
    model.load_weights(str(tmp_path / "m.weights.h5"))
    np.testing.assert_allclose(model.predict(x, verbose=0), keras_model.predict(x, verbose=0), atol=1e-5)
    assert not np.allclose(to_numpy_torch(model(x, training=True)), to_numpy_torch(model(x)))

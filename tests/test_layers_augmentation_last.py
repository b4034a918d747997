"""RandomShear, Equalization, RandomErasing, RandomGaussianBlur and RandomColorJitter
against real Keras 3 (torch backend).

The random layers split their draws (``random_params``) from the pixel maths
(``apply``/``transform_for``): the maths is compared by handing modelcli the very
draws Keras made, and whole training calls are compared where a pinned range leaves
nothing to chance.
"""
import numpy as np
import pytest
import torch

from keras_reference import keras, ours_from, to_numpy, to_numpy_torch
from modelcli import layers
from modelcli.errors import SpecError
from modelcli.layers.augmentation._affine import affine_transform

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy:DeprecationWarning")


@pytest.fixture
def images(rng):
    """Four 7×8 RGB images in [0, 255]."""
    return rng.uniform(0, 255, size=(4, 7, 8, 3)).astype("float32")


def as_torch(params):
    return {k: torch.as_tensor(to_numpy(v)) for k, v in params.items()}


# ----- RandomShear ----------------------------------------------------------------------------

@pytest.mark.parametrize("fill_mode", ["reflect", "constant", "nearest", "wrap"])
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_shear_pixel_maths_equals_keras_for_the_same_factors(images, fill_mode, interpolation):
    keras_layer = keras.layers.RandomShear(x_factor=0.4, y_factor=0.3, fill_mode=fill_mode,
                                           interpolation=interpolation, fill_value=9.0)
    factors = np.asarray([[0.3, 0.0], [-0.2, 0.25], [0.0, -0.27], [0.4, 0.1]], "float32")
    expected = to_numpy(keras_layer.transform_images(
        keras.ops.convert_to_tensor(images), {"shear_factor": keras.ops.convert_to_tensor(factors),
                                              "input_shape": images.shape}, training=True))
    ours = ours_from(keras_layer)
    x = torch.as_tensor(images)
    got = to_numpy_torch(affine_transform(x, ours.transform_for(torch.as_tensor(factors)), ours.interpolation,
                                 ours.fill_mode, ours.fill_value))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-3)
    # The top-left pixel is the shear's fixed point; the sheared images differ from the input.
    np.testing.assert_allclose(got[:, 0, 0], images[:, 0, 0], atol=1e-4)
    assert not np.allclose(got, images)


def test_shear_draws_stay_in_range_and_inference_is_the_identity(images):
    ours = layers.RandomShear(x_factor=(0.1, 0.3), y_factor=0.2, seed=3)
    draws = to_numpy_torch(ours.random_params(torch.zeros(500, 2, 2, 1))["shear_factor"])
    # x and y share the sign flip: |sx| in [0.1, 0.3], sy·sign(sx) in [-0.2, 0.2]
    assert np.all((np.abs(draws[:, 0]) >= 0.1) & (np.abs(draws[:, 0]) <= 0.3))
    assert np.all(np.abs(draws[:, 1]) <= 0.2)
    assert (draws[:, 0] > 0).any() and (draws[:, 0] < 0).any()
    np.testing.assert_array_equal(to_numpy_torch(ours(images)), images)
    assert not np.allclose(to_numpy_torch(ours(images, training=True)), images)


def test_shear_config_is_keras_config_and_factor_is_checked():
    keras_layer = keras.layers.RandomShear(x_factor=(0.5, 0.1), y_factor=0.2, fill_mode="constant", seed=5,
                                           name="shear")
    ours = ours_from(keras_layer)
    assert ours.get_config() == keras_layer.get_config()
    assert ours.x_factor == (0.1, 0.5) and ours.y_factor == (-0.2, 0.2)
    with pytest.raises(SpecError):
        layers.RandomShear(x_factor=1.5)


# ----- Equalization ---------------------------------------------------------------------------

@pytest.mark.parametrize("value_range,bins", [((0, 255), 256), ((0, 1), 256), ((-1, 1), 64)])
def test_equalization_equals_keras_in_training_and_is_the_identity_at_inference(images, value_range, bins):
    lo, hi = value_range
    x = (images / 255.0 * (hi - lo) + lo).astype("float32")
    x[..., 2] = lo + 0.25 * (hi - lo)  # one flat channel: kept as it is
    keras_layer = keras.layers.Equalization(value_range=value_range, bins=bins)
    expected = to_numpy(keras_layer(x, training=True))
    ours = ours_from(keras_layer)
    got = to_numpy_torch(ours(x, training=True))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5 * (hi - lo))
    np.testing.assert_array_equal(got[..., 2], x[..., 2])
    assert got[..., :2].min() == pytest.approx(lo, abs=1e-4) and got[..., :2].max() == pytest.approx(hi, abs=1e-3)
    np.testing.assert_array_equal(to_numpy(keras_layer(x, training=False)), x)
    np.testing.assert_array_equal(to_numpy_torch(ours(x)), x)


def test_equalization_config_is_keras_config():
    keras_layer = keras.layers.Equalization(value_range=(1, 0), bins=128, name="eq")
    ours = ours_from(keras_layer)
    assert ours.get_config() == keras_layer.get_config()
    assert ours.value_range == [0, 1]


# ----- RandomErasing --------------------------------------------------------------------------

@pytest.mark.parametrize("fill_value", [None, 40.0, [10.0, 300.0, -5.0]])
def test_erasing_pixel_maths_equals_keras_for_keras_draws(images, fill_value):
    keras_layer = keras.layers.RandomErasing(factor=1.0, scale=(0.1, 0.5), fill_value=fill_value, seed=1)
    x = keras.ops.convert_to_tensor(images)
    params = keras_layer.get_random_transformation(x, training=True)
    expected = to_numpy(keras_layer.transform_images(x, params, training=True))
    got = to_numpy_torch(ours_from(keras_layer).apply(torch.as_tensor(images), as_torch(params)))
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_erasing_draws_a_rectangle_of_the_scale_and_fills_it_clipped(images):
    ours = layers.RandomErasing(factor=(1.0, 1.0), scale=(0.25, 0.25), fill_value=[10.0, 300.0, -5.0], seed=2)
    params = ours.random_params(torch.as_tensor(images))
    assert params["apply_erasing"].all()  # a probability of 1 erases every image
    masks = to_numpy_torch(params["batch_masks"])[..., 0]
    for mask in masks:  # √0.25 of each side: 4 of 8 columns, 3 or 4 of 7 rows
        rows, cols = np.nonzero(mask.any(axis=1))[0], np.nonzero(mask.any(axis=0))[0]
        assert len(cols) == 4 and len(rows) in (3, 4) and mask.sum() == len(rows) * len(cols)
    got = to_numpy_torch(ours.apply(torch.as_tensor(images), params))
    for i, mask in enumerate(masks):
        np.testing.assert_array_equal(got[i][mask], np.tile([10.0, 255.0, 0.0], (mask.sum(), 1)))
        np.testing.assert_array_equal(got[i][~mask], images[i][~mask])
    np.testing.assert_array_equal(to_numpy_torch(ours(images)), images)
    never = layers.RandomErasing(factor=0.0, seed=2)
    np.testing.assert_array_equal(to_numpy_torch(never(images, training=True)), images)


def test_erasing_config_is_keras_config():
    keras_layer = keras.layers.RandomErasing(factor=0.7, scale=(0.3, 0.1), fill_value=3.0, value_range=(0, 1),
                                             seed=4, name="erase")
    ours = ours_from(keras_layer)
    assert ours.get_config() == keras_layer.get_config()
    assert ours.factor == (0, 0.7) and ours.scale == (0.1, 0.3)


# ----- RandomGaussianBlur ---------------------------------------------------------------------

@pytest.mark.parametrize("kernel_size", [3, 5])
def test_gaussian_blur_pixel_maths_equals_keras_for_keras_draws(images, kernel_size):
    keras_layer = keras.layers.RandomGaussianBlur(factor=(0.5, 0.5), kernel_size=kernel_size, sigma=(0.2, 1.0),
                                                  seed=7)
    x = keras.ops.convert_to_tensor(images)
    params = {"should_apply_blur": np.asarray([True, False, True, True]),
              "blur_factor": np.asarray([0.4, 0.9], "float32")}
    expected = to_numpy(keras_layer.transform_images(x, {k: keras.ops.convert_to_tensor(v) for k, v in params.items()},
                                                     training=True))
    got = to_numpy_torch(ours_from(keras_layer).apply(torch.as_tensor(images), {k: torch.as_tensor(v)
                                                                       for k, v in params.items()}))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-3)
    np.testing.assert_array_equal(got[1], images[1])  # not drawn for blurring: untouched
    assert got[0].std() < images[0].std()  # blurred: smoother


def test_gaussian_blur_draws_and_inference(images):
    ours = layers.RandomGaussianBlur(factor=(0.5, 0.5), sigma=(0.3, 0.8), seed=1)
    params = ours.random_params(torch.zeros(400, 1, 1, 1))
    apply = to_numpy_torch(params["should_apply_blur"])
    assert 0.35 < apply.mean() < 0.65
    sigma = to_numpy_torch(params["blur_factor"])
    assert sigma.shape == (2,) and np.all((sigma >= 0.3) & (sigma <= 0.8 + 1e-5))
    np.testing.assert_array_equal(to_numpy_torch(ours(images)), images)
    always = layers.RandomGaussianBlur(factor=(1.0, 1.0), seed=1)
    assert to_numpy_torch(always(images, training=True)).std() < images.std()


def test_gaussian_blur_config_is_keras_config_and_kernel_is_checked():
    keras_layer = keras.layers.RandomGaussianBlur(factor=0.6, kernel_size=5, sigma=(0.9, 0.2), seed=3, name="blur")
    ours = ours_from(keras_layer)
    assert ours.get_config() == keras_layer.get_config()
    with pytest.raises(SpecError):
        layers.RandomGaussianBlur(kernel_size=4)


# ----- RandomColorJitter ----------------------------------------------------------------------

@pytest.mark.parametrize("value_range", [(0, 255), (0, 1)])
def test_color_jitter_with_pinned_factors_equals_keras(images, value_range):
    lo, hi = value_range
    x = (images / 255.0 * (hi - lo) + lo).astype("float32")
    keras_layer = keras.layers.RandomColorJitter(value_range=value_range,
                                                 contrast_factor=(0.4, 0.4), saturation_factor=(0.8, 0.8),
                                                 hue_factor=(0.0, 0.0), seed=2)
    expected = to_numpy(keras_layer(x, training=True))
    ours = ours_from(keras_layer)
    got = to_numpy_torch(ours(x, training=True))
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4 * (hi - lo))
    assert not np.allclose(got, x)
    np.testing.assert_array_equal(to_numpy_torch(ours(x)), x)


def test_color_jitter_brightness_then_contrast_equals_keras(images):
    # Keras 3 draws contrast in [1 - lower, 1 + upper]: (-0.3, 0.3) pins it at 1.3, (0.4, 0.4) would not
    keras_layer = keras.layers.RandomColorJitter(brightness_factor=(0.1, 0.1), contrast_factor=(-0.3, 0.3), seed=2)
    expected = to_numpy(keras_layer(images, training=True))
    np.testing.assert_allclose(to_numpy_torch(ours_from(keras_layer)(images, training=True)), expected, atol=1e-2)


def test_color_jitter_varies_per_image_and_skips_missing_steps(images):
    ours = layers.RandomColorJitter(brightness_factor=0.3, seed=1)
    assert [type(s).__name__ for s in ours.steps] == ["RandomBrightness"]
    flat = np.full((6, 2, 2, 3), 100.0, "float32")
    offsets = to_numpy_torch(ours(flat, training=True))[:, 0, 0, 0] - 100.0
    assert np.all(np.abs(offsets) <= 0.3 * 255 + 1e-3) and len(np.unique(offsets.round(3))) > 1
    np.testing.assert_array_equal(to_numpy_torch(layers.RandomColorJitter(seed=1)(images, training=True)), images)


def test_color_jitter_config_is_keras_config():
    keras_layer = keras.layers.RandomColorJitter(value_range=(0, 1), brightness_factor=0.2, hue_factor=(0.1, 0.3),
                                                 seed=9, name="jitter")
    assert ours_from(keras_layer).get_config() == keras_layer.get_config()

"""AutoContrast and RandomSharpness against real Keras 3 (torch backend).

AutoContrast draws nothing and Keras applies it at inference as well as in training.
RandomSharpness draws one factor per image; its pixel maths (``apply``) is compared
by handing Keras and modelcli the same factors, and whole training calls with a
pinned factor range that leaves nothing to chance.
"""
import numpy as np
import pytest
import torch

from keras_reference import keras, ours_from, to_numpy, to_numpy_torch
from modelcli import layers
from modelcli.errors import SpecError

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy:DeprecationWarning")


@pytest.fixture
def images(rng):
    """Four 5×6 RGB images in [0, 255]; image 3's green channel is flat (AutoContrast keeps it)."""
    x = rng.uniform(0, 255, size=(4, 5, 6, 3)).astype("float32")
    x[3, :, :, 1] = 77.0
    return x


# ----- AutoContrast ---------------------------------------------------------------------------

@pytest.mark.parametrize("value_range", [(0, 255), (0, 1), (-1, 1)])
@pytest.mark.parametrize("training", [False, True])
def test_auto_contrast_equals_keras_in_training_and_at_inference(images, value_range, training):
    lo, hi = value_range
    x = (images / 255.0 * (hi - lo) + lo).astype("float32")
    keras_layer = keras.layers.AutoContrast(value_range=value_range)
    expected = to_numpy(keras_layer(x, training=training))
    got = to_numpy_torch(ours_from(keras_layer)(x, training=training))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5 * (hi - lo))
    # Every stretched channel spans the whole range; the flat one is left as it was.
    assert got[:3].min(axis=(1, 2)) == pytest.approx(np.full((3, 3), lo), abs=1e-4)
    assert got[:3].max(axis=(1, 2)) == pytest.approx(np.full((3, 3), hi), abs=1e-4 * (hi - lo))
    np.testing.assert_array_equal(got[3, :, :, 1], x[3, :, :, 1])


def test_auto_contrast_with_channels_first_and_one_image(images):
    ours = layers.AutoContrast()
    expected = to_numpy_torch(ours(images))
    firsts = layers.AutoContrast(data_format="channels_first")
    np.testing.assert_allclose(to_numpy_torch(firsts(images.transpose(0, 3, 1, 2))), expected.transpose(0, 3, 1, 2),
                               atol=1e-5)
    np.testing.assert_allclose(to_numpy_torch(ours(images[0])), expected[0], atol=1e-5)


def test_auto_contrast_config_is_keras_config():
    keras_layer = keras.layers.AutoContrast(value_range=(1, -1), name="ac")
    ours = ours_from(keras_layer)
    assert ours.get_config() == keras_layer.get_config()
    assert ours.value_range == [-1, 1]


# ----- RandomSharpness ------------------------------------------------------------------------

@pytest.mark.parametrize("factors", [[0.0, 0.25, 0.5, 1.0], [0.9, 0.1, 0.6, 0.3]])
def test_sharpness_pixel_maths_equals_keras_for_the_same_factors(images, factors):
    keras_layer = keras.layers.RandomSharpness(0.5)
    factor = np.asarray(factors, "float32")
    expected = to_numpy(keras_layer.transform_images(
        keras.ops.convert_to_tensor(images), {"factor": keras.ops.convert_to_tensor(factor)}, training=True))
    ours = ours_from(keras_layer)
    got = to_numpy_torch(ours.apply(torch.as_tensor(images), {"factor": torch.as_tensor(factor)}))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-3)
    for i, f in enumerate(factors):  # 0.5 keeps the image; any other factor changes it
        assert np.allclose(got[i], images[i], atol=1e-3) == (f == 0.5)


@pytest.mark.parametrize("value_range", [(0, 255), (0, 1)])
def test_sharpness_training_call_with_a_pinned_factor_equals_keras(images, value_range):
    x = (images / 255.0 * value_range[1]).astype("float32")
    keras_layer = keras.layers.RandomSharpness((0.9, 0.9), value_range=value_range, seed=3)
    expected = to_numpy(keras_layer(x, training=True))
    ours = ours_from(keras_layer)
    got = to_numpy_torch(ours(x, training=True))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=4e-6 * value_range[1])
    assert got.min() >= value_range[0] and got.max() <= value_range[1]
    assert not np.allclose(got, x)


def test_sharpness_is_the_identity_at_inference_and_draws_per_image(images):
    keras_layer = keras.layers.RandomSharpness((0.0, 1.0), seed=1)
    ours = ours_from(keras_layer)
    np.testing.assert_array_equal(to_numpy_torch(ours(images)), to_numpy(keras_layer(images, training=False)))
    np.testing.assert_array_equal(to_numpy_torch(ours(images, training=False)), images)
    factors = to_numpy_torch(ours.random_params(torch.as_tensor(images))["factor"])
    assert factors.shape == (4,) and len(set(factors.tolist())) == 4
    assert ((factors >= 0) & (factors < 1)).all()


def test_sharpness_config_is_keras_config_and_factor_is_checked():
    for factor in (0.3, (0.6, 0.2)):
        keras_layer = keras.layers.RandomSharpness(factor, value_range=(0, 1), seed=5, data_format="channels_first")
        ours = ours_from(keras_layer)
        assert ours.get_config() == keras_layer.get_config()
    with pytest.raises(SpecError, match="factor"):
        layers.RandomSharpness(1.5)
    with pytest.raises(SpecError, match="value_range"):
        layers.RandomSharpness(0.5, value_range=(0, 1, 2))

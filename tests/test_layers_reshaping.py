"""Flatten, Reshape, Permute, RepeatVector, UpSampling, ZeroPadding and Cropping against real Keras 3."""
import numpy as np
import pytest

from keras_reference import assert_layer_matches_keras, keras, keras_spec
from modelcli import layers
from modelcli.layers.deserialize import deserialize_layer


def matches_keras(keras_layer, x, unknown_shape=None):
    """Same outputs and config as Keras, config round trip, and compute_output_shape as Keras's."""
    ours = assert_layer_matches_keras(keras_layer, x)
    config = ours.get_config()
    assert config == keras_layer.get_config()
    assert type(ours).from_config(config).get_config() == config
    for shape in [x.shape, unknown_shape or (None,) + x.shape[1:]]:
        assert ours.compute_output_shape(tuple(shape)) == tuple(keras_layer.compute_output_shape(tuple(shape)))
    return ours


def json_config(keras_layer):
    """The config as a JSON file gives it back (tuples become lists)."""
    import json
    return json.loads(json.dumps(keras_spec(keras_layer)))


# ----- Flatten, Reshape, Permute, RepeatVector --------------------------------------------------------
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_flatten_matches_keras(rng, data_format):
    x = rng.normal(size=(2, 3, 4, 5)).astype("float32")
    matches_keras(keras.layers.Flatten(data_format=data_format), x, unknown_shape=(None, 3, None, 5))


def test_flatten_channels_first_orders_like_channels_last():
    x = np.arange(2 * 3 * 2, dtype="float32").reshape(1, 3, 2, 2)  # (batch, C, H, W)
    out = layers.Flatten(data_format="channels_first")(x).cpu().numpy()
    np.testing.assert_array_equal(out[0], x[0].transpose(1, 2, 0).reshape(-1))


def test_flatten_of_a_vector_batch_keeps_it():
    x = np.ones((3, 4), "float32")
    matches_keras(keras.layers.Flatten(), x)


@pytest.mark.parametrize("target_shape", [(6, 2), (3, -1), (-1,), (2, 2, 3)])
def test_reshape_matches_keras(rng, target_shape):
    x = rng.normal(size=(2, 3, 4)).astype("float32")
    matches_keras(keras.layers.Reshape(target_shape), x, unknown_shape=(None, None, 4))


def test_reshape_reads_lists_from_json():
    layer = deserialize_layer(json_config(keras.layers.Reshape((3, -1))))
    assert layer.target_shape == (3, -1)


def test_reshape_rejects_bad_targets():
    with pytest.raises(ValueError, match="target_shape: expected non-negative sizes and at most one -1"):
        layers.Reshape((-1, -1))
    with pytest.raises(ValueError, match="target_shape: expected a list of integers"):
        layers.Reshape("3x4")
    with pytest.raises(ValueError, match=r"cannot reshape input of shape \(3, 4\)"):
        layers.Reshape((5, -1)).compute_output_shape((None, 3, 4))


@pytest.mark.parametrize("dims", [(2, 1), (3, 1, 2)])
def test_permute_matches_keras(rng, dims):
    x = rng.normal(size=(2, 3, 4, 5)[:len(dims) + 1]).astype("float32")
    matches_keras(keras.layers.Permute(dims), x)


def test_permute_rejects_non_permutations():
    for dims in [(0, 1), (1, 3), (1, 1)]:
        with pytest.raises(ValueError, match="dims: expected a permutation of 1..n"):
            layers.Permute(dims)


def test_repeat_vector_matches_keras(rng):
    x = rng.normal(size=(2, 3)).astype("float32")
    matches_keras(keras.layers.RepeatVector(4), x)
    with pytest.raises(ValueError, match="n: expected a positive integer, got 0"):
        layers.RepeatVector(0)


# ----- UpSampling ---------------------------------------------------------------------------------------
def test_up_sampling1d_matches_keras(rng):
    x = rng.normal(size=(2, 3, 4)).astype("float32")
    for size in [2, 3]:
        matches_keras(keras.layers.UpSampling1D(size), x, unknown_shape=(None, None, 4))


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear", "bicubic"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_up_sampling2d_matches_keras(rng, interpolation, data_format):
    x = rng.normal(size=(2, 3, 4, 5)).astype("float32")
    keras_layer = keras.layers.UpSampling2D((2, 3), data_format=data_format, interpolation=interpolation)
    matches_keras(keras_layer, x, unknown_shape=(None, None, 4, None))


def test_up_sampling2d_bilinear_uses_half_pixel_centres():
    """Keras's bilinear resize equals torch's align_corners=False: [0, 1] -> [0, .25, .75, 1]."""
    x = np.array([0.0, 1.0], "float32").reshape(1, 1, 2, 1)
    out = layers.UpSampling2D((1, 2), interpolation="bilinear")(x).cpu().numpy()
    np.testing.assert_allclose(out.reshape(-1), [0.0, 0.25, 0.75, 1.0])


def test_up_sampling2d_rejects_unknown_interpolation():
    with pytest.raises(ValueError, match="interpolation: expected one of 'nearest', 'bilinear'"):
        layers.UpSampling2D(interpolation="lanczos3")
    with pytest.raises(ValueError, match="size: expected positive integers"):
        layers.UpSampling2D(size=(0, 2))


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_up_sampling3d_matches_keras(rng, data_format):
    x = rng.normal(size=(1, 2, 3, 2, 2)).astype("float32")
    matches_keras(keras.layers.UpSampling3D((2, 1, 3), data_format=data_format), x)


# ----- ZeroPadding ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("padding", [1, (2, 0)])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_zero_padding1d_matches_keras(rng, padding, data_format):
    x = rng.normal(size=(2, 3, 4)).astype("float32")
    matches_keras(keras.layers.ZeroPadding1D(padding, data_format=data_format), x)


@pytest.mark.parametrize("padding", [2, (1, 2), ((0, 1), (2, 3))])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_zero_padding2d_matches_keras(rng, padding, data_format):
    x = rng.normal(size=(2, 3, 4, 5)).astype("float32")
    matches_keras(keras.layers.ZeroPadding2D(padding, data_format=data_format), x,
                  unknown_shape=(None, None, 4, None))


@pytest.mark.parametrize("padding", [1, ((0, 1), (2, 0), (1, 1))])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_zero_padding3d_matches_keras(rng, padding, data_format):
    x = rng.normal(size=(1, 2, 3, 2, 2)).astype("float32")
    matches_keras(keras.layers.ZeroPadding3D(padding, data_format=data_format), x)


def test_zero_padding_reads_nested_lists_from_json():
    layer = deserialize_layer(json_config(keras.layers.ZeroPadding2D(((0, 1), (2, 3)))))
    assert layer.padding == ((0, 1), (2, 3))


def test_zero_padding_rejects_bad_padding():
    with pytest.raises(ValueError, match="padding: expected non-negative integers"):
        layers.ZeroPadding2D(((0, -1), (1, 1)))
    with pytest.raises(ValueError, match=r"padding: expected an integer, 2 integers or 2 \(before, after\) pairs"):
        layers.ZeroPadding2D((1, 2, 3))
    with pytest.raises(ValueError, match="data_format: expected 'channels_last' or 'channels_first'"):
        layers.ZeroPadding2D(data_format="NHWC")


def test_zero_padding_checks_the_input_rank():
    with pytest.raises(ValueError, match="ZeroPadding2D expects inputs of rank 4"):
        layers.ZeroPadding2D()(np.zeros((2, 3, 4), "float32"))


# ----- Cropping -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cropping", [1, (2, 0), (0, 0)])
def test_cropping1d_matches_keras(rng, cropping):
    x = rng.normal(size=(2, 5, 3)).astype("float32")
    matches_keras(keras.layers.Cropping1D(cropping), x)


@pytest.mark.parametrize("cropping", [1, (1, 0), ((0, 1), (2, 0)), ((1, 1), (0, 0))])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_cropping2d_matches_keras(rng, cropping, data_format):
    x = rng.normal(size=(2, 4, 5, 6)).astype("float32")
    matches_keras(keras.layers.Cropping2D(cropping, data_format=data_format), x,
                  unknown_shape=(None, None, 5, 6))


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_cropping3d_matches_keras(rng, data_format):
    x = rng.normal(size=(1, 4, 3, 5, 4)).astype("float32")
    matches_keras(keras.layers.Cropping3D(((1, 0), (0, 1), (2, 1)), data_format=data_format), x)


def test_cropping_that_leaves_nothing_is_refused():
    with pytest.raises(ValueError, match=r"cropping \(2, 2\) leaves nothing of an axis of size 4"):
        layers.Cropping1D(2)(np.zeros((1, 4, 2), "float32"))
    with pytest.raises(ValueError, match="cropping: expected non-negative integers"):
        layers.Cropping2D(-1)

"""Pooling layers against real Keras 3: values, shapes and configs."""
import numpy as np
import pytest

from keras_reference import assert_layer_matches_keras, keras, to_numpy_torch
from modelcli import Input, layers
from modelcli.errors import SpecError
from modelcli.layers.convolutional.conv_utils import same_padding
from modelcli.layers.deserialize import deserialize_layer

ONE_TO_FIVE = np.arange(1, 6, dtype="float32").reshape(1, 5, 1)


def channels_last_or_first(rng, spatial, channels, data_format):
    x = rng.normal(size=(2, *spatial, channels)).astype("float32")
    return x if data_format == "channels_last" else np.ascontiguousarray(np.moveaxis(x, -1, 1))


def same_as_keras(keras_layer, x, **kwargs):
    """Outputs, config and symbolic output shape (with unknown dims) equal Keras's."""
    ours = assert_layer_matches_keras(keras_layer, x, **kwargs)
    assert ours.get_config() == keras_layer.get_config()
    spatial_axis = 1 if keras_layer.data_format == "channels_last" else 2
    unknown = tuple(None if axis in (0, spatial_axis) else n for axis, n in enumerate(x.shape))
    assert ours.compute_output_shape(unknown) == tuple(keras_layer.compute_output_shape(unknown))
    return ours


def values(layer, x):
    return to_numpy_torch(layer(x))


# ----- the tutorial's examples ------------------------------------------------------------------------
def test_max_pooling1d_valid_and_same_on_one_to_five():
    ours = same_as_keras(keras.layers.MaxPooling1D(2, 1, "valid"), ONE_TO_FIVE)
    np.testing.assert_array_equal(values(ours, ONE_TO_FIVE), [[[2], [3], [4], [5]]])
    ours = same_as_keras(keras.layers.MaxPooling1D(2, 1, "same"), ONE_TO_FIVE)
    np.testing.assert_array_equal(values(ours, ONE_TO_FIVE).ravel(), [2, 3, 4, 5, 5])


def test_max_pooling2d_on_3x3():
    x = np.arange(1, 10, dtype="float32").reshape(1, 3, 3, 1)
    ours = same_as_keras(keras.layers.MaxPooling2D((2, 2), (1, 1), "valid"), x)
    np.testing.assert_array_equal(values(ours, x)[0, ..., 0], [[5, 6], [8, 9]])


def test_average_pooling1d_valid_on_one_to_five():
    ours = same_as_keras(keras.layers.AveragePooling1D(2, 1, "valid"), ONE_TO_FIVE)
    np.testing.assert_array_equal(values(ours, ONE_TO_FIVE).ravel(), [1.5, 2.5, 3.5, 4.5])


def test_average_pooling2d_on_3x4():
    x = np.arange(1, 13, dtype="float32").reshape(1, 3, 4, 1)
    ours = same_as_keras(keras.layers.AveragePooling2D((2, 2), (2, 2)), x)
    np.testing.assert_array_equal(values(ours, x)[0], [[[3.5], [5.5]]])


# ----- 'same' average counts only the valid elements ----------------------------------------------------
def test_average_pooling_same_divides_by_the_valid_elements():
    ours = same_as_keras(keras.layers.AveragePooling1D(3, 1, "same"), ONE_TO_FIVE)
    np.testing.assert_array_equal(values(ours, ONE_TO_FIVE).ravel(), [1.5, 2, 3, 4, 4.5])
    x = np.arange(1, 10, dtype="float32").reshape(1, 3, 3, 1)
    ours = same_as_keras(keras.layers.AveragePooling2D(2, 2, "same"), x)
    np.testing.assert_array_equal(values(ours, x)[0, ..., 0], [[3, 4.5], [7.5, 9]])


def test_average_pooling_same_with_uneven_padding_follows_keras_tensorflow_rule():
    # pool 4, stride 1 on 5 steps pads 1 before and 2 after; windows: [1,2,3] [1..4] [2..5] [3,4,5] [4,5].
    # (Keras 3's torch backend pads such windows by repeating the edge values instead: 1.75 ... 4.75;
    # TensorFlow, JAX and Keras 2 average the valid elements, as here.)
    layer = layers.AveragePooling1D(4, 1, "same")
    np.testing.assert_allclose(values(layer, ONE_TO_FIVE).ravel(), [2, 2.5, 3.5, 4, 4.5])
    x = np.arange(1, 17, dtype="float32").reshape(1, 4, 4, 1)
    # pool 3, stride 2 on 4: pads 0 before and 1 after; windows rows/cols {0,1,2} and {2,3}
    layer = layers.AveragePooling2D(3, 2, "same")
    np.testing.assert_allclose(values(layer, x)[0, ..., 0], [[6, 7.5], [12, 13.5]])


def test_max_pooling_same_ignores_padding_of_negative_inputs():
    x = -ONE_TO_FIVE  # a zero padding would win every window it touches
    ours = same_as_keras(keras.layers.MaxPooling1D(4, 1, "same"), x)  # pads 1 before, 2 after
    np.testing.assert_array_equal(values(ours, x).ravel(), [-1, -1, -2, -3, -4])
    np.testing.assert_array_equal(values(layers.MaxPooling1D(2, 2, "same"), x).ravel(), [-1, -3, -5])


# ----- grids against Keras -------------------------------------------------------------------------------
@pytest.mark.parametrize("pool_size, strides", [(2, None), (3, None), (2, 1), (3, 1), (4, 1), (3, 2), (2, 3)])
@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("steps", [6, 7])
def test_pooling1d_matches_keras(rng, pool_size, strides, padding, steps):
    x = rng.normal(size=(2, steps, 3)).astype("float32")
    same_as_keras(keras.layers.MaxPooling1D(pool_size, strides, padding), x)
    before, after = same_padding(steps, pool_size, strides or pool_size)
    if padding == "valid" or before == after:  # see the uneven-padding test above
        same_as_keras(keras.layers.AveragePooling1D(pool_size, strides, padding), x)


@pytest.mark.parametrize("pool_size, strides", [(2, None), (3, 1), ((2, 3), None), ((3, 2), (2, 1)), (3, 2)])
@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_pooling2d_matches_keras(rng, pool_size, strides, padding, data_format):
    x = channels_last_or_first(rng, (7, 7), 3, data_format)
    same_as_keras(keras.layers.MaxPooling2D(pool_size, strides, padding, data_format), x)
    size = (pool_size, pool_size) if isinstance(pool_size, int) else pool_size
    step = size if strides is None else (strides, strides) if isinstance(strides, int) else strides
    if padding == "valid" or all(a == b for a, b in map(same_padding, (7, 7), size, step)):
        same_as_keras(keras.layers.AveragePooling2D(pool_size, strides, padding, data_format), x)


def test_pooling3d_matches_keras(rng):
    x = rng.normal(size=(2, 4, 5, 6, 2)).astype("float32")
    same_as_keras(keras.layers.MaxPooling3D(), x)
    same_as_keras(keras.layers.AveragePooling3D((2, 3, 2), 1), x)
    same_as_keras(keras.layers.MaxPooling3D(3, 2, "same"), x)


@pytest.mark.parametrize("name", ["GlobalAveragePooling", "GlobalMaxPooling"])
@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pooling_matches_keras(rng, name, rank, data_format, keepdims):
    x = channels_last_or_first(rng, (5, 4, 3)[:rank], 3, data_format)
    keras_layer = getattr(keras.layers, f"{name}{rank}D")(data_format=data_format, keepdims=keepdims)
    same_as_keras(keras_layer, x)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_global_average_pooling1d_averages_unmasked_steps_like_keras(rng, data_format):
    x = channels_last_or_first(rng, (4,), 3, data_format)
    mask = np.array([[True, True, False, False], [True, True, True, True]])
    ours = same_as_keras(keras.layers.GlobalAveragePooling1D(data_format=data_format), x,
                         call_kwargs={"mask": mask})
    steps = x if data_format == "channels_last" else np.moveaxis(x, 1, 2)
    np.testing.assert_allclose(to_numpy_torch(ours(x, mask=mask))[0], steps[0, :2].mean(axis=0), rtol=1e-6)


def test_global_average_pooling1d_takes_the_mask_an_embedding_attaches():
    ids = np.array([[4, 2, 0, 0]])
    embedding = layers.Embedding(5, 3, mask_zero=True)
    vectors = embedding(ids)
    pooled = layers.GlobalAveragePooling1D()(vectors)
    np.testing.assert_allclose(to_numpy_torch(pooled)[0], to_numpy_torch(vectors)[0, :2].mean(axis=0), rtol=1e-6)
    assert not hasattr(pooled, "_keras_mask")


# ----- configs, names and bad arguments ---------------------------------------------------------------------
def test_strides_default_to_pool_size_and_configs_round_trip():
    layer = layers.MaxPooling2D((3, 2))
    assert layer.get_config()["strides"] == (3, 2)
    for layer in [layer, layers.AveragePooling1D(3, 1, "same", "channels_first"),
                  layers.GlobalAveragePooling2D(keepdims=True)]:
        config = layer.get_config()
        assert type(layer).from_config(config).get_config() == config


@pytest.mark.parametrize("alias, cls", [("MaxPool1D", layers.MaxPooling1D), ("MaxPool2D", layers.MaxPooling2D),
                                        ("AvgPool1D", layers.AveragePooling1D), ("AvgPool2D", layers.AveragePooling2D),
                                        ("GlobalAvgPool1D", layers.GlobalAveragePooling1D),
                                        ("GlobalAvgPool2D", layers.GlobalAveragePooling2D),
                                        ("GlobalMaxPool1D", layers.GlobalMaxPooling1D),
                                        ("GlobalMaxPool2D", layers.GlobalMaxPooling2D)])
def test_keras_2_names_load(alias, cls):
    assert type(deserialize_layer({"class_name": alias, "config": {"name": "p"}})) is cls


def test_keras_2_pooling_config_with_lists_loads():
    layer = deserialize_layer({"class_name": "MaxPooling2D", "config": {
        "name": "pool", "trainable": True, "dtype": "float32", "pool_size": [2, 2], "padding": "valid",
        "strides": [2, 2], "data_format": "channels_last"}})
    assert layer(Input(shape=(28, 28, 8))).shape == (None, 14, 14, 8)


@pytest.mark.parametrize("make, message", [
    (lambda: layers.MaxPooling1D(2, padding="causal"), "padding: expected one of 'valid', 'same', got 'causal'"),
    (lambda: layers.MaxPooling2D(0), "pool_size: expected positive integers, got 0"),
    (lambda: layers.AveragePooling2D((2, 2, 2)), "pool_size: expected an integer or a list of 2 integers"),
    (lambda: layers.AveragePooling1D(2, strides=-1), "strides: expected positive integers, got -1"),
    (lambda: layers.GlobalMaxPooling2D(data_format="NCHW"), "data_format: expected 'channels_last' or"),
    (lambda: layers.MaxPooling2D(pool_sizes=2), "unknown MaxPooling2D argument 'pool_sizes'"),
])
def test_bad_arguments_name_the_field(make, message):
    with pytest.raises(SpecError, match=message):
        make()


def test_too_small_input_and_wrong_rank_are_refused():
    with pytest.raises(SpecError, match="too small"):
        layers.MaxPooling2D(3)(Input(shape=(2, 8, 1)))
    with pytest.raises(SpecError, match="expects inputs of rank 4"):
        layers.MaxPooling2D()(Input(shape=(8, 1)))
    with pytest.raises(SpecError, match="expects inputs of rank 3"):
        layers.GlobalAveragePooling1D()(Input(shape=(8, 8, 1)))

"""Convolution layers against real Keras 3: outputs, weights, shapes and configs."""
import numpy as np
import pytest
import torch

from keras_reference import assert_layer_matches_keras, keras
from modelcli import Input, layers
from modelcli.errors import SpecError
from modelcli.layers.deserialize import deserialize_layer


def channels_last_or_first(rng, spatial, channels, data_format):
    x = rng.normal(size=(2, *spatial, channels)).astype("float32")
    return x if data_format == "channels_last" else np.ascontiguousarray(np.moveaxis(x, -1, 1))


def same_as_keras(keras_layer, x, **kwargs):
    """Outputs and weights equal Keras's, and so do the config and the symbolic output shape."""
    ours = assert_layer_matches_keras(keras_layer, x, **kwargs)
    assert comparable(ours.get_config()) == comparable(keras_layer.get_config())
    spatial_axis = 1 if keras_layer.data_format == "channels_last" else 2
    unknown = tuple(None if axis in (0, spatial_axis) else n for axis, n in enumerate(x.shape))
    assert ours.compute_output_shape(unknown) == tuple(keras_layer.compute_output_shape(unknown))
    return ours


def comparable(config):
    # Initializers are compared by class: Keras 3.15 adds input_axes/output_axes: None to their
    # configs, which modelcli's initializers leave out.
    return {key: value["class_name"] if key.endswith("initializer") else value for key, value in config.items()}


# ----- the tutorial's examples ------------------------------------------------------------------------
def test_conv1d_relu_on_sequences_of_128_features(rng):
    x = rng.normal(size=(4, 10, 128)).astype("float32")
    out = same_as_keras(keras.layers.Conv1D(32, 3, activation="relu"), x)(x)
    assert tuple(out.shape) == (4, 8, 32)


@pytest.mark.parametrize("padding, size", [("valid", 26), ("same", 28)])
def test_conv2d_relu_on_28x28_rgb_images(rng, padding, size):
    x = rng.normal(size=(4, 28, 28, 3)).astype("float32")
    out = same_as_keras(keras.layers.Conv2D(2, 3, activation="relu", padding=padding), x)(x)
    assert tuple(out.shape) == (4, size, size, 2)


def test_conv2d_channels_first_then_flatten_gives_65536_features():
    conv = layers.Conv2D(64, 3, padding="same", data_format="channels_first")
    y = conv(Input(shape=(3, 32, 32)))
    assert y.shape == (None, 64, 32, 32)
    assert layers.Flatten()(y).shape == (None, 65536)
    keras_y = keras.layers.Conv2D(64, 3, padding="same", data_format="channels_first")(keras.Input((3, 32, 32)))
    assert tuple(keras_y.shape) == y.shape


# ----- Conv1D ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("padding", ["valid", "same", "causal"])
@pytest.mark.parametrize("kernel_size, strides, dilation_rate", [(3, 1, 1), (4, 1, 1), (3, 2, 1), (4, 2, 1),
                                                                 (3, 1, 2), (2, 1, 3)])
@pytest.mark.parametrize("steps", [7, 8])
def test_conv1d_matches_keras(rng, padding, kernel_size, strides, dilation_rate, steps):
    x = rng.normal(size=(2, steps, 3)).astype("float32")
    same_as_keras(keras.layers.Conv1D(4, kernel_size, strides, padding, dilation_rate=dilation_rate), x)


def test_conv1d_causal_output_at_t_depends_only_on_steps_up_to_t(rng):
    layer = layers.Conv1D(2, 3, padding="causal", dilation_rate=2)
    x = torch.as_tensor(rng.normal(size=(1, 9, 3)).astype("float32"))
    changed = x.clone()
    changed[:, 6:] += 1.0
    with torch.no_grad():
        assert torch.equal(layer(x)[:, :6], layer(changed)[:, :6])


def test_conv1d_channels_first_and_groups_match_keras(rng):
    x = channels_last_or_first(rng, (9,), 4, "channels_first")
    same_as_keras(keras.layers.Conv1D(6, 3, padding="same", groups=2, data_format="channels_first"), x)


# ----- Conv2D ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("strides", [1, 2, (1, 2)])
@pytest.mark.parametrize("spatial", [(7, 8), (6, 9)])
def test_conv2d_matches_keras(rng, data_format, padding, strides, spatial):
    x = channels_last_or_first(rng, spatial, 3, data_format)
    same_as_keras(keras.layers.Conv2D(4, (2, 3), strides, padding, data_format, activation="tanh"), x)


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_conv2d_dilation_and_groups_match_keras(rng, padding):
    x = rng.normal(size=(2, 9, 8, 4)).astype("float32")
    same_as_keras(keras.layers.Conv2D(6, 3, padding=padding, dilation_rate=(2, 1), groups=2), x)
    same_as_keras(keras.layers.Conv2D(4, 3, padding=padding, groups=4, use_bias=False), x)


def test_conv2d_keeps_keras_kernel_layout_over_a_torch_native_parameter():
    layer = layers.Conv2D(5, (2, 3), groups=1)
    layer(np.zeros((1, 6, 6, 4), "float32"))
    assert [w.shape for w in layer.weights] == [(2, 3, 4, 5), (5,)]
    assert tuple(layer.kernel.shape) == (5, 4, 2, 3)  # what F.conv2d takes
    assert layer.kernel.is_contiguous(memory_format=torch.channels_last)  # as the NHWC inputs are
    kernel = np.arange(2 * 3 * 4 * 5, dtype="float32").reshape(2, 3, 4, 5)
    layer.set_weights([kernel, np.zeros(5, "float32")])
    np.testing.assert_array_equal(layer.get_weights()[0], kernel)
    np.testing.assert_array_equal(layer.kernel[4, 1].detach().cpu().numpy(), kernel[:, :, 1, 4])


def test_conv_weights_have_keras_names_and_train():
    layer = layers.Conv2D(2, 3)
    out = layer(np.ones((1, 5, 5, 3), "float32"))
    assert [w.name for w in layer.weights] == ["kernel", "bias"]
    out.sum().backward()
    assert layer.kernel.grad is not None and layer.bias.grad is not None


def test_conv2d_kernel_constraint_applies_in_keras_layout(rng):
    layer = layers.Conv2D(3, 2, kernel_constraint="non_neg")
    layer(np.zeros((1, 4, 4, 2), "float32"))
    layer.set_weights([rng.normal(size=(2, 2, 2, 3)).astype("float32"), np.zeros(3, "float32")])
    layer.apply_constraints()
    assert layer.get_weights()[0].min() == 0.0


def test_conv3d_matches_keras(rng):
    x = rng.normal(size=(2, 5, 6, 7, 2)).astype("float32")
    for padding in ["valid", "same"]:
        same_as_keras(keras.layers.Conv3D(3, (2, 3, 2), strides=(1, 2, 2), padding=padding), x)


# ----- Conv2DTranspose --------------------------------------------------------------------------------
@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("kernel_size, strides", [(3, 1), (3, 2), (2, 2), (4, 2), (3, 3), (2, 3)])
@pytest.mark.parametrize("output_padding", [None, "max"])
def test_conv2d_transpose_matches_keras(rng, padding, kernel_size, strides, output_padding):
    # 'max' = strides - 1, the largest output_padding Keras allows
    output_padding = strides - 1 if output_padding == "max" else None
    x = rng.normal(size=(2, 4, 5, 3)).astype("float32")
    same_as_keras(keras.layers.Conv2DTranspose(2, kernel_size, strides, padding, output_padding), x)


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_conv2d_transpose_dilation_and_channels_first_match_keras(rng, padding):
    x = channels_last_or_first(rng, (4, 5), 3, "channels_first")
    same_as_keras(keras.layers.Conv2DTranspose(2, 3, padding=padding, dilation_rate=2,
                                               data_format="channels_first"), x)
    same_as_keras(keras.layers.Conv2DTranspose(2, (3, 2), (2, 1), padding, use_bias=False,
                                               data_format="channels_first"), x)


def test_conv2d_transpose_output_size_follows_keras_formula():
    # valid: (n - 1)·s + k + max(s - k, 0); same: n·s; same with output_padding p: (n - 1)·s + k % 2 + p
    assert layers.Conv2DTranspose(1, 3, 2).compute_output_shape((None, 5, 5, 1)) == (None, 11, 11, 1)
    assert layers.Conv2DTranspose(1, 2, 3).compute_output_shape((None, 5, 5, 1)) == (None, 15, 15, 1)
    assert layers.Conv2DTranspose(1, 3, 2, "same").compute_output_shape((None, 5, None, 1)) == (None, 10, None, 1)
    assert layers.Conv2DTranspose(1, 3, 2, "same", 0).compute_output_shape((None, 5, 5, 1)) == (None, 9, 9, 1)


def test_conv2d_transpose_kernel_is_keras_kh_kw_out_in():
    layer = layers.Conv2DTranspose(5, (2, 3))
    layer(np.zeros((1, 4, 4, 7), "float32"))
    assert [w.shape for w in layer.weights] == [(2, 3, 5, 7), (5,)]
    assert tuple(layer.kernel.shape) == (7, 5, 2, 3)  # what F.conv_transpose2d takes


def test_conv1d_and_conv3d_transpose_match_keras(rng):
    x = rng.normal(size=(2, 6, 3)).astype("float32")
    for padding in ["valid", "same"]:
        same_as_keras(keras.layers.Conv1DTranspose(2, 3, 2, padding), x)
    x = rng.normal(size=(1, 3, 4, 3, 2)).astype("float32")
    same_as_keras(keras.layers.Conv3DTranspose(2, 3, 2, "same"), x)


# ----- DepthwiseConv2D and SeparableConv2D ---------------------------------------------------------------
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("padding, strides, dilation_rate", [("valid", 1, 1), ("same", 1, 1), ("same", 2, 1),
                                                             ("valid", 2, 1), ("same", 1, 2)])
@pytest.mark.parametrize("depth_multiplier", [1, 2])
def test_depthwise_conv2d_matches_keras(rng, data_format, padding, strides, dilation_rate, depth_multiplier):
    x = channels_last_or_first(rng, (7, 6), 3, data_format)
    same_as_keras(keras.layers.DepthwiseConv2D(3, strides, padding, depth_multiplier, data_format,
                                               dilation_rate), x)


def test_depthwise_kernel_is_keras_kh_kw_in_multiplier_over_a_grouped_torch_weight(rng):
    layer = layers.DepthwiseConv2D(3, depth_multiplier=2)
    layer(np.zeros((1, 5, 5, 4), "float32"))
    assert [w.shape for w in layer.weights] == [(3, 3, 4, 2), (8,)]
    assert tuple(layer.depthwise_kernel.shape) == (8, 1, 3, 3)  # F.conv2d with groups=4
    kernel = rng.normal(size=(3, 3, 4, 2)).astype("float32")
    layer.set_weights([kernel, np.zeros(8, "float32")])
    np.testing.assert_array_equal(layer.get_weights()[0], kernel)
    # output channel c·2 + m is input channel c through kernel[..., c, m]
    np.testing.assert_array_equal(layer.depthwise_kernel[2 * 3 + 1, 0].detach().cpu().numpy(), kernel[:, :, 3, 1])


def test_depthwise_constraint_writes_through_the_keras_view(rng):
    layer = layers.DepthwiseConv2D(2, depth_multiplier=3, depthwise_constraint="non_neg")
    layer(np.zeros((1, 4, 4, 2), "float32"))
    kernel = rng.normal(size=(2, 2, 2, 3)).astype("float32")
    layer.set_weights([kernel, np.zeros(6, "float32")])
    layer.apply_constraints()
    np.testing.assert_array_equal(layer.get_weights()[0], np.maximum(kernel, 0))


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("padding, strides", [("valid", 1), ("same", 1), ("same", 2), ("valid", 2)])
def test_separable_conv2d_matches_keras(rng, data_format, padding, strides):
    x = channels_last_or_first(rng, (7, 6), 3, data_format)
    ours = same_as_keras(keras.layers.SeparableConv2D(4, 3, strides, padding, data_format, depth_multiplier=2,
                                                      activation="relu"), x)
    assert [w.name for w in ours.weights] == ["depthwise_kernel", "pointwise_kernel", "bias"]
    assert [w.shape for w in ours.weights] == [(3, 3, 3, 2), (1, 1, 6, 4), (4,)]


def test_depthwise_and_separable_conv1d_match_keras(rng):
    x = rng.normal(size=(2, 9, 3)).astype("float32")
    for padding in ["valid", "same"]:
        same_as_keras(keras.layers.DepthwiseConv1D(3, 2, padding, depth_multiplier=2), x)
        same_as_keras(keras.layers.SeparableConv1D(4, 3, 1, padding, dilation_rate=2), x)


# ----- configs ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("layer", [
    layers.Conv1D(4, 3, padding="causal", kernel_regularizer="l2", bias_constraint="non_neg"),
    layers.Conv2D(8, (3, 5), 2, "same", "channels_first", groups=2, activation="relu", use_bias=False),
    layers.Conv2DTranspose(3, 3, 2, "same", output_padding=1, kernel_initializer="he_normal"),
    layers.DepthwiseConv2D(3, depth_multiplier=2, depthwise_regularizer="l1"),
    layers.SeparableConv2D(4, 3, depth_multiplier=2, pointwise_constraint="max_norm"),
], ids=lambda layer: type(layer).__name__)
def test_config_round_trips(layer):
    config = layer.get_config()
    again = type(layer).from_config(config)
    assert again.get_config() == config


def test_keras_2_names_and_list_valued_config_load():
    conv = deserialize_layer({"class_name": "Convolution2D", "config": {
        "name": "c", "filters": 2, "kernel_size": [3, 3], "strides": [1, 1], "padding": "SAME",
        "data_format": "channels_last", "dilation_rate": [1, 1], "groups": 1, "activation": "relu"}})
    assert isinstance(conv, layers.Conv2D) and conv.kernel_size == (3, 3) and conv.padding == "same"
    # Keras 2 writes groups: 1 for DepthwiseConv2D and Conv2DTranspose (subclasses of its Conv2D)
    depthwise = deserialize_layer({"class_name": "DepthwiseConv2D", "config": {"kernel_size": [3, 3], "groups": 1}})
    assert depthwise.get_config()["kernel_size"] == (3, 3) and "groups" not in depthwise.get_config()
    # and its SeparableConv2D carries its Conv2D's unused kernel_* arguments too
    separable = deserialize_layer({"class_name": "SeparableConv2D", "config": {
        "filters": 6, "kernel_size": [3, 3], "groups": 1, "kernel_initializer": {"class_name": "GlorotUniform",
        "config": {"seed": None}}, "kernel_regularizer": None, "kernel_constraint": None}})
    assert "kernel_initializer" not in separable.get_config()
    for name, cls in [("Convolution2DTranspose", layers.Conv2DTranspose),
                      ("SeparableConvolution2D", layers.SeparableConv2D), ("Convolution1D", layers.Conv1D)]:
        assert isinstance(deserialize_layer({"class_name": name, "config": {"filters": 1, "kernel_size": 2}}), cls)


# ----- bad arguments ------------------------------------------------------------------------------------
@pytest.mark.parametrize("make, message", [
    (lambda: layers.Conv2D(6, 3, groups=4), r"groups: filters \(6\) must be divisible by groups \(4\)"),
    (lambda: layers.Conv2D(-4, 3), "filters: expected a positive integer, got -4"),
    (lambda: layers.Conv2D(4, (3,)), r"kernel_size: expected an integer or a list of 2 integers, got \(3,\)"),
    (lambda: layers.Conv2D(4, 0), "kernel_size: expected positive integers, got 0"),
    (lambda: layers.Conv2D(4, 3, padding="causal"), "padding: expected one of 'valid', 'same', got 'causal'"),
    (lambda: layers.Conv1D(4, 3, padding="full"), "padding: expected one of 'valid', 'same', 'causal'"),
    (lambda: layers.Conv2D(4, 3, data_format="NHWC"), "data_format: expected 'channels_last' or"),
    (lambda: layers.Conv2D(4, 3, strides=2, dilation_rate=2), "dilation_rate: strides > 1 cannot be combined"),
    (lambda: layers.Conv2DTranspose(4, 3, strides=2, output_padding=2),
     "output_padding: each output_padding must be smaller than its stride"),
    (lambda: layers.DepthwiseConv2D(3, depth_multiplier=0), "depth_multiplier: expected a positive integer"),
    (lambda: layers.DepthwiseConv2D(3, groups=2), "groups: expected 1"),
    (lambda: layers.Conv2D(4, 3, kernel_size_typo=1), "unknown Conv2D argument 'kernel_size_typo'"),
])
def test_bad_arguments_name_the_field(make, message):
    with pytest.raises(SpecError, match=message):
        make()


def test_input_channels_not_divisible_by_groups_is_refused_at_build():
    with pytest.raises(SpecError, match=r"groups: the input's 5 channels must be divisible by groups \(2\)"):
        layers.Conv2D(4, 3, groups=2)(np.zeros((1, 6, 6, 5), "float32"))


def test_valid_conv_on_too_small_input_and_wrong_rank_are_refused():
    with pytest.raises(SpecError, match="too small"):
        layers.Conv2D(1, 5)(Input(shape=(4, 8, 3)))
    with pytest.raises(SpecError, match="expects inputs of rank 4"):
        layers.Conv2D(1, 3)(Input(shape=(8, 3)))

import numpy as np
import pytest
import torch

from keras_reference import assert_layer_matches_keras, keras, keras_spec, to_numpy, to_numpy_torch
from modelcli import layers
from modelcli.errors import SpecError
from modelcli.layers.deserialize import deserialize_layer
from modelcli.models import model_from_json

# One time mask per sequence of 5 steps: with holes, all valid, leading masked, all masked.
TIME_MASK = np.array([[1, 0, 1, 1, 0], [1, 1, 1, 1, 1], [0, 0, 1, 1, 1], [0, 0, 0, 0, 0]], bool)


def randomized(keras_layer, inputs, rng):
    """Build ``keras_layer`` on ``inputs`` and redraw every weight, so a gate or axis mix-up shows."""
    keras_layer(inputs)
    keras_layer.set_weights([(rng.normal(size=w.shape) * 0.3).astype("float32") for w in keras_layer.get_weights()])
    return keras_layer


@pytest.fixture
def frames(rng):
    """4 sequences of 5 frames, 6×5 pixels, 3 channels."""
    return rng.normal(size=(4, 5, 6, 5, 3)).astype("float32")


@pytest.mark.parametrize("options", [
    {"kernel_size": 3},
    {"kernel_size": 3, "padding": "same", "return_sequences": True, "return_state": True},
    {"kernel_size": (2, 3), "padding": "same", "strides": (2, 1), "go_backwards": True},
    {"kernel_size": 2, "strides": 2, "return_sequences": True, "use_bias": False},
    {"kernel_size": 2, "dilation_rate": (2, 1), "padding": "same", "return_state": True},
    {"kernel_size": 3, "activation": "relu", "recurrent_activation": "hard_sigmoid", "return_sequences": True},
], ids=["valid", "same_sequences_state", "strided_backwards", "even_kernel_no_bias", "dilated", "relu"])
def test_conv_lstm2d_matches_keras(options, frames, rng):
    assert_layer_matches_keras(randomized(keras.layers.ConvLSTM2D(4, **options), frames, rng), frames)


def test_channels_first_matches_keras(frames, rng):
    channels_first = np.ascontiguousarray(frames.transpose(0, 1, 4, 2, 3))
    keras_layer = keras.layers.ConvLSTM2D(4, 3, padding="same", data_format="channels_first",
                                          return_sequences=True, return_state=True)
    ours = assert_layer_matches_keras(randomized(keras_layer, channels_first, rng), channels_first)
    assert ours.compute_output_shape((None, 5, 3, 6, 5)) == [(None, 5, 4, 6, 5), (None, 4, 6, 5), (None, 4, 6, 5)]


@pytest.mark.parametrize("options", [
    {"return_sequences": True, "return_state": True},
    {"go_backwards": True},
    {"return_sequences": True, "go_backwards": True, "zero_output_for_mask": True},
])
def test_masked_time_steps_follow_keras(options, frames, rng):
    """A masked step keeps the states and repeats the previous output (zeros before the first valid one)."""
    keras_layer = randomized(keras.layers.ConvLSTM2D(4, 3, padding="same", **options), frames, rng)
    assert_layer_matches_keras(keras_layer, frames, call_kwargs={"mask": TIME_MASK})


def test_initial_state_in_keras_layout(frames, rng):
    keras_layer = randomized(keras.layers.ConvLSTM2D(4, 3, return_state=True), frames, rng)
    states = [rng.normal(size=(4, 4, 3, 4)).astype("float32") for _ in range(2)]
    ours = deserialize_layer(keras_spec(keras_layer))
    ours(frames)
    ours.set_weights(keras_layer.get_weights())
    expected = to_numpy(keras_layer(frames, initial_state=states))
    got = to_numpy_torch(ours(frames, initial_state=[torch.as_tensor(s) for s in states]))
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, atol=1e-5)


def test_conv_lstm1d_and_3d_match_keras(rng):
    signals = rng.normal(size=(3, 4, 7, 2)).astype("float32")
    assert_layer_matches_keras(randomized(keras.layers.ConvLSTM1D(3, 3, padding="same", return_sequences=True),
                                          signals, rng), signals)
    volumes = rng.normal(size=(2, 3, 4, 5, 3, 2)).astype("float32")
    assert_layer_matches_keras(randomized(keras.layers.ConvLSTM3D(3, 2, strides=(1, 2, 1), return_state=True),
                                          volumes, rng), volumes)


def test_weights_have_keras_names_shapes_and_forget_bias(frames):
    ours = layers.ConvLSTM2D(4, (3, 2))
    ours(torch.as_tensor(frames))
    assert [(w.name, w.shape) for w in ours.weights] == [
        ("kernel", (3, 2, 3, 16)), ("recurrent_kernel", (3, 2, 4, 16)), ("bias", (16,))]
    np.testing.assert_array_equal(ours.get_weights()[2], [0] * 4 + [1] * 4 + [0] * 8)  # gates i, f, c, o


def _without_unset_axes(config):
    """modelcli writes Keras ≥ 3.12's initializer ``input_axes``/``output_axes`` only when they are set."""
    if isinstance(config, dict):
        return {k: _without_unset_axes(v) for k, v in config.items()
                if not (k in ("input_axes", "output_axes") and v is None)}
    return config


@pytest.mark.parametrize("keras_layer", [
    lambda: keras.layers.ConvLSTM2D(4, 3),
    lambda: keras.layers.ConvLSTM2D(8, (3, 1), strides=2, padding="same", data_format="channels_first",
                                    recurrent_activation="hard_sigmoid", use_bias=False, unit_forget_bias=False,
                                    kernel_regularizer="l2", recurrent_constraint="non_neg", dropout=0.2,
                                    recurrent_dropout=0.1, seed=7, return_sequences=True, go_backwards=True),
    lambda: keras.layers.ConvLSTM1D(2, 5, dilation_rate=2, return_state=True),
    lambda: keras.layers.ConvLSTM3D(2, 3, activity_regularizer="l1"),
], ids=["default_2d", "every_option_2d", "1d", "3d"])
def test_config_equals_keras_config(keras_layer):
    keras_layer = keras_layer()
    ours = deserialize_layer(keras_spec(keras_layer))
    config = ours.get_config()
    assert config == _without_unset_axes(keras_layer.get_config())
    assert type(ours).from_config(config).get_config() == config


@pytest.mark.parametrize("options, option", [
    ({"stateful": True}, "stateful"),
    ({"padding": "causal"}, "padding"),
    ({"filters": 0}, "filters"),
])
def test_unsupported_options_are_refused_by_name(options, option):
    with pytest.raises(SpecError, match=option):
        layers.ConvLSTM2D(**{"filters": 2, "kernel_size": 3, **options})


def test_keras_model_file_loads_and_predicts_the_same(tmp_path, frames, rng):
    inputs = keras.Input(frames.shape[1:])
    hidden = keras.layers.ConvLSTM2D(4, 3, padding="same", return_sequences=True)(inputs)
    hidden = keras.layers.ConvLSTM2D(2, 2, data_format="channels_last", go_backwards=True)(hidden)
    outputs = keras.layers.Dense(1)(keras.layers.Flatten()(hidden))
    keras_model = keras.Model(inputs, outputs)
    keras_model.set_weights([(rng.normal(size=w.shape) * 0.3).astype("float32") for w in keras_model.get_weights()])
    keras_model.save_weights(tmp_path / "m.weights.h5")

    model = model_from_json(keras_model.to_json())
    model.load_weights(tmp_path / "m.weights.h5")
    np.testing.assert_allclose(model.predict(frames), keras_model.predict(frames, verbose=0), atol=1e-5)


def test_fit_trains_with_dropout(frames, rng):
    model = layers_model()
    y = rng.normal(size=(4, 1)).astype("float32")
    before = [w.copy() for w in model.get_weights()]
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(frames, y, epochs=2, batch_size=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert all(not np.array_equal(b, a) for b, a in zip(before, model.get_weights()))


def layers_model():
    from modelcli import Input, Model
    inputs = Input((5, 6, 5, 3))
    hidden = layers.ConvLSTM2D(3, 3, padding="same", dropout=0.2, recurrent_dropout=0.2, seed=1)(inputs)
    return Model(inputs, layers.Dense(1)(layers.Flatten()(hidden)))


def test_dropout_only_in_training(frames):
    layer = layers.ConvLSTM2D(3, 3, dropout=0.5, recurrent_dropout=0.5, seed=1)
    x = torch.as_tensor(frames)
    inference = layer(x)
    assert torch.equal(layer(x), inference)
    assert not torch.allclose(layer(x, training=True), inference)

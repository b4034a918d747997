"""Stacked RNN cells and adaptive pooling, each checked against real Keras 3."""
import h5py
import numpy as np
import pytest

from keras_reference import assert_layer_matches_keras, keras, keras_spec, to_numpy, to_numpy_torch
from modelcli import layers
from modelcli.errors import SpecError
from modelcli.layers.deserialize import deserialize_layer
from modelcli.models import model_from_json

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy:DeprecationWarning")

# Sequences 0 and 1 have masked steps between valid ones, 2 is fully valid, 3 fully masked.
HOLES = np.array([[1, 0, 1, 1, 0, 1], [0, 1, 1, 0, 1, 1], [1, 1, 1, 1, 1, 1], [0, 0, 0, 0, 0, 0]], bool)


def redrawn(keras_layer, inputs, rng):
    """Build the Keras layer and give it random weights, so a kernel in the wrong place shows."""
    keras_layer(inputs)
    keras_layer.set_weights([rng.normal(size=w.shape).astype("float32") for w in keras_layer.get_weights()])
    return keras_layer


def lstm_then_gru(**options):
    return keras.layers.RNN([keras.layers.LSTMCell(4), keras.layers.GRUCell(2)], **options)


def without_keras_extras(config):
    """Keras's config minus what modelcli leaves out of every layer's: ``build_config`` of nested
    layers and the initializer arguments ``input_axes``/``output_axes`` left at None (Keras ≥ 3.12)."""
    if isinstance(config, dict):
        return {k: without_keras_extras(v) for k, v in config.items()
                if k != "build_config" and not (k in ("input_axes", "output_axes") and v is None)}
    if isinstance(config, list):
        return [without_keras_extras(v) for v in config]
    return config


@pytest.fixture
def x(rng):
    return rng.normal(size=(4, 6, 3)).astype("float32")


# ----- stacked cells -----------------------------------------------------------------------------
@pytest.mark.parametrize("options", [
    {},
    {"return_sequences": True},
    {"return_sequences": True, "return_state": True, "go_backwards": True},
    {"return_state": True, "zero_output_for_mask": True},
])
@pytest.mark.parametrize("masked", [False, True])
def test_a_list_of_cells_runs_like_keras(options, masked, x, rng):
    call_kwargs = {"mask": HOLES} if masked else {}
    assert_layer_matches_keras(redrawn(lstm_then_gru(**options), x, rng), x, call_kwargs=call_kwargs)


def test_return_state_gives_each_cells_states_as_keras_does(x, rng):
    keras_layer = redrawn(lstm_then_gru(return_state=True), x, rng)
    ours = assert_layer_matches_keras(keras_layer, x)
    output, lstm_states, gru_states = ours(x)
    assert [tuple(s.shape) for s in lstm_states] == [(4, 4), (4, 4)]  # h and c of the LSTMCell
    assert [tuple(s.shape) for s in gru_states] == [(4, 2)]
    np.testing.assert_allclose(to_numpy_torch(output), to_numpy_torch(gru_states[0]), atol=1e-6)
    assert ours.compute_output_shape((None, 6, 3)) == [(None, 2), [(None, 4), (None, 4)], [(None, 2)]]
    assert ours.compute_mask(x, HOLES)[1:] == [None, None]


def test_initial_states_are_given_per_cell(x, rng):
    keras_layer = redrawn(lstm_then_gru(return_sequences=True), x, rng)
    ours = deserialize_layer(keras_spec(keras_layer))
    ours(x)
    ours.set_weights(keras_layer.get_weights())
    initial = [[rng.normal(size=(4, 4)).astype("float32"), rng.normal(size=(4, 4)).astype("float32")],
               [rng.normal(size=(4, 2)).astype("float32")]]
    expected = to_numpy(keras_layer(x, initial_state=initial))
    np.testing.assert_allclose(to_numpy_torch(ours(x, initial_state=initial)), expected, atol=1e-5)


def test_stacked_rnn_cells_given_explicitly_and_three_cells_deep(x, rng):
    cells = keras.layers.StackedRNNCells([keras.layers.SimpleRNNCell(5, activation="relu"),
                                          keras.layers.LSTMCell(3), keras.layers.LSTMCell(2)])
    assert_layer_matches_keras(redrawn(keras.layers.RNN(cells, return_sequences=True), x, rng), x,
                               call_kwargs={"mask": HOLES})


def test_one_step_of_stacked_cells_matches_keras(rng):
    step_input = rng.normal(size=(4, 3)).astype("float32")
    states = [[np.zeros((4, 4), "float32"), np.zeros((4, 4), "float32")], [np.zeros((4, 2), "float32")]]
    keras_cells = keras.layers.StackedRNNCells([keras.layers.LSTMCell(4), keras.layers.GRUCell(2)])
    keras_cells.build((4, 3))
    keras_cells.set_weights([rng.normal(size=w.shape).astype("float32") for w in keras_cells.get_weights()])
    expected_output, expected_states = keras_cells(step_input, states)
    ours = deserialize_layer(keras_spec(keras_cells))
    ours.build((4, 3))
    ours.set_weights(keras_cells.get_weights())
    output, new_states = ours(step_input, states)
    np.testing.assert_allclose(to_numpy_torch(output), to_numpy(expected_output), atol=1e-5)
    np.testing.assert_allclose(to_numpy_torch(new_states[0][1]), to_numpy(expected_states[0][1]), atol=1e-5)
    assert ours.state_size == [4, 4, 2]


def test_config_and_weight_names_follow_keras(x):
    keras_layer = lstm_then_gru(return_sequences=True)
    keras_layer(x)
    ours = deserialize_layer(keras_spec(keras_layer))
    ours(x)
    assert ours.get_config() == without_keras_extras(keras_layer.get_config())
    assert ours.get_config()["cell"]["class_name"] == "StackedRNNCells"
    assert type(ours).from_config(ours.get_config()).get_config() == ours.get_config()
    assert [(w.name, tuple(w.shape)) for w in ours.weights] == \
        [(w.name, tuple(w.shape)) for w in keras_layer.weights]  # kernel, recurrent_kernel, bias per cell


def test_a_list_of_cell_configs_is_accepted():
    layer = layers.RNN([{"class_name": "LSTMCell", "config": {"units": 3}},
                        {"class_name": "GRUCell", "config": {"units": 2}}])
    assert isinstance(layer.cell, layers.StackedRNNCells)
    assert layer.compute_output_shape((None, 6, 3)) == (None, 2)


def test_a_stack_refuses_what_is_not_a_cell():
    with pytest.raises(SpecError, match="Dense"):
        layers.StackedRNNCells([layers.LSTMCell(3), layers.Dense(2)])
    with pytest.raises(SpecError, match="non-empty list"):
        layers.StackedRNNCells([])


def test_keras_model_with_stacked_cells_loads_and_predicts_the_same(tmp_path, x, rng):
    inputs = keras.Input((6, 3))
    hidden = keras.layers.RNN([keras.layers.LSTMCell(4), keras.layers.GRUCell(2), keras.layers.LSTMCell(3)],
                              return_sequences=True)(inputs)
    outputs = keras.layers.Dense(1)(hidden)
    keras_model = keras.Model(inputs, outputs)
    keras_model.set_weights([rng.normal(size=w.shape).astype("float32") for w in keras_model.get_weights()])
    path = tmp_path / "m.weights.h5"
    keras_model.save_weights(path)
    with h5py.File(path) as f:  # one group per cell, the second LSTMCell counted apart
        assert sorted(f["layers/rnn/cell/cells"]) == ["gru_cell", "lstm_cell", "lstm_cell_1"]

    model = model_from_json(keras_model.to_json())
    model.load_weights(path)
    np.testing.assert_allclose(model.predict(x), keras_model.predict(x, verbose=0), atol=1e-5)

    model.save_weights(tmp_path / "ours.weights.h5")  # and Keras reads what modelcli writes
    keras_model.set_weights([np.zeros(w.shape, "float32") for w in keras_model.get_weights()])
    keras_model.load_weights(tmp_path / "ours.weights.h5")
    np.testing.assert_allclose(keras_model.predict(x, verbose=0), model.predict(x), atol=1e-5)


def test_only_a_single_cell_takes_the_fused_kernel():
    single = layers.RNN(layers.LSTMCell(3))
    single.build((None, 6, 3))
    assert single.cell.fused_kernel() is not None
    stacked = layers.RNN([layers.LSTMCell(3), layers.LSTMCell(3)])
    stacked.build((None, 6, 3))
    assert stacked.cell.fused_kernel() is None  # the step loop runs every cell in turn


def test_dropout_in_a_stack_draws_a_mask_per_cell_in_training(x):
    layer = layers.RNN([layers.LSTMCell(4, dropout=0.5, recurrent_dropout=0.5, seed=1),
                        layers.GRUCell(2, dropout=0.5, recurrent_dropout=0.5, seed=2)], return_sequences=True)
    inference = to_numpy_torch(layer(x))
    training = to_numpy_torch(layer(x, training=True))
    assert training.shape == inference.shape == (4, 6, 2)
    assert not np.allclose(training, inference)
    np.testing.assert_allclose(to_numpy_torch(layer(x)), inference)  # no dropout outside training


# ----- adaptive pooling --------------------------------------------------------------------------
ADAPTIVE = [("1D", (2, 12, 3), 4), ("1D", (2, 10, 3), 4), ("2D", (2, 8, 6, 3), (4, 3)), ("2D", (2, 7, 5, 3), (3, 2)),
            ("3D", (2, 4, 6, 8, 3), 2), ("3D", (2, 5, 7, 3, 3), (2, 3, 2))]


@pytest.mark.parametrize("mode", ["Average", "Max"])
@pytest.mark.parametrize("rank, shape, output_size", ADAPTIVE,
                         ids=["1D-divides", "1D-uneven", "2D-divides", "2D-uneven", "3D-divides", "3D-uneven"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_adaptive_pooling_matches_keras(mode, rank, shape, output_size, data_format, rng):
    x = rng.normal(size=shape).astype("float32")
    keras_layer = getattr(keras.layers, f"Adaptive{mode}Pooling{rank}")(output_size, data_format=data_format)
    ours = assert_layer_matches_keras(keras_layer, x)
    assert ours.get_config() == keras_layer.get_config()
    assert type(ours).from_config(ours.get_config()).get_config() == ours.get_config()
    assert ours.compute_output_shape(shape) == keras_layer.compute_output_shape(shape)


def test_uneven_bins_overlap_as_keras_computes_them():
    """Five steps in three bins: [0, 2), [1, 4), [3, 5)."""
    x = np.arange(5, dtype="float32").reshape(1, 5, 1)
    got = to_numpy_torch(layers.AdaptiveAveragePooling1D(3)(x))
    np.testing.assert_allclose(got[0, :, 0], [0.5, 2.0, 3.5])
    np.testing.assert_allclose(got, to_numpy(keras.layers.AdaptiveAveragePooling1D(3)(x)))


def test_adaptive_pooling_refuses_a_bad_output_size():
    with pytest.raises(SpecError, match="output_size"):
        layers.AdaptiveMaxPooling2D((2, 2, 2))
    with pytest.raises(SpecError, match="output_size"):
        layers.AdaptiveAveragePooling1D(0)


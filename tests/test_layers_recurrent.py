import json
from pathlib import Path

import numpy as np
import pytest
import torch

from keras_reference import assert_layer_matches_keras, keras, to_numpy, to_numpy_torch
from modelcli import activations, flavour, layers
from modelcli.errors import SpecError
from modelcli.layers.deserialize import deserialize_layer
from modelcli.layers.recurrent.rnn import RNN

RECURRENT = ["LSTM", "GRU", "SimpleRNN"]

# Two batches of 8 sequences, 6 steps. "one_sided": each sequence's valid steps are one
# block (right padding, left padding, nothing masked, everything masked), which the
# fused kernel runs; "holes": masked steps between valid ones, which need the step loop.
MASKS = {
    "one_sided": [[1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0], [1, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 0],
                  [0, 0, 1, 1, 1, 1], [0, 0, 0, 0, 0, 1], [0, 1, 1, 1, 1, 1], [0, 0, 0, 0, 0, 0]],
    "holes": [[1, 0, 1, 1, 0, 1], [1, 1, 1, 0, 0, 0], [0, 1, 0, 1, 0, 0], [1, 1, 1, 1, 1, 1],
              [0, 0, 0, 0, 0, 0], [0, 1, 1, 0, 1, 1], [1, 1, 0, 0, 0, 1], [0, 0, 1, 0, 0, 0]],
}


@pytest.fixture
def x(rng):
    return rng.normal(size=(8, 6, 3)).astype("float32")


def mask(name):
    return np.array(MASKS[name], bool)


@pytest.mark.parametrize("cls", RECURRENT)
@pytest.mark.parametrize("options", [
    {"return_state": True},
    {"return_sequences": True, "return_state": True, "go_backwards": True},
    {"go_backwards": True, "use_bias": False},
])
def test_recurrent_layers_match_keras(cls, options, x):
    assert_layer_matches_keras(getattr(keras.layers, cls)(3, **options), x)


@pytest.mark.parametrize("cls", RECURRENT)
@pytest.mark.parametrize("mask_name", list(MASKS))
@pytest.mark.parametrize("options", [
    {"return_sequences": True, "return_state": True},
    {"return_sequences": True, "go_backwards": True, "zero_output_for_mask": True},
    {"go_backwards": True, "zero_output_for_mask": True},
])
def test_masked_steps_follow_keras(cls, mask_name, options, x):
    """Masked steps carry the state and repeat the previous output (or give zeros)."""
    assert_layer_matches_keras(getattr(keras.layers, cls)(3, **options), x, call_kwargs={"mask": mask(mask_name)})


def test_mask_from_an_embedding_reaches_the_lstm(rng):
    ids = np.array([[3, 1, 4, 0, 0], [5, 9, 2, 6, 0]])
    vectors = rng.normal(size=(2, 5, 3)).astype("float32")
    keras_lstm = keras.layers.LSTM(4, return_sequences=True)
    ours = assert_layer_matches_keras(keras_lstm, vectors, call_kwargs={"mask": ids != 0})
    tensor = torch.as_tensor(vectors)
    tensor._keras_mask = torch.as_tensor(ids != 0)  # what an Embedding(mask_zero=True) attaches
    out = ours(tensor)
    np.testing.assert_allclose(out.detach().cpu().numpy(), to_numpy(keras_lstm(vectors, mask=ids != 0)), atol=1e-5)
    assert torch.equal(out._keras_mask.cpu(), torch.as_tensor(ids != 0))


@pytest.mark.parametrize("keras_layer", [
    lambda: keras.layers.LSTM(3, activation="relu", recurrent_activation="hard_sigmoid", return_sequences=True),
    lambda: keras.layers.GRU(3, activation="selu", recurrent_activation="hard_sigmoid", return_state=True,
                             go_backwards=True),
    lambda: keras.layers.GRU(3, reset_after=False, return_sequences=True),
    lambda: keras.layers.GRU(3, reset_after=False, use_bias=False, go_backwards=True),
    lambda: keras.layers.SimpleRNN(3, activation="relu", return_sequences=True, go_backwards=True),
    lambda: keras.layers.SimpleRNN(3, activation="sigmoid", return_sequences=True),
], ids=["lstm_relu_hard_sigmoid", "gru_selu", "gru_reset_before", "gru_reset_before_no_bias", "rnn_relu",
        "rnn_sigmoid"])
def test_other_activations_and_gru_reset_before_match_keras(keras_layer, x):
    assert_layer_matches_keras(keras_layer(), x, call_kwargs={"mask": mask("one_sided")})


@pytest.mark.parametrize("cls, n_states", [("LSTM", 2), ("GRU", 1), ("SimpleRNN", 1)])
def test_initial_state_matches_keras(cls, n_states, x, rng):
    initial = [rng.normal(size=(8, 3)).astype("float32") for _ in range(n_states)]
    keras_layer = getattr(keras.layers, cls)(3, return_sequences=True, return_state=True)
    assert_layer_matches_keras(keras_layer, x, call_kwargs={"initial_state": initial})
    # with a mask whose first steps are masked: the state starts from `initial`, the outputs from zeros
    keras_layer = getattr(keras.layers, cls)(3, return_sequences=True, return_state=True)
    assert_layer_matches_keras(keras_layer, x, call_kwargs={"initial_state": initial, "mask": mask("one_sided")})


def test_gru_seed_example_shapes():
    inputs = np.random.default_rng(1).random((32, 10, 8)).astype("float32")
    assert tuple(layers.GRU(4)(inputs).shape) == (32, 4)
    whole_sequence, final_state = layers.GRU(4, return_sequences=True, return_state=True)(inputs)
    assert tuple(whole_sequence.shape) == (32, 10, 4) and tuple(final_state.shape) == (32, 4)


@pytest.mark.parametrize("cls", RECURRENT)
@pytest.mark.parametrize("mask_name", [None, "one_sided"])
def test_fused_kernel_and_step_loop_agree_in_values_and_gradients(cls, mask_name, x, monkeypatch):
    fused = getattr(layers, cls)(3, return_sequences=True, return_state=True, go_backwards=True,
                                 bias_initializer="random_normal")
    loop = getattr(layers, cls).from_config(fused.get_config())
    loop.use_cudnn = False
    inputs = torch.as_tensor(x)
    call_kwargs = {"mask": torch.as_tensor(mask(mask_name))} if mask_name else {}
    fused(inputs, **call_kwargs)
    loop(inputs, **call_kwargs)
    loop.set_weights(fused.get_weights())

    results = []
    for layer in (fused, loop):
        layer.zero_grad()
        outputs = layer(inputs, **call_kwargs)
        sum(o.square().sum() for o in outputs).backward()
        results.append(([o.detach().cpu().numpy() for o in outputs],
                        [p.grad.cpu().numpy().copy() for p in layer.parameters()]))
    (fused_out, fused_grads), (loop_out, loop_grads) = results
    rtol = 1e-4 if fused._device().type == "cpu" else 3e-4  # cuDNN sums in another order than the loop
    for a, b in zip(fused_out + fused_grads, loop_out + loop_grads):
        np.testing.assert_allclose(a, b, atol=1e-5, rtol=rtol)

    def no_loop(*args, **kwargs):
        raise AssertionError("the step loop ran where the fused kernel applies")
    monkeypatch.setattr(RNN, "_loop", no_loop)
    fused(inputs, **call_kwargs)


def test_lstm_bias_gradient_is_not_doubled_by_the_fused_kernel():
    """torch adds b_ih + b_hh; with Keras's one bias, d(out)/d(bias) must match the loop's."""
    layer = layers.LSTM(2)
    inputs = torch.ones(1, 3, 2)
    layer(inputs)
    grads = []
    for use_cudnn in ("auto", False):
        layer.use_cudnn = use_cudnn
        layer.zero_grad()
        layer(inputs).sum().backward()
        grads.append(layer.cell.bias.grad.clone())
    torch.testing.assert_close(grads[0], grads[1])


def test_holes_in_the_mask_use_the_step_loop_and_use_cudnn_true_refuses_them(x):
    layer = layers.LSTM(3, use_cudnn=True)
    layer(x)
    with pytest.raises(SpecError, match="use_cudnn=True"):
        layer(x, mask=mask("holes"))


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
def test_bidirectional_matches_keras_for_each_merge_mode(merge_mode, x):
    keras_layer = keras.layers.Bidirectional(keras.layers.LSTM(3, return_sequences=True), merge_mode=merge_mode)
    assert_layer_matches_keras(keras_layer, x, call_kwargs={"mask": mask("one_sided")})


def test_bidirectional_gru_without_mask_matches_keras(x):
    assert_layer_matches_keras(keras.layers.Bidirectional(keras.layers.GRU(3, return_sequences=True)), x)


@pytest.mark.parametrize("mask_name", [None, "holes"])
def test_bidirectional_with_states_and_a_given_backward_layer_matches_keras(mask_name, x):
    call_kwargs = {"mask": mask(mask_name)} if mask_name else {}
    keras_layer = keras.layers.Bidirectional(keras.layers.LSTM(3, return_state=True), merge_mode="sum")
    assert_layer_matches_keras(keras_layer, x, call_kwargs=call_kwargs)
    keras_layer = keras.layers.Bidirectional(
        keras.layers.GRU(3, return_sequences=True),
        backward_layer=keras.layers.SimpleRNN(3, activation="relu", return_sequences=True, go_backwards=True))
    assert_layer_matches_keras(keras_layer, x, call_kwargs=call_kwargs)


RIGHT_PADDED = np.array([[1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0], [1, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 0]] * 2, bool)


@pytest.mark.parametrize("keras_layer", [
    lambda: keras.layers.Bidirectional(keras.layers.LSTM(3, return_sequences=True, return_state=True)),
    lambda: keras.layers.Bidirectional(keras.layers.GRU(3, return_state=True), merge_mode="mul"),
    lambda: keras.layers.Bidirectional(keras.layers.SimpleRNN(3, return_sequences=True), merge_mode=None),
], ids=["lstm", "gru", "simple_rnn"])
@pytest.mark.parametrize("mask_name", [None, "right_padded"])
def test_bidirectional_runs_both_directions_in_one_fused_call(keras_layer, mask_name, x, monkeypatch):
    """No mask or right padding: one torch bidirectional kernel call, same numbers as Keras."""
    def no_separate_calls(*args, **kwargs):
        raise AssertionError("the directions ran one by one")
    monkeypatch.setattr(RNN, "call", no_separate_calls)
    call_kwargs = {"mask": RIGHT_PADDED} if mask_name else {}
    assert_layer_matches_keras(keras_layer(), x, call_kwargs=call_kwargs)


def test_bidirectional_initial_state_is_split_between_the_directions(x, rng):
    initial = [rng.normal(size=(8, 3)).astype("float32") for _ in range(4)]
    keras_layer = keras.layers.Bidirectional(keras.layers.LSTM(3, return_sequences=True))
    assert_layer_matches_keras(keras_layer, x, call_kwargs={"initial_state": initial})


def test_bidirectional_tracks_forward_and_backward_layers_like_keras(x):
    layer = layers.Bidirectional(layers.LSTM(3, name="encoder"))
    layer(x)
    assert list(dict(layer.named_children())) == ["forward_layer", "backward_layer"]
    assert list(dict(layer.forward_layer.named_children())) == ["cell"]
    assert (layer.forward_layer.name, layer.backward_layer.name) == ("forward_encoder", "backward_encoder")
    assert layer.backward_layer.go_backwards and not layer.forward_layer.go_backwards
    assert [w.shape for w in layer.weights] == [(3, 12), (3, 12), (12,)] * 2


def test_time_distributed_dense_matches_keras(rng):
    inputs = rng.normal(size=(2, 5, 4)).astype("float32")
    assert_layer_matches_keras(keras.layers.TimeDistributed(keras.layers.Dense(3, activation="relu")), inputs)
    layer = layers.TimeDistributed(layers.Dense(3))
    layer(inputs)
    assert list(dict(layer.named_children())) == ["layer"]


def test_time_distributed_conv2d_matches_keras(rng):
    if "Conv2D" not in layers.LAYERS:
        pytest.skip("Conv2D is not implemented yet")
    frames = rng.normal(size=(2, 3, 6, 6, 2)).astype("float32")
    keras_layer = keras.layers.TimeDistributed(keras.layers.Conv2D(4, 3, padding="same"))
    ours = assert_layer_matches_keras(keras_layer, frames)
    assert ours.compute_output_shape((None, 3, 6, 6, 2)) == (None, 3, 6, 6, 4)


def test_time_distributed_wrapping_an_lstm_matches_keras(rng):
    inputs = rng.normal(size=(2, 3, 4, 5)).astype("float32")
    assert_layer_matches_keras(keras.layers.TimeDistributed(keras.layers.LSTM(2)), inputs)


@pytest.mark.parametrize("keras_layer", [
    lambda: keras.layers.LSTM(3, return_sequences=True, return_state=True),
    lambda: keras.layers.GRU(3, return_state=True),
    lambda: keras.layers.SimpleRNN(3),
    lambda: keras.layers.Bidirectional(keras.layers.LSTM(3, return_sequences=True)),
    lambda: keras.layers.Bidirectional(keras.layers.GRU(3, return_state=True), merge_mode=None),
    lambda: keras.layers.Bidirectional(keras.layers.GRU(3, return_state=True, return_sequences=True)),
    lambda: keras.layers.TimeDistributed(keras.layers.Dense(2)),
])
def test_compute_output_shape_matches_keras(keras_layer):
    keras_layer = keras_layer()
    ours = deserialize_layer(keras.saving.serialize_keras_object(keras_layer))
    expected = keras_layer.compute_output_shape((None, 7, 3))
    got = ours.compute_output_shape((None, 7, 3))
    if isinstance(expected, tuple) and expected and isinstance(expected[0], tuple):
        expected = [tuple(s) for s in expected]
    assert got == expected


@pytest.mark.parametrize("keras_layer", [
    lambda: keras.layers.LSTM(3, dropout=0.25, recurrent_dropout=0.5, seed=7, return_sequences=True,
                              kernel_regularizer="l2", recurrent_constraint="non_neg"),
    lambda: keras.layers.GRU(3, reset_after=False, recurrent_activation="hard_sigmoid", go_backwards=True),
    lambda: keras.layers.SimpleRNN(3, activation="relu", stateful=True, unroll=True),
    lambda: keras.layers.RNN(keras.layers.LSTMCell(3), return_state=True),
    lambda: keras.layers.Bidirectional(keras.layers.LSTM(3, return_sequences=True), merge_mode="ave"),
    lambda: keras.layers.TimeDistributed(keras.layers.Dense(2)),
])
def test_config_round_trips_and_equals_keras_config(keras_layer):
    keras_config = keras.saving.serialize_keras_object(keras_layer())
    ours = deserialize_layer(keras_config)
    config = ours.get_config()
    assert type(ours).from_config(config).get_config() == config
    assert set(config) == set(keras_config["config"])
    for key in ("units", "merge_mode", "return_sequences", "go_backwards", "dropout", "recurrent_dropout",
                "reset_after", "stateful"):
        if key in config:
            assert config[key] == keras_config["config"][key]


def test_generic_rnn_over_a_cell_matches_keras(x):
    assert_layer_matches_keras(keras.layers.RNN(keras.layers.GRUCell(3), return_sequences=True), x,
                               call_kwargs={"mask": mask("holes")})


@pytest.mark.parametrize("cell", ["LSTMCell", "GRUCell", "SimpleRNNCell"])
def test_a_cell_called_alone_computes_one_keras_step(cell, rng):
    step_input = rng.normal(size=(4, 3)).astype("float32")
    states = [rng.normal(size=(4, 2)).astype("float32") for _ in range(2 if cell == "LSTMCell" else 1)]
    assert_layer_matches_keras(getattr(keras.layers, cell)(2), (step_input, states))


KERAS2_LSTM = {"name": "lstm_1", "trainable": True, "dtype": "float32", "return_sequences": False,
               "return_state": False, "go_backwards": False, "stateful": False, "unroll": False,
               "time_major": False, "units": 4, "activation": "tanh", "recurrent_activation": "hard_sigmoid",
               "use_bias": True,
               "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
               "recurrent_initializer": {"class_name": "Orthogonal", "config": {"gain": 1.0, "seed": None}},
               "bias_initializer": {"class_name": "Zeros", "config": {}}, "unit_forget_bias": True,
               "kernel_regularizer": None, "recurrent_regularizer": None, "bias_regularizer": None,
               "activity_regularizer": None, "kernel_constraint": None, "recurrent_constraint": None,
               "bias_constraint": None, "dropout": 0.0, "recurrent_dropout": 0.0, "implementation": 2}


def test_keras2_configs_load_with_keras2_hard_sigmoid():
    with flavour.reading(flavour.KERAS2):
        lstm = layers.LSTM.from_config(dict(KERAS2_LSTM))
        bidirectional = deserialize_layer({"class_name": "Bidirectional", "config": {
            "name": "bidirectional_1", "trainable": True, "merge_mode": "concat",
            "layer": {"class_name": "LSTM", "config": dict(KERAS2_LSTM, return_sequences=True)}}})
    assert lstm.cell.recurrent_activation is activations.keras2_hard_sigmoid
    assert lstm.cell.fused_kernel() is None  # hard sigmoid: the step loop runs
    assert bidirectional.backward_layer.go_backwards and bidirectional.backward_layer.zero_output_for_mask
    out = bidirectional(np.ones((2, 5, 3), "float32"))
    assert tuple(out.shape) == (2, 5, 8)
    assert [w.shape for w in bidirectional.weights] == [(3, 16), (4, 16), (16,)] * 2


KERAS2_FIXTURES = Path(__file__).parent / "fixtures" / "keras2" / "tf221"


def keras2_model_layers(name):
    """The layers of a model tf-keras 2.21 saved: built from its JSON as a Keras 2 file,
    each paired with its weights from the legacy HDF5 file (in ``weight_names`` order)."""
    h5py = pytest.importorskip("h5py")
    spec = json.loads((KERAS2_FIXTURES / f"{name}.json").read_text())
    found = {}
    with h5py.File(KERAS2_FIXTURES / f"{name}.legacy_weights.h5", "r") as weights, \
            flavour.reading(flavour.KERAS2):
        for entry in spec["config"]["layers"]:
            group = weights[entry["name"]]
            arrays = [np.asarray(group[w]) for w in group.attrs["weight_names"]]
            if entry["class_name"] in ("InputLayer", "Masking", "Embedding", "GlobalAveragePooling1D",
                                       "Concatenate"):
                found[entry["name"]] = arrays
            else:
                found[entry["name"]] = (deserialize_layer(entry), arrays)
    return found, np.load(KERAS2_FIXTURES / f"{name}.npz")


def run_with_weights(layer_and_weights, inputs, **kwargs):
    layer, arrays = layer_and_weights
    if not layer.built:
        layer(inputs, **kwargs)
        layer.set_weights(arrays)
    return layer(inputs, **kwargs)


def test_keras2_rnn_variants_match_tf_keras():
    """go_backwards, return_state, GRU reset_after=False, Keras 2's hard_sigmoid, SimpleRNN relu,
    Bidirectional mul / ave / None: the outputs tf-keras 2.21 computed."""
    model, data = keras2_model_layers("rnn_variants")
    inputs = torch.as_tensor(data["x0"])
    a = run_with_weights(model["lstm"], inputs)
    b, b_state = run_with_weights(model["gru"], inputs)
    c, c_h, c_c = run_with_weights(model["lstm_1"], a)
    d = run_with_weights(model["simple_rnn"], inputs)
    e = run_with_weights(model["bidirectional"], inputs)
    f = run_with_weights(model["bidirectional_1"], inputs)
    g, g_back = run_with_weights(model["bidirectional_2"], f)
    got = torch.cat([b, b_state, c, c_h, c_c, d, e, g, g_back], dim=-1)
    np.testing.assert_allclose(got.detach().cpu().numpy(), data["y0"], atol=1e-5)


def test_keras2_masked_lstm_timeseries_matches_tf_keras():
    """A Masking layer's mask (with a hole) through LSTM(hard_sigmoid), SimpleRNN and
    TimeDistributed(Dense(hard_sigmoid))."""
    model, data = keras2_model_layers("masked_lstm_timeseries")
    inputs = torch.as_tensor(data["x0"])
    mask = (inputs != 0).any(-1)
    x = run_with_weights(model["lstm"], inputs, mask=mask)
    x = run_with_weights(model["simple_rnn"], x, mask=mask)
    per_step = run_with_weights(model["per_step"], x)
    np.testing.assert_allclose(per_step.detach().cpu().numpy(), data["y0"], atol=1e-5)
    weights = mask[..., None].float().to(x.device)
    masked_mean = (x * weights).sum(1) / weights.sum(1)
    np.testing.assert_allclose(masked_mean.detach().cpu().numpy(), data["y1"], atol=1e-5)


def test_keras2_masked_text_bigru_matches_tf_keras():
    """Embedding(mask_zero=True) feeding Bidirectional GRU, Bidirectional LSTM (sum) and
    GRU(reset_after=False)."""
    model, data = keras2_model_layers("masked_text_bigru")
    tokens = torch.as_tensor(data["x0"]).long()
    (embeddings,) = model["embedding"]
    x, mask = torch.as_tensor(embeddings)[tokens], tokens != 0
    x = run_with_weights(model["bidirectional"], x, mask=mask)
    x = run_with_weights(model["bidirectional_1"], x, mask=mask)
    x = run_with_weights(model["gru_1"], x, mask=mask)
    probabilities = run_with_weights(model["dense"], x)
    np.testing.assert_allclose(probabilities.detach().cpu().numpy(), data["y0"], atol=1e-5)


def test_keras2_graph_passing_initial_states_after_the_sequence(x, rng):
    layer = layers.GRU(3)
    h0 = rng.normal(size=(8, 3)).astype("float32")
    torch.testing.assert_close(layer([x, h0]), layer(x, initial_state=[h0]))


def test_stateful_layer_carries_states_between_calls_like_keras(x):
    keras_layer = keras.layers.LSTM(3, stateful=True, return_sequences=True)
    first = to_numpy(keras_layer(x))
    ours = deserialize_layer(keras.saving.serialize_keras_object(keras_layer))
    ours(x)
    ours.set_weights(keras_layer.get_weights())
    ours.reset_state()
    np.testing.assert_allclose(to_numpy_torch(ours(x)), first, atol=1e-5)
    np.testing.assert_allclose(to_numpy_torch(ours(x)), to_numpy(keras_layer(x)), atol=1e-5)
    ours.reset_state()
    np.testing.assert_allclose(to_numpy_torch(ours(x)), first, atol=1e-5)
    with pytest.raises(SpecError, match="batch of 8"):
        ours(x[:2])


def test_dropout_only_acts_in_training(x):
    layer = layers.GRU(3, dropout=0.5, recurrent_dropout=0.5, return_sequences=True)
    inference = layer(x)
    torch.testing.assert_close(layer(x, training=False), inference)
    assert not torch.allclose(layer(x, training=True), inference)


def test_input_dropout_mask_is_shared_by_every_timestep(rng):
    """Keras draws one input mask per sequence: with out_t = x_t·mask/keep, out/x is constant in t."""
    inputs = rng.uniform(1, 2, size=(64, 5, 3)).astype("float32")
    layer = layers.SimpleRNN(3, activation="linear", use_bias=False, kernel_initializer="identity",
                             recurrent_initializer="zeros", dropout=0.5, return_sequences=True)
    ratio = (layer(inputs, training=True).cpu() / torch.as_tensor(inputs)).detach().numpy()
    np.testing.assert_allclose(ratio, np.broadcast_to(ratio[:, :1], ratio.shape), atol=1e-6)
    assert set(np.round(np.unique(ratio), 5)) == {0.0, 2.0}


def test_seeded_dropout_repeats_in_a_rebuilt_layer(x):
    layer = layers.LSTM(3, dropout=0.5, seed=1)
    rebuilt = layers.LSTM.from_config(layer.get_config())
    layer(x), rebuilt(x)
    rebuilt.set_weights(layer.get_weights())
    torch.testing.assert_close(layer(x, training=True), rebuilt(x, training=True))


def test_lstm_initial_weights_follow_keras_conventions():
    layer = layers.LSTM(3)
    layer(np.zeros((1, 2, 5), "float32"))
    kernel, recurrent_kernel, bias = layer.get_weights()
    assert kernel.shape == (5, 12) and recurrent_kernel.shape == (3, 12)
    np.testing.assert_allclose(recurrent_kernel @ recurrent_kernel.T, np.eye(3), atol=1e-5)  # orthogonal
    np.testing.assert_array_equal(bias, [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0])  # unit forget bias
    limit = np.sqrt(6 / (5 + 12))
    assert np.abs(kernel).max() <= limit


@pytest.mark.parametrize("make, message", [
    (lambda: layers.LSTM(-4), "units: expected a positive integer, got -4"),
    (lambda: layers.GRU(2, dropout="a lot"), "dropout: expected a number between 0 and 1"),
    (lambda: layers.LSTM(2, use_cudnn="sometimes"), "use_cudnn: expected 'auto', true or false"),
    (lambda: layers.Bidirectional(layers.LSTM(2), merge_mode="max"), "merge_mode: expected one of"),
    (lambda: layers.Bidirectional(layers.Dense(2)), "expected a recurrent layer"),
    (lambda: layers.Bidirectional(layers.LSTM(2), backward_layer=layers.LSTM(2)), "go_backwards"),
    (lambda: layers.LSTM(2, time_major=True), "time_major"),
])
def test_bad_arguments_are_refused(make, message):
    with pytest.raises(SpecError, match=message):
        make()


def test_rnn_needs_3d_input():
    with pytest.raises(SpecError, match=r"\(batch, time, features\)"):
        layers.SimpleRNN(2)(np.zeros((2, 3), "float32"))


def test_bidirectional_weights_argument_sets_forward_then_backward_weights(x):
    forward = [np.full((3, 6), 1.0), np.full((2, 6), 2.0), np.full((2, 6), 3.0)]
    backward = [np.full((3, 6), 4.0), np.full((2, 6), 5.0), np.full((2, 6), 6.0)]
    layer = layers.Bidirectional(layers.GRU(2), weights=forward + backward)
    layer(x)
    assert [float(w.mean()) for w in layer.get_weights()] == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]


def test_keras3_weights_file_round_trip(tmp_path, x):
    """Keras's .weights.h5 nests cells under their layer ("lstm/cell/vars/0",
    "bidirectional/forward_layer/cell/vars/0", "time_distributed/layer/vars/0")."""
    h5py = pytest.importorskip("h5py")
    from modelcli.models import model_from_json
    inputs = keras.Input((6, 3))
    hidden = keras.layers.LSTM(4, return_sequences=True)(inputs)
    hidden = keras.layers.Bidirectional(keras.layers.GRU(3, return_sequences=True, reset_after=False))(hidden)
    outputs = keras.layers.TimeDistributed(keras.layers.Dense(2))(hidden)
    model = keras.Model(inputs, outputs)
    model.save_weights(tmp_path / "keras.weights.h5")
    ours = model_from_json(model.to_json())
    ours.load_weights(tmp_path / "keras.weights.h5")
    np.testing.assert_allclose(to_numpy_torch(ours(x)), to_numpy(model(x)), atol=1e-5)

    def datasets(path):
        names = []
        with h5py.File(path, "r") as f:
            f.visititems(lambda name, obj: names.append(name) if isinstance(obj, h5py.Dataset) else None)
        return names
    ours.save_weights(tmp_path / "ours.weights.h5")
    assert datasets(tmp_path / "ours.weights.h5") == datasets(tmp_path / "keras.weights.h5")
    assert "layers/bidirectional/forward_layer/cell/vars/2" in datasets(tmp_path / "ours.weights.h5")

"""The forms of data fit / evaluate / predict take, and the errors for data that does not fit.

Arrays come as NumPy, torch tensors, nested Python lists, lists per input or dicts
keyed by input name; batches come from a Python generator, a
``modelcli.utils.Sequence`` or a torch ``DataLoader``. Where Keras 3 takes the
same data its History is the expected answer.
"""
import threading
import warnings

import numpy as np
import pytest
import torch

from keras_reference import keras
import modelcli
from modelcli.errors import DataError
from modelcli.models import model_from_json

RNG = np.random.default_rng(5)
X = RNG.normal(size=(40, 4)).astype("float32")
Y = RNG.normal(size=(40, 1)).astype("float32")
W = RNG.uniform(0, 2, 40).astype("float32")
SGD = {"class_name": "SGD", "config": {"learning_rate": 0.1}}
SPEC = keras.Sequential([keras.Input((4,)), keras.layers.Dense(5, activation="relu"), keras.layers.Dense(1)])


def ours():
    model = model_from_json(SPEC.to_json())
    model.set_weights(SPEC.get_weights())
    model.compile(SGD, "mse", weighted_metrics=["mae"])
    return model


def keras_model():
    model = keras.models.clone_model(SPEC)
    model.set_weights(SPEC.get_weights())
    model.compile(keras.optimizers.deserialize(SGD), "mse", weighted_metrics=["mae"])
    return model


def batches(epochs=1):
    """(inputs, targets, sample_weights) in batches of 10, as a generator yields them."""
    for _ in range(epochs):
        for i in range(0, 40, 10):
            yield X[i:i + 10], Y[i:i + 10], W[i:i + 10]


class Batches(modelcli.utils.Sequence):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.fetched, self.threads, self.epochs_ended = [], set(), 0

    def __len__(self):
        return 4

    def __getitem__(self, index):
        self.fetched.append(index)
        self.threads.add(threading.current_thread().name)
        i = index * 10
        return X[i:i + 10], Y[i:i + 10], W[i:i + 10]

    def on_epoch_end(self):
        self.epochs_ended += 1


class KerasBatches(keras.utils.PyDataset):
    def __len__(self):
        return 4

    def __getitem__(self, index):
        i = index * 10
        return X[i:i + 10], Y[i:i + 10], W[i:i + 10]


def assert_same_history(got, expected):
    assert sorted(got) == sorted(expected)
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-4, atol=1e-6, err_msg=key)


def array_history(**fit):
    return ours().fit(X, Y, sample_weight=W, batch_size=10, shuffle=False, verbose=0, **fit).history


# ----- arrays in every form ---------------------------------------------------------------------------------
def test_torch_tensors_and_nested_lists_train_like_numpy_arrays():
    expected = array_history(epochs=2)
    as_tensors = ours().fit(torch.tensor(X), torch.tensor(Y), sample_weight=torch.tensor(W), batch_size=10,
                            shuffle=False, epochs=2, verbose=0).history
    as_lists = ours().fit(X.tolist(), Y.tolist(), sample_weight=W.tolist(), batch_size=10, shuffle=False,
                          epochs=2, verbose=0).history
    assert_same_history(as_tensors, expected)
    assert_same_history(as_lists, expected)


def test_inputs_as_a_list_or_a_dict_keyed_by_input_name_train_alike():
    a, b = modelcli.Input((4,), name="a"), modelcli.Input((2,), name="b")
    merged = modelcli.layers.concatenate([a, b])
    model = modelcli.Model([a, b], modelcli.layers.Dense(1, name="out")(merged))
    start = model.get_weights()
    extra = RNG.normal(size=(40, 2)).astype("float32")
    histories = []
    for x, y in [([X, extra], Y), ({"b": extra, "a": X}, {"out": Y})]:
        model.set_weights(start)
        model.compile(SGD, "mse")
        histories.append(model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0).history)
    assert_same_history(*histories)


# ----- generators, Sequences, DataLoaders ------------------------------------------------------------------
def test_generator_with_steps_per_epoch_matches_keras():
    fit = dict(epochs=3, steps_per_epoch=4, verbose=0)
    assert_same_history(ours().fit(batches(3), **fit).history, keras_model().fit(batches(3), **fit).history)


def test_generator_batches_train_like_the_same_arrays():
    assert_same_history(ours().fit(batches(2), epochs=2, steps_per_epoch=4, verbose=0).history,
                        array_history(epochs=2))


def test_generator_without_steps_per_epoch_makes_one_epoch_of_all_it_yields():
    assert_same_history(ours().fit(batches(1), epochs=1, verbose=0).history, array_history(epochs=1))


def test_training_stops_with_a_warning_when_a_generator_runs_dry():
    with pytest.warns(UserWarning, match="ran out of data"):
        history = ours().fit(batches(1), epochs=3, verbose=0)
    assert history.epoch == [0]


@pytest.mark.parametrize("workers", [0, 1, 3])
def test_sequence_matches_keras_pydataset_whatever_the_workers(workers):
    fit = dict(epochs=2, shuffle=False, verbose=0)
    data = Batches()
    got = ours().fit(data, validation_data=Batches(), workers=workers, **fit).history
    expected = keras_model().fit(KerasBatches(), validation_data=KerasBatches(), **fit).history
    assert_same_history(got, expected)
    assert data.epochs_ended == 2
    assert ("MainThread" in data.threads) == (workers == 0)


def test_sequence_with_steps_per_epoch_matches_keras():
    fit = dict(epochs=3, steps_per_epoch=3, shuffle=False, verbose=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # both warn when an epoch reaches the end of the Sequence
        assert_same_history(ours().fit(Batches(), **fit).history, keras_model().fit(KerasBatches(), **fit).history)


def test_sequence_shuffle_shuffles_the_batch_order_each_epoch():
    data = Batches()
    modelcli.utils.set_random_seed(0)
    ours().fit(data, epochs=3, shuffle=True, verbose=0)
    orders = [data.fetched[i:i + 4] for i in range(0, 12, 4)]
    assert all(sorted(order) == [0, 1, 2, 3] for order in orders)
    assert orders != [[0, 1, 2, 3]] * 3


def test_sequence_settings_come_from_its_constructor_unless_fit_gives_them():
    data = Batches(workers=0)
    ours().fit(data, epochs=1, verbose=0)
    assert data.threads == {"MainThread"}
    ours().fit(data, epochs=1, verbose=0, workers=2)
    assert data.threads != {"MainThread"}


def test_dataloader_matches_keras_and_the_same_arrays():
    dataset = torch.utils.data.TensorDataset(torch.tensor(X), torch.tensor(Y), torch.tensor(W))
    loader = torch.utils.data.DataLoader(dataset, batch_size=10)
    got = ours().fit(loader, epochs=2, verbose=0).history
    assert_same_history(got, keras_model().fit(loader, epochs=2, verbose=0).history)
    assert_same_history(got, array_history(epochs=2))


def test_validation_data_as_a_sequence_with_validation_steps_matches_keras():
    fit = dict(epochs=2, batch_size=10, shuffle=False, verbose=0, validation_steps=3)
    got = ours().fit(X, Y, validation_data=Batches(), **fit).history
    assert_same_history(got, keras_model().fit(X, Y, validation_data=KerasBatches(), **fit).history)


def test_validation_data_as_a_generator_is_read_on_from_where_the_last_validation_stopped():
    """Keras 3 replays the first two batches it peeked at; Keras 2 and modelcli read on."""
    yielded = []

    def validation_batches():
        for index, batch in enumerate(batches(1)):
            yielded.append(index)
            yield batch

    ours().fit(X, Y, validation_data=validation_batches(), validation_steps=2, epochs=2, verbose=0, workers=0)
    assert yielded == [0, 1, 2, 3]


def test_class_weight_applies_to_each_batch_of_a_sequence():
    labels = (Y[:, 0] > 0).astype("int64")
    weights = np.where(labels == 1, 3.0, 0.5).astype("float32")

    class Labelled(modelcli.utils.Sequence):
        def __len__(self):
            return 4

        def __getitem__(self, index):
            return X[index * 10:(index + 1) * 10], labels[index * 10:(index + 1) * 10, None]

    from_sequence = ours().fit(Labelled(), class_weight={0: 0.5, 1: 3.0}, shuffle=False, verbose=0).history
    from_arrays = ours().fit(X, labels[:, None], sample_weight=weights, batch_size=10, shuffle=False,
                             verbose=0).history
    assert_same_history(from_sequence, from_arrays)


def test_batch_size_is_ignored_for_a_generator_as_in_keras_3():
    assert_same_history(ours().fit(batches(1), batch_size=3, verbose=0).history, array_history(epochs=1))


def test_evaluate_takes_generators_sequences_and_steps():
    model = ours()
    expected = model.evaluate(X, Y, sample_weight=W, verbose=0)
    assert model.evaluate(batches(), verbose=0) == pytest.approx(expected, rel=1e-5)
    assert model.evaluate(Batches(), verbose=0) == pytest.approx(expected, rel=1e-5)
    assert model.evaluate(Batches(), steps=2, verbose=0) == pytest.approx(
        model.evaluate(X[:20], Y[:20], sample_weight=W[:20], verbose=0), rel=1e-5)


# ----- predict --------------------------------------------------------------------------------------------
def test_predict_matches_keras_in_batches_that_do_not_divide_the_data():
    np.testing.assert_allclose(ours().predict(X, batch_size=7, verbose=0), SPEC.predict(X, batch_size=7, verbose=0),
                               rtol=1e-5, atol=1e-6)


def test_predict_takes_generators_sequences_and_dataloaders():
    model, expected = ours(), SPEC.predict(X, verbose=0)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.tensor(X)), batch_size=10)
    for data in (batches(), Batches(), loader):
        np.testing.assert_allclose(model.predict(data, verbose=0), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.predict(Batches(), steps=2, verbose=0), expected[:20], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("model_fn", [
    lambda: modelcli.Sequential([modelcli.layers.Dense(3), modelcli.layers.Dense(1)]),  # built by predict
    lambda: modelcli.Sequential([modelcli.Input((2, 4), batch_size=8), modelcli.layers.LSTM(3, stateful=True),
                                 modelcli.layers.Dense(1)]),  # keeps states between predict calls
    lambda: ours(),
])
def test_a_model_trains_after_predict(model_fn):
    """predict may run in inference mode, whose tensors can never join training: what it creates
    (weights of an unbuilt model, a stateful RNN's states) must still train afterwards."""
    model = model_fn()
    x = X.reshape(-1, 2, 4) if model.layers[0].__class__.__name__ == "LSTM" else X
    model.predict(x[:8], batch_size=8, verbose=0)
    model.compile(optimizer="sgd", loss="mse")
    before = [w.copy() for w in model.get_weights()]
    model.fit(x[:8], Y[:8], batch_size=8, epochs=1, verbose=0)
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_predict_returns_outputs_shaped_like_the_model_outputs():
    inputs = keras.Input((4,), name="x")
    first, second = keras.layers.Dense(1, name="first")(inputs), keras.layers.Dense(2, name="second")(inputs)
    for outputs in ([first, second], {"first": first, "second": second}):
        kmodel = keras.Model(inputs, outputs)
        model = model_from_json(kmodel.to_json())
        model.set_weights(kmodel.get_weights())
        expected, got = kmodel.predict(X, verbose=0), model.predict(X, verbose=0)
        assert type(got) is type(expected)
        for key in (range(2) if isinstance(got, list) else got):
            np.testing.assert_allclose(got[key], expected[key], rtol=1e-5, atol=1e-6)
        assert type(model.predict_on_batch(X)) is type(expected)


def test_predict_runs_in_inference_mode():
    model = model_from_json(keras.Sequential([keras.Input((4,)), keras.layers.Dropout(0.9)]).to_json())
    np.testing.assert_array_equal(model.predict(X, verbose=0), X)
    np.testing.assert_array_equal(model.predict_on_batch(X), X)


# ----- data that does not fit -----------------------------------------------------------------------------
def two_input_model():
    a, b = modelcli.Input((4,), name="a"), modelcli.Input((2,), name="b")
    merged = modelcli.layers.concatenate([a, b])
    model = modelcli.Model([a, b], [modelcli.layers.Dense(1, name="score")(merged),
                                    modelcli.layers.Dense(3, name="kind")(merged)])
    model.compile(SGD, ["mse", "mse"])
    return model


B = RNG.normal(size=(40, 2)).astype("float32")
TARGETS = [Y, RNG.normal(size=(40, 3)).astype("float32")]
BAD_DATA = {
    "an input of the wrong shape names the input and both shapes": (
        dict(x=[X[:, :3], B], y=TARGETS), r"input 'a'.*\(40, 3\).*\(None, 4\)"),
    "targets of the wrong rank name the output": (
        dict(x=[X, B], y=[Y, np.zeros((40, 3, 2))]), r"\(40, 3, 2\) do not fit output 'kind'.*\(None, 3\)"),
    "x and y of different lengths": (
        dict(x=[X, B], y=[Y[:30], TARGETS[1]]), r"x has 40 samples but y\['score'\] has 30"),
    "inputs of different lengths": (dict(x=[X, B[:30]], y=TARGETS), "a=40, b=30"),
    "no samples": (dict(x=[X[:0], B[:0]], y=[Y[:0], TARGETS[1][:0]]), "no samples"),
    "too few input arrays": (dict(x=[X], y=TARGETS), "2 inputs .a, b. but got 1"),
    "too few target arrays": (dict(x=[X, B], y=[Y]), "2 outputs .score, kind. but got 1"),
    "a dict without an input": (dict(x={"a": X}, y=TARGETS), "no data for input 'b'"),
    "no targets": (dict(x=[X, B]), "needs targets"),
    "class_weight with several outputs": (dict(x=[X, B], y=TARGETS, class_weight={0: 2.0}), "single output"),
    "class_weight with sample_weight": (
        dict(x=[X, B], y=TARGETS, class_weight={0: 2.0}, sample_weight=W), "class_weight` and `sample_weight"),
    "validation_data of four items": (
        dict(x=[X, B], y=TARGETS, validation_data=([X, B], TARGETS, None, None)), "found a tuple of 4"),
    "validation_split too small for the data": (
        dict(x=[X[:1], B[:1]], y=[Y[:1], TARGETS[1][:1]], validation_split=0.5), "not sufficient to split"),
    "an unknown shuffle": (dict(x=[X, B], y=TARGETS, shuffle="yes"), "shuffle must be"),
}


@pytest.mark.parametrize("case", sorted(BAD_DATA))
def test_data_that_does_not_fit_raises_a_clear_data_error(case):
    args, message = BAD_DATA[case]
    with pytest.raises(DataError, match=message):
        two_input_model().fit(verbose=0, **args)


GENERATOR_MISUSE = {
    "y beside a generator": (dict(y=Y), "`y` should not be passed"),
    "sample_weight beside a generator": (dict(sample_weight=W), "`sample_weight` should not be passed"),
    "validation_split of a generator": (dict(validation_split=0.5), "only supported for tensors or NumPy arrays"),
    "use_multiprocessing": (dict(use_multiprocessing=True), "use_multiprocessing=True is not supported"),
}


@pytest.mark.parametrize("case", sorted(GENERATOR_MISUSE))
def test_generator_arguments_keras_refuses_are_refused(case):
    args, message = GENERATOR_MISUSE[case]
    with pytest.raises(DataError, match=message):
        ours().fit(batches(), verbose=0, **args)


def test_a_generator_yielding_inputs_only_cannot_train():
    with pytest.raises(DataError, match="needs targets"):
        ours().fit(((x,) for x, _, _ in batches()), verbose=0)


def test_temporal_sample_weight_mode_expects_weights_per_timestep():
    model = modelcli.Sequential([modelcli.Input((5, 2)), modelcli.layers.Dense(1)])
    model.compile("sgd", "mse", sample_weight_mode="temporal")
    with pytest.raises(DataError, match="expects 2D weights"):
        model.fit(np.zeros((4, 5, 2)), np.zeros((4, 5, 1)), sample_weight=np.ones(4), verbose=0)


def test_nan_in_the_data_is_not_checked_terminate_on_nan_stops_training():
    y = Y.copy()
    y[3] = np.nan
    history = ours().fit(X, y, batch_size=10, epochs=3, verbose=0,
                         callbacks=[modelcli.callbacks.TerminateOnNaN()])
    assert history.epoch == [0] and np.isnan(history.history["loss"][0])


# ----- keras.utils helpers --------------------------------------------------------------------------------
def test_to_categorical_and_normalize_match_keras():
    labels = np.array([[0], [2], [1]])
    np.testing.assert_array_equal(modelcli.utils.to_categorical(labels), keras.utils.to_categorical(labels))
    np.testing.assert_array_equal(modelcli.utils.to_categorical([1, 0], 4), keras.utils.to_categorical([1, 0], 4))
    np.testing.assert_allclose(modelcli.utils.normalize(X), keras.utils.normalize(X), rtol=1e-6)
    np.testing.assert_allclose(modelcli.utils.normalize(X, order=1), keras.utils.normalize(X, order=1), rtol=1e-6)


def test_pack_and_unpack_x_y_sample_weight():
    unpack = modelcli.utils.unpack_x_y_sample_weight
    assert unpack(X) == (X, None, None)
    assert unpack((X, Y)) == (X, Y, None)
    assert unpack([X, Y, W]) == (X, Y, W)
    assert modelcli.utils.pack_x_y_sample_weight(X, Y) == (X, Y)

"""Keras user code for training and evaluation, run through real Keras 3 and through modelcli.

Each test is what a Keras user writes; the modelcli run starts from Keras's weights and must
give what Keras gives: the same History keys in the same order, the same logs in each
callback hook, the same printed lines, the same optimizer and metric API.
"""
from __future__ import annotations

import re

import numpy as np
import pytest

keras = pytest.importorskip("keras")

import modelcli  # noqa: E402

rng = np.random.RandomState(0)
X = rng.rand(40, 4).astype("float32")
Y = (X.sum(1, keepdims=True) > 2).astype("float32")
SW = np.linspace(0.1, 2, 40).astype("float32")


def mlp_pair():
    """The same MLP in Keras and in modelcli, with Keras's weights."""
    theirs = keras.Sequential([keras.Input((4,)), keras.layers.Dense(5, activation="relu"),
                               keras.layers.Dense(1, activation="sigmoid")])
    ours = modelcli.Sequential([modelcli.Input((4,)), modelcli.layers.Dense(5, activation="relu"),
                                modelcli.layers.Dense(1, activation="sigmoid")])
    ours.set_weights(theirs.get_weights())
    return theirs, ours


def both(fn):
    """``fn(keras_or_modelcli, model)`` for each library, on the same starting weights."""
    theirs, ours = mlp_pair()
    return fn(keras, theirs), fn(modelcli, ours)


def assert_same_logs(ours: dict, theirs: dict):
    assert list(ours) == list(theirs)  # the key order too: Keras sorts the keys
    np.testing.assert_allclose(list(ours.values()), list(theirs.values()), rtol=1e-4, atol=1e-6)


def test_history_and_return_dict_keys_are_sorted_as_in_keras():
    def run(lib, model):
        model.compile("sgd", "binary_crossentropy", metrics=["mse", "accuracy"], weighted_metrics=["accuracy"])
        history = model.fit(X, Y, sample_weight=SW, epochs=2, batch_size=8, shuffle=False, verbose=0,
                            validation_data=(X, Y, SW))
        evaluated = model.evaluate(X, Y, sample_weight=SW, verbose=0, return_dict=True)
        on_batch = model.train_on_batch(X[:8], Y[:8], return_dict=True)
        return history.history, evaluated, on_batch

    (history, evaluated, on_batch), (our_history, our_evaluated, our_on_batch) = both(run)
    assert list(history) == ["accuracy", "loss", "mse", "val_accuracy", "val_loss", "val_mse",
                             "val_weighted_accuracy", "weighted_accuracy"]
    assert list(our_history) == list(history)
    for key in history:
        np.testing.assert_allclose(our_history[key], history[key], rtol=1e-4)
    assert_same_logs(our_evaluated, evaluated)
    assert_same_logs(our_on_batch, on_batch)


def test_every_callback_hook_gets_a_logs_dict_as_in_keras():
    def run(lib, model):
        seen = []

        class Recorder(lib.callbacks.Callback):
            def on_train_begin(self, logs=None):
                seen.append(("train_begin", list(logs)))

            def on_epoch_begin(self, epoch, logs=None):
                logs["note"] = epoch  # Keras code may write into the logs it is given
                seen.append(("epoch_begin", list(logs)))

            def on_train_batch_begin(self, batch, logs=None):
                seen.append(("batch_begin", list(logs)))

            def on_train_batch_end(self, batch, logs=None):
                seen.append(("batch_end", list(logs)))

            def on_epoch_end(self, epoch, logs=None):
                seen.append(("epoch_end", list(logs)))

            def on_test_begin(self, logs=None):
                seen.append(("test_begin", list(logs)))

            def on_predict_begin(self, logs=None):
                seen.append(("predict_begin", list(logs)))

            def on_predict_end(self, logs=None):
                seen.append(("predict_end", list(logs)))

        model.compile("sgd", "binary_crossentropy", metrics=["accuracy"])
        model.fit(X[:16], Y[:16], epochs=1, batch_size=8, verbose=0, callbacks=[Recorder()],
                  validation_data=(X[:8], Y[:8]))
        model.predict(X[:8], verbose=0, callbacks=[Recorder()])
        return seen

    theirs, ours = both(run)
    assert ours == theirs
    assert ("epoch_end", ["accuracy", "loss", "val_accuracy", "val_loss"]) in ours


def test_metric_functions_are_exported_as_in_keras_metrics():
    names = ["mean_absolute_error", "mean_squared_error", "binary_crossentropy", "categorical_crossentropy",
             "sparse_categorical_crossentropy", "kl_divergence", "poisson", "hinge", "huber", "log_cosh"]
    for name in names:
        assert getattr(keras.metrics, name) is getattr(keras.losses, name)
        assert getattr(modelcli.metrics, name) is getattr(modelcli.losses, name)

    def run(lib, model):
        model.compile("adam", "mse", metrics=[lib.metrics.mean_absolute_error, "mean_squared_error"])
        return model.fit(X, Y, epochs=1, batch_size=8, shuffle=False, verbose=0).history

    theirs, ours = both(run)
    assert_same_logs({k: v[0] for k, v in ours.items()}, {k: v[0] for k, v in theirs.items()})


def test_learning_rate_and_iterations_take_the_variable_calls_keras_code_makes():
    def run(lib, model):
        model.compile(lib.optimizers.SGD(learning_rate=0.01), "binary_crossentropy")
        read = [float(model.optimizer.learning_rate)]
        model.optimizer.learning_rate.assign(0.5)
        read.append(float(model.optimizer.learning_rate.numpy()))
        history = model.fit(X, Y, epochs=1, batch_size=8, shuffle=False, verbose=0)
        read += [int(model.optimizer.iterations.numpy()), history.history["loss"][0]]
        return read, model.get_weights()

    (read, weights), (our_read, our_weights) = both(run)
    np.testing.assert_allclose(our_read, read, rtol=1e-5)  # Keras reads its float32 variable: 0.00999...
    assert our_read[2] == read[2] == 5
    for mine, theirs in zip(our_weights, weights):
        np.testing.assert_allclose(mine, theirs, atol=1e-5)


def test_learning_rate_of_a_schedule_cannot_be_assigned_as_in_keras():
    schedule = modelcli.optimizers.schedules.ExponentialDecay(0.1, decay_steps=2, decay_rate=0.5)
    optimizer = modelcli.optimizers.SGD(schedule)
    with pytest.raises(TypeError):
        optimizer.learning_rate.assign(0.3)


def printed(capsys, fn):
    capsys.readouterr()
    fn()
    text = capsys.readouterr().out
    return [re.sub(r"\d+(\.\d+)?(ms|us|s)\b", "T", line) for line in text.splitlines() if line.strip()]


def test_evaluate_and_predict_print_their_progress_line_as_keras_does(capsys):
    def run(lib, model):
        model.compile("sgd", "binary_crossentropy", metrics=["accuracy"])
        return (printed(capsys, lambda: model.evaluate(X, Y, batch_size=20, verbose=2)),
                printed(capsys, lambda: model.predict(X, batch_size=20, verbose=2)),
                printed(capsys, lambda: model.evaluate(X, Y, verbose=0)),
                printed(capsys, lambda: model.fit(X, Y, epochs=1, batch_size=20, verbose=2, shuffle=False)))

    theirs, ours = both(run)
    assert len(theirs[0]) == 1 and re.fullmatch(r"2/2 - T - T/step - accuracy: [\d.]+ - loss: [\d.]+", theirs[0][0])
    assert ours[:3] == theirs[:3]
    # one epoch: no "Epoch 1/1" line, as in Keras
    assert len(ours[3]) == len(theirs[3]) == 1 and ours[3][0].startswith("2/2 - T - T/step - accuracy: ")


def test_fit_with_several_epochs_still_numbers_them():
    _, model = mlp_pair()
    model.compile("sgd", "binary_crossentropy")
    import io
    import contextlib
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        model.fit(X, Y, epochs=2, batch_size=20, verbose=2)
    lines = out.getvalue().splitlines()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2"

"""fit / evaluate / train_on_batch arguments, each checked against real Keras 3.

Every comparison starts both models from the same weights (``model_from_json`` of
Keras's own JSON, then ``set_weights``) and trains without shuffling, so Keras's
History is the expected answer.
"""
import functools
import warnings

import numpy as np
import pytest
import torch

from keras_reference import keras
import modelcli
from modelcli.models import model_from_json

RNG = np.random.default_rng(11)
X = RNG.normal(size=(50, 4)).astype("float32")
Y = RNG.normal(size=(50, 1)).astype("float32")
SGD = {"class_name": "SGD", "config": {"learning_rate": 0.1}}


def mlp(outputs=1, activation=None):
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(6, activation="relu"),
                             keras.layers.Dense(outputs, activation=activation)])


def twins(kmodel, optimizer=SGD, **compile_args):
    """The Keras model and ours with its weights, both compiled alike."""
    ours = model_from_json(kmodel.to_json())
    ours.set_weights(kmodel.get_weights())
    kmodel.compile(optimizer=keras.optimizers.deserialize(optimizer), **compile_args)
    ours.compile(optimizer=optimizer, **compile_args)
    return kmodel, ours


def assert_same_weights(ours, kmodel, atol=1e-6):
    for mine, theirs in zip(ours.get_weights(), kmodel.get_weights()):
        np.testing.assert_allclose(mine, np.asarray(theirs), rtol=1e-4, atol=atol)


def assert_same_history(got, expected):
    assert sorted(got) == sorted(expected)
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-4, atol=1e-6, err_msg=key)


FIT_CASES = {
    "batch_size defaults to 32": dict(epochs=2),
    "initial_epoch: epochs is the last epoch": dict(epochs=4, initial_epoch=2, batch_size=8),
    "steps_per_epoch carries a pass over into the next epoch": dict(epochs=4, batch_size=8, steps_per_epoch=3),
    "steps_per_epoch without batch_size sizes the batches": dict(epochs=2, steps_per_epoch=4),
    "steps_per_epoch beyond the data ends the epoch at its end": dict(epochs=2, batch_size=16, steps_per_epoch=9),
    "validation_split takes the last samples": dict(epochs=2, batch_size=8, validation_split=0.2),
    "validation_data with sample weights": dict(epochs=2, batch_size=8, validation_data=(
        X[:20], Y[:20], np.linspace(0, 2, 20).astype("float32"))),
    "validation_freq every second epoch": dict(epochs=4, batch_size=8, validation_split=0.2, validation_freq=2),
    "validation_freq as a list of epochs": dict(epochs=4, batch_size=8, validation_split=0.2, validation_freq=[1, 4]),
    "validation_steps": dict(epochs=2, batch_size=8, validation_data=(X, Y), validation_steps=2),
    "validation_batch_size": dict(epochs=2, batch_size=8, validation_data=(X, Y), validation_batch_size=7),
    "sample_weight per sample": dict(epochs=2, batch_size=8, sample_weight=np.linspace(0, 2, 50).astype("float32")),
    "shuffle='batch' permutes within each batch only": dict(epochs=2, batch_size=8, shuffle="batch"),
}


@pytest.mark.parametrize("case", sorted(FIT_CASES))
def test_fit_history_matches_keras(case):
    fit = dict(shuffle=False, verbose=0) | FIT_CASES[case]
    kmodel, ours = twins(mlp(), loss="mse", metrics=["mae"], weighted_metrics=["mse"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # both warn when steps_per_epoch outruns the data
        expected = kmodel.fit(X, Y, **fit)
        got = ours.fit(X, Y, **fit)
    assert_same_history(got.history, expected.history)
    assert got.epoch == expected.epoch
    assert_same_weights(ours, kmodel, atol=1e-5)


@pytest.mark.parametrize("targets", ["sparse", "one-hot"])
def test_class_weight_matches_keras(targets):
    labels = RNG.integers(0, 3, 50)
    y = labels if targets == "sparse" else keras.utils.to_categorical(labels, 3)
    loss = "sparse_categorical_crossentropy" if targets == "sparse" else "categorical_crossentropy"
    kmodel, ours = twins(mlp(3, "softmax"), loss=loss, weighted_metrics=["accuracy"])
    fit = dict(epochs=2, batch_size=16, shuffle=False, verbose=0, validation_split=0.2,
               class_weight={0: 1.0, 1: 3.0, 2: 0.5})
    assert_same_history(ours.fit(X, y, **fit).history, kmodel.fit(X, y, **fit).history)


def test_temporal_sample_weights_match_keras():
    """Keras 2 asked for compile(sample_weight_mode='temporal'); Keras 3 takes 2D weights as they are."""
    x = RNG.normal(size=(40, 6, 3)).astype("float32")
    y = RNG.integers(0, 4, (40, 6))
    weights = RNG.uniform(0, 1, (40, 6)).astype("float32")
    kmodel = keras.Sequential([keras.Input((6, 3)), keras.layers.LSTM(5, return_sequences=True),
                               keras.layers.TimeDistributed(keras.layers.Dense(4, activation="softmax"))])
    ours = model_from_json(kmodel.to_json())
    ours.set_weights(kmodel.get_weights())
    kmodel.compile("rmsprop", "sparse_categorical_crossentropy", weighted_metrics=["accuracy"])
    ours.compile("rmsprop", "sparse_categorical_crossentropy", weighted_metrics=["accuracy"],
                 sample_weight_mode="temporal")
    fit = dict(epochs=2, batch_size=8, shuffle=False, verbose=0, sample_weight=weights)
    assert_same_history(ours.fit(x, y, **fit).history, kmodel.fit(x, y, **fit).history)


def test_output_mask_weights_loss_and_metrics_as_in_keras():
    """Embedding(mask_zero=True) → LSTM(return_sequences) → TimeDistributed: padded steps do not count."""
    tokens = RNG.integers(1, 20, (48, 7)).astype("int32")
    tokens[::2, 4:] = 0
    tokens[1::3, 2:] = 0
    y = RNG.integers(0, 5, (48, 7))
    inputs = keras.Input((7,), dtype="int32")
    h = keras.layers.Embedding(20, 6, mask_zero=True)(inputs)
    h = keras.layers.LSTM(8, return_sequences=True)(h)
    outputs = keras.layers.TimeDistributed(keras.layers.Dense(5, activation="softmax"))(h)
    kmodel, ours = twins(keras.Model(inputs, outputs), optimizer={"class_name": "Adam", "config": {}},
                         loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    fit = dict(epochs=2, batch_size=16, shuffle=False, verbose=0, validation_split=0.25)
    assert_same_history(ours.fit(tokens, y, **fit).history, kmodel.fit(tokens, y, **fit).history)
    np.testing.assert_allclose(ours.evaluate(tokens, y, verbose=0), kmodel.evaluate(tokens, y, verbose=0), rtol=1e-5)


def two_output_model():
    a = keras.Input((4,), name="a")
    b = keras.Input((2,), name="b")
    h = keras.layers.Dense(6, activation="relu")(keras.layers.concatenate([a, b]))
    return keras.Model([a, b], [keras.layers.Dense(1, name="score")(h),
                                keras.layers.Dense(3, activation="softmax", name="kind")(h)])


def two_output_data():
    x = {"a": X, "b": RNG.normal(size=(50, 2)).astype("float32")}
    y = {"score": Y, "kind": RNG.integers(0, 3, 50)}
    return x, y


def test_two_output_model_with_dicts_and_weights_per_output_matches_keras():
    """Targets and sample weights keyed by output name (Keras 3 itself takes only lists for the weights
    of a model whose outputs are a list)."""
    x, y = two_output_data()
    weights = {"score": np.linspace(0, 1, 50).astype("float32"), "kind": np.ones(50, "float32")}
    kmodel, ours = twins(two_output_model(), loss={"score": "mse", "kind": "sparse_categorical_crossentropy"},
                         loss_weights={"score": 0.5, "kind": 1.0}, metrics={"kind": ["accuracy"]},
                         weighted_metrics={"score": ["mae"]})
    fit = dict(epochs=2, batch_size=8, shuffle=False, verbose=0, validation_split=0.2)
    expected = kmodel.fit(x, [y["score"], y["kind"]], sample_weight=[weights["score"], weights["kind"]], **fit)
    assert_same_history(ours.fit(x, y, sample_weight=weights, **fit).history, expected.history)


@pytest.mark.parametrize("metrics, weighted", [
    (["mae"], ["mae"]),
    (["mae", "mse"], ["mae", "mae", "mse"]),
    (["mae", "mae"], None),
    ({"score": ["mae"], "kind": ["accuracy"]}, {"score": ["mae", "mae"], "kind": ["accuracy"]}),
])
def test_a_weighted_metric_whose_name_is_taken_logs_as_weighted_name(metrics, weighted):
    two = isinstance(metrics, dict)
    x, y = two_output_data() if two else (X, Y)
    loss = {"score": "mse", "kind": "sparse_categorical_crossentropy"} if two else "mse"
    kmodel, ours = twins(two_output_model() if two else mlp(), loss=loss, metrics=metrics, weighted_metrics=weighted)
    weights = np.linspace(0, 1, 50).astype("float32")
    fit = dict(epochs=1, batch_size=8, shuffle=False, verbose=0)
    expected = kmodel.fit(x, [y["score"], y["kind"]] if two else y, sample_weight=[weights, weights] if two
                          else weights, **fit)
    got = ours.fit(x, y, sample_weight={"score": weights, "kind": weights} if two else weights, **fit)
    assert_same_history(got.history, expected.history)


def test_evaluate_returns_a_list_in_metrics_names_order_or_a_dict():
    x, y = two_output_data()
    kmodel, ours = twins(two_output_model(), loss=["mse", "sparse_categorical_crossentropy"],
                         metrics=[["mae"], ["accuracy"]])
    expected = kmodel.evaluate(x, y, verbose=0)
    got = ours.evaluate(x, y, verbose=0)
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    assert ours.metrics_names == ["loss", "score_loss", "kind_loss", "kind_accuracy", "score_mae"]
    as_dict = ours.evaluate(x, y, verbose=0, return_dict=True)
    assert [as_dict[k] for k in ours.metrics_names] == got


def test_evaluate_with_the_loss_only_returns_a_scalar():
    kmodel, ours = twins(mlp(), loss="mse")
    assert isinstance(ours.evaluate(X, Y, verbose=0), float)
    assert ours.evaluate(X, Y, verbose=0) == pytest.approx(kmodel.evaluate(X, Y, verbose=0), rel=1e-5)


def test_train_on_batch_and_test_on_batch_match_keras():
    kmodel, ours = twins(mlp(), loss="mse", metrics=["mae"])
    for _ in range(3):
        np.testing.assert_allclose(ours.train_on_batch(X, Y), kmodel.train_on_batch(X, Y), rtol=1e-5)
    np.testing.assert_allclose(ours.test_on_batch(X[:10], Y[:10]), kmodel.test_on_batch(X[:10], Y[:10]), rtol=1e-5)
    assert ours.train_on_batch(X, Y, return_dict=True).keys() == {"loss", "mae"}


def test_loss_scale_factor_scales_the_loss_and_unscales_the_gradients():
    scaled = {"class_name": "SGD", "config": {"learning_rate": 0.1, "loss_scale_factor": 1024.0}}
    kmodel, ours = twins(mlp(), optimizer=scaled, loss="mse")
    fit = dict(epochs=2, batch_size=8, shuffle=False, verbose=0)
    assert_same_history(ours.fit(X, Y, **fit).history, kmodel.fit(X, Y, **fit).history)
    assert_same_weights(ours, kmodel)


def test_use_ema_leaves_the_moving_average_in_the_weights_after_fit():
    ema = {"class_name": "Adam", "config": {"learning_rate": 0.05, "use_ema": True, "ema_momentum": 0.9}}
    kmodel, ours = twins(mlp(), optimizer=ema, loss="mse")
    fit = dict(epochs=2, batch_size=8, shuffle=False, verbose=0)
    kmodel.fit(X, Y, **fit)
    ours.fit(X, Y, **fit)
    assert_same_weights(ours, kmodel)


def test_weight_decay_skips_weights_excluded_by_their_keras_name():
    adamw = {"class_name": "AdamW", "config": {"learning_rate": 0.05, "weight_decay": 0.5}}
    kmodel, ours = twins(mlp(), optimizer=adamw, loss="mse")
    kmodel.optimizer.exclude_from_weight_decay(var_names=["bias"])
    ours.optimizer.exclude_from_weight_decay(var_names=["bias"])
    fit = dict(epochs=2, batch_size=8, shuffle=False, verbose=0)
    kmodel.fit(X, Y, **fit)
    ours.fit(X, Y, **fit)
    assert_same_weights(ours, kmodel)


def test_callbacks_see_the_same_hooks_as_in_keras():
    def recorder(base):
        class Recorder(base):
            def __init__(self):
                super().__init__()
                self.events = []

        hooks = ["on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end", "on_train_batch_begin",
                 "on_train_batch_end", "on_test_begin", "on_test_end", "on_test_batch_begin", "on_test_batch_end"]
        for hook in hooks:
            setattr(Recorder, hook, lambda self, *args, _hook=hook, **kwargs: self.events.append(_hook))
        return Recorder()

    kmodel, ours = twins(mlp(), loss="mse")
    theirs, mine = recorder(keras.callbacks.Callback), recorder(modelcli.callbacks.Callback)
    fit = dict(epochs=2, batch_size=16, validation_split=0.2, shuffle=False, verbose=0)
    kmodel.fit(X, Y, callbacks=[theirs], **fit)
    ours.fit(X, Y, callbacks=[mine], **fit)
    assert mine.events == theirs.events
    assert mine.params == {"verbose": 0, "epochs": 2, "steps": 3}


@pytest.mark.parametrize("verbose, lines", [(0, 0), (2, 2), ("auto", 2)])
def test_verbose_0_is_silent_and_2_prints_a_line_per_epoch(capsys, verbose, lines):
    _, ours = twins(mlp(), loss="mse")
    ours.fit(X, Y, epochs=2, verbose=verbose)
    out = capsys.readouterr().out
    assert out.count("Epoch ") == lines
    assert out.count("loss: ") == lines


def test_fit_before_compile_raises_like_keras_2_and_3():
    model = model_from_json(mlp().to_json())
    with pytest.raises(RuntimeError, match="compile"):
        model.fit(X, Y, verbose=0)
    with pytest.raises(ValueError, match="compile"):
        model.evaluate(X, Y, verbose=0)


def test_jit_compile_trains_through_torch_compile_to_the_eager_history(monkeypatch):
    """The default inductor backend needs ~50 s of C++ compilation here (2 cores); ``aot_eager``
    traces the same forward and backward graphs without it."""
    traced, real_compile = [], torch.compile

    def tracing_compile(fn, **kwargs):
        traced.append(fn)
        return real_compile(fn, backend="aot_eager", **kwargs)

    labels = RNG.integers(0, 3, 48)
    spec = mlp(3, "softmax").to_json()

    def history(jit_compile):
        modelcli.utils.set_random_seed(3)
        model = model_from_json(spec)
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"], jit_compile=jit_compile)
        return model.fit(X[:48], labels, epochs=2, batch_size=16, verbose=0).history

    eager = history(False)
    monkeypatch.setattr(torch, "compile", tracing_compile)
    compiled = history(True)
    assert len(traced) == 1
    for key in eager:
        np.testing.assert_allclose(compiled[key], eager[key], rtol=0, atol=1e-5)


def test_jit_compile_falls_back_to_eager_with_a_warning_when_compiling_fails(monkeypatch):
    def failing_compile(fn, **kwargs):
        @functools.wraps(fn)
        def run(*args):
            raise RuntimeError("InductorError: no working C compiler")
        return run

    monkeypatch.setattr(torch, "compile", failing_compile)
    kmodel, ours = twins(mlp(), loss="mse")
    ours.compile(optimizer=SGD, loss="mse", jit_compile=True)
    fit = dict(epochs=2, batch_size=8, shuffle=False, verbose=0)
    with pytest.warns(UserWarning, match="torch.compile failed"):
        got = ours.fit(X, Y, **fit).history
    assert_same_history(got, kmodel.fit(X, Y, **fit).history)

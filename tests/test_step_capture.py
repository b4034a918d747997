"""The captured training step (trainer/step_capture.py), exercised without a GPU.

``MODELCLI_CUDA_GRAPHS=emulate`` runs the capture machinery — static buffers, step
factors read from device tensors, host bookkeeping, the eager partial batch — with
the recorded body run eagerly instead of replayed. Training that way must give the
History and weights of the ordinary eager step bit for bit. What decides between
capture and eager is tested with a CUDA device object (no GPU needed to make one).
"""
import warnings

import numpy as np
import pytest
import torch

import modelcli
from modelcli import callbacks, layers, optimizers
from modelcli.errors import ConfigError
from modelcli.trainer import step_capture
from modelcli.trainer.step_capture import WARMUP_STEPS, WholeStepCapture, refusal, train_step_for
from modelcli.utils.random_seed import set_random_seed

CUDA = torch.device("cuda")  # a device object only: nothing runs on it


def mlp():
    return modelcli.Sequential([layers.Input((6,)), layers.Dense(16, activation="relu"), layers.Dropout(0.3),
                                layers.Dense(3, activation="softmax")])


def cnn():
    return modelcli.Sequential([layers.Input((8, 8, 2)), layers.Conv2D(4, 3, activation="relu"),
                                layers.BatchNormalization(), layers.MaxPooling2D(), layers.Flatten(),
                                layers.Dense(1, activation="sigmoid")])


def data(model_fn, n=90):
    rng = np.random.default_rng(3)
    if model_fn is mlp:
        return rng.normal(size=(n, 6)).astype("float32"), rng.integers(0, 3, n)
    return rng.normal(size=(n, 8, 8, 2)).astype("float32"), rng.integers(0, 2, (n, 1)).astype("float32")


class BatchLosses(callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seen = []

    def on_train_batch_end(self, batch, logs=None):
        self.seen.append(logs["loss"])


def train(monkeypatch, graphs_mode, model_fn, optimizer, epochs=3, **fit_args):
    """(history, weights, per-batch losses, optimizer iterations) of one seeded fit."""
    monkeypatch.setenv("MODELCLI_CUDA_GRAPHS", graphs_mode)
    set_random_seed(7)
    model = model_fn()
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy" if model_fn is mlp
                  else "binary_crossentropy", metrics=["accuracy"])
    x, y = data(model_fn)
    batches = BatchLosses()
    history = model.fit(x, y, batch_size=16, epochs=epochs, verbose=0, validation_split=0.2,
                        callbacks=[batches] + fit_args.pop("callbacks", []), **fit_args)
    return history.history, model.get_weights(), batches.seen, model.optimizer.iterations


def assert_identical(a, b):
    (hist_a, weights_a, batches_a, steps_a), (hist_b, weights_b, batches_b, steps_b) = a, b
    assert hist_a == hist_b
    assert batches_a == batches_b
    assert steps_a == steps_b
    for wa, wb in zip(weights_a, weights_b):
        np.testing.assert_array_equal(wa, wb)


@pytest.fixture
def replays(monkeypatch):
    """Counts the steps that went through the static buffers."""
    count = []
    original = WholeStepCapture._replay

    def counting(self, *batch):
        count.append(1)
        return original(self, *batch)

    monkeypatch.setattr(WholeStepCapture, "_replay", counting)
    return count


@pytest.mark.parametrize("model_fn, optimizer", [
    (mlp, "adam"),
    (cnn, "rmsprop"),
    (mlp, optimizers.AdamW(learning_rate=optimizers.schedules.ExponentialDecay(0.01, 3, 0.5))),
    (mlp, optimizers.Adagrad(learning_rate=optimizers.schedules.ExponentialDecay(0.05, 3, 0.5))),
    (cnn, optimizers.Adamax(learning_rate=0.01, weight_decay=0.01)),
])
def test_emulated_capture_trains_bit_for_bit_like_the_eager_step(monkeypatch, replays, model_fn, optimizer):
    eager = train(monkeypatch, "off", model_fn, optimizer if isinstance(optimizer, str)
                  else optimizers.deserialize(optimizers.serialize(optimizer)))
    assert not replays
    emulated = train(monkeypatch, "emulate", model_fn, optimizer, shuffle=True)
    # 72 training samples at batch 16: 4 full batches and a partial one (eager) per epoch
    assert len(replays) == 3 * 4 - WARMUP_STEPS
    assert_identical(eager, emulated)


@pytest.mark.parametrize("optimizer", [
    lambda: "sgd", lambda: optimizers.SGD(0.05, momentum=0.9, nesterov=True),
    lambda: optimizers.Adadelta(learning_rate=optimizers.schedules.ExponentialDecay(1.0, 3, 0.5)),
], ids=["sgd", "sgd-nesterov", "adadelta-schedule"])
def test_emulated_fused_alpha_updates_train_like_the_eager_step_to_one_rounding(monkeypatch, replays, optimizer):
    """SGD's and Adadelta's captured updates form lr·step before adding it (``alpha`` takes no
    tensor), where the eager CPU op fuses the two: the same training up to a rounding per update."""
    eager = train(monkeypatch, "off", mlp, optimizer())
    emulated = train(monkeypatch, "emulate", mlp, optimizer())
    assert replays and emulated[3] == eager[3]
    np.testing.assert_allclose(emulated[0]["loss"], eager[0]["loss"], rtol=1e-6)
    for got, expected in zip(emulated[1], eager[1]):
        np.testing.assert_allclose(got, expected, atol=1e-6)


def test_learning_rate_set_by_a_callback_reaches_the_captured_step(monkeypatch, replays):
    halve = lambda: callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5)  # noqa: E731
    eager = train(monkeypatch, "off", mlp, "rmsprop", callbacks=[halve()])
    emulated = train(monkeypatch, "emulate", mlp, "rmsprop", callbacks=[halve()])
    assert replays
    assert_identical(eager, emulated)
    constant = train(monkeypatch, "emulate", mlp, "rmsprop")
    assert constant[0]["loss"] != emulated[0]["loss"]  # the schedule did change the training


def fits(monkeypatch, graphs_mode, between=None, second_batch_size=16, model_fn=mlp):
    """Two seeded fits of ``model_fn()`` (6 inputs, 3 classes), ``between(model)`` run between them; returns (histories, weights,
    the step object each fit kept on the model, how many steps were recorded)."""
    monkeypatch.setenv("MODELCLI_CUDA_GRAPHS", graphs_mode)
    recorded = []
    original = WholeStepCapture._capture
    monkeypatch.setattr(WholeStepCapture, "_capture", lambda self, *b: (recorded.append(1), original(self, *b)))
    set_random_seed(7)
    model = model_fn()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x, y = data(mlp)
    first = model.fit(x, y, batch_size=16, epochs=2, verbose=0).history
    kept = [vars(model).get("_whole_step")]
    if between:
        between(model)
    second = model.fit(x, y, batch_size=second_batch_size, epochs=2, verbose=0).history
    kept.append(vars(model).get("_whole_step"))
    return [first, second], model.get_weights(), kept, len(recorded)


def test_a_second_fit_replays_the_step_the_first_recorded(monkeypatch, replays):
    """As Keras keeps its train function until the next compile: no warm-up and no second recording."""
    eager = fits(monkeypatch, "off")
    emulated = fits(monkeypatch, "emulate")
    # 90 samples at batch 16: 5 full batches and a partial one per epoch, 2 epochs per fit
    assert len(replays) == (10 - WARMUP_STEPS) + 10
    assert emulated[3] == 1 and emulated[2][0] is emulated[2][1]
    assert emulated[0] == eager[0]
    for got, expected in zip(emulated[1], eager[1]):
        np.testing.assert_array_equal(got, expected)


def test_set_weights_between_fits_keeps_the_recording_and_trains_from_the_new_weights(monkeypatch):
    start = mlp().get_weights()
    eager = fits(monkeypatch, "off", between=lambda m: m.set_weights(start))
    emulated = fits(monkeypatch, "emulate", between=lambda m: m.set_weights(start))
    assert emulated[3] == 1  # set_weights writes into the recorded tensors, so the graph still holds
    assert emulated[0] == eager[0]
    for got, expected in zip(emulated[1], eager[1]):
        np.testing.assert_array_equal(got, expected)


def _freeze_first(model):
    model.layers[0].trainable = False


def _recompile(model):
    model.compile(optimizer=model.optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])


@pytest.mark.parametrize("between, second_batch_size, same_object", [
    (_freeze_first, 16, False),
    (_recompile, 16, False),
    (None, 8, True),
], ids=["trainable-changed", "recompiled", "other-batch-size"])
def test_a_fit_after_a_change_the_recording_cannot_follow_records_again(monkeypatch, replays, between,
                                                                       second_batch_size, same_object):
    eager = fits(monkeypatch, "off", between, second_batch_size)
    emulated = fits(monkeypatch, "emulate", between, second_batch_size)
    assert emulated[3] == 2
    assert (emulated[2][0] is emulated[2][1]) == same_object
    assert emulated[0] == eager[0]
    for got, expected in zip(emulated[1], eager[1]):
        np.testing.assert_array_equal(got, expected)


def test_a_failed_capture_warns_once_and_trains_eagerly(monkeypatch, replays):
    def fail(self, *batch):
        raise RuntimeError("operation not permitted when stream is capturing")

    monkeypatch.setattr(WholeStepCapture, "_capture", fail)
    monkeypatch.setattr(step_capture, "_warned", set())
    eager = train(monkeypatch, "off", mlp, "adam")
    with pytest.warns(UserWarning, match="not captured.*capture failed: RuntimeError") as caught:
        fallen_back = train(monkeypatch, "emulate", mlp, "adam")
    assert len([w for w in caught if "not captured" in str(w.message)]) == 1
    assert not replays
    assert_identical(eager, fallen_back)


def test_masked_outputs_fall_back_to_the_eager_step(monkeypatch, replays):
    monkeypatch.setattr(step_capture, "_warned", set())
    monkeypatch.setenv("MODELCLI_CUDA_GRAPHS", "emulate")
    model = modelcli.Sequential([layers.Input((5, 2)), layers.Masking(0.0), layers.LSTM(3, return_sequences=True),
                                 layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    x = np.random.default_rng(0).normal(size=(40, 5, 2)).astype("float32")
    x[:, 3:] = 0.0
    with pytest.warns(UserWarning, match="outputs carry masks"):
        model.fit(x, x[..., :1], batch_size=8, epochs=1, verbose=0)
    assert not replays


def test_capture_is_chosen_on_cuda_for_every_optimizer_but_nadam(monkeypatch):
    monkeypatch.setenv("MODELCLI_CUDA_GRAPHS", "auto")
    for optimizer in ("adam", "adamw", "rmsprop", "sgd", "adagrad", "adamax", "adadelta"):
        model = mlp()
        model.compile(optimizer=optimizer, loss="mse")
        assert refusal(model, CUDA) is None
        assert isinstance(train_step_for(model, CUDA), WholeStepCapture)


@pytest.mark.parametrize("compile_args, reason", [
    ({"optimizer": "nadam"}, "Nadam: its update needs the host every step"),
    ({"optimizer": optimizers.Adam(gradient_accumulation_steps=2)}, "gradient_accumulation_steps"),
    ({"optimizer": optimizers.Adam(use_ema=True)}, "use_ema"),
])
def test_capture_is_refused_with_a_warning_when_the_step_needs_the_host(monkeypatch, compile_args, reason):
    monkeypatch.setenv("MODELCLI_CUDA_GRAPHS", "auto")
    monkeypatch.setattr(step_capture, "_warned", set())
    model = mlp()
    model.compile(loss="mse", **compile_args)
    assert reason in refusal(model, CUDA)
    with pytest.warns(UserWarning, match="not captured as a CUDA graph"):
        assert train_step_for(model, CUDA) == model._train_step
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        train_step_for(model, CUDA)  # once per reason and process


@pytest.mark.parametrize("setting, compile_args, device, reason", [
    ("auto", {}, torch.device("cpu"), "not on CUDA"),
    ("off", {}, CUDA, "turned off"),
    ("auto", {"run_eagerly": True}, CUDA, "turned off"),
    ("auto", {"jit_compile": True}, CUDA, "jit_compile"),
])
def test_capture_is_refused_quietly_by_choice_or_off_cuda(monkeypatch, setting, compile_args, device, reason):
    monkeypatch.setenv("MODELCLI_CUDA_GRAPHS", setting)
    model = mlp()
    model.compile(optimizer="adam", loss="mse", **compile_args)
    assert reason in refusal(model, device)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert train_step_for(model, device) == model._train_step


def test_an_unknown_setting_is_a_config_error(monkeypatch):
    monkeypatch.setenv("MODELCLI_CUDA_GRAPHS", "sometimes")
    model = mlp()
    model.compile(optimizer="adam", loss="mse")
    with pytest.raises(ConfigError, match="MODELCLI_CUDA_GRAPHS must be one of auto, off, emulate"):
        model.fit(*data(mlp), verbose=0)


def test_step_factors_are_the_numbers_the_eager_update_uses():
    adam = optimizers.AdamW(learning_rate=0.01, weight_decay=0.1)
    adam.build([torch.zeros(3)])
    adam._iterations = 41
    factors = adam.step_factors()
    assert list(factors) == ["alpha", "decay"]
    t = np.float32(42)
    expected_alpha = np.float32(0.01) * np.sqrt(np.float32(1) - np.float32(0.999) ** t) / (
        np.float32(1) - np.float32(0.9) ** t)
    assert factors["alpha"] == float(np.float32(expected_alpha))
    assert factors["decay"] == float(np.float32(1) - np.float32(0.1) * np.float32(0.01))
    assert optimizers.RMSprop(learning_rate=0.05).step_factors() == {"lr": 0.05}


def test_capture_is_on_by_default_on_cuda_only(monkeypatch):
    monkeypatch.delenv("MODELCLI_CUDA_GRAPHS", raising=False)
    model = mlp()
    model.compile(optimizer="adam", loss="mse")
    assert refusal(model, CUDA) is None
    assert refusal(model, torch.device("cpu")) == "not on CUDA"

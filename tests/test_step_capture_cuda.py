"""The captured training step on a real GPU: the graph replays, and trains as the eager step does.

These tests need CUDA (``MODELCLI_TEST_CUDA=1`` on a GPU machine) and are skipped
elsewhere; ``tests/test_step_capture.py`` covers the same machinery on the CPU in
``emulate`` mode. Without Dropout the captured kernels are the eager ones, so
History and weights agree to float rounding; with Dropout the masks come from the
graph's own Philox offsets, which must still change on every replay.
"""
import numpy as np
import pytest
import torch

import modelcli
from modelcli import callbacks, layers
from modelcli.trainer.step_capture import WARMUP_STEPS

from modelcli.utils.random_seed import set_random_seed

from test_step_capture import BatchLosses, cnn, data, fits, mlp, replays  # noqa: F401 - replays is a fixture

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA (MODELCLI_TEST_CUDA=1 on a GPU)")


def mlp_without_dropout():
    return modelcli.Sequential([layers.Input((6,)), layers.Dense(16, activation="relu"),
                                layers.Dense(3, activation="softmax")])


def train(monkeypatch, graphs_mode, model_fn, optimizer, **fit_args):
    monkeypatch.setenv("MODELCLI_CUDA_GRAPHS", graphs_mode)
    set_random_seed(7)
    model = model_fn()
    sparse = model_fn is mlp_without_dropout
    model.compile(optimizer=optimizer, metrics=["accuracy"],
                  loss="sparse_categorical_crossentropy" if sparse else "binary_crossentropy")
    x, y = data(mlp if sparse else cnn)
    batches = BatchLosses()
    history = model.fit(x, y, batch_size=16, epochs=3, verbose=0, validation_split=0.2,
                        callbacks=[batches] + fit_args.pop("callbacks", []), **fit_args)
    return history.history, model.get_weights(), batches.seen, model.optimizer.iterations


@pytest.mark.parametrize("model_fn, optimizer", [(mlp_without_dropout, "adam"), (cnn, "rmsprop"),
                                                 (mlp_without_dropout, "adamw"), (cnn, "sgd"),
                                                 (cnn, "adagrad"), (mlp_without_dropout, "adamax"),
                                                 (mlp_without_dropout, "adadelta")])
def test_the_captured_step_trains_as_the_eager_step_on_cuda(monkeypatch, replays, model_fn, optimizer):
    eager = train(monkeypatch, "off", model_fn, optimizer)
    assert not replays
    captured = train(monkeypatch, "auto", model_fn, optimizer)
    assert len(replays) == 3 * 4 - WARMUP_STEPS  # 72 samples at batch 16: 4 full batches a epoch, 1 eager
    assert captured[3] == eager[3]
    np.testing.assert_allclose(captured[2], eager[2], rtol=1e-5)
    for key in eager[0]:
        np.testing.assert_allclose(captured[0][key], eager[0][key], rtol=1e-5, err_msg=key)
    for got, expected in zip(captured[1], eager[1]):
        np.testing.assert_allclose(got, expected, atol=1e-5)


def test_a_learning_rate_callback_reaches_the_captured_step_on_cuda(monkeypatch, replays):
    halve = lambda: callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5)  # noqa: E731
    eager = train(monkeypatch, "off", mlp_without_dropout, "rmsprop", callbacks=[halve()])
    captured = train(monkeypatch, "auto", mlp_without_dropout, "rmsprop", callbacks=[halve()])
    assert replays
    for got, expected in zip(captured[1], eager[1]):
        np.testing.assert_allclose(got, expected, atol=1e-5)


def test_dropout_draws_a_new_mask_on_every_replay(monkeypatch, replays):
    """Identical batches and a learning rate of 0: only the Dropout mask can move the loss."""
    monkeypatch.setenv("MODELCLI_CUDA_GRAPHS", "auto")
    model = modelcli.Sequential([layers.Input((64,)), layers.Dropout(0.5), layers.Dense(1, use_bias=False,
                                                                                       kernel_initializer="ones")])
    model.compile(optimizer=modelcli.optimizers.SGD(learning_rate=0.0), loss="mse")
    batches = BatchLosses()
    model.fit(np.ones((16 * 12, 64), "float32"), np.zeros((16 * 12, 1), "float32"), batch_size=16, epochs=1,
              shuffle=False, verbose=0, callbacks=[batches])
    assert len(replays) == 12 - WARMUP_STEPS
    # the logs hold running means; each step's own loss is recovered from consecutive means
    means = np.array(batches.seen, dtype=np.float64)
    steps = means * np.arange(1, 13) - np.concatenate([[0.0], means[:-1] * np.arange(1, 12)])
    replayed = steps[WARMUP_STEPS + 1:]
    assert np.std(replayed) > 10.0  # a frozen mask repeats one loss (about 4,000) to within 0.1


def test_a_seeded_dropout_also_draws_a_new_mask_on_every_replay(monkeypatch, replays):
    """A seeded layer draws from its own generator, which the graph must advance too."""
    monkeypatch.setenv("MODELCLI_CUDA_GRAPHS", "auto")
    model = modelcli.Sequential([layers.Input((64,)), layers.Dropout(0.5, seed=4),
                                 layers.Dense(1, use_bias=False, kernel_initializer="ones")])
    model.compile(optimizer=modelcli.optimizers.SGD(learning_rate=0.0), loss="mse")
    batches = BatchLosses()
    model.fit(np.ones((16 * 12, 64), "float32"), np.zeros((16 * 12, 1), "float32"), batch_size=16, epochs=1,
              shuffle=False, verbose=0, callbacks=[batches])
    assert len(replays) == 12 - WARMUP_STEPS  # captured, not refused
    means = np.array(batches.seen, dtype=np.float64)
    steps = means * np.arange(1, 13) - np.concatenate([[0.0], means[:-1] * np.arange(1, 12)])
    assert np.std(steps[WARMUP_STEPS + 1:]) > 10.0



def test_a_second_fit_replays_the_first_fits_graph_on_cuda(monkeypatch, replays):
    """The graph kept on the model between fits trains the weights set_weights wrote in place."""
    start = mlp_without_dropout().get_weights()
    eager = fits(monkeypatch, "off", lambda m: m.set_weights(start), model_fn=mlp_without_dropout)
    captured = fits(monkeypatch, "auto", lambda m: m.set_weights(start), model_fn=mlp_without_dropout)
    assert captured[3] == 1 and captured[2][0] is captured[2][1]
    assert len(replays) == (10 - WARMUP_STEPS) + 10
    for got, expected in zip(captured[0], eager[0]):
        for key in expected:
            np.testing.assert_allclose(got[key], expected[key], rtol=1e-5, err_msg=key)
    for got, expected in zip(captured[1], eager[1]):
        np.testing.assert_allclose(got, expected, atol=1e-5)

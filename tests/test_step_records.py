"""The fit loop counts steps in the metrics a few dozen at a time when every metric is a sum
over samples (``modelcli/trainer/step_records.py``); these examples show it changes nothing a
user can see: not the epoch results, not batch logs, not a user's own metric."""
import numpy as np
import pytest
import torch

import modelcli
from modelcli import layers
from modelcli.callbacks import Callback
from modelcli.metrics import Metric
from modelcli.trainer.step_records import StepRecords

RNG = np.random.default_rng(5)
X = RNG.normal(size=(203, 6)).astype("float32")
Y = (RNG.random((203, 1)) > 0.5).astype("float32")
def metrics():
    return ["accuracy", "mse", modelcli.metrics.AUC(name="auc"), modelcli.metrics.Precision(name="precision")]


def classifier(seed=3):
    modelcli.utils.set_random_seed(seed)
    model = modelcli.Sequential([modelcli.Input((6,)), layers.Dense(8, activation="relu"),
                                 layers.Dense(1, activation="sigmoid")])
    return model


def fit(model, batched, **fit_args):
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=metrics())
    if not batched:
        model._records = False  # the per-step path Keras takes
    return model.fit(X, Y, batch_size=16, epochs=2, verbose=0, shuffle=False, **fit_args).history


def test_history_equals_per_step_updates():
    batched, per_step = fit(classifier(), True, validation_split=0.2), fit(classifier(), False, validation_split=0.2)
    assert sorted(batched) == sorted(per_step)
    for key in per_step:
        np.testing.assert_allclose(batched[key], per_step[key], rtol=1e-6, err_msg=key)


def test_evaluate_equals_per_step_updates():
    model = classifier()
    fit(model, True)
    together = model.evaluate(X, Y, batch_size=8, verbose=0, return_dict=True)
    model._records = False
    alone = model.evaluate(X, Y, batch_size=8, verbose=0, return_dict=True)
    for key in alone:
        np.testing.assert_allclose(together[key], alone[key], rtol=1e-6, err_msg=key)


class BatchLogs(Callback):
    def __init__(self):
        super().__init__()
        self.seen, self.from_metrics = [], []

    def on_train_batch_end(self, batch, logs=None):
        self.seen.append(logs["loss"])
        self.from_metrics.append(float(self.model.metrics[0].result()))


def test_batch_logs_are_current_after_every_step():
    batched, per_step = BatchLogs(), BatchLogs()
    fit(classifier(), True, callbacks=[batched])
    fit(classifier(), False, callbacks=[per_step])
    assert len(batched.seen) == 2 * 13
    np.testing.assert_allclose(batched.seen, per_step.seen, rtol=1e-6)
    np.testing.assert_allclose(batched.from_metrics, per_step.from_metrics, rtol=1e-6)


class BatchCount(Metric):
    """A user's metric: how many updates it saw (not a sum over samples)."""

    def __init__(self, name="updates"):
        super().__init__(name=name)
        self.add_variable((), "total")

    def update_state(self, y_true, y_pred, sample_weight=None):
        self.total += 1

    def result(self):
        return self.total.clone()


def per_batch_mean(y_true, y_pred):
    return torch.mean(torch.abs(y_true - y_pred))  # one value per batch, not per sample


def test_a_users_metrics_see_every_batch_on_its_own():
    model = classifier()
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=[BatchCount(), per_batch_mean])
    history = model.fit(X, Y, batch_size=16, epochs=1, verbose=0, shuffle=False).history
    assert history["updates"] == [13.0]  # 203 samples in batches of 16
    reference = classifier()
    reference.compile(optimizer="adam", loss="binary_crossentropy", metrics=[per_batch_mean])
    reference._records = False
    expected = reference.fit(X, Y, batch_size=16, epochs=1, verbose=0, shuffle=False).history
    np.testing.assert_allclose(history["per_batch_mean"], expected["per_batch_mean"], rtol=1e-6)


def test_batches_of_different_lengths_are_counted_apart():
    """A generator whose sequences change length between batches: targets cannot be concatenated."""
    modelcli.utils.set_random_seed(0)
    model = modelcli.Sequential([modelcli.Input((None, 3)), layers.LSTM(4, return_sequences=True),
                                 layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    batches = [(RNG.normal(size=(4, t, 3)).astype("float32"), RNG.normal(size=(4, t, 1)).astype("float32"))
               for t in (5, 5, 7, 3, 3)]
    together = model.evaluate(iter(batches), verbose=0, return_dict=True)
    model._records = False
    alone = model.evaluate(iter(batches), verbose=0, return_dict=True)
    np.testing.assert_allclose(together["mae"], alone["mae"], rtol=1e-6)
    np.testing.assert_allclose(together["loss"], alone["loss"], rtol=1e-6)


@pytest.mark.parametrize("outputs, expected", [(1, 64), (1000, 16), (100_000, 1)])
def test_records_hold_a_bounded_number_of_elements(outputs, expected):
    """At most 64 steps, and about 2**20 target and prediction elements (2·32·outputs a step)."""
    records = StepRecords(max_steps=64, max_elements=1 << 20)
    ys, preds = [torch.zeros(32, outputs)], [torch.ones(32, outputs)]
    steps = 0
    while not records.full:
        assert records.add(torch.tensor(0.5), 32, ys, preds, None, None)
        steps += 1
    assert steps == expected
    losses, counts, (ys_held, preds_held, masks, sws) = records.drain()
    assert counts == [32] * expected and losses.tolist() == [0.5] * expected
    assert preds_held[0].shape == (32 * expected, outputs) and masks is None and sws is None
    assert not records


def test_a_batch_of_another_structure_waits_for_a_drain():
    records = StepRecords()
    assert records.add(torch.tensor(1.0), 4, [torch.zeros(4, 5, 1)], [torch.zeros(4, 5, 1)], None, None)
    assert not records.add(torch.tensor(1.0), 4, [torch.zeros(4, 7, 1)], [torch.zeros(4, 7, 1)], None, None)
    records.drain()
    assert records.add(torch.tensor(1.0), 4, [torch.zeros(4, 7, 1)], [torch.zeros(4, 7, 1)], None, None)

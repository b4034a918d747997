"""Callbacks for fit, driven with scripted logs and compared with real Keras 3's callbacks.

Most tests drive a callback the way the fit loop does (train begin, then epoch
begin/end with a logs dict, then train end) on a small stand-in model whose
weights say which epoch they come from; the parity tests feed real Keras's
callbacks the same logs on a tiny real Keras model and compare every decision.
"""
from __future__ import annotations

import csv
import math
import os
import random
import sys
import warnings

import numpy as np
import pytest
import torch

from modelcli import callbacks
from modelcli.callbacks import (BackupAndRestore, CallbackList, CSVLogger, EarlyStopping,
                                LambdaCallback, LearningRateScheduler, ModelCheckpoint, ReduceLROnPlateau,
                                TensorBoard, TerminateOnNaN)
from modelcli.errors import SpecError


# ----- a stand-in model: weights mark the epoch they were set at ----------------------------------------------
class BinaryAccuracy:
    """Stands for a compiled metric: the callbacks read its class and name to infer mode='auto'."""

    def __init__(self, name):
        self.name = name


class FakeOptimizer:
    def __init__(self, learning_rate=0.01):
        self.learning_rate = learning_rate
        self.iterations = 0
        self.momentum = torch.zeros(3)

    def get_state(self):
        return {"iterations": self.iterations, "learning_rate": self.learning_rate,
                "momentum": [self.momentum.clone()]}

    def set_state(self, state):
        self.iterations = int(state["iterations"])
        self.learning_rate = state["learning_rate"]
        self.momentum = state["momentum"][0].clone()


class FakeModel:
    def __init__(self, metrics=(), learning_rate=0.01):
        self.stop_training = False
        self.weights = [np.zeros((2, 3), np.float32), np.zeros(3, np.float32)]
        self.optimizer = FakeOptimizer(learning_rate)
        self.metrics = [BinaryAccuracy(name) for name in metrics]
        self.saved = []

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        self.weights = [np.array(w, np.float32) for w in weights]

    def mark(self, epoch):
        self.set_weights([np.full_like(w, epoch) for w in self.weights])

    @property
    def marker(self):
        return int(self.weights[0].flat[0])

    def save_weights(self, filepath, overwrite=True):
        self._save(filepath)

    def save(self, filepath, overwrite=True):
        self._save(filepath)

    def _save(self, filepath):
        with open(filepath, "w") as f:
            f.write(str(self.marker))
        self.saved.append(os.path.basename(filepath))


def drive(callback, model, epoch_logs, epochs=None, batches=0, batch_logs=None, logged=None):
    """Run ``callback`` as fit does over scripted logs; returns the epochs that ran.

    Before each epoch end the model's weights are set to the epoch number, so
    restored weights tell which epoch they came from. ``logged`` collects each
    epoch's logs as the callback left them.
    """
    epochs = len(epoch_logs) if epochs is None else epochs
    callback.set_model(model)
    callback.set_params({"verbose": 0, "epochs": epochs, "steps": batches})
    model.stop_training = False
    callback.on_train_begin(None)
    ran = []
    for epoch in range(epochs):
        callback.on_epoch_begin(epoch, None)
        for b in range(batches):
            callback.on_train_batch_begin(b, None)
            callback.on_train_batch_end(b, batch_logs(epoch, b) if batch_logs else {})
            if model.stop_training:
                break
        model.mark(epoch)
        logs = dict(epoch_logs[epoch])
        callback.on_epoch_end(epoch, logs)
        ran.append(epoch)
        if logged is not None:
            logged.append(logs)
        if model.stop_training:
            break
    callback.on_train_end(None)
    return ran


def val_losses(*values):
    return [{"loss": 1.0, "val_loss": v} for v in values]


# ----- EarlyStopping ---------------------------------------------------------------------------------------------
def test_early_stopping_waits_patience_epochs_without_improvement():
    model = FakeModel()
    stop = EarlyStopping(patience=2)
    ran = drive(stop, model, val_losses(1.0, 0.9, 0.95, 0.91, 0.8, 0.7))
    assert ran == [0, 1, 2, 3]
    assert stop.stopped_epoch == 3 and stop.best == 0.9 and stop.best_epoch == 1
    assert model.marker == 3  # restore_best_weights=False keeps the last weights


def test_early_stopping_min_delta_needs_a_margin():
    ran = drive(EarlyStopping(patience=1, min_delta=0.1), FakeModel(), val_losses(1.0, 0.95, 0.85, 0.7))
    assert ran == [0, 1]  # 0.95 is not better than 1.0 by more than 0.1


def test_early_stopping_never_stops_on_the_first_epoch():
    assert drive(EarlyStopping(patience=0), FakeModel(), val_losses(1.0, 1.1, 1.2)) == [0, 1]


def test_early_stopping_mode_auto_maximizes_accuracy_metrics():
    model = FakeModel(metrics=["acc"])
    ran = drive(EarlyStopping(monitor="val_acc", patience=1), model,
                [{"val_acc": a} for a in (0.5, 0.6, 0.7, 0.65, 0.6)])
    assert ran == [0, 1, 2, 3]


def test_early_stopping_mode_auto_asks_for_a_mode_when_it_cannot_tell():
    with pytest.raises(SpecError, match="mode='max'"):
        drive(EarlyStopping(monitor="val_something"), FakeModel(), [{"val_something": 1.0}])


def test_early_stopping_per_output_losses_go_down():
    stop = EarlyStopping(monitor="val_out_loss", patience=1)
    assert drive(stop, FakeModel(), [{"val_out_loss": v} for v in (1.0, 0.5, 0.6, 0.4)]) == [0, 1, 2]


def test_early_stopping_unknown_mode_warns_and_uses_auto():
    with pytest.warns(UserWarning, match="mode 'up' is unknown"):
        stop = EarlyStopping(mode="up")
    assert stop.mode == "auto"


def test_early_stopping_baseline_must_be_beaten_to_reset_the_wait():
    model = FakeModel()
    stop = EarlyStopping(patience=3, baseline=0.5, restore_best_weights=True)
    ran = drive(stop, model, val_losses(0.9, 0.8, 0.85, 0.7))
    assert ran == [0, 1, 2]  # the improvements never beat the baseline, so the wait counts from epoch 0
    assert model.marker == 1  # the best epoch's weights come back even so
    assert drive(EarlyStopping(patience=3), FakeModel(), val_losses(0.9, 0.8, 0.85, 0.7)) == [0, 1, 2, 3]


def test_early_stopping_restores_best_weights_when_training_ends_normally():
    model = FakeModel()
    drive(EarlyStopping(patience=10, restore_best_weights=True), model, val_losses(1.0, 0.5, 0.7, 0.8))
    assert model.marker == 1


def test_early_stopping_start_from_epoch_ignores_the_warm_up():
    stop = EarlyStopping(patience=1, start_from_epoch=3)
    ran = drive(stop, FakeModel(), val_losses(1.0, 2.0, 3.0, 4.0, 5.0, 6.0))
    assert ran == [0, 1, 2, 3, 4] and stop.best == 4.0


def test_early_stopping_warns_when_the_monitor_is_missing():
    model = FakeModel()
    with pytest.warns(UserWarning, match="`val_loss` which is not available. Available metrics are: loss"):
        ran = drive(EarlyStopping(patience=0, restore_best_weights=True), model, [{"loss": 1.0}] * 3)
    assert ran == [0, 1, 2] and model.marker == 2


def test_early_stopping_is_silent_when_the_monitor_is_there():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        drive(EarlyStopping(), FakeModel(), val_losses(1.0, 2.0))


def test_early_stopping_can_be_reused_across_fits():
    stop, model = EarlyStopping(patience=1), FakeModel()
    drive(stop, model, val_losses(1.0, 2.0, 3.0))
    assert drive(stop, model, val_losses(5.0, 4.0, 3.0)) == [0, 1, 2]


# ----- ModelCheckpoint -----------------------------------------------------------------------------------------
def test_checkpoint_fills_the_filepath_from_the_epoch_and_logs(tmp_path):
    model = FakeModel()
    drive(ModelCheckpoint(str(tmp_path / "ck" / "{epoch:02d}-{val_loss:.2f}.keras")), model, val_losses(0.5, 0.25))
    assert model.saved == ["01-0.50.keras", "02-0.25.keras"]


def test_checkpoint_save_best_only_saves_on_improvement(tmp_path):
    model = FakeModel()
    cb = ModelCheckpoint(tmp_path / "best.weights.h5", save_best_only=True, save_weights_only=True)
    drive(cb, model, val_losses(1.0, 0.8, 0.9, 0.7, 0.75))
    assert (tmp_path / "best.weights.h5").read_text() == "3"
    assert len(model.saved) == 3 and cb.best == 0.7


def test_checkpoint_initial_value_threshold_is_the_first_best(tmp_path):
    model = FakeModel()
    drive(ModelCheckpoint(tmp_path / "m.keras", save_best_only=True, initial_value_threshold=0.85), model,
          val_losses(1.0, 0.9, 0.8))
    assert model.saved == ["m.keras"] and (tmp_path / "m.keras").read_text() == "2"


def test_checkpoint_save_best_only_without_the_monitor_saves_and_warns(tmp_path):
    model = FakeModel()
    with pytest.warns(UserWarning, match="Can save best model only with val_loss available"):
        drive(ModelCheckpoint(tmp_path / "m.keras", save_best_only=True), model, [{"loss": 1.0}] * 2)
    assert len(model.saved) == 2


def test_checkpoint_every_n_batches_names_the_batch(tmp_path):
    model = FakeModel()
    cb = ModelCheckpoint(str(tmp_path / "e{epoch}-b{batch}.keras"), save_freq=3)
    assert cb.needs_batch_logs
    drive(cb, model, val_losses(1.0, 1.0), batches=5)
    # batches are counted across epochs: saves after 3, 6 (epoch 2, batch 1) and 9 (epoch 2, batch 4)
    assert model.saved == ["e1-b3.keras", "e2-b1.keras", "e2-b4.keras"]


@pytest.mark.parametrize("filepath, weights_only", [
    ("m.weights.h5", True), ("m.h5", True), ("m.keras", False), ("m.h5", False), ("{epoch:02d}.keras", False)])
def test_checkpoint_accepts_keras_file_names(filepath, weights_only):
    ModelCheckpoint(filepath, save_weights_only=weights_only)


@pytest.mark.parametrize("filepath, weights_only, message", [
    ("m.keras", True, "must end in `.weights.h5`"), ("m.ckpt", True, "must end in `.weights.h5`"),
    ("m.weights", False, "must end in `.keras`"), ("m", False, "must end in `.keras`")])
def test_checkpoint_refuses_other_file_names(filepath, weights_only, message):
    with pytest.raises(ValueError, match=message):
        ModelCheckpoint(filepath, save_weights_only=weights_only)


def test_checkpoint_refuses_a_bad_save_freq():
    with pytest.raises(ValueError, match="Unrecognized save_freq"):
        ModelCheckpoint("m.keras", save_freq="batch")


def test_checkpoint_names_a_missing_field(tmp_path):
    with pytest.raises(SpecError, match=r"Failed to format.*'val_acc'.*epoch, loss, val_loss"):
        drive(ModelCheckpoint(str(tmp_path / "{val_acc:.2f}.keras")), FakeModel(), val_losses(1.0))


# ----- ReduceLROnPlateau ---------------------------------------------------------------------------------------
def lr_trace(callback, model, logs):
    """The learning rate logged at each epoch end, and the one set after it."""
    logged = []
    callback.set_model(model)
    callback.on_train_begin()
    for epoch, epoch_logs in enumerate(logs):
        epoch_logs = dict(epoch_logs)
        callback.on_epoch_end(epoch, epoch_logs)
        logged.append((epoch_logs["learning_rate"], float(np.float32(float(model.optimizer.learning_rate)))))
    return logged


def test_reduce_lr_after_patience_epochs_then_cools_down():
    model = FakeModel(learning_rate=1.0)
    cb = ReduceLROnPlateau(factor=0.5, patience=2, cooldown=2)
    trace = lr_trace(cb, model, val_losses(1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0))
    # waits 2 and halves; cools down for 2 epochs, the last of which already counts
    # as the first of the next wait (Keras's order), so it halves again 3 epochs later
    assert [after for _, after in trace] == [1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25]
    assert [logged for logged, _ in trace] == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25]


def test_reduce_lr_stops_at_min_lr():
    model = FakeModel(learning_rate=0.1)
    trace = lr_trace(ReduceLROnPlateau(factor=0.1, patience=1, min_lr=0.005), model, val_losses(*[1.0] * 5))
    assert [after for _, after in trace] == pytest.approx([0.1, 0.01, 0.005, 0.005, 0.005])


def test_reduce_lr_min_delta_ignores_small_improvements():
    model = FakeModel(learning_rate=1.0)
    lr_trace(ReduceLROnPlateau(factor=0.5, patience=2, min_delta=0.1), model, val_losses(1.0, 0.95, 0.92))
    assert model.optimizer.learning_rate == 0.5


def test_reduce_lr_refuses_a_factor_of_one_or_more():
    with pytest.raises(ValueError, match="factor >= 1.0"):
        ReduceLROnPlateau(factor=1.0)


# ----- LearningRateScheduler ---------------------------------------------------------------------------------------
def test_scheduler_sets_the_rate_at_each_epoch_start_and_logs_it():
    model, logged = FakeModel(learning_rate=0.5), []
    drive(LearningRateScheduler(lambda epoch, lr: lr / 2 if epoch else lr), model, [{"loss": 1.0}] * 3,
          logged=logged)
    assert logged == [{"loss": 1.0, "learning_rate": rate} for rate in (0.5, 0.25, 0.125)]


def test_scheduler_takes_a_one_argument_schedule():
    model = FakeModel()
    drive(LearningRateScheduler(lambda epoch: 0.1 * (epoch + 1)), model, [{}] * 3)
    assert model.optimizer.learning_rate == pytest.approx(0.3)


def test_scheduler_wants_a_float():
    with pytest.raises(ValueError, match="should be a float"):
        drive(LearningRateScheduler(lambda epoch, lr: 1), FakeModel(), [{}])


# ----- CSVLogger ------------------------------------------------------------------------------------------------
def test_csv_logger_writes_epoch_then_sorted_keys(tmp_path):
    path = tmp_path / "log.csv"
    drive(CSVLogger(path), FakeModel(), [{"loss": 0.5, "acc": 0.25, "val_loss": 0.75, "val_acc": 0.125}] * 2)
    rows = list(csv.reader(path.open(newline="")))
    assert rows == [["epoch", "acc", "loss", "val_acc", "val_loss"],
                    ["0", "0.25", "0.5", "0.125", "0.75"], ["1", "0.25", "0.5", "0.125", "0.75"]]


def test_csv_logger_adds_val_columns_and_appends(tmp_path):
    path = tmp_path / "log.csv"
    drive(CSVLogger(path), FakeModel(), [{"loss": 0.5}])
    drive(CSVLogger(path, separator=";", append=True), FakeModel(), [{"loss": 0.25}])
    assert path.read_bytes() == b"epoch,loss,val_loss\r\n0,0.5,NA\r\n0;0.25;NA\r\n"


# ----- TerminateOnNaN -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_terminate_on_nan_stops_at_the_first_bad_batch(bad, capsys):
    model = FakeModel()
    seen = []

    def batch_logs(epoch, b):
        seen.append(b)
        return {"loss": bad if b == 2 else 1.0}

    ran = drive(TerminateOnNaN(), model, [{}] * 3, batches=5, batch_logs=batch_logs)
    assert seen == [0, 1, 2] and ran == [0]
    assert "Batch 2: Invalid loss, terminating training" in capsys.readouterr().out


def test_terminate_on_nan_can_raise():
    with pytest.raises(RuntimeError, match="NaN or Inf loss encountered at batch 0"):
        drive(TerminateOnNaN(raise_error=True), FakeModel(), [{}], batches=1,
              batch_logs=lambda epoch, batch: {"loss": math.nan})


# ----- LambdaCallback -----------------------------------------------------------------------------------------------
def test_lambda_callback_calls_the_given_functions():
    calls = []
    cb = LambdaCallback(on_epoch_end=lambda epoch, logs: calls.append(("end", epoch, logs["loss"])),
                        on_train_begin=lambda logs: calls.append("begin"),
                        on_test_end=lambda logs: calls.append("test"))
    assert not cb.needs_batch_logs
    drive(cb, FakeModel(), [{"loss": 0.5}] * 2)
    cb.on_test_end(None)
    assert calls == ["begin", ("end", 0, 0.5), ("end", 1, 0.5), "test"]


def test_lambda_callback_batch_hooks_ask_for_batch_logs():
    cb = LambdaCallback(on_train_batch_end=lambda batch, logs: None)
    assert cb.needs_batch_logs and CallbackList([cb], FakeModel(), {}).batch_callbacks == [cb]


def test_lambda_callback_refuses_unknown_hooks():
    with pytest.raises(SpecError, match="'on_epoch_ending', which is not a callback hook.*on_epoch_end"):
        LambdaCallback(on_epoch_ending=print)


# ----- BackupAndRestore ----------------------------------------------------------------------------------------
class Interrupt(Exception):
    pass


def interrupted_drive(callback, model, logs, at_epoch):
    """Like ``drive``, but the run dies right after ``at_epoch`` ends (no on_train_end)."""
    callback.set_model(model)
    callback.on_train_begin()
    for epoch in range(getattr(model, "_resume_epoch", 0), len(logs)):
        model.mark(epoch)
        model.optimizer.iterations += 10
        callback.on_epoch_end(epoch, dict(logs[epoch]))
        if epoch == at_epoch:
            return


def test_backup_restores_weights_optimizer_epoch_and_logs(tmp_path):
    logs = val_losses(0.9, 0.8, 0.7, 0.6)
    first = FakeModel()
    first.optimizer.momentum += 3.0
    interrupted_drive(BackupAndRestore(tmp_path / "backup"), first, logs, at_epoch=1)
    assert os.listdir(tmp_path / "backup") == ["backup.pt"]

    second = FakeModel()
    cb = BackupAndRestore(tmp_path / "backup")
    cb.set_model(second)
    cb.on_train_begin()
    assert second._resume_epoch == 2
    assert second._resume_logs == [(0, logs[0]), (1, logs[1])]
    assert second.marker == 1 and second.optimizer.iterations == 20
    assert second.optimizer.momentum.tolist() == [3.0, 3.0, 3.0]
    for epoch in (2, 3):
        second.mark(epoch)
        cb.on_epoch_end(epoch, dict(logs[epoch]))
    cb.on_train_end()
    assert not (tmp_path / "backup").exists()


def test_backup_without_a_backup_starts_from_scratch(tmp_path):
    model = FakeModel()
    cb = BackupAndRestore(tmp_path / "none")
    cb.set_model(model)
    cb.on_train_begin()
    assert not hasattr(model, "_resume_epoch")


def test_backup_keeps_other_files_and_can_keep_its_own(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    drive(BackupAndRestore(tmp_path), FakeModel(), val_losses(1.0))
    assert os.listdir(tmp_path) == ["notes.txt"]
    drive(BackupAndRestore(tmp_path / "kept", delete_checkpoint=False), FakeModel(), val_losses(1.0))
    assert os.listdir(tmp_path / "kept") == ["backup.pt"]


def test_backup_double_checkpoint_falls_back_to_the_previous_backup(tmp_path):
    logs = val_losses(0.9, 0.8, 0.7)
    interrupted_drive(BackupAndRestore(tmp_path, double_checkpoint=True), FakeModel(), logs, at_epoch=1)
    assert sorted(os.listdir(tmp_path)) == ["backup.pt", "backup.pt.bkp"]
    (tmp_path / "backup.pt").write_bytes(b"half a file")
    model = FakeModel()
    cb = BackupAndRestore(tmp_path, double_checkpoint=True)
    cb.set_model(model)
    cb.on_train_begin()
    assert model._resume_epoch == 1 and model.marker == 0


def test_backup_reports_an_unreadable_backup(tmp_path):
    (tmp_path / "backup.pt").write_bytes(b"not a backup")
    cb = BackupAndRestore(tmp_path)
    cb.set_model(FakeModel())
    with pytest.raises(ValueError, match="cannot read the backup"):
        cb.on_train_begin()


def test_backup_every_n_batches(tmp_path):
    model = FakeModel()
    cb = BackupAndRestore(tmp_path, save_freq=2, delete_checkpoint=False)
    assert cb.needs_batch_logs
    drive(cb, model, val_losses(1.0, 0.5), batches=3)
    # batches counted across epochs: saves after epoch 0's 2nd batch, epoch 1's 1st and 3rd;
    # the last one resumes epoch 1 from its start, with epoch 0 done
    state = torch.load(tmp_path / "backup.pt", weights_only=True)
    assert state["epoch"] == 1 and state["logs"] == [[0, {"loss": 1.0, "val_loss": 1.0}]]


# ----- TensorBoard ------------------------------------------------------------------------------------------------
def test_tensorboard_without_the_package_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)
    with pytest.raises(ImportError, match="pip install tensorboard"):
        TensorBoard("logs")


def test_tensorboard_writes_keras_tags(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    model = FakeModel(learning_rate=0.25)
    cb = TensorBoard(tmp_path, update_freq=2, write_graph=False)
    drive(cb, model, [{"loss": 0.5, "val_loss": 0.75}] * 2, batches=3, batch_logs=lambda e, b: {"loss": b})

    def scalars(run):
        events = EventAccumulator(str(tmp_path / run))
        events.Reload()
        return {tag: [(e.step, e.value) for e in events.Scalars(tag)] for tag in events.Tags()["scalars"]}

    train, val = scalars("train"), scalars("validation")
    assert train["epoch_loss"] == [(0, 0.5), (1, 0.5)]
    assert train["epoch_learning_rate"] == [(0, 0.25), (1, 0.25)]
    assert train["batch_loss"] == [(2, 1.0), (4, 0.0), (6, 2.0)]
    assert val == {"epoch_loss": [(0, 0.75), (1, 0.75)]}


def test_tensorboard_refuses_tensorflow_only_features():
    pytest.importorskip("tensorboard")
    with pytest.raises(ValueError, match="profile_batch needs TensorFlow"):
        TensorBoard(profile_batch=2)


# ----- configs ---------------------------------------------------------------------------------------------------
def test_callbacks_from_config_entries(tmp_path):
    stop = callbacks.get({"class_name": "EarlyStopping", "config": {"monitor": "val_acc", "patience": 3}})
    assert isinstance(stop, EarlyStopping) and (stop.monitor, stop.patience) == ("val_acc", 3)
    assert isinstance(callbacks.get("TerminateOnNaN"), TerminateOnNaN)
    assert callbacks.get(stop) is stop


@pytest.mark.parametrize("callback", [
    EarlyStopping(monitor="val_acc", patience=3, baseline=0.5, restore_best_weights=True, start_from_epoch=2),
    ModelCheckpoint("ck/{epoch:02d}.weights.h5", save_weights_only=True, save_best_only=True, mode="min"),
    ReduceLROnPlateau(factor=0.5, cooldown=2, min_lr=1e-5), CSVLogger("h.csv", separator=";", append=True),
    TerminateOnNaN(raise_error=True), BackupAndRestore("b", save_freq=10, delete_checkpoint=False)])
def test_callback_config_round_trip(callback):
    config = callbacks.serialize(callback)
    again = callbacks.deserialize(config)
    assert type(again) is type(callback) and callbacks.serialize(again) == config


@pytest.mark.parametrize("entry, message", [
    ({"class_name": "EarlyStoping"}, r"callbacks\[0\].class_name: unknown callback 'EarlyStoping' "
                                     r"\(did you mean 'EarlyStopping'\?\)"),
    ({"class_name": "EarlyStopping", "config": {"patiense": 3}}, r"callbacks\[0\].config.patiense: unknown"),
    ({"class_name": "ModelCheckpoint"}, r"needs the argument 'filepath'"),
    ({"class_name": "ModelCheckpoint", "config": {"filepath": "m.txt"}}, r"callbacks\[0\].config: .*\.keras"),
    ({"class_name": "LambdaCallback"}, r"takes Python functions"),
    ({"class_name": "EarlyStopping", "module": "my_module"}, r"custom objects are never loaded"),
    (42, r"Could not interpret callback identifier")])
def test_bad_callback_entries_name_the_place(entry, message):
    with pytest.raises(SpecError, match=message):
        callbacks.get(entry, where="callbacks[0]")


def test_importing_callbacks_does_not_import_torch():
    import subprocess
    code = "import sys, modelcli.callbacks; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


# ----- parity with real Keras 3 --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def keras_model():
    """A tiny compiled Keras model whose metrics are built (mode='auto' looks them up)."""
    keras = pytest.importorskip("keras")
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(keras.optimizers.SGD(0.1), "binary_crossentropy", metrics=["acc"])
    model.evaluate(np.zeros((2, 2), np.float32), np.zeros((2, 1), np.float32), verbose=0)
    return model


class KerasModelProbe:
    """Lets the driver mark and read a real Keras model's weights like the stand-in's."""

    def __init__(self, model):
        self.model = model

    def mark(self, epoch):
        self.model.set_weights([np.full(w.shape, epoch, np.float32) for w in self.model.get_weights()])

    @property
    def marker(self):
        return int(self.model.get_weights()[0].flat[0])


def drive_keras(callback, model, epoch_logs):
    probe = KerasModelProbe(model)
    callback.set_model(model)
    model.stop_training = False
    callback.on_train_begin()
    ran = []
    for epoch, logs in enumerate(epoch_logs):
        callback.on_epoch_begin(epoch)
        probe.mark(epoch)
        callback.on_epoch_end(epoch, dict(logs))
        ran.append(epoch)
        if model.stop_training:
            break
    callback.on_train_end()
    return ran, probe.marker


def random_monitor_cases(seed, count):
    rnd = random.Random(seed)
    for _ in range(count):
        monitor = rnd.choice(["val_loss", "val_acc", "loss"])
        values = [round(rnd.uniform(0, 1), 2) for _ in range(rnd.randint(1, 9))]
        if rnd.random() < 0.3 and len(values) > 2:
            values[rnd.randrange(len(values))] = values[rnd.randrange(len(values))]  # ties
        yield monitor, values, rnd


@pytest.mark.parametrize("seed", range(4))
def test_early_stopping_decisions_match_keras(keras_model, seed):
    keras = pytest.importorskip("keras")
    for monitor, values, rnd in random_monitor_cases(seed, 60):
        kwargs = dict(monitor=monitor, patience=rnd.randint(0, 3), min_delta=rnd.choice([0, 0.05, 0.2]),
                      mode=rnd.choice(["auto", "auto", "min", "max"]),
                      baseline=rnd.choice([None, None, 0.3, 0.7]), restore_best_weights=rnd.random() < 0.6,
                      start_from_epoch=rnd.choice([0, 0, 2]))
        logs = [{"loss": 0.5, monitor: v} for v in values]
        theirs = keras.callbacks.EarlyStopping(**kwargs)
        ours = EarlyStopping(**kwargs)
        keras_ran, keras_marker = drive_keras(theirs, keras_model, logs)
        model = FakeModel(metrics=["acc"])
        ran = drive(ours, model, logs)
        case = f"{kwargs} on {values}"
        assert ran == keras_ran, case
        assert model.marker == keras_marker, case
        assert (ours.stopped_epoch, ours.best_epoch, ours.wait) == \
               (theirs.stopped_epoch, theirs.best_epoch, theirs.wait), case


@pytest.mark.parametrize("seed", range(4))
def test_reduce_lr_decisions_match_keras(keras_model, seed):
    keras = pytest.importorskip("keras")
    for monitor, values, rnd in random_monitor_cases(100 + seed, 60):
        kwargs = dict(monitor=monitor, factor=rnd.choice([0.1, 0.5, 0.3]), patience=rnd.randint(0, 3),
                      mode=rnd.choice(["auto", "min", "max"]), min_delta=rnd.choice([0, 1e-4, 0.1]),
                      cooldown=rnd.randint(0, 2), min_lr=rnd.choice([0.0, 0.01, 0.003]))
        start = rnd.choice([0.1, 0.05, 0.001])
        logs = [{"loss": 0.5, monitor: v} for v in values]
        keras_model.optimizer.learning_rate = start
        theirs = lr_trace(keras.callbacks.ReduceLROnPlateau(**kwargs), keras_model, logs)
        ours = lr_trace(ReduceLROnPlateau(**kwargs), FakeModel(metrics=["acc"], learning_rate=start), logs)
        assert ours == theirs, f"{kwargs} from {start} on {values}"


def test_checkpoint_file_names_and_best_only_decisions_match_keras(keras_model, tmp_path):
    keras = pytest.importorskip("keras")
    rnd = random.Random(7)
    for case in range(12):
        values = [round(rnd.uniform(0, 1), 2) for _ in range(6)]
        kwargs = dict(monitor=rnd.choice(["val_loss", "val_acc"]), save_best_only=rnd.random() < 0.7,
                      save_weights_only=True, mode=rnd.choice(["auto", "min", "max"]),
                      initial_value_threshold=rnd.choice([None, 0.5]))
        pattern = "{epoch:02d}-{val_loss:.2f}-{val_acc:.3f}.weights.h5"
        logs = [{"loss": 0.5, "val_loss": v, "val_acc": 1 - v} for v in values]
        (tmp_path / f"k{case}").mkdir()
        drive_keras(keras.callbacks.ModelCheckpoint(str(tmp_path / f"k{case}" / pattern), **kwargs),
                    keras_model, logs)
        model = FakeModel(metrics=["acc"])
        drive(ModelCheckpoint(str(tmp_path / f"o{case}" / pattern), **kwargs), model, logs)
        assert model.saved == sorted(os.listdir(tmp_path / f"k{case}")), f"{kwargs} on {values}"


def test_csv_logger_file_matches_keras(tmp_path):
    keras = pytest.importorskip("keras")
    logs = [{"loss": 0.123456789, "acc": 0.5}, {"loss": 0.1, "acc": 0.625, "extra": 3.0}, {"acc": 1.0}]
    drive_keras(keras.callbacks.CSVLogger(str(tmp_path / "keras.csv")), _bare_keras_model(keras), logs)
    drive(CSVLogger(tmp_path / "ours.csv"), FakeModel(), logs)
    assert (tmp_path / "ours.csv").read_bytes() == (tmp_path / "keras.csv").read_bytes()


def _bare_keras_model(keras):
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    return model


def test_learning_rate_scheduler_matches_keras():
    keras = pytest.importorskip("keras")

    def schedule(epoch, lr):
        return lr if epoch < 2 else lr * 0.9

    model = _bare_keras_model(keras)
    model.compile(keras.optimizers.SGD(0.01), "mse")
    theirs = keras.callbacks.LearningRateScheduler(schedule)
    ours, fake = LearningRateScheduler(schedule), FakeModel(learning_rate=0.01)
    for cb, m in ((theirs, model), (ours, fake)):
        cb.set_model(m)
    for epoch in range(6):
        keras_logs, our_logs = {"loss": 1.0}, {"loss": 1.0}
        theirs.on_epoch_begin(epoch)
        ours.on_epoch_begin(epoch)
        theirs.on_epoch_end(epoch, keras_logs)
        ours.on_epoch_end(epoch, our_logs)
        assert our_logs == keras_logs


def test_terminate_on_nan_matches_keras():
    keras = pytest.importorskip("keras")
    model = _bare_keras_model(keras)
    theirs, ours, fake = keras.callbacks.TerminateOnNaN(), TerminateOnNaN(), FakeModel()
    theirs.set_model(model)
    ours.set_model(fake)
    for batch, loss in enumerate([1.0, 2.0, math.inf, 3.0, math.nan, -math.inf]):
        model.stop_training = fake.stop_training = False
        theirs.on_batch_end(batch, {"loss": loss})
        ours.on_train_batch_end(batch, {"loss": loss})
        assert fake.stop_training == model.stop_training


# ----- through modelcli's fit -------------------------------------------------------------------------------------
def small_regression(seed=0):
    from modelcli import layers
    from modelcli.models import Sequential

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(48, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]], np.float32) + 0.1).astype(np.float32)
    model = Sequential([layers.Input((3,)), layers.Dense(4, activation="tanh"), layers.Dense(1)])
    model.compile("adam", "mse", metrics=["mae"])
    return model, x, y


def test_fit_early_stopping_stops_and_restores_the_best_weights():
    model, x, y = small_regression()
    scores = [0.1, 0.5, 0.4, 0.3, 0.2, 0.9]
    weights = []
    script = LambdaCallback(on_epoch_end=lambda epoch, logs: (logs.update(score=scores[epoch]),
                                                              weights.append(model.get_weights())))
    stop = EarlyStopping(monitor="score", mode="max", patience=2, restore_best_weights=True)
    history = model.fit(x, y, epochs=6, verbose=0, callbacks=[script, stop])
    assert history.epoch == [0, 1, 2, 3] and history.history["score"] == scores[:4]
    assert stop.stopped_epoch == 3 and model.stop_training
    for restored, best in zip(model.get_weights(), weights[1]):
        np.testing.assert_array_equal(restored, best)


def test_fit_monitors_modelcli_metrics_in_auto_mode():
    model, x, y = small_regression()
    stop = EarlyStopping(monitor="val_mae", patience=100)
    model.fit(x, y, epochs=2, verbose=0, validation_split=0.25, callbacks=[stop])
    assert stop.best == min(model.history.history["val_mae"])


def test_fit_reduce_lr_on_plateau_lowers_the_optimizer_rate():
    model, x, y = small_regression()
    flat = LambdaCallback(on_epoch_end=lambda epoch, logs: logs.update(val_loss=1.0))
    history = model.fit(x, y, epochs=4, verbose=0, callbacks=[
        flat, ReduceLROnPlateau(factor=0.5, patience=1)])
    # epoch 0 sets the best; each later epoch is a plateau of patience 1 and halves the rate
    assert history.history["learning_rate"] == pytest.approx([1e-3, 1e-3, 5e-4, 2.5e-4])
    assert model.optimizer.learning_rate == pytest.approx(1.25e-4)


def test_fit_model_checkpoint_files_load_back(tmp_path):
    from modelcli.models import load_model

    model, x, y = small_regression()
    weights = []
    model.fit(x, y, epochs=3, verbose=0, validation_split=0.25, callbacks=[
        ModelCheckpoint(str(tmp_path / "full" / "{epoch:02d}-{val_loss:.3f}.keras")),
        ModelCheckpoint(str(tmp_path / "best.weights.h5"), save_weights_only=True, save_best_only=True),
        ModelCheckpoint(str(tmp_path / "last.h5"), save_weights_only=True),
        ModelCheckpoint(str(tmp_path / "last_model.h5")),
        LambdaCallback(on_epoch_end=lambda epoch, logs: weights.append(model.get_weights()))])
    val_loss = model.history.history["val_loss"]
    assert sorted(os.listdir(tmp_path / "full")) == [f"{e + 1:02d}-{v:.3f}.keras" for e, v in enumerate(val_loss)]
    expected = model.predict(x, verbose=0)
    last = tmp_path / "full" / f"03-{val_loss[2]:.3f}.keras"
    for path in (last, tmp_path / "last_model.h5"):
        np.testing.assert_allclose(load_model(path).predict(x, verbose=0), expected)
    for path, epoch in (("last.h5", 2), ("best.weights.h5", int(np.argmin(val_loss)))):
        again, _, _ = small_regression(seed=1)
        again.load_weights(tmp_path / path)
        for loaded, saved in zip(again.get_weights(), weights[epoch]):
            np.testing.assert_array_equal(loaded, saved)
    keras = pytest.importorskip("keras")
    theirs = keras.saving.load_model(last)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(theirs(x)), expected, rtol=1e-5, atol=1e-6)


def test_fit_csv_logger_and_terminate_on_nan(tmp_path):
    model, x, y = small_regression()
    y_bad = y.copy()
    y_bad[40:] = np.nan
    history = model.fit(x, y_bad, epochs=3, batch_size=16, shuffle=False, verbose=0,
                        callbacks=[TerminateOnNaN(), CSVLogger(tmp_path / "log.csv")])
    assert history.epoch == [0]  # the third batch's loss is NaN: the first epoch ends there
    rows = list(csv.reader((tmp_path / "log.csv").open(newline="")))
    assert rows[0] == ["epoch", "loss", "mae", "val_loss", "val_mae"] and rows[1][0] == "0"
    assert rows[1][1] == "nan" and rows[1][3] == "NA"


class StopHere(Exception):
    pass


def test_fit_backup_and_restore_resumes_where_it_stopped(tmp_path):
    model, x, y = small_regression()
    start = model.get_weights()
    straight = model.fit(x, y, epochs=5, batch_size=8, shuffle=False, verbose=0)
    expected = model.get_weights()

    def crash(epoch, logs):
        if epoch == 2:
            raise StopHere

    first, _, _ = small_regression()
    first.set_weights(start)
    with pytest.raises(StopHere):
        first.fit(x, y, epochs=5, batch_size=8, shuffle=False, verbose=0,
                  callbacks=[BackupAndRestore(tmp_path), LambdaCallback(on_epoch_end=crash)])
    assert os.listdir(tmp_path) == ["backup.pt"]

    second, _, _ = small_regression(seed=1)  # other weights: the backup's must replace them
    epochs_run = []
    history = second.fit(x, y, epochs=5, batch_size=8, shuffle=False, verbose=0, callbacks=[
        BackupAndRestore(tmp_path), LambdaCallback(on_epoch_begin=lambda epoch, logs: epochs_run.append(epoch))])
    assert epochs_run == [3, 4]
    assert history.epoch == [0, 1, 2, 3, 4]
    np.testing.assert_allclose(history.history["loss"], straight.history["loss"], rtol=1e-6)
    for resumed, uninterrupted in zip(second.get_weights(), expected):
        np.testing.assert_allclose(resumed, uninterrupted, rtol=1e-6, atol=1e-7)
    assert second.optimizer.iterations == 5 * 6
    assert not tmp_path.exists()


def test_fit_tensorboard_writes_scalars_and_histograms(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    model, x, y = small_regression()
    model.fit(x, y, epochs=2, verbose=0, validation_split=0.25,
              callbacks=[TensorBoard(tmp_path, histogram_freq=1, write_steps_per_second=True)])
    train = EventAccumulator(str(tmp_path / "train"))
    train.Reload()
    tags = train.Tags()
    assert {"epoch_loss", "epoch_mae", "epoch_learning_rate", "epoch_steps_per_second",
            "batch_steps_per_second"} <= set(tags["scalars"])
    assert {f"{w.path}/histogram" for layer in model.layers for w in layer.weights} == \
           set(tags["histograms"])
    assert "keras/text_summary" in tags["tensors"]

"""Crash safety: kill -9 or Ctrl-C a real ``modelcli train``, resume it, and get the uninterrupted run's
weights and History bit for bit (seeded: dropout, shuffling, Adam, EarlyStopping's counters all resume)."""
import json
import pathlib
import signal
import subprocess
import sys
import time

import h5py
import numpy as np
import pytest
import torch
from click.testing import CliRunner

from modelcli.cli import main

CONFIGS = pathlib.Path(__file__).resolve().parent.parent / "configs"
DATA = CONFIGS / "data" / "seed_mlp.npz"
EPOCHS = 30  # enough that a signal sent after the first epoch lands before the last, on a busy machine too
CONFIG = f"""\
name: resumable
seed: 11
model: {CONFIGS / 'seed_mlp.json'}
compile: {{optimizer: adam, loss: binary_crossentropy, metrics: [accuracy]}}
data:
  train: {{x: '{DATA}:x_train', y: '{DATA}:y_train'}}
  validation: {{x: '{DATA}:x_val', y: '{DATA}:y_val'}}
fit: {{epochs: {EPOCHS}, batch_size: 16}}
callbacks:
  - {{class_name: EarlyStopping, config: {{monitor: val_loss, patience: 20}}}}
  - {{class_name: ReduceLROnPlateau, config: {{monitor: val_loss, patience: 1, factor: 0.7}}}}
"""


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("resume")
    (folder / "train.yaml").write_text(CONFIG)
    return folder


@pytest.fixture(scope="module")
def uninterrupted(folder):
    result = CliRunner().invoke(main, ["train", str(folder / "train.yaml"), "--run-dir", str(folder / "whole"),
                                       "-v", "0"])
    assert result.exit_code == 0, result.output + result.stderr
    return folder / "whole"


def weights(path):
    arrays = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, item: arrays.setdefault(name, item[()]) if isinstance(item, h5py.Dataset) else None)
    return arrays


def assert_same_run(run, reference):
    assert json.loads((run / "history.json").read_text()) == json.loads((reference / "history.json").read_text())
    got, want = weights(run / "model.weights.h5"), weights(reference / "model.weights.h5")
    assert got.keys() == want.keys()
    for name in want:
        np.testing.assert_array_equal(got[name], want[name], err_msg=name)


def start(folder, run_dir):
    return subprocess.Popen([sys.executable, "-m", "modelcli", "train", "train.yaml", "--run-dir", run_dir, "-v", "0"],
                            cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_epoch(process, state, epoch=1, timeout=120):
    """Until the state file says ``epoch`` epochs are done (it is replaced atomically, so it always reads)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        if state.exists() and torch.load(state, weights_only=True)["epoch"] >= epoch:
            return
        time.sleep(0.02)
    raise AssertionError("training never finished its first epoch")


def test_sigkill_mid_epoch_then_resume_gives_the_uninterrupted_weights_and_history(folder, uninterrupted):
    process = start(folder, "killed")
    state = folder / "killed" / "state" / "state.pt"
    wait_for_epoch(process, state)
    time.sleep(0.1)  # into the next epoch
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL
    assert not (folder / "killed" / "model.weights.h5").exists(), "training ended before the kill"
    done = torch.load(state, weights_only=True)["epoch"]
    assert 1 <= done < EPOCHS

    resumed = subprocess.run([sys.executable, "-m", "modelcli", "train", "--resume", "killed", "-v", "2"],
                             cwd=folder, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert f"Epoch {done + 1}/{EPOCHS}" in resumed.stdout and f"Epoch {done}/{EPOCHS}" not in resumed.stdout
    assert_same_run(folder / "killed", uninterrupted)
    assert f"resumed at epoch {done + 1}" in (folder / "killed" / "train.log").read_text()


def test_ctrl_c_saves_state_exits_130_and_the_run_resumes_to_the_same_result(folder, uninterrupted):
    process = start(folder, "interrupted")
    wait_for_epoch(process, folder / "interrupted" / "state" / "state.pt")
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "interrupted: state saved in" in err and "modelcli train --resume" in err and "Traceback" not in err
    run = folder / "interrupted"
    done = torch.load(run / "state" / "state.pt", weights_only=True)["epoch"]
    assert len(json.loads((run / "history.json").read_text())["loss"]) == done
    assert "interrupted (Ctrl-C)" in (run / "train.log").read_text()
    assert not (run / "model.weights.h5").exists()

    result = CliRunner().invoke(main, ["train", "--resume", str(run), "-v", "0"])
    assert result.exit_code == 0, result.output + result.stderr
    assert_same_run(run, uninterrupted)


def test_resume_of_a_finished_run_does_nothing_unless_epochs_are_raised(folder, uninterrupted, tmp_path):
    before = (uninterrupted / "model.weights.h5").read_bytes()
    result = CliRunner().invoke(main, ["train", "--resume", str(uninterrupted)])
    assert result.exit_code == 0 and f"nothing to resume: the run finished all {EPOCHS} epochs" in result.output
    assert (uninterrupted / "model.weights.h5").read_bytes() == before

    short = tmp_path / "short"
    for args in (["train", str(folder / "train.yaml"), "--set", "fit.epochs=3", "--run-dir", str(short)],
                 ["train", "--resume", str(short), "--set", f"fit.epochs={EPOCHS}"]):
        result = CliRunner().invoke(main, [*args, "-v", "0"])
        assert result.exit_code == 0, result.output + result.stderr
    assert_same_run(short, uninterrupted)
    assert yaml_overrides(short) == ["fit.epochs=3", f"fit.epochs={EPOCHS}"]


def yaml_overrides(run):
    import yaml
    return yaml.safe_load((run / "config.yaml").read_text())["overrides"]


def test_a_run_killed_before_its_first_state_starts_over(uninterrupted, tmp_path):
    run = tmp_path / "early"
    (run / "state").mkdir(parents=True)
    (run / "config.yaml").write_text((uninterrupted / "config.yaml").read_text())
    (run / "state" / ".tmp-abc-state.pt").write_bytes(b"half a file")  # a write that a kill cut short
    result = CliRunner().invoke(main, ["train", "--resume", str(run), "-v", "0"])
    assert result.exit_code == 0, result.output + result.stderr
    assert not (run / "state" / ".tmp-abc-state.pt").exists()
    assert_same_run(run, uninterrupted)

"""``modelcli train --devices N``: N workers (gloo on the CPU here) train as one process would.

The end-to-end tests launch the real command, so each run costs a few seconds of start-up
(every worker imports torch); the data is tiny and every worker uses one thread.
"""
import json
import os
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
from modelcli.distributed import context
from modelcli.distributed.shard import BatchShard

# 49 training samples in batches of 16: the last batch holds 1, so the second worker's share of it is
# empty; the 13 validation samples split 7 / 6.
MODEL = {"class_name": "Sequential", "config": {"name": "mlp", "layers": [
    {"class_name": "InputLayer", "config": {"batch_shape": [None, 6]}},
    {"class_name": "Dense", "config": {"units": 8, "activation": "tanh"}},
    {"class_name": "Dense", "config": {"units": 1, "activation": "sigmoid"}}]}}
EPOCHS = 20
CONFIG = """\
name: ddp
seed: 5
model: {model}
compile: {{optimizer: adam, loss: binary_crossentropy, metrics: [accuracy, {{class_name: AUC}}]}}
data:
  train: {{x: 'data.npz:x', y: 'data.npz:y'}}
  validation: {{x: 'data.npz:x_val', y: 'data.npz:y_val'}}
fit: {{epochs: {epochs}, batch_size: 16}}
callbacks:
  - {{class_name: ReduceLROnPlateau, config: {{monitor: val_loss, patience: 1, factor: 0.5}}}}
"""


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ddp")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(63, 6)).astype("float32")
    y = (x[:, :1] + 0.5 * x[:, 1:2] > 0).astype("float32")
    np.savez(folder / "data.npz", x=x[:49], y=y[:49], x_val=x[50:], y_val=y[50:])
    (folder / "mlp.json").write_text(json.dumps(MODEL))
    (folder / "train.yaml").write_text(CONFIG.format(model="mlp.json", epochs=EPOCHS))
    return folder


def train(folder, *args, check=True):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}  # CPU workers (gloo), also on a GPU host
    result = subprocess.run([sys.executable, "-m", "modelcli", "train", *args, "-v", "0"], cwd=folder, env=env,
                            capture_output=True, text=True, timeout=300)
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def weights(path):
    arrays = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, item: arrays.setdefault(name, item[()]) if isinstance(item, h5py.Dataset) else None)
    return arrays


def history(run):
    return json.loads((run / "history.json").read_text())


def assert_close_runs(run, reference, atol):
    got, want = history(run), history(reference)
    assert got.keys() == want.keys()
    for key in want:
        np.testing.assert_allclose(got[key], want[key], rtol=0, atol=atol, err_msg=key)
    got, want = weights(run / "model.weights.h5"), weights(reference / "model.weights.h5")
    assert got.keys() == want.keys()
    for name in want:
        np.testing.assert_allclose(got[name], want[name], rtol=0, atol=atol, err_msg=name)


# ----- each worker's part of a batch -------------------------------------------------------------------------
@pytest.mark.parametrize("devices", [1, 2, 3, 4])
def test_the_workers_parts_tile_every_batch_and_differ_by_at_most_one_sample(devices):
    for start, stop in [(0, 16), (16, 18), (48, 49), (5, 5 + 13)]:
        parts = [BatchShard(context.World(rank, devices)).part(start, stop) for rank in range(devices)]
        assert parts[0][0] == start and parts[-1][1] == stop
        assert all(a[1] == b[0] for a, b in zip(parts, parts[1:]))
        sizes = [hi - lo for lo, hi in parts]
        assert max(sizes) - min(sizes) <= 1 and sizes == sorted(sizes, reverse=True)


def test_the_launchers_environment_names_the_worker(monkeypatch):
    for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(key, raising=False)
    assert context.from_environment() == context.World(0, 1, 0) and not context.launched()
    monkeypatch.setenv("RANK", "3")
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("LOCAL_RANK", "1")
    here = context.from_environment()
    assert (here.rank, here.size, here.local_rank, here.is_main) == (3, 4, 1, False) and context.launched()


# ----- the same run on one and on two devices ----------------------------------------------------------------
@pytest.fixture(scope="module")
def single(folder):
    train(folder, "train.yaml", "--run-dir", "single")
    return folder / "single"


@pytest.fixture(scope="module")
def two(folder):
    result = train(folder, "train.yaml", "--run-dir", "two", "--devices", "2")
    assert result.stdout.count("Final metrics") == 1, "only rank 0 prints"
    return folder / "two"


def test_two_cpu_workers_give_the_single_process_history_and_weights(single, two):
    assert_close_runs(two, single, atol=1e-5)
    assert history(single)["loss"][0] > history(single)["loss"][-1]
    log = (two / "train.log").read_text()
    assert log.count(f"epoch {EPOCHS}/{EPOCHS}") == 1 and f"done after {EPOCHS} epochs" in log


def test_the_resume_state_keeps_every_workers_random_state(two):
    state = torch.load(two / "state" / "state.pt", weights_only=True)
    first, second = state["rng_workers"]
    assert torch.equal(first["torch"], state["rng"]["torch"])
    assert not torch.equal(second["torch"], first["torch"]), "each worker draws its own dropout masks"


# ----- bad input is refused before any worker starts ----------------------------------------------------------
def test_a_batch_smaller_than_the_devices_is_refused_with_one_message(folder, tmp_path):
    result = train(folder, "train.yaml", "--run-dir", str(tmp_path / "run"), "--devices", "2",
                   "--set", "fit.batch_size=1", check=False)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: data.train: batch_size 1 is smaller than the 2 devices; batch_size is the global batch, split "
        "between the devices (use batch_size >= 2)"]
    assert not (tmp_path / "run").exists()


def test_batch_normalization_and_backup_and_restore_are_refused(folder, tmp_path):
    bn = json.loads(json.dumps(MODEL))
    bn["config"]["layers"].insert(2, {"class_name": "BatchNormalization", "config": {}})
    (tmp_path / "bn.json").write_text(json.dumps(bn))
    (tmp_path / "bn.yaml").write_text((folder / "train.yaml").read_text()
                                      .replace("mlp.json", str(tmp_path / "bn.json"))
                                      .replace("data.npz", str(folder / "data.npz")))
    result = CliRunner().invoke(main, ["train", str(tmp_path / "bn.yaml"), "--devices", "2", "--device", "cpu",
                                       "--run-dir", str(tmp_path / "a")])
    assert result.exit_code == 2 and "(BatchNormalization) would compute its batch statistics" in result.output
    backup = [f"--set=callbacks=[{{class_name: BackupAndRestore, config: {{backup_dir: {tmp_path / 'b'}}}}}]"]
    result = CliRunner().invoke(main, ["train", str(folder / "train.yaml"), "--devices", "2", "--device", "cpu", *backup,
                                       "--run-dir", str(tmp_path / "c")])
    assert result.exit_code == 2 and "BackupAndRestore cannot back up a run on several devices" in result.output


def test_an_error_inside_a_worker_reaches_the_user_once_through_the_launching_process(tmp_path, monkeypatch):
    from modelcli.distributed import launch
    from modelcli.errors import DataError, ModelcliError

    assert not launch.record_error(DataError("elsewhere"))  # a lone process prints its own errors
    monkeypatch.setenv(launch.ERRORS_ENV, str(tmp_path))
    for rank in (1, 0):
        monkeypatch.setenv("RANK", str(rank))
        assert launch.record_error(DataError(f"rank {rank} cannot read x", where="data.train"))
    with pytest.raises(ModelcliError) as raised:
        launch._report(None, str(tmp_path), 2, "run")
    assert str(raised.value) == "data.train: rank 0 cannot read x" and raised.value.exit_code == 2


# ----- a worker dies; --resume --devices 2 finishes the run ------------------------------------------------------
def worker_pid(parent, rank):
    """The pid of the worker with ``rank`` among ``parent``'s children (from /proc)."""
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/environ", "rb") as f:
                environ = f.read().split(b"\0")
        except OSError:
            continue
        if ppid == parent and f"RANK={rank}".encode() in environ:
            return int(entry)
    return None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds the worker's pid in /proc")
def test_a_killed_worker_stops_the_run_and_resume_finishes_it_as_if_uninterrupted(folder, two):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}  # CPU workers (gloo), also on a GPU host
    process = subprocess.Popen([sys.executable, "-m", "modelcli", "train", "train.yaml", "--run-dir", "killed",
                                "--devices", "2", "-v", "0"], cwd=folder, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    state = folder / "killed" / "state" / "state.pt"
    deadline = time.monotonic() + 120
    while not (state.exists() and torch.load(state, weights_only=True)["epoch"] >= 2):
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.01)
    os.kill(worker_pid(process.pid, 1), signal.SIGKILL)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 1
    assert err.strip().splitlines()[-1] == (
        f"error: worker 1 of 2 was killed by SIGKILL; the others were stopped (the run folder keeps the last "
        f"finished epoch; continue with: modelcli train --resume {folder / 'killed'} --devices 2)")
    done = torch.load(state, weights_only=True)["epoch"]
    assert 2 <= done < EPOCHS and not (folder / "killed" / "model.weights.h5").exists()

    train(folder, "--resume", "killed", "--devices", "2")
    assert_close_runs(folder / "killed", two, atol=1e-6)
    assert f"resumed at epoch {done + 1}" in (folder / "killed" / "train.log").read_text()

"""``modelcli train`` and ``modelcli validate`` in-process: output, the run folder, overrides, --run-dir."""
import json
import os
import pathlib
import sys

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from modelcli.cli import main

CONFIGS = pathlib.Path(__file__).resolve().parent.parent / "configs"
SEED_MLP = f"""\
name: tiny mlp
seed: 3
model: {CONFIGS / 'seed_mlp.json'}
compile: {{optimizer: adam, loss: binary_crossentropy, metrics: [accuracy]}}
data:
  train: {{x: {CONFIGS / 'data/seed_mlp.npz'}:x_train, y: {CONFIGS / 'data/seed_mlp.npz'}:y_train}}
  validation: {{x: {CONFIGS / 'data/seed_mlp.npz'}:x_val, y: {CONFIGS / 'data/seed_mlp.npz'}:y_val}}
  test: {{x: {CONFIGS / 'data/seed_mlp.npz'}:x_test, y: {CONFIGS / 'data/seed_mlp.npz'}:y_test}}
fit: {{epochs: 2, batch_size: 64}}
"""


@pytest.fixture(autouse=True)
def in_tmp_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def train(*args):
    result = CliRunner().invoke(main, ["train", *args])
    assert result.exit_code == 0, result.output + result.stderr
    return result


def only_run(parent="runs"):
    runs = os.listdir(parent)
    assert len(runs) == 1, runs
    return pathlib.Path(parent, runs[0])


def test_train_prints_summary_progress_and_final_table_and_writes_the_run_folder(tmp_path):
    (tmp_path / "train.yaml").write_text(SEED_MLP)
    result = train("train.yaml", "--set", "fit.epochs=3", "--set", "compile.optimizer.config.learning_rate=0.01")
    out = result.output
    for text in ('Model: "seed_mlp"', "dense_2 (Dense)", "Total params: 5,569", "Epoch 1/3", "Epoch 3/3",
                 "9/9 - ", "val_accuracy", "Final metrics", "validation", "test", "run folder:"):
        assert text in out, text
    run = only_run()
    assert run.name.startswith("tiny-mlp-") and len(run.name) == len("tiny-mlp-20250101-120000")
    for name in ("config.yaml", "model.json", "model.yaml", "model.weights.h5", "checkpoints/last.weights.h5",
                 "checkpoints/best.weights.h5", "history.json", "history.csv", "metrics.json", "train.log",
                 "state/state.pt"):
        assert (run / name).is_file(), name
    config = yaml.safe_load((run / "config.yaml").read_text())
    assert config["overrides"] == ["fit.epochs=3", "compile.optimizer.config.learning_rate=0.01"]
    assert config["fit"]["epochs"] == 3 and config["compile"]["optimizer"]["config"]["learning_rate"] == 0.01
    history = json.loads((run / "history.json").read_text())
    assert list(history) == ["accuracy", "loss", "val_accuracy", "val_loss"] and len(history["loss"]) == 3  # Keras 3 sorts
    csv_rows = (run / "history.csv").read_text().splitlines()
    assert csv_rows[0] == "epoch,accuracy,loss,val_accuracy,val_loss" and len(csv_rows) == 4  # CSVLogger's columns
    assert float(csv_rows[3].split(",")[2]) == history["loss"][2]
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["train"]["loss"] == history["loss"][-1]
    assert metrics["validation"]["accuracy"] == history["val_accuracy"][-1]
    log = (run / "train.log").read_text()
    assert "epoch 3/3: accuracy:" in log and "timings (s): import" in log and "test: accuracy:" in log  # sorted keys
    assert "with --set fit.epochs=3" in log


def test_the_run_folder_holds_a_model_that_reproduces_the_test_metrics(tmp_path):
    from modelcli.config import load_config
    from modelcli.data import load_split
    from modelcli.models import load_model

    (tmp_path / "train.yaml").write_text(SEED_MLP)
    train("train.yaml", "-v", "0")
    run = only_run()
    model = load_model(run / "model.json")
    model.load_weights(run / "model.weights.h5")
    config = load_config(run / "config.yaml")
    config.compile_model(model)
    x, y, _ = load_split(config.data["test"], config.base_dir, model, "data.test")
    logs = model.evaluate(x, y, batch_size=64, verbose=0, return_dict=True)
    assert logs == json.loads((run / "metrics.json").read_text())["test"]


def test_verbose_0_prints_no_progress_and_verbose_2_one_line_per_epoch(tmp_path):
    (tmp_path / "train.yaml").write_text(SEED_MLP)
    assert "Epoch 1/2" not in train("train.yaml", "-v", "0", "--run-dir", "a").output
    out = train("train.yaml", "-v", "2", "--run-dir", "b").output
    assert out.count("9/9 - ") == 2


def test_run_dir_chooses_the_folder_and_an_existing_run_is_never_overwritten(tmp_path):
    (tmp_path / "train.yaml").write_text(SEED_MLP)
    train("train.yaml", "--run-dir", "mine", "-v", "0")
    assert (tmp_path / "mine" / "model.weights.h5").is_file() and not (tmp_path / "runs").exists()
    before = {p: p.read_bytes() for p in (tmp_path / "mine").rglob("*") if p.is_file()}
    result = CliRunner().invoke(main, ["train", "train.yaml", "--run-dir", "mine"])
    assert result.exit_code == 2
    assert "the run folder already holds files" in result.stderr and "--resume" in result.stderr
    assert {p: p.read_bytes() for p in (tmp_path / "mine").rglob("*") if p.is_file()} == before


def test_a_bad_config_creates_no_run_folder(tmp_path):
    (tmp_path / "train.yaml").write_text(SEED_MLP.replace("x_val,", "x_vall,"))
    result = CliRunner().invoke(main, ["train", "train.yaml"])
    assert result.exit_code == 2 and "has no array 'x_vall'" in result.stderr
    assert "did you mean 'x_val'" in result.stderr
    assert not (tmp_path / "runs").exists()


def test_memory_mapped_npy_files_train(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.random((300, 20), dtype=np.float32)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", (x.sum(axis=1, keepdims=True) > 10).astype(np.float32))
    (tmp_path / "train.yaml").write_text(
        f"model: {CONFIGS / 'seed_mlp.json'}\ncompile: {{loss: binary_crossentropy}}\n"
        "data: {train: {x: x.npy, y: y.npy}}\nfit: {epochs: 1, validation_split: 0.2}\n")
    train("train.yaml", "-v", "0")
    history = json.loads((only_run() / "history.json").read_text())
    assert list(history) == ["loss", "val_loss"]


# Trains on the small file, then limits the process's private memory (RLIMIT_DATA: not file pages mapped
# read-only) to what that took plus half the big file, checks that the big file cannot be loaded whole
# under the limit, and trains on it.
BOUNDED = """
import resource, sys, numpy as np
from modelcli.cli import main

def train(config):
    try:
        main(["train", config, "-v", "0"], standalone_mode=False)
    except SystemExit as exit:
        assert not exit.code, exit.code

train("small.yaml")
data = int([l for l in open("/proc/self/status") if l.startswith("VmData:")][0].split()[1]) * 1024
limit = data + int(sys.argv[1]) // 2
resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
try:
    np.load("big.npy")
    print("loaded whole")
except MemoryError:
    print("a whole load does not fit")
train("big.yaml")
print("trained")
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_DATA and /proc are Linux's")
def test_a_npy_bigger_than_the_memory_limit_trains_memory_mapped(tmp_path):
    import subprocess

    rows, features = 1 << 19, 64  # 128 MiB of float32
    for name, n in (("small", 1 << 13), ("big", rows)):
        x = np.lib.format.open_memmap(tmp_path / f"{name}.npy", mode="w+", dtype="float32", shape=(n, features))
        for start in range(0, n, 1 << 16):
            x[start:start + (1 << 16)] = np.random.default_rng(start).random((min(1 << 16, n - start), features),
                                                                             dtype="float32")
        x.flush()
        np.save(tmp_path / f"{name}_y.npy", (np.asarray(x[:, :1]) > 0.5).astype("float32"))
        del x
        (tmp_path / f"{name}.yaml").write_text(
            "model: {class_name: Sequential, config: {layers: [{class_name: InputLayer, config: {batch_shape: "
            f"[null, {features}]}}}}, {{class_name: Dense, config: {{units: 1, activation: sigmoid}}}}]}}}}\n"
            f"compile: {{optimizer: sgd, loss: binary_crossentropy}}\n"
            f"data: {{train: {{x: {name}.npy, y: {name}_y.npy}}}}\nfit: {{epochs: 1, batch_size: 8192}}\n")
    size = os.path.getsize(tmp_path / "big.npy")
    # the host's memory is what is bounded: on a GPU host, CUDA's start-up would not fit the limit itself
    run = subprocess.run([sys.executable, "-c", BOUNDED, str(size)], cwd=tmp_path, capture_output=True, text=True,
                         env={**os.environ, "CUDA_VISIBLE_DEVICES": ""})
    assert run.returncode == 0, run.stderr[-3000:]
    assert "a whole load does not fit" in run.stdout and run.stdout.endswith("trained\n")
    big = [p for p in (tmp_path / "runs").iterdir() if p.name.startswith("big-")]
    assert len(json.loads((big[0] / "history.json").read_text())["loss"]) == 1


def test_callback_files_go_into_the_run_folder(tmp_path):
    (tmp_path / "train.yaml").write_text(SEED_MLP + "callbacks:\n"
                                         "  - {class_name: CSVLogger, config: {filename: log.csv}}\n"
                                         "  - {class_name: ModelCheckpoint, config: {filepath: 'e{epoch}.weights.h5',"
                                         " save_weights_only: true}}\n")
    train("train.yaml", "-v", "0", "--run-dir", "run")
    assert sorted(p.name for p in (tmp_path / "run").glob("e*.weights.h5")) == ["e1.weights.h5", "e2.weights.h5"]
    assert (tmp_path / "run" / "log.csv").read_text().count("\n") == 3


def test_the_two_input_two_output_config_trains(tmp_path):
    train(str(CONFIGS / "train_seed_two_io.yaml"), "--set", "fit.epochs=1", "-v", "0", "--run-dir", "run")
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert {"main_output_loss", "aux_output_accuracy", "val_main_output_accuracy"} <= set(history)


def test_validate_checks_end_to_end_and_writes_nothing(tmp_path):
    (tmp_path / "train.yaml").write_text(SEED_MLP)
    result = CliRunner().invoke(main, ["validate", "train.yaml"])
    assert result.exit_code == 0, result.output + result.stderr
    for text in ("validation", "input_layer (537, 20) float32", "dense_2 (77, 1) float32", "ready to train"):
        assert text in result.output
    assert sorted(os.listdir(tmp_path)) == ["train.yaml"]
    result = CliRunner().invoke(main, ["validate", "train.yaml", "--set", "data.test.y=" +
                                       str(CONFIGS / "data/seed_mlp.npz") + ":x_test"])
    assert result.exit_code == 2
    assert "output 'dense_2' has shape (None, 1) but its targets" in result.stderr

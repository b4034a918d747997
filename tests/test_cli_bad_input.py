"""Bad input to ``modelcli train`` / ``validate``: exit code 2, one message naming the place, no traceback,
and no run folder left behind. (Bad model files: test_bad_input.py; other commands: their own tests.)"""
import pathlib
import subprocess
import sys

import h5py
import numpy as np
import pytest
from click.testing import CliRunner

from modelcli.cli import main

MODEL = pathlib.Path(__file__).resolve().parent.parent / "configs" / "seed_mlp.json"
CONFIG = f"""\
name: bad
seed: 1
model: {MODEL}
compile: {{optimizer: adam, loss: binary_crossentropy, metrics: [accuracy]}}
data:
  train: {{x: x.npy, y: y.npy}}
fit: {{epochs: 1, batch_size: 8}}
callbacks:
  - {{class_name: EarlyStopping, config: {{monitor: loss, patience: 2}}}}
"""
INLINE_MODEL = """model:
  class_name: Sequential
  config:
    layers:
      - {class_name: InputLayer, config: {batch_shape: [null, 20]}}
      - {class_name: Dense, config: {units: 1, activaton: relu}}"""


@pytest.fixture(autouse=True)
def folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    np.save(tmp_path / "x.npy", rng.random((40, 20), dtype=np.float32))
    np.save(tmp_path / "y.npy", (rng.random((40, 1)) > 0.5).astype(np.float32))
    return tmp_path


def config(*edits, text=CONFIG):
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    pathlib.Path("train.yaml").write_text(text)


def save(name, array, **kwargs):
    np.save(name, array, **kwargs)


def truncate(name):
    data = pathlib.Path(name).read_bytes()
    pathlib.Path(name).write_bytes(data[:len(data) // 2])


def write_h5(name):
    with h5py.File(name, "w") as f:
        f["x"] = np.zeros((40, 20), np.float32)
    truncate(name)


def other_weights(name):
    import modelcli as keras
    model = keras.Sequential([keras.Input(shape=(20,)), keras.layers.Dense(3)])
    model.save_weights(name)


def train_args(*extra):
    return ["train", "train.yaml", *extra]


# (setup, command line, fragments the message must hold)
CASES = {
    "bad yaml": (lambda: config(("seed: 1", "seed: 1: 2")), train_args(),
                 ["train.yaml: invalid YAML at line 2, column 8: mapping values are not allowed here"]),
    "bad json": (lambda: pathlib.Path("train.json").write_text('{"name": "x",\n "seed": }'), ["train", "train.json"],
                 ["train.json: invalid JSON at line 2, column 10: Expecting value"]),
    "empty config": (lambda: pathlib.Path("train.yaml").write_text("# nothing yet\n"), train_args(),
                     ["train.yaml: the config is empty"]),
    "missing config": (lambda: None, ["train", "nope.yaml"], ["nope.yaml: no such config file"]),
    "unknown top-level key": (lambda: config(("seed: 1", "sed: 1")), train_args(),
                              ["train.yaml: sed (line 2): unknown key 'sed' in the top level (did you mean 'seed'?)"]),
    "unknown fit argument": (lambda: config(("batch_size", "batchsize")), train_args(),
                             ["fit.batchsize (line 7): unknown fit argument 'batchsize' (did you mean 'batch_size'?)"]),
    "wrong type": (lambda: config(("epochs: 1", "epochs: ten")), train_args(),
                   ["train.yaml: fit.epochs (line 7): expected a positive integer, got 'ten' (a string)"]),
    "validation_split out of range": (lambda: config(("epochs: 1", "epochs: 1, validation_split: 1.5")), train_args(),
                                      ["fit.validation_split (line 7): expected a number in [0, 1), got 1.5"]),
    "missing model file": (lambda: config((str(MODEL), "nets/mlp.json")), train_args(),
                           ["train.yaml: model (line 3): no such file:", "nets/mlp.json"]),
    "missing data file": (lambda: config(("y: y.npy", "y: labels.npy")), train_args(),
                          ["data.train.y (line 6): no such file:", "labels.npy", "relative to the config file"]),
    "unknown optimizer": (lambda: config(("optimizer: adam", "optimizer: adamm")), train_args(),
                          ["train.yaml: compile.optimizer (line 4): unknown optimizer 'adamm' (did you mean 'adam'?)"]),
    "unknown loss": (lambda: config(("loss: binary_crossentropy", "loss: binary_crossentropi")), train_args(),
                     ["train.yaml: compile.loss (line 4): unknown loss 'binary_crossentropi' "
                      "(did you mean 'binary_crossentropy'?)"]),
    "unknown callback": (lambda: config(("EarlyStopping", "EarlyStoping")), train_args(),
                         ["callbacks[0].class_name (line 9)", "EarlyStoping", "did you mean 'EarlyStopping'"]),
    "unknown callback argument": (lambda: config(("patience: 2", "patiense: 2")), train_args(),
                                  ["callbacks[0].config.patiense (line 9): unknown EarlyStopping argument 'patiense'",
                                   "did you mean 'patience'"]),
    "bad inline model": (lambda: config((f"model: {MODEL}", INLINE_MODEL)), train_args(),
                         ["train.yaml: model.config.layers[1].config.activaton (line 8): unknown Dense argument "
                          "'activaton' (did you mean 'activation'?)"]),
    "weights that do not fit": (lambda: (other_weights("w.weights.h5"),
                                         config(("compile:", "weights: w.weights.h5\ncompile:"))),
                                train_args(), ["w.weights.h5", "(20, 64)", "(20, 3)"]),
    "inputs of the wrong width": (lambda: save("x.npy", np.zeros((40, 21), np.float32)), train_args(),
                                  ["data.train: input 'input_layer' expects shape (None, 20) but x.npy has shape "
                                   "(40, 21)"]),
    "targets of the wrong width": (lambda: save("y.npy", np.zeros((40, 3), np.float32)), train_args(),
                                   ["output 'dense_2' has shape (None, 1) but its targets y.npy have shape (40, 3)"]),
    "pickled npy": (lambda: save("x.npy", np.array([{"a": 1}] * 40, dtype=object), allow_pickle=True),
                    train_args(), ["x.npy: the array holds pickled Python objects, which modelcli never loads"]),
    "truncated npy": (lambda: truncate("x.npy"), train_args(), ["x.npy: the file is truncated"]),
    "truncated hdf5": (lambda: (write_h5("d.h5"), config(("x: x.npy", "x: d.h5:x"))), train_args(),
                       ["d.h5: not a readable HDF5 file: it is truncated"]),
    "nan in data": (lambda: save("x.npy", np.full((40, 20), np.nan, np.float32)), train_args(),
                    ["data.train: x.npy holds NaN or infinite values (first at row 0)"]),
    "empty data": (lambda: (save("x.npy", np.zeros((0, 20), np.float32)), save("y.npy", np.zeros((0, 1), np.float32))),
                   train_args(), ["data.train: x.npy is empty (0 samples)"]),
    "x/y length mismatch": (lambda: save("y.npy", np.zeros((39, 1), np.float32)), train_args(),
                            ["data.train: x.npy has 40 samples but y.npy has 39"]),
    "npz key that is not there": (lambda: (np.savez("d.npz", x_train=np.zeros((40, 20), np.float32)),
                                           config(("x: x.npy", "x: d.npz:x_trian"))), train_args(),
                                  ["d.npz: has no array 'x_trian'", "did you mean 'x_train'"]),
    "csv with a word in it": (lambda: (pathlib.Path("t.csv").write_text("a,b\n1,2\n3,oops\n"),
                                       config(("{x: x.npy, y: y.npy}", "t.csv"))), train_args(),
                              ["t.csv: line 3, column 'b': 'oops' is not a number"]),
    "npy as a whole split": (lambda: config(("{x: x.npy, y: y.npy}", "x.npy")), train_args(),
                             ["x.npy: a .npy file holds one array, so it cannot be a whole split"]),
    "override without a value": (lambda: config(), train_args("--set", "fit.epochs"),
                                  ["--set: cannot read the override 'fit.epochs'", "KEY.PATH=VALUE"]),
    "override of an unknown key": (lambda: config(), train_args("--set", "fit.epoch=3"),
                                   ["fit.epoch (from --set fit.epoch=3): unknown fit argument 'epoch'"]),
    "override of the wrong type": (lambda: config(), train_args("--set", "fit.batch_size=[8]"),
                                   ["fit.batch_size (from --set fit.batch_size=[8]): expected a positive integer"]),
    "resume of no run": (lambda: None, ["train", "--resume", "runs/nothing-here"], ["no such run folder"]),
    "resume with a config too": (lambda: (config(), pathlib.Path("r").mkdir(), pathlib.Path("r/config.yaml").touch()),
                                 ["train", "train.yaml", "--resume", "r"], ["--resume continues a run"]),
    "damaged resume state": (lambda: (pathlib.Path("r/state").mkdir(parents=True),
                                      pathlib.Path("r/config.yaml").write_text(CONFIG.replace("x.npy", "../x.npy")
                                                                               .replace("y.npy", "../y.npy")),
                                      pathlib.Path("r/state/state.pt").write_bytes(b"garbage")),
                             ["train", "--resume", "r"],
                             ["state.pt: cannot read the resume state: it is damaged", "delete the state folder"]),
    "run dir that is a file": (lambda: (config(), pathlib.Path("taken").write_text("x")),
                               train_args("--run-dir", "taken"), ["taken: is a file, not a folder"]),
    "validate: shapes": (lambda: save("x.npy", np.zeros((40, 5), np.float32)), ["validate", "train.yaml"],
                         ["expects shape (None, 20) but x.npy has shape (40, 5)"]),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_bad_input_is_one_clear_message_and_exit_code_2(case, folder):
    setup, args, fragments = CASES[case]
    if not (folder / "train.yaml").exists():
        config()
    setup()
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, (result.output, result.stderr, result.exception)
    assert "Traceback" not in result.stderr + result.output
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr
    assert not (folder / "runs").exists()


def test_there_are_at_least_25_cases():
    assert len(CASES) >= 25


def test_the_real_executable_prints_one_line_and_debug_shows_the_traceback(folder):
    config(("epochs: 1", "epochs: -1"))
    run = subprocess.run([sys.executable, "-m", "modelcli", "train", "train.yaml"], capture_output=True, text=True)
    assert run.returncode == 2
    assert run.stderr == "error: train.yaml: fit.epochs (line 7): expected a positive integer, got -1 (an integer)\n"
    debug = CliRunner().invoke(main, ["--debug", "train", "train.yaml"])
    assert debug.exit_code == 1 and type(debug.exception).__name__ == "ConfigError"


def test_a_failing_resume_loses_nothing_in_the_run_folder(folder):
    config()
    assert CliRunner().invoke(main, ["train", "train.yaml", "--run-dir", "run", "-v", "0"]).exit_code == 0
    before = {p: p.read_bytes() for p in (folder / "run").rglob("*") if p.is_file()}
    save("x.npy", np.zeros((40, 3), np.float32))  # the data changed since: the resume fails its check
    result = CliRunner().invoke(main, ["train", "--resume", "run", "--set", "fit.epochs=2"])
    assert result.exit_code == 2 and "expects shape (None, 20)" in result.stderr
    after = {p: p.read_bytes() for p in (folder / "run").rglob("*") if p.is_file()}
    assert after == before

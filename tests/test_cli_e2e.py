"""The real ``modelcli`` executable on every training config shipped in configs/.

Each config is trained (the quickstart exactly as shipped, the others with ``--set
fit.epochs=1`` to keep the suite short), then its run is evaluated, predicted and
summarized, each by its own ``modelcli`` process. The processes of one stage run side by
side, one torch thread each. Checked: exit codes, the run folder's files, evaluate's
numbers against the metrics training wrote, predict's output against ``model.predict``
of the Python API, and ``modelcli runs`` listing every run.
"""
import glob
import json
import os
import shutil
import subprocess

import numpy as np
import pytest
import yaml

CONFIGS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "configs")
RUN_FILES = ("config.yaml", "model.json", "model.yaml", "model.weights.h5", "history.json", "history.csv",
             "metrics.json", "train.log")


def training_configs():
    """Every configs/*.yaml that is a training config (not a model spec)."""
    found = []
    for path in sorted(glob.glob(os.path.join(CONFIGS_DIR, "*.yaml"))):
        with open(path) as f:
            document = yaml.safe_load(f)
        if "class_name" not in document:
            found.append(os.path.splitext(os.path.basename(path))[0])
    return found


CONFIGS = training_configs()


def run_all(commands, cwd, at_once=4):
    """Run ``modelcli`` command lines, ``at_once`` side by side; {key: CompletedProcess}."""
    from concurrent.futures import ThreadPoolExecutor

    executable = shutil.which("modelcli")
    assert executable, "the modelcli executable is not on PATH (pip install -e .)"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "COLUMNS": "200"}

    def run(args):
        return subprocess.run([executable, *map(str, args)], cwd=cwd, env=env, text=True, capture_output=True,
                              timeout=600)

    with ThreadPoolExecutor(at_once) as pool:
        return dict(zip(commands, pool.map(run, commands.values())))


def _inputs(run_dir, folder):
    """The config's test inputs as one file for --input, and as arrays for the Python API."""
    from modelcli.config import load_config
    from modelcli.data import load_split
    from modelcli.sources import load_model_source

    config = load_config(os.path.join(run_dir, "config.yaml"))
    model = load_model_source(run_dir)
    x, _, _ = load_split(config.data["test"], config.base_dir, model, "data.test")
    if isinstance(x, list):
        path = os.path.join(folder, "inputs.npz")
        np.savez(path, **dict(zip([t.name for t in model.inputs], x)))
    else:
        path = os.path.join(folder, "inputs.npy")
        np.save(path, x)
    return path, model, x


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    """Train every config, then evaluate, predict and summarize every run; all through the executable."""
    root = tmp_path_factory.mktemp("e2e")
    trains = run_all({name: ["train", os.path.join(CONFIGS_DIR, f"{name}.yaml"), "--run-dir", root / "runs" / name,
                             "-v", "2"] + ([] if name == "quickstart" else ["--set", "fit.epochs=1"])
                      for name in CONFIGS}, root)
    later, inputs = {}, {}
    for name in CONFIGS:
        run_dir = str(root / "runs" / name)
        if trains[name].returncode != 0:
            continue
        folder = root / name
        folder.mkdir()
        inputs[name] = _inputs(run_dir, folder)
        suffix = ".npz" if len(inputs[name][1].outputs) > 1 else ".npy"
        later[name, "evaluate"] = ["evaluate", run_dir, "--json"]
        later[name, "predict"] = ["predict", run_dir, "--input", inputs[name][0], "--output", folder / f"out{suffix}"]
        later[name, "summary"] = ["summary", run_dir]
    later["runs"] = ["runs", root / "runs", "--json"]
    return root, trains, run_all(later, root), inputs


@pytest.mark.parametrize("name", CONFIGS)
def test_train_writes_a_complete_run_folder(session, name):
    root, trains, _, _ = session
    result = trains[name]
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    run_dir = root / "runs" / name
    for file in RUN_FILES:
        assert (run_dir / file).is_file(), file
    history = json.loads((run_dir / "history.json").read_text())
    with open(os.path.join(CONFIGS_DIR, f"{name}.yaml")) as f:
        epochs = 1 if name != "quickstart" else yaml.safe_load(f)["fit"]["epochs"]
    assert 1 <= len(history["loss"]) <= epochs
    # as in Keras, a one-epoch fit prints its progress line without "Epoch 1/1"
    assert (f"Epoch {len(history['loss'])}/{epochs}" if epochs > 1 else " - loss: ") in result.stdout
    recorded = yaml.safe_load((run_dir / "config.yaml").read_text())
    assert recorded.get("overrides", []) == ([] if name == "quickstart" else ["fit.epochs=1"])


@pytest.mark.parametrize("name", CONFIGS)
def test_evaluate_gives_the_test_metrics_training_wrote(session, name):
    root, _, later, _ = session
    result = later[name, "evaluate"]
    assert result.returncode == 0, result.stderr
    metrics = json.loads((root / "runs" / name / "metrics.json").read_text())
    assert json.loads(result.stdout) == pytest.approx(metrics["test"], rel=1e-5, abs=1e-6)


@pytest.mark.parametrize("name", CONFIGS)
def test_predict_equals_the_python_api(session, name):
    root, _, later, inputs = session
    result = later[name, "predict"]
    assert result.returncode == 0, result.stderr
    _, model, x = inputs[name]
    expected = model.predict(x)
    if len(model.outputs) > 1:
        out = np.load(root / name / "out.npz")
        assert sorted(out.files) == sorted(model.output_names)
        for output_name, array in zip(model.output_names, expected):
            np.testing.assert_array_equal(out[output_name], array)
    else:
        np.testing.assert_array_equal(np.load(root / name / "out.npy"), expected)


@pytest.mark.parametrize("name", CONFIGS)
def test_summary_of_the_run(session, name):
    _, _, later, inputs = session
    result = later[name, "summary"]
    assert result.returncode == 0, result.stderr
    model = inputs[name][1]
    assert f'Model: "{model.name}"' in result.stdout
    assert f"Total params: {model.count_params():,}" in result.stdout


def test_runs_lists_every_run_as_done(session):
    _, _, later, _ = session
    result = later["runs"]
    assert result.returncode == 0, result.stderr
    rows = {r["run"]: r for r in json.loads(result.stdout)}
    assert sorted(rows) == sorted(CONFIGS)
    assert {r["status"] for r in rows.values()} == {"done"}
    assert all("test_loss" in r["metrics"] for r in rows.values())


def test_the_quickstart_learns_the_digits(session):
    root, _, _, _ = session
    metrics = json.loads((root / "runs" / "quickstart" / "metrics.json").read_text())
    assert metrics["test"]["accuracy"] > 0.9  # ten classes: chance is 0.1

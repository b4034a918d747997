"""evaluate, predict, convert, runs and plot, in-process, on run folders made with the Python API.

A run folder here has the files ``modelcli train`` writes (config.yaml, model.json,
model.weights.h5, history.json, metrics.json); the end-to-end tests make real ones.
"""
import json
import os
import sys

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

import modelcli as keras
from modelcli.cli import main
from modelcli.models import load_model, model_from_json, model_from_yaml


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def assert_fails(result, *texts):
    """Exit code 2, one 'error:' line naming what is wrong, no traceback."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    for text in texts:
        assert text in result.stderr, (text, result.stderr)


def classifier():
    model = keras.Sequential([keras.Input((6,), name="features"), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(3, activation="softmax", name="label")], name="clf")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def two_io():
    a, b = keras.Input((4,), name="a"), keras.Input((3,), name="b")
    joined = keras.layers.concatenate([a, b])
    return keras.Model([a, b], [keras.layers.Dense(2, name="first")(joined),
                                keras.layers.Dense(1, name="second")(b)], name="two_io")


def make_run(folder, model, history, metrics=None, config=None):
    """A run folder in the layout modelcli train writes."""
    os.makedirs(folder)
    (folder / "model.json").write_text(model.to_json())
    (folder / "model.yaml").write_text(model.to_yaml())
    model.save_weights(folder / "model.weights.h5")
    (folder / "history.json").write_text(json.dumps(history))
    if metrics is not None:
        (folder / "metrics.json").write_text(json.dumps(metrics))
    if config is not None:
        (folder / "config.yaml").write_text(yaml.safe_dump(config))
    return folder


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """(run folder, model, data folder): the classifier fitted 3 epochs on 3 separable clusters."""
    root = tmp_path_factory.mktemp("trained")
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 240)
    x = (rng.normal(size=(240, 6)) + 2 * np.eye(3, 6)[y]).astype("float32")
    np.savez(root / "data.npz", x_train=x[:160], y_train=y[:160], x_test=x[160:], y_test=y[160:])
    np.savez(root / "test.npz", x=x[160:], y=y[160:])
    np.save(root / "x.npy", x[160:])
    keras.utils.set_random_seed(1)
    model = classifier()
    history = model.fit(x[:160], y[:160], epochs=3, validation_split=0.25, verbose=0).history
    test = model.evaluate(x[160:], y[160:], verbose=0, return_dict=True)
    config = {"name": "clf", "model": str(root / "run" / "model.json"),
              "compile": {"optimizer": "adam", "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]},
              "data": {"train": {"x": f"{root}/data.npz:x_train", "y": f"{root}/data.npz:y_train"},
                       "test": {"x": f"{root}/data.npz:x_test", "y": f"{root}/data.npz:y_test"}},
              "fit": {"epochs": 3}}
    run = make_run(root / "run", model, history, {"train": {k: v[-1] for k, v in history.items()
                                                            if not k.startswith("val_")}, "test": test}, config)
    return run, model, root


# ----- evaluate -------------------------------------------------------------------------------------------
def test_evaluate_a_run_on_its_test_data_prints_loss_and_metrics(trained):
    run, model, root = trained
    expected = model.evaluate(np.load(root / "x.npy"), np.load(root / "test.npz")["y"], verbose=0, return_dict=True)
    result = invoke("evaluate", run, "--json")
    assert result.exit_code == 0, result.output
    logs = json.loads(result.stdout)
    assert logs.keys() == {"loss", "accuracy"}
    assert logs == pytest.approx(expected, rel=1e-6)
    table = invoke("evaluate", run)
    assert table.exit_code == 0 and "clf on data.test" in table.output
    assert "loss" in table.output and f"{expected['accuracy']:.6g}" in table.output


def test_evaluate_with_other_data_and_other_weights(trained, tmp_path):
    run, model, root = trained
    fresh = classifier()
    fresh.save_weights(tmp_path / "fresh.weights.h5")
    x, y = np.load(root / "test.npz")["x"], np.load(root / "test.npz")["y"]
    result = invoke("evaluate", run, "--data", root / "test.npz", "--weights", tmp_path / "fresh.weights.h5", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == pytest.approx(fresh.evaluate(x, y, verbose=0, return_dict=True), rel=1e-6)


def test_evaluate_a_config_with_the_weights_of_its_run(trained, tmp_path):
    run, model, root = trained
    (tmp_path / "train.yaml").write_text((run / "config.yaml").read_text())
    of_config = invoke("evaluate", tmp_path / "train.yaml", "--weights", run / "model.weights.h5", "--json")
    assert of_config.exit_code == 0, of_config.output
    assert json.loads(of_config.stdout) == json.loads(invoke("evaluate", run, "--json").stdout)


def test_evaluate_bad_input(trained, tmp_path):
    run, model, root = trained
    assert_fails(invoke("evaluate", tmp_path / "missing"), "missing", "no such run folder")
    assert_fails(invoke("evaluate", tmp_path), "not a run folder")
    model.save(tmp_path / "m.keras")
    assert_fails(invoke("evaluate", tmp_path / "m.keras"), "m.keras", "training config or a run folder")
    np.savez(tmp_path / "wrong.npz", x=np.zeros((5, 7), "float32"), y=np.zeros(5))
    assert_fails(invoke("evaluate", run, "--data", tmp_path / "wrong.npz"), "(5, 7)", "(None, 6)")
    config = yaml.safe_load((run / "config.yaml").read_text())
    del config["data"]["test"]
    (tmp_path / "no_test.yaml").write_text(yaml.safe_dump(config))
    assert_fails(invoke("evaluate", tmp_path / "no_test.yaml"), "no data to evaluate on", "--data FILE")


# ----- predict ------------------------------------------------------------------------------------------
def test_predict_writes_npy_equal_to_model_predict(trained, tmp_path):
    run, model, root = trained
    x = np.load(root / "x.npy")
    for batch_size in (32, 7):
        out = tmp_path / f"p{batch_size}.npy"
        result = invoke("predict", run, "--input", root / "x.npy", "--output", out, "--batch-size", batch_size)
        assert result.exit_code == 0, result.output
        assert f"wrote {out}: label (80, 3)" in result.output
        np.testing.assert_array_equal(np.load(out), model.predict(x, batch_size=batch_size))


def test_predict_defaults_to_predictions_npy_in_the_working_folder(trained, tmp_path, monkeypatch):
    run, model, root = trained
    monkeypatch.chdir(tmp_path)
    assert invoke("predict", run, "-i", root / "x.npy").exit_code == 0
    assert np.load(tmp_path / "predictions.npy").shape == (80, 3)


def test_predict_csv_has_a_header_and_float32_exact_values(trained, tmp_path):
    run, model, root = trained
    result = invoke("predict", run, "--input", root / "x.npy", "--output", tmp_path / "p.csv")
    assert result.exit_code == 0, result.output
    lines = (tmp_path / "p.csv").read_text().splitlines()
    assert lines[0] == "label_0,label_1,label_2" and len(lines) == 81
    values = np.loadtxt(tmp_path / "p.csv", delimiter=",", skiprows=1, dtype="float32")
    np.testing.assert_array_equal(values, model.predict(np.load(root / "x.npy")))


def test_predict_reads_npz_csv_and_keyed_inputs(trained, tmp_path):
    run, model, root = trained
    x = np.load(root / "x.npy")
    expected = model.predict(x)
    np.savetxt(tmp_path / "x.csv", x, delimiter=",")
    for source in (root / "test.npz", f"{root}/data.npz:x_test", tmp_path / "x.csv"):
        result = invoke("predict", run, "--input", source, "--output", tmp_path / "p.npy")
        assert result.exit_code == 0, (source, result.output)
        np.testing.assert_allclose(np.load(tmp_path / "p.npy"), expected, rtol=1e-6, atol=1e-7)


def test_predict_several_outputs_writes_npz_keyed_by_output_name(tmp_path):
    model = two_io()
    model.save(tmp_path / "two.keras")
    rng = np.random.default_rng(0)
    a, b = rng.random((10, 4), dtype="float32"), rng.random((10, 3), dtype="float32")
    np.savez(tmp_path / "in.npz", b=b, a=a)
    result = invoke("predict", tmp_path / "two.keras", "--input", tmp_path / "in.npz", "-o", tmp_path / "out.npz")
    assert result.exit_code == 0, result.output
    out = np.load(tmp_path / "out.npz")
    first, second = model.predict([a, b])
    assert sorted(out.files) == ["first", "second"]
    np.testing.assert_array_equal(out["first"], first)
    np.testing.assert_array_equal(out["second"], second)
    csv = invoke("predict", tmp_path / "two.keras", "--input", tmp_path / "in.npz", "-o", tmp_path / "out.csv")
    assert csv.exit_code == 0
    assert (tmp_path / "out.csv").read_text().splitlines()[0] == "first_0,first_1,second"
    assert_fails(invoke("predict", tmp_path / "two.keras", "--input", tmp_path / "in.npz", "-o", tmp_path / "o.npy"),
                 "o.npy", "2 outputs (first, second)", ".npz")
    np.save(tmp_path / "a.npy", a)
    assert_fails(invoke("predict", tmp_path / "two.keras", "--input", tmp_path / "a.npy", "-o", tmp_path / "o.npz"),
                 "a.npy", "2 inputs (a, b)", ".npz with one array per input name")


def test_predict_loads_weights_given_beside_a_spec(trained, tmp_path):
    run, model, root = trained
    result = invoke("predict", run / "model.json", "--weights", run / "model.weights.h5", "--input", root / "x.npy",
                    "-o", tmp_path / "p.npy")
    assert result.exit_code == 0, result.output
    np.testing.assert_array_equal(np.load(tmp_path / "p.npy"), model.predict(np.load(root / "x.npy")))


@pytest.mark.parametrize("case", ["missing run", "missing input", "wrong shape", "pickled", "truncated",
                                  "fortran order", "scalar", "not npy", "output suffix", "no samples"])
def test_predict_bad_input(trained, tmp_path, case):
    run, model, root = trained
    x = tmp_path / "x.npy"
    output = tmp_path / "out.npy"
    expect = ()
    if case == "missing run":
        run, expect = tmp_path / "nope", ("nope", "no such file or folder")
        np.save(x, np.zeros((2, 6), "float32"))
    elif case == "missing input":
        expect = ("x.npy", "no such input file")
    elif case == "wrong shape":
        np.save(x, np.zeros((4, 5), "float32"))
        expect = ("x.npy", "input 'features'", "(4, 5)", "(None, 6)")
    elif case == "pickled":
        np.save(x, np.array([{"a": 1}] * 2, dtype=object), allow_pickle=True)
        expect = ("x.npy", "pickled Python objects")
    elif case == "truncated":
        np.save(x, np.zeros((100, 6), "float32"))
        x.write_bytes(x.read_bytes()[:500])
        expect = ("x.npy", "truncated")
    elif case == "fortran order":
        np.save(x, np.asfortranarray(np.zeros((4, 6), "float32")))
        expect = ("x.npy", "Fortran order")
    elif case == "scalar":
        np.save(x, np.float32(1))
        expect = ("x.npy", "scalar")
    elif case == "not npy":
        x.write_text("1,2,3\n")
        expect = ("x.npy", "not a readable .npy file")
    elif case == "output suffix":
        np.save(x, np.zeros((2, 6), "float32"))
        output, expect = tmp_path / "out.txt", ("out.txt", "unknown output type '.txt'", "use .npy, .npz or .csv")
    elif case == "no samples":
        np.save(x, np.zeros((0, 6), "float32"))
        expect = ("x.npy", "no samples")
    assert_fails(invoke("predict", run, "--input", x, "--output", output), *expect)
    assert not output.exists()


def test_a_failing_predict_keeps_the_previous_output(trained, tmp_path):
    run, model, root = trained
    output = tmp_path / "p.npy"
    np.save(output, np.arange(3))
    np.save(tmp_path / "bad.npy", np.zeros((4, 5), "float32"))
    assert_fails(invoke("predict", run, "--input", tmp_path / "bad.npy", "--output", output), "(4, 5)")
    np.testing.assert_array_equal(np.load(output), np.arange(3))
    assert sorted(os.listdir(tmp_path)) == ["bad.npy", "p.npy"]


# ----- convert ------------------------------------------------------------------------------------------
def test_convert_json_to_yaml_and_back_keeps_the_spec(tmp_path):
    spec = os.path.join(os.path.dirname(__file__), "..", "configs", "seed_two_io.json")
    assert invoke("convert", spec, tmp_path / "m.yaml").exit_code == 0
    result = invoke("convert", tmp_path / "m.yaml", tmp_path / "m.json")
    assert result.exit_code == 0 and f"wrote {tmp_path / 'm.json'}" in result.output
    with open(spec) as f:
        original = json.load(f)
    assert json.loads((tmp_path / "m.json").read_text()) == original
    assert yaml.safe_load((tmp_path / "m.yaml").read_text()) == original
    assert load_model(tmp_path / "m.yaml").get_config() == model_from_json(json.dumps(original)).get_config()


def test_convert_keras_archive_and_h5_to_spec_and_weights_predict_the_same(tmp_path):
    model = two_io()
    inputs = [np.random.default_rng(0).random((5, n), dtype="float32") for n in (4, 3)]
    model.save(tmp_path / "m.keras")
    model.save(tmp_path / "full.h5")
    for source, out in (("m.keras", "spec.json"), ("full.h5", "spec.yaml")):
        result = invoke("convert", tmp_path / source, tmp_path / out)
        assert result.exit_code == 0, result.output
        weights = tmp_path / (out.split(".")[0] + ".weights.h5")
        assert f"wrote {weights}" in result.output
        text = (tmp_path / out).read_text()
        back = model_from_json(text) if out.endswith(".json") else model_from_yaml(text)
        back.load_weights(weights)
        for got, expected in zip(back.predict(inputs), model.predict(inputs)):
            np.testing.assert_array_equal(got, expected)


def test_convert_a_run_to_a_keras_archive(trained, tmp_path):
    run, model, root = trained
    assert invoke("convert", run, tmp_path / "run.keras").exit_code == 0
    x = np.load(root / "x.npy")
    np.testing.assert_array_equal(load_model(tmp_path / "run.keras").predict(x), model.predict(x))


def test_convert_bad_input(trained, tmp_path):
    run, model, root = trained
    assert_fails(invoke("convert", tmp_path / "nope.json", tmp_path / "o.yaml"), "nope.json", "no such file")
    assert_fails(invoke("convert", run, tmp_path / "o.txt"), "o.txt", "cannot write a model as 'o.txt'")
    assert_fails(invoke("convert", run, tmp_path / "o.weights.h5"), "o.weights.h5", "spec (.json, .yaml")
    spec = json.loads(model.to_json())
    spec["config"]["layers"][1]["config"]["unitz"] = 8
    (tmp_path / "broken.json").write_text(json.dumps(spec))
    assert_fails(invoke("convert", tmp_path / "broken.json", tmp_path / "o.yaml"), "broken.json", "'unitz'",
                 "did you mean 'units'?")
    (tmp_path / "bad.yaml").write_text("class_name: [unclosed\n")
    assert_fails(invoke("convert", tmp_path / "bad.yaml", tmp_path / "o.json"), "bad.yaml", "invalid YAML", "line")
    assert not (tmp_path / "o.yaml").exists() and not (tmp_path / "o.json").exists()


# ----- runs ---------------------------------------------------------------------------------------------
def test_runs_lists_runs_oldest_first_with_final_metrics(tmp_path):
    model = classifier()
    make_run(tmp_path / "b-20250102-090000", model, {"loss": [0.9, 0.5], "val_loss": [1.0, 0.7]},
             {"train": {"loss": 0.5}, "validation": {"loss": 0.7}, "test": {"loss": 0.8, "accuracy": 0.75}}, {})
    make_run(tmp_path / "a-20250101-090000", model, {"loss": [0.9, 0.6, 0.4]}, {"loss": 0.4, "test_loss": 0.45}, {})
    stopped = make_run(tmp_path / "c-20250103-090000", model, {"loss": [2.0]}, None, {})
    os.makedirs(stopped / "state")
    os.makedirs(tmp_path / "not-a-run")
    result = invoke("runs", tmp_path, "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["run"] for r in rows] == ["a-20250101-090000", "b-20250102-090000", "c-20250103-090000"]
    assert [r["status"] for r in rows] == ["done", "done", "resumable"]
    assert [r["epochs"] for r in rows] == [3, 2, 1]
    assert rows[0]["started"] == "2025-01-01 09:00:00"
    assert rows[1]["metrics"] == {"loss": 0.5, "val_loss": 0.7, "test_loss": 0.8, "test_accuracy": 0.75}
    assert rows[2]["metrics"] == {"loss": 2.0}
    table = invoke("runs", tmp_path)
    assert table.exit_code == 0
    for text in ("b-20250102-090000", "resumable", "test_accuracy", "0.7500", "0.4500"):
        assert text in table.output


def test_runs_of_an_empty_or_missing_folder(tmp_path):
    result = invoke("runs", tmp_path)
    assert result.exit_code == 0 and f"no runs in {tmp_path}" in result.output
    assert_fails(invoke("runs", tmp_path / "nope"), "nope", "no such folder")


# ----- plot ---------------------------------------------------------------------------------------------
def test_plot_draws_the_history(trained, tmp_path):
    pytest.importorskip("matplotlib")
    run, model, root = trained
    result = invoke("plot", run, "-o", tmp_path / "h.png")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "h.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert invoke("plot", run, "-o", tmp_path / "h.svg").exit_code == 0
    assert b"<svg" in (tmp_path / "h.svg").read_bytes()[:500]


def test_plot_curves_pair_training_and_validation():
    from modelcli.commands.plot import curves
    history = {"loss": [1, 0.5], "accuracy": [0.5, 0.7], "val_loss": [1.1, 0.6], "val_accuracy": [0.4, 0.6],
               "lr": [0.1, 0.1]}
    assert curves(history) == [("loss", [("train", [1, 0.5]), ("validation", [1.1, 0.6])]),
                               ("accuracy", [("train", [0.5, 0.7]), ("validation", [0.4, 0.6])]),
                               ("lr", [("train", [0.1, 0.1])])]


def test_plot_bad_input(trained, tmp_path, monkeypatch):
    run, model, root = trained
    assert_fails(invoke("plot", tmp_path / "nope"), "nope", "no such run folder")
    assert_fails(invoke("plot", tmp_path), "not a run folder")
    (tmp_path / "model.json").write_text(model.to_json())
    assert_fails(invoke("plot", tmp_path), "no history.json", "not finished an epoch")
    assert_fails(invoke("plot", run, "-o", tmp_path / "h.gif"), "h.gif", "use .png, .svg or .pdf")
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert_fails(invoke("plot", run, "-o", tmp_path / "h.png"), "matplotlib", "pip install matplotlib")

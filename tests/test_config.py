"""Training configs: reading, --set overrides, resolved paths, and errors that name file, key and line."""
import json
import subprocess
import sys

import pytest
import yaml

from modelcli.config import load_config, parse_keypath
from modelcli.errors import ConfigError

CONFIG = """\
name: seed-mlp
seed: 42
model: model.json
compile: {optimizer: rmsprop, loss: binary_crossentropy, metrics: [accuracy]}
data:
  train: {x: x_train.npy, y: y_train.npy}
  validation: {x: data.npz:x_val, y: data.npz:y_val}
fit: {epochs: 20, batch_size: 128, verbose: 1}
callbacks:
  - {class_name: EarlyStopping, config: {monitor: val_loss, patience: 3}}
"""


@pytest.fixture
def folder(tmp_path):
    for name in ("model.json", "x_train.npy", "y_train.npy", "data.npz", "other.npy"):
        (tmp_path / name).write_text("")
    return tmp_path


def write(folder, text, name="train.yaml"):
    path = folder / name
    path.write_text(text)
    return path


def error(path, overrides=()):
    with pytest.raises(ConfigError) as info:
        load_config(path, overrides)
    return str(info.value)


def test_the_issue_example_loads_with_paths_resolved_against_the_config(folder):
    config = load_config(write(folder, CONFIG))
    assert (config.name, config.seed, config.fit["epochs"]) == ("seed-mlp", 42, 20)
    assert config.model == str(folder / "model.json")
    assert config.base_dir == str(folder)
    assert config.data["train"] == {"x": str(folder / "x_train.npy"), "y": str(folder / "y_train.npy")}
    assert config.data["validation"]["x"] == f"{folder / 'data.npz'}:x_val"
    assert config.callbacks == [{"class_name": "EarlyStopping", "config": {"monitor": "val_loss", "patience": 3}}]


def test_to_yaml_round_trips_to_the_same_config_from_another_folder(folder, tmp_path_factory):
    config = load_config(write(folder, CONFIG), ["fit.epochs=3"])
    elsewhere = tmp_path_factory.mktemp("run") / "config.yaml"
    elsewhere.write_text(config.to_yaml())
    again = load_config(elsewhere)
    assert again.to_dict() == config.to_dict()
    assert again.overrides == ["fit.epochs=3"]


def test_json_configs_and_a_default_name_from_the_file_name(folder):
    document = yaml.safe_load(CONFIG)
    del document["name"]
    config = load_config(write(folder, json.dumps(document, indent=1), "mlp.json"))
    assert config.name == "mlp" and config.compile["loss"] == "binary_crossentropy"


def test_overrides_are_read_as_yaml_and_recorded(folder):
    config = load_config(write(folder, CONFIG), ["fit.epochs=5", "fit.shuffle=false", "seed=null",
                                                  "callbacks[0].config.patience=1", "data.train.x=other.npy"])
    assert config.fit["epochs"] == 5 and config.fit["shuffle"] is False and config.seed is None
    assert config.callbacks[0]["config"]["patience"] == 1
    assert config.data["train"]["x"] == str(folder / "other.npy")
    assert config.to_dict()["overrides"][0] == "fit.epochs=5"


def test_an_override_inside_an_optimizer_given_by_name_makes_it_a_config(folder):
    config = load_config(write(folder, CONFIG), ["compile.optimizer.config.learning_rate=0.01"])
    assert config.compile["optimizer"] == {"class_name": "rmsprop", "config": {"learning_rate": 0.01}}


def test_an_inline_model_spec_is_kept_as_data(folder):
    text = CONFIG.replace("model: model.json", "model: {class_name: Sequential, config: {layers: []}}")
    assert load_config(write(folder, text)).model["class_name"] == "Sequential"


def test_unknown_key_gets_did_you_mean_and_line(folder):
    message = error(write(folder, CONFIG.replace("fit: {epochs", "fit: {epoch")))
    assert "train.yaml: fit.epoch (line 8): unknown fit argument 'epoch' (did you mean 'epochs'?)" in message
    message = error(write(folder, CONFIG.replace("callbacks:", "calbacks:")))
    assert "calbacks (line 9): unknown key 'calbacks' in the top level (did you mean 'callbacks'?)" in message


def test_wrong_type_names_key_path_line_expected_and_got(folder):
    text = CONFIG.replace("fit: {epochs: 20, batch_size: 128, verbose: 1}", "fit:\n  epochs: twenty\n")
    assert "fit.epochs (line 9): expected a positive integer, got 'twenty' (a string)" in error(write(folder, text))
    text = CONFIG.replace("seed: 42", "seed: [4]")
    assert "seed (line 2): expected a non-negative integer, got a list" in error(write(folder, text))


def test_missing_file_names_the_path_it_looked_for(folder):
    message = error(write(folder, CONFIG.replace("y_train.npy", "y_trian.npy")))
    assert f"data.train.y (line 6): no such file: {folder / 'y_trian.npy'}" in message
    assert "relative to the config file" in message
    message = error(write(folder, CONFIG.replace("model: model.json", "model: nets/model.json")))
    assert f"model (line 3): no such file: {folder / 'nets' / 'model.json'}" in message


def test_bad_yaml_and_bad_json_name_line_and_column(folder):
    message = error(write(folder, CONFIG.replace("seed: 42", "seed: 42: 3")))
    assert "train.yaml: invalid YAML at line 2, column 9: mapping values are not allowed here" in message
    message = error(write(folder, '{"name": "a",\n "seed": 1,,\n}', "c.json"))
    assert "c.json: invalid JSON at line 2, column 12" in message


def test_json_configs_report_lines_too(folder):
    document = yaml.safe_load(CONFIG)
    document["fit"] = {"epochs": 0}
    text = json.dumps(document, indent=1)
    line = text.splitlines().index('  "epochs": 0') + 1
    assert f"fit.epochs (line {line}): expected a positive integer, got 0" in error(write(folder, text, "c.json"))


def test_a_key_given_twice_is_an_error(folder):
    message = error(write(folder, CONFIG + "seed: 3\n"))
    assert "seed (line 11): 'seed' is given twice, at lines 2 and 11" in message


def test_override_errors_say_which_override(folder):
    path = write(folder, CONFIG)
    assert "(from --set fit.epochs=-1): expected a positive integer, got -1" in error(path, ["fit.epochs=-1"])
    assert "fit.epoch (from --set fit.epoch=3): unknown fit argument 'epoch'" in error(path, ["fit.epoch=3"])
    assert "cannot read the override 'fit.epochs'" in error(path, ["fit.epochs"])
    assert "'callbacks' is a list of 1" in error(path, ["callbacks[3].config.patience=1"])


@pytest.mark.parametrize("edit, fragment", [
    (("fit: {", "fit: {x: a.npy, "), "fit.x (line 8): 'x' does not go under fit (give it as data.train.x)"),
    (("validation: {x: data.npz:x_val, y: data.npz:y_val}", "valdation: {x: other.npy}"),
     "data.valdation (line 7): unknown key 'valdation' in data (did you mean 'validation'?)"),
    (("fit: {", "fit: {validation_split: 0.2, "), "give data.validation or fit.validation_split, not both"),
    (("train: {x: x_train.npy, y: y_train.npy}", "train: {y: y_train.npy}"), "data.train (line 6): the split has no x"),
    (("x_train.npy", "x_train.txt"), "'x_train.txt' is not a data file"),
    (("compile: {optimizer: rmsprop, loss: binary_crossentropy, ", "compile: {optimizer: rmsprop, "),
     "compile (line 4): compile needs a loss"),
    (("model: model.json", "model: 3"), "model (line 3): expected a path or an inline spec, got 3 (an integer)"),
    (("seed: 42", "device: gpu"), "device (line 2): expected 'cpu', 'cuda' or 'cuda:N', got 'gpu'"),
    (("fit: {", "fit: {shuffle: maybe, "), "fit.shuffle (line 8): expected true, false or 'batch'"),
    (("  - {class_name", "  - {clas_name"), "callbacks[0].clas_name (line 10): unknown key 'clas_name'"),
])
def test_each_section_is_checked(folder, edit, fragment):
    assert fragment in error(write(folder, CONFIG.replace(*edit)))


def test_empty_files_folders_and_non_mappings(folder):
    assert "the config is empty" in error(write(folder, ""))
    assert "expected a mapping of sections" in error(write(folder, "- a\n- b\n"))
    assert "is a folder, not a config file" in error(folder)
    assert "no such config file" in error(folder / "nope.yaml")


def test_keypaths_read_both_index_styles():
    assert parse_keypath("model.config.layers[2].units") == ("model", "config", "layers", 2, "units")
    assert parse_keypath("callbacks.0.config") == ("callbacks", 0, "config")


def test_reading_a_config_does_not_import_torch(folder):
    code = (f"from modelcli.config import load_config\nload_config({str(write(folder, CONFIG))!r})\n"
            "import sys\nprint('torch' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "False"

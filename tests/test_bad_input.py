"""Every kind of bad model input gets one clear error naming the place, and exit code 2 from the CLI."""
import json
import subprocess
import sys

import numpy as np
import pytest

from click.testing import CliRunner

from modelcli.cli import main
from modelcli.errors import SpecError, WeightsError
from modelcli.models import Sequential, load_model, model_from_json
from specs import as_json, edited, mlp_functional, mlp_sequential


def run_cli(*args):
    """The real executable, as a user runs it (slow: a fresh interpreter imports torch)."""
    return subprocess.run([sys.executable, "-m", "modelcli", *args], capture_output=True, text=True)


def assert_cli_error(path, *fragments):
    """``modelcli summary PATH`` in-process: exit code 2, one message line, no traceback."""
    result = CliRunner().invoke(main, ["summary", str(path)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr
    return result.stderr


def write(tmp_path, spec, name="model.json"):
    path = tmp_path / name
    path.write_text(as_json(spec) if isinstance(spec, dict) else spec)
    return path


def test_unknown_layer_class_is_named_with_a_suggestion(tmp_path):
    spec = edited(mlp_functional(), lambda s: s["config"]["layers"][1].update(class_name="Dens"))
    with pytest.raises(SpecError, match=r"layers\[1\]\.class_name: unknown layer class 'Dens' \(did you mean 'Dense'\?\)"):
        model_from_json(as_json(spec))
    assert_cli_error(write(tmp_path, spec), "unknown layer class 'Dens'", "did you mean 'Dense'")


def test_mistyped_config_key_names_the_layer_and_key(tmp_path):
    spec = edited(mlp_functional(), lambda s: s["config"]["layers"][2]["config"].update(unit=3))
    with pytest.raises(SpecError, match=r"layers\[2\]\.config\.unit: unknown Dense argument 'unit' \(did you mean 'units'\?\)"):
        model_from_json(as_json(spec))
    assert_cli_error(write(tmp_path, spec), "unknown Dense argument 'unit'")


def test_bad_value_names_the_field():
    spec = edited(mlp_sequential(), lambda s: s["config"]["layers"][1]["config"].update(units=-4))
    with pytest.raises(SpecError, match=r"layers\[1\]\.config\.units: expected a positive integer, got -4"):
        model_from_json(as_json(spec))


def test_unknown_model_config_key_is_refused():
    spec = edited(mlp_functional(), lambda s: s["config"].update(ouput_layers=[]))
    with pytest.raises(SpecError, match="unknown Functional config key 'ouput_layers'"):
        model_from_json(as_json(spec))


def test_inbound_node_naming_a_missing_layer(tmp_path):
    spec = edited(mlp_functional(), lambda s: s["config"]["layers"][2]["inbound_nodes"][0]["args"][0]["config"]
                  .update(keras_history=["hiden", 0, 0]))
    with pytest.raises(SpecError, match=r"layers\[2\]\.inbound_nodes: refers to layer 'hiden', which the model "
                                        r"does not have \(did you mean 'hidden'\?\)"):
        model_from_json(as_json(spec))
    assert_cli_error(write(tmp_path, spec), "refers to layer 'hiden'")


def test_a_cycle_is_reported():
    def make_cycle(s):
        s["config"]["layers"][1]["inbound_nodes"][0]["args"][0]["config"]["keras_history"] = ["out", 0, 0]
    with pytest.raises(SpecError, match="the graph has a cycle: layers 'hidden', 'out' wait on each other"):
        model_from_json(as_json(edited(mlp_functional(), make_cycle)))


def test_concatenate_of_shapes_that_do_not_fit(tmp_path):
    def concat_mismatch(s):
        layers = s["config"]["layers"]
        layers.append({"class_name": "Reshape", "name": "grid", "config": {"name": "grid", "target_shape": [2, 4]},
                       "inbound_nodes": [[["hidden", 0, 0, {}]]]})
        layers.append({"class_name": "Concatenate", "name": "joined", "config": {"name": "joined", "axis": -1},
                       "inbound_nodes": [[["out", 0, 0, {}], ["grid", 0, 0, {}]]]})
        s["config"]["output_layers"] = [["joined", 0, 0]]
    spec = edited(mlp_functional(), concat_mismatch)
    spec["keras_version"] = "2.15.0"
    with pytest.raises(SpecError, match=r"layers\[4\] \(joined\).*\(None, 2\).*\(None, 2, 4\)"):
        model_from_json(as_json(spec))
    assert_cli_error(write(tmp_path, spec), "joined", "(None, 2)", "(None, 2, 4)")


def test_lambda_layers_are_refused_and_never_run(tmp_path):
    marker = tmp_path / "executed"
    code = f"open({str(marker)!r}, 'w')"
    spec = mlp_sequential()
    spec["config"]["layers"].insert(1, {"class_name": "Lambda", "config": {
        "name": "evil", "function": {"class_name": "__lambda__", "config": {"code": code}}}})
    with pytest.raises(SpecError, match="Lambda layer holds Python code"):
        model_from_json(as_json(spec))
    assert_cli_error(write(tmp_path, spec), "Lambda layer holds Python code")
    assert not marker.exists()


@pytest.mark.parametrize("class_name, reason", [("StringLookup", "runs through TensorFlow"),
                                                ("TorchModuleWrapper", "wraps another framework's code")])
def test_layers_refused_on_purpose_say_why_and_what_to_do(tmp_path, class_name, reason):
    spec = mlp_sequential()
    spec["config"]["layers"].insert(1, {"class_name": class_name, "config": {"name": "x"}})
    with pytest.raises(SpecError, match=f"a {class_name} layer {reason}"):
        model_from_json(as_json(spec))
    assert_cli_error(write(tmp_path, spec), f"a {class_name} layer {reason}")


def test_custom_objects_from_user_modules_are_refused():
    spec = edited(mlp_sequential(), lambda s: s["config"]["layers"][1].update(module="my_project.layers",
                                                                              class_name="MyDense"))
    with pytest.raises(SpecError, match="custom objects are never loaded"):
        model_from_json(as_json(spec))


def test_yaml_is_loaded_safely(tmp_path):
    path = write(tmp_path, "!!python/object/apply:os.system ['echo hacked']\n", "model.yaml")
    stderr = assert_cli_error(path, "invalid YAML")
    assert "hacked" not in stderr


def test_invalid_json_names_the_line(tmp_path):
    path = write(tmp_path, '{"class_name": "Sequential",\n "config": {,}}')
    assert_cli_error(path, "invalid JSON at line 2")


def test_weights_from_another_architecture(tmp_path):
    small = model_from_json(as_json(mlp_sequential((8, 2))))
    big = model_from_json(as_json(mlp_sequential((16, 2))))
    small.save_weights(tmp_path / "small.weights.h5")
    small.save_weights(tmp_path / "small.h5")
    with pytest.raises(WeightsError, match=r"weight 'd0/kernel' has shape \(4, 16\) but the file gives \(4, 8\)"):
        big.load_weights(tmp_path / "small.weights.h5")
    with pytest.raises(WeightsError, match=r"weight 'd0/kernel' has shape \(4, 16\) but the file gives \(4, 8\)"):
        big.load_weights(tmp_path / "small.h5")
    deeper = model_from_json(as_json(mlp_sequential((8, 2, 2))))
    with pytest.raises(WeightsError, match="different architecture"):
        deeper.load_weights(tmp_path / "small.weights.h5")
    with pytest.raises(WeightsError, match="holds weights for 2 layers .* but the model has 3"):
        deeper.load_weights(tmp_path / "small.h5")


def test_weights_mismatch_from_the_cli_names_layer_and_shapes(tmp_path):
    model = model_from_json(as_json(mlp_sequential((8, 2))))
    model.save_weights(tmp_path / "w.weights.h5")
    config = {"model": mlp_sequential((16, 2)), "weights": "w.weights.h5"}
    stderr = assert_cli_error(write(tmp_path, config, "train.json"), "'d0/kernel'", "(4, 16)", "(4, 8)")
    assert stderr.count("\n") == 1


def test_truncated_and_non_hdf5_files(tmp_path):
    model = model_from_json(as_json(mlp_sequential()))
    model.save_weights(tmp_path / "good.weights.h5")
    data = (tmp_path / "good.weights.h5").read_bytes()
    (tmp_path / "cut.weights.h5").write_bytes(data[: len(data) // 2])
    (tmp_path / "text.h5").write_text("not hdf5 at all")
    for name in ("cut.weights.h5", "text.h5"):
        with pytest.raises(WeightsError, match="not a readable HDF5"):
            model.load_weights(tmp_path / name)
    assert_cli_error(tmp_path / "text.h5", "not a readable HDF5 model file")
    (tmp_path / "cut.keras").write_bytes(b"PK\x03\x04 truncated")
    assert_cli_error(tmp_path / "cut.keras", "not a .keras archive")


def test_skip_mismatch_loads_what_fits(tmp_path):
    source = model_from_json(as_json(mlp_sequential((8, 2))))
    source.save_weights(tmp_path / "w.h5")
    target = model_from_json(as_json(mlp_sequential((8, 3))))
    target.load_weights(tmp_path / "w.h5", skip_mismatch=True)
    np.testing.assert_array_equal(target.get_weights()[0], source.get_weights()[0])


def test_missing_file_is_named(tmp_path):
    with pytest.raises(SpecError, match="no such model file"):
        load_model(tmp_path / "absent.keras")
    assert_cli_error(tmp_path / "absent.keras", "absent.keras", "no such file")


def test_the_executable_exits_2_without_traceback_and_debug_shows_it(tmp_path):
    path = write(tmp_path, edited(mlp_functional(), lambda s: s["config"]["layers"][1].update(class_name="Dens")))
    plain = run_cli("summary", str(path))
    assert plain.returncode == 2
    assert plain.stderr.startswith("error: ") and "Traceback" not in plain.stderr
    debug = run_cli("--debug", "summary", str(path))
    assert debug.returncode != 0 and "Traceback" in debug.stderr


def test_sequential_layer_names_must_be_unique():
    from modelcli import layers
    model = Sequential([layers.Input((3,)), layers.Dense(2, name="a")])
    with pytest.raises(SpecError, match="already has a layer named 'a'"):
        model.add(layers.Dense(2, name="a"))


def test_json_dump_of_model_spec_is_plain_json():
    model = model_from_json(as_json(mlp_functional()))
    assert json.loads(model.to_json())["class_name"] == "Functional"

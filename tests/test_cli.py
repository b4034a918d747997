"""The command line: fast help, summary of every kind of model source."""
import json
import subprocess
import sys

from click.testing import CliRunner

from modelcli.cli import main
from specs import mlp_functional, mlp_sequential


def test_help_does_not_import_torch():
    code = ("import sys\nfrom click.testing import CliRunner\nfrom modelcli.cli import main\n"
            "result = CliRunner().invoke(main, ['--help'])\nassert result.exit_code == 0\n"
            "print('torch' in sys.modules, 'h5py' in sys.modules, 'rich' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False", "False"]


def test_summary_of_a_functional_spec_has_keras_columns(tmp_path):
    path = tmp_path / "model.json"
    path.write_text(json.dumps(mlp_functional()))
    result = CliRunner().invoke(main, ["summary", str(path)])
    assert result.exit_code == 0, result.output
    for text in ('Model: "mlp"', "Layer (type)", "Output Shape", "Param #",
                 "hidden (Dense)", "(None, 8)", "Total params: 58 (232.00 B)",
                 "Trainable params: 58", "Non-trainable params: 0 (0.00 B)"):
        assert text in result.output
    assert "Connected to" not in result.output  # a chain of layers: Keras leaves the column out


def test_summary_of_a_yaml_spec_a_keras_archive_and_a_training_config(tmp_path):
    from modelcli.models import model_from_json
    model = model_from_json(json.dumps(mlp_sequential()))
    (tmp_path / "model.yaml").write_text(model.to_yaml())
    model.save(tmp_path / "model.keras")
    model.save(tmp_path / "model.h5")
    model.save_weights(tmp_path / "model.weights.h5")
    (tmp_path / "train.yaml").write_text("model: model.yaml\nweights: model.weights.h5\n")
    for name in ("model.yaml", "model.keras", "model.h5", "train.yaml"):
        result = CliRunner().invoke(main, ["summary", str(tmp_path / name)])
        assert result.exit_code == 0, (name, result.output)
        assert "d0 (Dense)" in result.output and "Total params: 58" in result.output


def test_python_model_summary_accepts_print_fn():
    from modelcli.models import model_from_json
    lines = []
    model_from_json(json.dumps(mlp_sequential())).summary(print_fn=lines.append)
    assert any("d1 (Dense)" in line and "(None, 2)" in line for line in lines)

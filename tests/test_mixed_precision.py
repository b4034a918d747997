"""Mixed precision: dtype policies, autocast regions, LossScaleOptimizer — against real Keras 3."""
import json
import pathlib

import numpy as np
import pytest
import torch
from click.testing import CliRunner

import modelcli
from modelcli import mixed_precision, optimizers
from modelcli.cli import main
from modelcli.errors import SpecError
from modelcli.mixed_precision.autocast import set_model_policy
from modelcli.models import model_from_json
from modelcli.runs import load_state, save_state

keras = pytest.importorskip("keras")
layers = modelcli.layers

BF16_STEP = 2.0 ** -8  # bfloat16 keeps 8 significant bits: one rounding moves a value by up to this, relatively


@pytest.fixture(autouse=True)
def float32_afterwards():
    yield
    keras.config.set_dtype_policy("float32")
    mixed_precision.set_global_policy("float32")


def keras_mixed_models():
    """An MLP and a small CNN built in Keras under mixed_bfloat16, each ending in a float32 layer."""
    keras.config.set_dtype_policy("mixed_bfloat16")
    keras.utils.set_random_seed(0)
    mlp = keras.Sequential([keras.Input((16,)), keras.layers.Dense(64, activation="relu"),
                            keras.layers.Dense(32, activation="tanh"), keras.layers.Dense(5),
                            keras.layers.Activation("softmax", dtype="float32")])
    image = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(8, 3, activation="relu")(image)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    cnn = keras.Model(image, keras.layers.Dense(3, dtype="float32")(x))
    keras.config.set_dtype_policy("float32")
    return [(mlp, (64, 16)), (cnn, (32, 8, 8, 3))]


def test_a_keras_mixed_bfloat16_model_predicts_as_keras_does():
    # Tolerance: one bfloat16 step at the output's scale. Both sides run the same
    # torch CPU kernels, so the outputs agree far closer than that; a model run in
    # float32 by mistake misses Keras's by about that much, which the second check catches.
    rng = np.random.default_rng(0)
    for keras_model, shape in keras_mixed_models():
        x = rng.normal(size=shape).astype("float32")
        expected = keras_model.predict(x, verbose=0)
        ours = model_from_json(keras_model.to_json())
        ours.set_weights(keras_model.get_weights())
        got = ours.predict(x, verbose=0)
        assert got.dtype == expected.dtype == np.float32
        np.testing.assert_allclose(got, expected, rtol=0, atol=BF16_STEP * np.abs(expected).max())
        in_float32 = model_from_json(keras_model.to_json().replace("mixed_bfloat16", "float32"))
        in_float32.set_weights(keras_model.get_weights())
        assert np.abs(in_float32.predict(x, verbose=0) - expected).max() > 10 * np.abs(got - expected).max()


def test_an_embedding_under_mixed_bfloat16_returns_bfloat16_rows_as_keras_does():
    keras_layer = keras.layers.Embedding(10, 4, dtype="mixed_bfloat16")
    ids = np.array([[1, 2, 9], [0, 3, 3]])
    expected = keras_layer(ids)
    ours = layers.Embedding(10, 4, dtype="mixed_bfloat16")
    ours.build((None, 3))
    ours.set_weights(keras_layer.get_weights())
    got = ours(ids)
    assert got.dtype == expected.dtype == torch.bfloat16  # the table stays float32, the rows are rounded
    assert torch.equal(got.cpu(), expected.cpu())


def test_layers_report_the_compute_and_variable_dtypes_keras_reports():
    for keras_model, _ in keras_mixed_models():
        ours = model_from_json(keras_model.to_json())
        theirs = [l for l in keras_model.layers if not isinstance(l, keras.layers.InputLayer)]
        mine = [l for l in ours.layers if not isinstance(l, layers.InputLayer)]
        assert [l.compute_dtype for l in mine] == [l.compute_dtype for l in theirs]
        assert [l.variable_dtype for l in mine] == [l.variable_dtype for l in theirs]
        assert [l.dtype_policy.name for l in mine] == [l.dtype_policy.name for l in theirs]
        assert {w.parameter.dtype for w in ours.weights} == {torch.float32}


def test_the_policy_round_trips_through_to_json_as_keras_writes_it():
    mlp, _ = keras_mixed_models()[0]
    ours = model_from_json(mlp.to_json())
    written = json.loads(ours.to_json())
    assert written["config"]["dtype"] == json.loads(mlp.to_json())["config"]["dtype"]
    dense = written["config"]["layers"][1]["config"]["dtype"]
    assert dense == {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "mixed_bfloat16"},
                     "registered_name": None}
    back = keras.models.model_from_json(ours.to_json())
    assert [l.dtype_policy.name for l in back.layers] == [l.dtype_policy.name for l in mlp.layers]


def test_the_global_policy_applies_to_layers_created_afterwards():
    before = layers.Dense(2)
    mixed_precision.set_global_policy("mixed_float16")
    after, pinned = layers.Dense(2), layers.Dense(2, dtype="float32")
    assert (before.compute_dtype, after.compute_dtype, pinned.compute_dtype) == ("float32", "float16", "float32")
    assert after.variable_dtype == "float32"
    assert modelcli.config.dtype_policy() == mixed_precision.DTypePolicy("mixed_float16")
    modelcli.config.set_dtype_policy("mixed_bfloat16")
    assert layers.Dense(2).dtype_policy.name == "mixed_bfloat16"


def test_a_mistyped_policy_is_refused_with_a_suggestion():
    with pytest.raises(SpecError, match="mixed_bfloat16"):
        layers.Dense(2, dtype="mixed_bfloat61")
    with pytest.raises(SpecError, match="did you mean 'mixed_float16'"):
        mixed_precision.set_global_policy("mixed_flot16")


def test_a_float32_layer_in_a_mixed_model_computes_in_float32():
    mixed_precision.set_global_policy("mixed_bfloat16")
    model = modelcli.Sequential([modelcli.Input((4,)), layers.Dense(8), layers.Dense(3, dtype="float32")])
    x = torch.rand(5, 4)
    assert model.layers[0](x).dtype == torch.bfloat16
    assert model(x).dtype == torch.float32
    mixed_precision.set_global_policy("float32")
    whole = modelcli.Sequential([modelcli.Input((4,)), layers.Dense(3)])
    assert whole(x).dtype == torch.float32
    assert "call" not in vars(whole) and "call" not in vars(whole.layers[-1])  # no autocast wrapper at all


def test_the_config_policy_overrides_the_model_but_keeps_a_pinned_float32_output():
    mlp, _ = keras_mixed_models()[0]
    ours = model_from_json(mlp.to_json())
    set_model_policy(ours, "mixed_float16")
    assert [l.dtype_policy.name for l in ours.layers] == ["mixed_float16"] * 3 + ["float32"]
    assert ours.dtype_policy.name == "mixed_float16"
    set_model_policy(ours, "float32")
    assert {l.compute_dtype for l in ours.layers} == {"float32"}


# ----- LossScaleOptimizer --------------------------------------------------------------------------------
def _step_both(keras_opt, ours, keras_vars, params, grads):
    """One step each; the scale, the counter and the step counts agree exactly, the weights and
    the inner slots as closely as the inner optimizer agrees with Keras's (test_optimizers.py)."""
    keras_opt.apply([keras.ops.convert_to_tensor(g) for g in grads], keras_vars)
    ours.apply([torch.as_tensor(g) for g in grads])
    for p, v in zip(params, keras_vars):
        np.testing.assert_allclose(p.detach().cpu().numpy(), keras.ops.convert_to_numpy(v), rtol=1e-6, atol=1e-7)
    mine = [np.asarray(t) for t in ours.variables]
    theirs = [keras.ops.convert_to_numpy(v) for v in keras_opt.variables]
    assert len(mine) == len(theirs)
    for a, b in zip(mine[:4], theirs[:4]):  # iterations, learning rate, step_counter, dynamic_scale
        assert a == b
    for a, b in zip(mine[4:], theirs[4:]):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert ours.iterations == int(keras.ops.convert_to_numpy(keras_opt.iterations))


def test_loss_scale_optimizer_follows_keras_step_by_step():
    rng = np.random.default_rng(1)
    start = [rng.normal(size=(3, 2)).astype("float32"), rng.normal(size=(2,)).astype("float32")]
    keras_opt = keras.optimizers.LossScaleOptimizer(keras.optimizers.Adam(0.01), initial_scale=1024.0,
                                                    dynamic_growth_steps=2)
    keras_vars = [keras.Variable(w) for w in start]
    keras_opt.build(keras_vars)
    ours = optimizers.deserialize(keras.optimizers.serialize(keras_opt))
    assert isinstance(ours, optimizers.LossScaleOptimizer) and isinstance(ours.inner_optimizer, optimizers.Adam)
    params = [torch.nn.Parameter(torch.tensor(w)) for w in start]
    ours.build(params)

    def grads(scale=1.0):
        return [(rng.normal(size=w.shape) * scale).astype("float32") for w in start]

    _step_both(keras_opt, ours, keras_vars, params, grads(1024.0))
    assert (ours.dynamic_scale, ours.step_counter, ours.iterations) == (1024.0, 1, 1)
    before = [p.detach().clone() for p in params]
    bad = grads(1024.0)
    bad[1][0] = np.inf
    _step_both(keras_opt, ours, keras_vars, params, bad)  # skipped: weights kept, scale halved
    assert all(torch.equal(p, b) for p, b in zip(params, before))
    assert (ours.dynamic_scale, ours.step_counter, ours.iterations) == (512.0, 0, 1)
    nan = grads(512.0)
    nan[0][1, 1] = np.nan
    _step_both(keras_opt, ours, keras_vars, params, nan)
    assert ours.dynamic_scale == 256.0
    _step_both(keras_opt, ours, keras_vars, params, grads(256.0))
    _step_both(keras_opt, ours, keras_vars, params, grads(256.0))  # the second finite step in a row: doubles
    assert (ours.dynamic_scale, ours.step_counter, ours.iterations) == (512.0, 0, 3)
    _step_both(keras_opt, ours, keras_vars, params, grads(512.0))


def test_loss_scale_optimizer_config_is_keras_config():
    keras_opt = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(0.1, momentum=0.5),
                                                    dynamic_growth_steps=7)
    ours = optimizers.deserialize(keras.optimizers.serialize(keras_opt))
    config = ours.get_config()
    assert {k: v for k, v in config.items() if k != "inner_optimizer"} == {
        k: v for k, v in keras_opt.get_config().items() if k != "inner_optimizer"}
    assert config["inner_optimizer"]["config"]["momentum"] == 0.5
    back = keras.optimizers.deserialize(optimizers.serialize(ours))
    assert back.dynamic_growth_steps == 7 and back.inner_optimizer.momentum == 0.5
    with pytest.raises(SpecError, match="set `clipnorm` on the `inner_optimizer`"):
        optimizers.LossScaleOptimizer(optimizers.SGD(), clipnorm=1.0)


def test_loss_scale_state_survives_a_run_folder_save_and_resume(tmp_path):
    def build():
        opt = optimizers.LossScaleOptimizer(optimizers.Adam(), initial_scale=64.0)
        opt.build([torch.nn.Parameter(torch.zeros(3))])
        return opt

    opt = build()
    opt.apply([torch.tensor([np.inf, 0.0, 0.0])])
    opt.apply([torch.tensor([1.0, 2.0, 3.0])])
    save_state(str(tmp_path), {"optimizer": opt.get_state()})
    resumed = build()
    resumed.set_state(load_state(str(tmp_path))["optimizer"])
    assert (resumed.dynamic_scale, resumed.step_counter, resumed.iterations) == (32.0, 1, 1)
    assert all(np.array_equal(a, b) for a, b in zip(resumed.variables, opt.variables))


def test_mixed_float16_trains_on_the_cpu_through_a_loss_scale_optimizer():
    mixed_precision.set_global_policy("mixed_float16")
    modelcli.utils.set_random_seed(0)
    model = modelcli.Sequential([modelcli.Input((8,)), layers.Dense(32, activation="relu"),
                                 layers.Dense(1, dtype="float32")])
    model.compile(optimizer=optimizers.Adam(0.01), loss="mse")
    assert isinstance(model.optimizer, optimizers.LossScaleOptimizer)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 8)).astype("float32")
    y = x @ rng.normal(size=(8, 1)).astype("float32")
    losses = model.fit(x, y, epochs=5, batch_size=32, verbose=0).history["loss"]
    assert losses[-1] < 0.5 * losses[0] and np.isfinite(losses).all()
    assert all(w.parameter.dtype == torch.float32 for w in model.weights)
    assert all(np.isfinite(w).all() for w in model.get_weights())
    assert model.optimizer.iterations > 0 and np.isfinite(model.optimizer.dynamic_scale)


def test_mixed_bfloat16_compiles_without_loss_scaling():
    mixed_precision.set_global_policy("mixed_bfloat16")
    model = modelcli.Sequential([modelcli.Input((4,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    assert isinstance(model.optimizer, optimizers.SGD)


# ----- the CLI -------------------------------------------------------------------------------------------------
CONFIG = """\
seed: 1
model:
  class_name: Sequential
  config:
    layers:
      - {{class_name: InputLayer, config: {{batch_shape: [null, 6]}}}}
      - {{class_name: Dense, config: {{units: 16, activation: relu}}}}
      - {{class_name: Dense, config: {{units: 1}}}}
compile: {{optimizer: adam, loss: mse}}
data:
  train: {{x: x.npy, y: y.npy}}
fit: {{epochs: 2, batch_size: 16, mixed_precision: {policy}}}
"""


@pytest.fixture
def config_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    np.save(tmp_path / "x.npy", rng.normal(size=(64, 6)).astype(np.float32))
    np.save(tmp_path / "y.npy", rng.normal(size=(64, 1)).astype(np.float32))
    return tmp_path


def test_fit_mixed_precision_in_a_config_trains_the_model_in_that_policy(config_folder):
    (config_folder / "train.yaml").write_text(CONFIG.format(policy="mixed_bfloat16"))
    result = CliRunner().invoke(main, ["train", "train.yaml", "--run-dir", "run"])
    assert result.exit_code == 0, result.output
    spec = json.loads(pathlib.Path("run/model.json").read_text())
    assert {l["config"]["dtype"]["config"]["name"] for l in spec["config"]["layers"][1:]} == {"mixed_bfloat16"}
    history = json.loads(pathlib.Path("run/history.json").read_text())
    assert np.isfinite(history["loss"]).all()


def test_a_mistyped_mixed_precision_exits_2_with_one_error_line(config_folder):
    (config_folder / "train.yaml").write_text(CONFIG.format(policy="mixed_bfloat61"))
    result = CliRunner().invoke(main, ["train", "train.yaml"])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    assert "fit.mixed_precision" in lines[0] and "did you mean 'mixed_bfloat16'?" in lines[0]
    assert not pathlib.Path("runs").exists()


def test_float16_overflow_skips_steps_and_lowers_the_scale_until_gradients_fit():
    mixed_precision.set_global_policy("mixed_float16")
    modelcli.utils.set_random_seed(0)
    model = modelcli.Sequential([modelcli.Input((8,)), layers.Dense(16), layers.Dense(1, dtype="float32")])
    model.compile(optimizer=optimizers.LossScaleOptimizer(optimizers.SGD(0.01), initial_scale=2.0 ** 24),
                  loss="mse")
    x = np.random.default_rng(0).normal(size=(64, 8)).astype("float32")
    before = model.get_weights()
    model.fit(x, x[:, :1], epochs=2, batch_size=8, verbose=0)  # 16 steps
    scale = model.optimizer.dynamic_scale
    skipped = 16 - model.optimizer.iterations
    assert skipped > 0 and scale == 2.0 ** (24 - skipped)  # every skipped step halved it, no growth yet
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    assert all(np.isfinite(w).all() for w in model.get_weights())


def test_compile_wraps_a_float16_model_unless_told_not_to():
    keras.config.set_dtype_policy("mixed_float16")
    image = keras.Input((4,))
    keras_model = keras.Model(image, keras.layers.Dense(1, dtype="float32")(keras.layers.Dense(4)(image)))
    keras.config.set_dtype_policy("float32")
    loaded = model_from_json(keras_model.to_json())  # a Functional config holds no model-level dtype
    loaded.compile(optimizer="sgd", loss="mse")
    assert isinstance(loaded.optimizer, optimizers.LossScaleOptimizer)
    loaded.compile(optimizer="sgd", loss="mse", auto_scale_loss=False)
    assert isinstance(loaded.optimizer, optimizers.SGD)

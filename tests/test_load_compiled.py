"""load_model compiles a model saved after compile, as Keras does (.keras and full-model .h5)."""
import json
import os
import warnings
import zipfile

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

from modelcli import models  # noqa: E402

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "keras2")


def _mlp():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    rng = np.random.default_rng(0)
    x, y = rng.random((32, 4), dtype=np.float32), rng.integers(0, 3, 32)
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    return model, x, y


def _two_outputs():
    inputs = keras.Input((4,), name="x")
    hidden = keras.layers.Dense(8, activation="relu")(inputs)
    model = keras.Model(inputs, {"a": keras.layers.Dense(3, name="a")(hidden),
                                 "b": keras.layers.Dense(1, name="b")(hidden)})
    model.compile(optimizer=keras.optimizers.RMSprop(0.005),
                  loss={"a": keras.losses.SparseCategoricalCrossentropy(from_logits=True), "b": "mse"},
                  loss_weights={"a": 1.0, "b": 0.5}, metrics={"a": ["accuracy"], "b": ["mae"]},
                  weighted_metrics={"b": ["mse"]})
    rng = np.random.default_rng(1)
    x = rng.random((32, 4), dtype=np.float32)
    y = {"a": rng.integers(0, 3, 32), "b": rng.random((32, 1), dtype=np.float32)}
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    return model, x, y


def _assert_same_compile(ours, theirs, x, y):
    assert ours.compiled
    assert type(ours.optimizer).__name__ == type(theirs.optimizer).__name__
    assert ours.optimizer.get_config() == theirs.optimizer.get_config()
    expected = theirs.evaluate(x, y, verbose=0, return_dict=True)
    got = ours.evaluate(x, y, verbose=0, return_dict=True)
    assert got.keys() == expected.keys()
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-5, atol=1e-6, err_msg=key)


@pytest.mark.parametrize("build", [_mlp, _two_outputs])
@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_load_model_compiles_as_keras_saved_it(tmp_path, build, suffix):
    theirs, x, y = build()
    path = str(tmp_path / f"m{suffix}")
    theirs.save(path)
    _assert_same_compile(models.load_model(path), theirs, x, y)


def test_keras_archive_restores_optimizer_state(tmp_path):
    theirs, x, y = _mlp()
    theirs.save(tmp_path / "m.keras")
    ours = models.load_model(tmp_path / "m.keras")
    assert ours.optimizer.iterations == int(theirs.optimizer.iterations)
    # The next epoch continues from the same moments, so the weights stay equal.
    theirs.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    ours.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    for expected, got in zip(theirs.get_weights(), ours.get_weights()):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_compile_false_loads_uncompiled(tmp_path):
    theirs, _, _ = _mlp()
    theirs.save(tmp_path / "m.keras")
    assert not models.load_model(tmp_path / "m.keras", compile=False).compiled


def test_tf_keras_h5_training_config_compiles():
    model = models.load_model(os.path.join(FIXTURES, "tf221", "seed_two_io.model.h5"))
    assert model.compiled
    assert type(model.optimizer).__name__ == "RMSprop"
    assert model.compiled_loss.weights == [1.0, 0.2]


def test_unknown_loss_loads_uncompiled_with_one_warning(tmp_path):
    theirs, x, _ = _mlp()
    theirs.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(files["config.json"])
    config["compile_config"]["loss"] = "no_such_loss"
    files["config.json"] = json.dumps(config)
    with zipfile.ZipFile(tmp_path / "odd.keras", "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = models.load_model(tmp_path / "odd.keras")
    messages = [str(w.message) for w in caught if "uncompiled" in str(w.message)]
    assert len(messages) == 1 and "no_such_loss" in messages[0]
    assert not model.compiled
    np.testing.assert_allclose(model.predict(x, verbose=0), theirs.predict(x, verbose=0), rtol=1e-5, atol=1e-6)


def test_our_archive_reloads_compiled_in_keras(tmp_path):
    theirs, x, y = _two_outputs()
    theirs.save(tmp_path / "m.keras")
    models.load_model(tmp_path / "m.keras").save(tmp_path / "ours.keras")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras notes that our archive carries no optimizer variables
        reloaded = keras.models.load_model(tmp_path / "ours.keras")
    assert reloaded.compiled
    _assert_same_compile(models.load_model(tmp_path / "ours.keras"), reloaded, x, y)

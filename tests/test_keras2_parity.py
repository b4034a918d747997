"""Files written by Keras 2 (tf.keras) load in modelcli and predict what Keras predicted.

The fixtures in ``tests/fixtures/keras2/<tf version>/`` were written by real TensorFlow
with ``fixtures/keras2/make_keras2_fixtures.py`` (its docstring says how to rerun it). For
each model there is Keras's ``to_json()``, its legacy HDF5 weights, its legacy full-model
HDF5, and an ``.npz`` of fixed inputs ``x0, x1, ...`` with Keras's ``predict`` outputs
``y0, y1, ...``.
"""
from pathlib import Path

import h5py
import numpy as np
import pytest

from modelcli import models

FIXTURES = Path(__file__).parent / "fixtures" / "keras2"
CASES = sorted(npz.with_suffix("") for npz in FIXTURES.glob("*/*.npz"))
ATOL = RTOL = 1e-5  # float32: activations_zoo's exponential reaches ~200


def case_id(base: Path) -> str:
    return f"{base.name}-{base.parent.name}"  # e.g. seed_mlp-tf212


parametrize_cases = pytest.mark.parametrize("base", CASES, ids=[case_id(b) for b in CASES])


def stored(base: Path):
    """The fixed inputs and Keras's outputs, each a list in model.inputs / model.outputs order."""
    with np.load(base.with_suffix(".npz")) as arrays:
        xs = [arrays[f"x{i}"] for i in range(sum(k.startswith("x") for k in arrays.files))]
        ys = [arrays[f"y{i}"] for i in range(sum(k.startswith("y") for k in arrays.files))]
    return xs, ys


def legacy_weights_path(base: Path) -> str:
    return str(base.with_name(base.name + ".legacy_weights.h5"))


def from_json_and_weights(base: Path):
    model = models.model_from_json(base.with_suffix(".json").read_text())
    model.load_weights(legacy_weights_path(base))
    return model


def assert_predicts_like_keras(model, base: Path):
    xs, expected = stored(base)
    got = model.predict(xs if len(xs) > 1 else xs[0])
    got = list(got) if isinstance(got, (list, tuple)) else [got]
    assert len(got) == len(expected), f"{len(got)} outputs, Keras gave {len(expected)}"
    for i, (mine, theirs) in enumerate(zip(got, expected)):
        mine = np.asarray(mine)
        assert mine.shape == theirs.shape, f"output {i}: shape {mine.shape}, Keras {theirs.shape}"
        np.testing.assert_allclose(mine, theirs, atol=ATOL, rtol=RTOL, err_msg=f"output {i}")


def test_every_fixture_is_found():
    names = {case_id(b) for b in CASES}
    assert {"seed_mlp-tf221", "seed_two_io-tf221", "seed_mlp-tf212", "seed_two_io-tf212"} <= names
    for base in CASES:
        assert base.with_suffix(".json").exists() and Path(legacy_weights_path(base)).exists()
        assert base.with_name(base.name + ".model.h5").exists()


@parametrize_cases
def test_json_then_legacy_weights_predicts_like_keras(base):
    assert_predicts_like_keras(from_json_and_weights(base), base)


@parametrize_cases
def test_full_model_h5_predicts_like_keras(base):
    model = models.load_model(str(base.with_name(base.name + ".model.h5")))
    assert_predicts_like_keras(model, base)


@parametrize_cases
def test_get_weights_are_the_file_weights_in_keras_order(base):
    # Keras 2's get_weights() is every layer's weights in model.layers order, which is the
    # order of the legacy file's layer_names and weight_names (checked with tf.keras itself).
    with h5py.File(legacy_weights_path(base), "r") as f:
        expected = [f[_text(layer)][_text(weight)][()]
                    for layer in f.attrs["layer_names"]
                    for weight in f[_text(layer)].attrs["weight_names"]]
    got = from_json_and_weights(base).get_weights()
    assert [w.shape for w in got] == [w.shape for w in expected]
    for mine, theirs in zip(got, expected):
        np.testing.assert_array_equal(mine, theirs)


@parametrize_cases
def test_keras2_json_written_back_predicts_the_same(base):
    original = from_json_and_weights(base)
    copy = models.model_from_json(original.to_json())
    copy.set_weights(original.get_weights())
    assert_predicts_like_keras(copy, base)


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)

"""Keras 3 files -> modelcli: every architecture predicts what Keras predicts, from every file format.

For each model in ``keras3_architectures`` Keras writes its JSON, ``.weights.h5``,
``.keras``, full-model ``.h5`` and legacy weights ``.h5`` once (module-scoped fixture);
each test loads one of them in modelcli and compares with Keras's own predictions.
"""
from __future__ import annotations

from dataclasses import dataclass

import h5py
import numpy as np
import pytest

from keras3_architectures import (ARCHITECTURES, REQUIRED_LAYERS, assert_predictions_close, build, keras,
                                  layer_class_names, randomize)
from modelcli.models import load_model, model_from_json

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy:DeprecationWarning")


@dataclass
class KerasExport:
    name: str
    keras_model: object
    inputs: object
    expected: object
    weights: list
    json: str
    weights_h5: str
    archive: str
    full_h5: str
    legacy_weights_h5: str


@pytest.fixture(scope="module", params=sorted(ARCHITECTURES))
def exported(request, tmp_path_factory):
    from keras.src.legacy.saving import legacy_h5_format

    name = request.param
    model, inputs = build(name)
    folder = tmp_path_factory.mktemp(name)
    paths = {kind: str(folder / f"model{suffix}") for kind, suffix in
             [("weights_h5", ".weights.h5"), ("archive", ".keras"), ("full_h5", ".h5"),
              ("legacy_weights_h5", "_legacy_weights.h5")]}
    model.save_weights(paths["weights_h5"])
    model.save(paths["archive"])
    model.save(paths["full_h5"])
    with h5py.File(paths["legacy_weights_h5"], "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, model)
    return KerasExport(name=name, keras_model=model, inputs=inputs, expected=model.predict(inputs, verbose=0),
                       weights=[np.asarray(w) for w in model.get_weights()], json=model.to_json(), **paths)


def test_json_spec_with_keras3_weights_file(exported):
    model = model_from_json(exported.json)
    model.load_weights(exported.weights_h5)
    assert_predictions_close(model.predict(exported.inputs), exported.expected)


def test_keras_archive(exported):
    model = load_model(exported.archive)
    assert_predictions_close(model.predict(exported.inputs), exported.expected)


def test_legacy_full_model_h5(exported):
    model = load_model(exported.full_h5)
    assert_predictions_close(model.predict(exported.inputs), exported.expected)


def test_json_spec_with_legacy_weights_file(exported):
    model = model_from_json(exported.json)
    model.load_weights(exported.legacy_weights_h5)
    assert_predictions_close(model.predict(exported.inputs), exported.expected)


def test_json_spec_with_legacy_weights_file_by_name(exported):
    model = model_from_json(exported.json)
    model.load_weights(exported.legacy_weights_h5, by_name=True)
    assert_predictions_close(model.predict(exported.inputs), exported.expected)


def test_set_weights_takes_keras_get_weights(exported):
    model = model_from_json(exported.json)
    model.set_weights(exported.weights)
    assert_predictions_close(model.predict(exported.inputs), exported.expected)


def test_get_weights_equals_keras_get_weights(exported):
    model = model_from_json(exported.json)
    model.load_weights(exported.weights_h5)
    mine = model.get_weights()
    assert [np.shape(w) for w in mine] == [w.shape for w in exported.weights]
    for index, (ours, theirs) in enumerate(zip(mine, exported.weights)):
        np.testing.assert_array_equal(ours, theirs, err_msg=f"weight {index}")


def test_architectures_cover_every_required_layer():
    used = set()
    for name in ARCHITECTURES:
        used |= layer_class_names(build(name)[0].get_config())
    assert REQUIRED_LAYERS <= used, f"not covered: {sorted(REQUIRED_LAYERS - used)}"


def test_predict_takes_inputs_by_name():
    model, inputs = build("multi_io_named")
    ours = model_from_json(model.to_json())
    ours.set_weights(model.get_weights())
    by_name = dict(zip(["image", "sequence", "vector"], inputs))
    assert_predictions_close(ours.predict(by_name), model.predict(inputs, verbose=0))


def test_predict_in_batches_of_masked_int64_tokens():
    """70 rows (three batches of up to 32) of NumPy's default int64 ids, padded to different lengths."""
    model, _ = build("masked_bidirectional_gru")
    rng = np.random.default_rng(7)
    tokens = rng.integers(1, 30, size=(70, 10))
    tokens[np.arange(10) >= rng.integers(1, 11, size=(70, 1))] = 0
    ours = model_from_json(model.to_json())
    ours.set_weights(model.get_weights())
    assert_predictions_close(ours.predict(tokens, batch_size=32), model.predict(tokens, batch_size=32, verbose=0))


def test_functional_model_whose_masks_keras_wrote_as_op_nodes(tmp_path):
    """In a functional model Keras 3.15 writes the masks of Embedding(mask_zero) and Masking as
    ``NotEqual`` / ``Any`` op nodes (which Keras itself cannot read back); the masks must still apply."""
    layers = keras.layers
    tokens = keras.Input((8,), dtype="int32")
    series = keras.Input((8, 3))
    a = layers.LSTM(4)(layers.Embedding(20, 5, mask_zero=True)(tokens))
    b = layers.GlobalAveragePooling1D()(layers.TimeDistributed(layers.Dense(2))(layers.Masking()(series)))
    model = randomize(keras.Model([tokens, series], layers.Concatenate()([a, b])), seed=3)
    rng = np.random.default_rng(3)
    ids = rng.integers(1, 20, size=(4, 8)).astype("int32")
    ids[1, 3:] = ids[2, 6:] = 0
    values = rng.normal(size=(4, 8, 3)).astype("float32")
    values[0, 5:] = values[3, 2] = 0.0
    model.save_weights(tmp_path / "model.weights.h5")
    ours = model_from_json(model.to_json())
    ours.load_weights(tmp_path / "model.weights.h5")
    assert_predictions_close(ours.predict([ids, values]), model.predict([ids, values], verbose=0))

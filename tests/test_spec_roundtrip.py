"""modelcli -> Keras 3: what modelcli writes, real Keras rebuilds and predicts the same numbers with.

Each architecture of ``keras3_architectures`` is rebuilt in modelcli from Keras's JSON and
given Keras's weights; modelcli then writes its JSON, YAML, ``.weights.h5``, legacy ``.h5``,
``.keras`` and full-model ``.h5`` once (module-scoped fixture). Keras reads them back and must
predict what the original Keras model predicted; modelcli's own spec round trips are lossless.
The same builder code, run against ``modelcli`` instead of ``keras``, builds the same model.
"""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass

import numpy as np
import pytest

import modelcli
from keras3_architectures import ARCHITECTURES, assert_predictions_close, build, build_with, keras
from modelcli.models import model_from_config, model_from_json, model_from_yaml

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy:DeprecationWarning")


@dataclass
class OurExport:
    name: str
    ours: object
    inputs: object
    expected: object
    json: str
    yaml: str
    weights_h5: str
    legacy_weights_h5: str
    archive: str
    full_h5: str

    @functools.cached_property
    def _keras_from_our_json(self):
        return keras.models.model_from_json(self.json)

    def keras_from_our_json(self):
        """Keras's rebuild of our JSON (built once), its weights zeroed so a load must set them all."""
        model = self._keras_from_our_json
        model.set_weights([np.zeros(w.shape, w.dtype) for w in model.get_weights()])
        return model


@pytest.fixture(scope="module", params=sorted(ARCHITECTURES))
def exported(request, tmp_path_factory):
    name = request.param
    keras_model, inputs = build(name)
    ours = model_from_json(keras_model.to_json())
    ours.set_weights(keras_model.get_weights())
    folder = tmp_path_factory.mktemp(name)
    paths = {kind: str(folder / f"ours{suffix}") for kind, suffix in
             [("weights_h5", ".weights.h5"), ("legacy_weights_h5", "_legacy_weights.h5"),
              ("archive", ".keras"), ("full_h5", ".h5")]}
    ours.save_weights(paths["weights_h5"])
    ours.save_weights(paths["legacy_weights_h5"], save_format="h5")
    ours.save(paths["archive"])
    ours.save(paths["full_h5"])
    return OurExport(name=name, ours=ours, inputs=inputs, expected=keras_model.predict(inputs, verbose=0),
                     json=ours.to_json(), yaml=ours.to_yaml(), **paths)


def test_keras_rebuilds_our_json_and_reads_our_keras3_weights(exported):
    model = exported.keras_from_our_json()
    model.load_weights(exported.weights_h5)
    assert_predictions_close(model.predict(exported.inputs, verbose=0), exported.expected)


def test_keras_reads_our_legacy_weights(exported):
    model = exported.keras_from_our_json()
    model.load_weights(exported.legacy_weights_h5)
    assert_predictions_close(model.predict(exported.inputs, verbose=0), exported.expected)


def test_keras_loads_our_keras_archive(exported):
    model = keras.models.load_model(exported.archive, compile=False)
    assert_predictions_close(model.predict(exported.inputs, verbose=0), exported.expected)


def test_keras_loads_our_full_model_h5(exported, tmp_path):
    if exported.name in KERAS_H5_CANNOT_HOLD_OPS:
        # Keras 3's legacy .h5 loader knows no op nodes: it refuses its own file of this model too.
        keras_model, _ = build(exported.name)
        keras_model.save(tmp_path / "keras.h5")
        with pytest.raises(ValueError, match="Unknown layer: 'GetItem'"):
            keras.models.load_model(tmp_path / "keras.h5", compile=False)
        return
    model = keras.models.load_model(exported.full_h5, compile=False)
    assert_predictions_close(model.predict(exported.inputs, verbose=0), exported.expected)


KERAS_H5_CANNOT_HOLD_OPS = {"symbolic_indexing"}


def test_json_round_trip_is_lossless(exported):
    again = model_from_json(exported.json)
    assert again.get_config() == exported.ours.get_config()
    assert again.to_json() == exported.json


def test_yaml_round_trip_is_lossless(exported):
    again = model_from_yaml(exported.yaml)
    assert again.get_config() == exported.ours.get_config()
    assert again.to_yaml() == exported.yaml
    assert again.to_json() == exported.json


def test_config_round_trip_is_lossless(exported):
    again = model_from_config(json.loads(exported.json))
    assert again.get_config() == exported.ours.get_config()
    assert again.to_json() == exported.json


def test_our_model_predicts_what_keras_predicts(exported):
    assert_predictions_close(exported.ours.predict(exported.inputs), exported.expected)


@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_the_same_keras_code_builds_the_same_model_in_modelcli(name):
    keras_model, inputs = build(name)
    ours, _ = build_with(modelcli, name)
    assert [np.shape(w) for w in ours.get_weights()] == [tuple(w.shape) for w in keras_model.get_weights()]
    ours.set_weights(keras_model.get_weights())
    assert_predictions_close(ours.predict(inputs), keras_model.predict(inputs, verbose=0))

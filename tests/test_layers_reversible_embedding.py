"""ReversibleEmbedding against real Keras 3: lookups, reverse projections, configs, weights files,
and a functional model sharing one layer for token ids in and logits out."""
import json

import numpy as np
import pytest

from keras_reference import assert_layer_matches_keras, keras, ours_from, to_numpy
from modelcli import layers, losses
from modelcli.errors import SpecError
from modelcli.models import Model, model_from_json


def _keras_tied_lm(tie_weights=True, **kwargs):
    """Token ids -> shared table -> a Dense -> the same table in reverse -> logits (Keras 3)."""
    ids = keras.Input((5,), dtype="int32")
    embedding = keras.layers.ReversibleEmbedding(12, 4, tie_weights=tie_weights, **kwargs)
    hidden = keras.layers.Dense(4, activation="tanh")(embedding(ids))
    return keras.Model(ids, embedding(hidden, reverse=True))


# ----- the layer alone -------------------------------------------------------------------------
@pytest.mark.parametrize("tie_weights", [True, False])
def test_lookup_matches_keras(rng, tie_weights):
    ids = rng.integers(0, 12, size=(2, 6))
    assert_layer_matches_keras(keras.layers.ReversibleEmbedding(12, 4, tie_weights=tie_weights), ids)


@pytest.mark.parametrize("tie_weights", [True, False])
@pytest.mark.parametrize("logit_soft_cap", [None, 0.5])
def test_reverse_projection_matches_keras(rng, tie_weights, logit_soft_cap):
    hidden = rng.normal(size=(2, 3, 4)).astype("float32") * 3
    keras_layer = keras.layers.ReversibleEmbedding(12, 4, tie_weights=tie_weights,
                                                   embeddings_initializer="glorot_uniform",
                                                   logit_soft_cap=logit_soft_cap)
    ours = assert_layer_matches_keras(keras_layer, hidden, call_kwargs={"reverse": True})
    assert ours(hidden, reverse=True).shape == (2, 3, 12)


def test_soft_cap_bounds_the_logits(rng):
    layer = layers.ReversibleEmbedding(12, 4, embeddings_initializer="ones", logit_soft_cap=2.0)
    logits = layer(np.full((1, 4), 10.0, "float32"), reverse=True).detach().cpu().numpy()
    np.testing.assert_allclose(logits, np.tanh(40.0 / 2.0) * 2.0, rtol=1e-6)  # tanh(l / c) * c


@pytest.mark.parametrize("policy, reverse_dtype", [("float32", "bfloat16"), ("mixed_bfloat16", None),
                                                   ("mixed_bfloat16", "float32")])
def test_reverse_dtype_and_mixed_policy_give_keras_dtypes_and_values(rng, policy, reverse_dtype):
    """Under a mixed policy Keras multiplies bfloat16 hidden states by the float32 table: float32 logits."""
    hidden = rng.normal(size=(2, 4)).astype("float32")
    keras_layer = keras.layers.ReversibleEmbedding(12, 4, dtype=policy, reverse_dtype=reverse_dtype,
                                                   embeddings_initializer="glorot_uniform")
    expected = keras_layer(hidden, reverse=True)
    ours = ours_from(keras_layer)
    ours(hidden, reverse=True)  # build
    ours.set_weights(keras_layer.get_weights())
    got = ours(hidden, reverse=True)
    assert got.dtype == expected.dtype
    np.testing.assert_allclose(got.detach().float().cpu().numpy(), to_numpy(expected.float()), rtol=1e-2, atol=1e-6)


def test_mask_zero_masks_lookups_but_not_logits():
    ids = np.array([[3, 1, 0, 0], [0, 2, 5, 0]])
    keras_layer = keras.layers.ReversibleEmbedding(6, 2, mask_zero=True)
    ours = assert_layer_matches_keras(keras_layer, ids)
    hidden = ours(ids)
    np.testing.assert_array_equal(hidden._keras_mask.cpu().numpy(), to_numpy(keras_layer(ids)._keras_mask))
    # the logits of the padded steps are still logits: Keras attaches no mask to a reverse call
    assert getattr(ours(hidden, reverse=True), "_keras_mask", None) is None
    assert getattr(keras_layer(keras_layer(ids), reverse=True), "_keras_mask", None) is None


def test_weights_follow_keras_order_names_and_shapes():
    for tie_weights in (True, False):
        keras_layer = keras.layers.ReversibleEmbedding(12, 4, tie_weights=tie_weights)
        keras_layer.build()
        ours = layers.ReversibleEmbedding(12, 4, tie_weights=tie_weights)
        ours.build(None)
        assert [w.name for w in ours.weights] == [w.name for w in keras_layer.weights]
        assert [w.shape for w in ours.weights] == [tuple(w.shape) for w in keras_layer.weights]
    assert [w.shape for w in ours.weights] == [(12, 4), (4, 12)]  # untied: the table, then (out, in)


def test_output_shapes_match_keras():
    keras_layer = keras.layers.ReversibleEmbedding(9, 5)
    ours = layers.ReversibleEmbedding(9, 5)
    for shape, reverse in [((None, 7), False), ((2, None, 5), True)]:
        assert ours.compute_output_shape(shape, reverse=reverse) == \
            tuple(keras_layer.compute_output_shape(shape, reverse=reverse))


# ----- configs ----------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs", [{}, {"tie_weights": False, "reverse_dtype": "float32", "logit_soft_cap": 30,
                                         "mask_zero": True, "embeddings_regularizer": "l2",
                                         "embeddings_constraint": "non_neg", "name": "tokens"}])
def test_config_matches_keras_both_ways(kwargs):
    keras_layer = keras.layers.ReversibleEmbedding(10, 3, **kwargs)
    ours = ours_from(keras_layer)
    config = ours.get_config()
    assert config == keras_layer.get_config()
    assert type(ours).from_config(config).get_config() == config
    assert keras.layers.ReversibleEmbedding.from_config(config).get_config() == config


def test_rejects_bad_arguments_by_name():
    for kwargs, where in [({"tie_weights": "yes"}, "tie_weights"), ({"reverse_dtype": "int8"}, "reverse_dtype"),
                          ({"logit_soft_cap": 0}, "logit_soft_cap"), ({"logit_soft_cap": "30"}, "logit_soft_cap")]:
        with pytest.raises(SpecError, match=f"{where}: expected .*got"):
            layers.ReversibleEmbedding(10, 3, **kwargs)


# ----- a functional model sharing the layer ----------------------------------------------------------
@pytest.mark.parametrize("tie_weights", [True, False])
def test_keras_model_json_and_weights_file_load_and_predict_like_keras(tmp_path, rng, tie_weights):
    keras_model = _keras_tied_lm(tie_weights, logit_soft_cap=3.0)
    ids = rng.integers(0, 12, size=(3, 5))
    keras_model.save_weights(tmp_path / "lm.weights.h5")
    spec = keras_model.to_json()
    assert json.loads(spec)["config"]["layers"][1]["inbound_nodes"][1]["kwargs"] == {"reverse": True}

    ours = model_from_json(spec)
    ours.load_weights(tmp_path / "lm.weights.h5")
    np.testing.assert_allclose(ours.predict(ids, verbose=0), to_numpy(keras_model(ids)), atol=1e-5)
    # our JSON keeps the reverse call, so Keras rebuilds the same two-way model
    assert json.loads(ours.to_json())["config"]["layers"][1]["inbound_nodes"] == \
        json.loads(spec)["config"]["layers"][1]["inbound_nodes"]
    ours.save_weights(tmp_path / "ours.weights.h5")
    rebuilt = keras.models.model_from_json(ours.to_json())
    rebuilt.load_weights(tmp_path / "ours.weights.h5")
    np.testing.assert_allclose(to_numpy(rebuilt(ids)), to_numpy(keras_model(ids)), atol=1e-5)


def test_padding_mask_reaches_the_layers_between_the_two_calls(rng):
    """The average skips padded steps (the forward call's mask), and the logits carry no mask."""
    ids_in = keras.Input((6,), dtype="int32")
    embedding = keras.layers.ReversibleEmbedding(12, 4, mask_zero=True)
    pooled = keras.layers.GlobalAveragePooling1D()(embedding(ids_in))
    keras_model = keras.Model(ids_in, embedding(pooled, reverse=True))
    ids = rng.integers(1, 12, size=(2, 6))
    ids[0, 3:] = 0
    spec = keras_model.to_json()
    # Keras saw no mask while building the graph (the layer makes it when it runs), so it wrote
    # mask=None in the pooling's node and fills it when it runs: so must we
    assert json.loads(spec)["config"]["layers"][2]["inbound_nodes"][0]["kwargs"] == {"mask": None}

    ours = model_from_json(spec)
    ours.set_weights(keras_model.get_weights())
    got = ours(ids)
    np.testing.assert_allclose(got.detach().cpu().numpy(), to_numpy(keras_model(ids)), atol=1e-5)
    assert ours.compute_mask(ids) is None


@pytest.mark.parametrize("tie_weights", [True, False])
def test_two_training_epochs_update_the_weights_as_keras_does(rng, tie_weights):
    """Tied, the table's gradient is the sum of the lookup's and the projection's, as in Keras."""
    keras_model = _keras_tied_lm(tie_weights, embeddings_initializer="glorot_uniform")
    ours = model_from_json(keras_model.to_json())
    ours.set_weights(keras_model.get_weights())
    sgd = {"class_name": "SGD", "config": {"learning_rate": 0.5}}
    keras_model.compile(optimizer=keras.optimizers.deserialize(sgd),
                        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    ours.compile(optimizer=sgd, loss=losses.SparseCategoricalCrossentropy(from_logits=True))
    ids = rng.integers(0, 12, size=(16, 5))
    keras_model.fit(ids, ids, batch_size=8, epochs=2, shuffle=False, verbose=0)
    ours.fit(ids, ids, batch_size=8, epochs=2, shuffle=False, verbose=0)
    for mine, theirs in zip(ours.get_weights(), keras_model.get_weights()):
        np.testing.assert_allclose(mine, to_numpy(theirs), rtol=1e-4, atol=1e-6)


def test_layer_built_here_is_read_by_keras(rng):
    ids_in = layers.Input((5,), dtype="int32")
    embedding = layers.ReversibleEmbedding(12, 4, tie_weights=False, logit_soft_cap=5)
    ours = Model(ids_in, embedding(layers.Dense(4)(embedding(ids_in)), reverse=True))
    ids = rng.integers(0, 12, size=(2, 5))
    keras_model = keras.models.model_from_json(ours.to_json())
    keras_model.set_weights(ours.get_weights())
    np.testing.assert_allclose(ours(ids).detach().cpu().numpy(), to_numpy(keras_model(ids)), atol=1e-5)

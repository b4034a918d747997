"""Attention (dot / concat scores) and AdditiveAttention against real Keras 3, and as Keras 2 wrote them."""
import json

import numpy as np
import pytest
import torch

from keras_reference import assert_layer_matches_keras, keras, keras_spec, to_numpy
from modelcli import layers, models
from modelcli.errors import SpecError
from modelcli.layers.deserialize import deserialize_layer

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy:DeprecationWarning")


def _normal(rng, *shape):
    return rng.normal(size=shape).astype("float32")


def _built_keras(make, inputs, rng):
    """A Keras layer built on ``inputs`` with random weights (all-ones scales would hide a mix-up)."""
    layer = make()
    layer(inputs)
    layer.set_weights([_normal(rng, *w.shape) * 0.5 + 1.0 for w in layer.get_weights()])
    return layer


LAYERS = {
    "dot": lambda: keras.layers.Attention(),
    "dot_scaled": lambda: keras.layers.Attention(use_scale=True),
    "concat": lambda: keras.layers.Attention(score_mode="concat"),
    "concat_scaled": lambda: keras.layers.Attention(use_scale=True, score_mode="concat"),
    "additive": lambda: keras.layers.AdditiveAttention(),
    "additive_unscaled": lambda: keras.layers.AdditiveAttention(use_scale=False),
}


@pytest.mark.parametrize("kind", sorted(LAYERS))
@pytest.mark.parametrize("call_kwargs", [{}, {"return_attention_scores": True}, {"use_causal_mask": True},
                                         {"use_causal_mask": True, "return_attention_scores": True}])
@pytest.mark.parametrize("with_key", [False, True])
def test_outputs_and_scores_match_keras(rng, kind, call_kwargs, with_key):
    inputs = [_normal(rng, 2, 4, 3), _normal(rng, 2, 5, 6)]  # query (B, Tq, dim), value (B, Tv, dv)
    if with_key:
        inputs.append(_normal(rng, 2, 5, 3))
    else:
        inputs[1] = _normal(rng, 2, 5, 3)  # the value is the key: same dim as the query
    keras_layer = _built_keras(LAYERS[kind], inputs, rng)
    assert_layer_matches_keras(keras_layer, inputs, call_kwargs=call_kwargs)


@pytest.mark.parametrize("kind", ["dot_scaled", "concat", "additive"])
@pytest.mark.parametrize("causal", [False, True])
def test_query_and_value_masks_match_keras(rng, kind, causal):
    inputs = [_normal(rng, 3, 4, 3), _normal(rng, 3, 5, 3)]
    query_mask = np.array([[1, 1, 1, 0], [1, 0, 1, 1], [1, 1, 1, 1]], bool)
    value_mask = np.array([[1, 1, 0, 0, 0], [0, 1, 1, 1, 1], [0, 0, 0, 0, 0]], bool)  # row 3 attends nowhere
    keras_layer = _built_keras(LAYERS[kind], inputs, rng)
    ours = assert_layer_matches_keras(keras_layer, inputs, call_kwargs={
        "mask": [query_mask, value_mask], "use_causal_mask": causal, "return_attention_scores": True})
    output, scores = ours(inputs, mask=[query_mask, value_mask], return_attention_scores=True)
    assert torch.all(output[~torch.as_tensor(query_mask)] == 0)
    assert torch.all(scores[:2][~torch.as_tensor(value_mask[:2]).unsqueeze(1).expand(2, 4, 5)] == 0)


def _masked(rng, shape, mask):
    tensor = torch.as_tensor(_normal(rng, *shape))
    tensor._keras_mask = torch.as_tensor(mask, dtype=torch.bool)
    return tensor


@pytest.mark.parametrize("kind", ["dot", "additive"])
def test_masks_carried_by_the_tensors_apply_and_the_output_carries_the_query_mask(rng, kind):
    query = _masked(rng, (2, 3, 4), [[1, 1, 0], [1, 0, 0]])
    value = _masked(rng, (2, 5, 4), [[1, 1, 1, 0, 0], [1, 0, 0, 0, 1]])
    keras_layer = _built_keras(LAYERS[kind], [query, value], rng)
    ours = deserialize_layer(keras_spec(keras_layer))
    ours([query, value])
    ours.set_weights(keras_layer.get_weights())
    got = ours([query, value])
    masks = query._keras_mask, value._keras_mask
    expected = keras_layer([query, value])  # Keras takes the masks off the tensors...
    query._keras_mask, value._keras_mask = masks  # ...so put them back
    np.testing.assert_allclose(got.detach().cpu().numpy(), to_numpy(expected), atol=1e-5)
    np.testing.assert_array_equal(got._keras_mask.cpu().numpy(), to_numpy(expected._keras_mask))
    # Only the value has a mask: the output has none, as in Keras.
    assert getattr(ours([torch.as_tensor(_normal(rng, 2, 3, 4)), value]), "_keras_mask", None) is None


def _assert_dropout_of_the_attention_weights(output, scores, value, inference_scores, rate):
    """Dropped weights are 0, kept ones are scaled by 1/(1 - rate), and the output uses the dropped weights."""
    kept = scores != 0
    np.testing.assert_allclose(scores[kept], inference_scores[kept] / (1 - rate), rtol=1e-5)
    np.testing.assert_allclose(output, scores @ value, atol=1e-5)
    assert abs((~kept).mean() - rate) < 0.03


@pytest.mark.parametrize("make", [lambda: keras.layers.Attention(dropout=0.4, seed=5),
                                  lambda: keras.layers.AdditiveAttention(dropout=0.4)])
def test_dropout_drops_attention_weights_while_training_as_keras_does(rng, make):
    inputs = [_normal(rng, 8, 20, 4), _normal(rng, 8, 30, 4)]
    keras_layer = _built_keras(make, inputs, rng)
    ours = assert_layer_matches_keras(keras_layer, inputs, call_kwargs={"return_attention_scores": True})
    inference_scores = to_numpy(keras_layer(inputs, return_attention_scores=True)[1])
    for layer, convert in ((keras_layer, to_numpy), (ours, lambda ts: [t.detach().cpu().numpy() for t in ts])):
        output, scores = convert(layer(inputs, training=True, return_attention_scores=True))
        _assert_dropout_of_the_attention_weights(output, scores, inputs[1], inference_scores, rate=0.4)


def test_seeded_dropout_repeats_in_a_fresh_layer_and_varies_between_calls(rng):
    inputs = [_normal(rng, 2, 6, 4), _normal(rng, 2, 7, 4)]
    first, second = layers.Attention(dropout=0.5, seed=11), layers.Attention(dropout=0.5, seed=11)
    a1, a2 = first(inputs, training=True), first(inputs, training=True)
    assert torch.equal(a1, second(inputs, training=True))
    assert not torch.equal(a1, a2)
    assert torch.equal(first(inputs), first(inputs))  # no dropout at inference


@pytest.mark.parametrize("make", [
    lambda: keras.layers.Attention(),
    lambda: keras.layers.Attention(use_scale=True, score_mode="concat", dropout=0.1, seed=3, name="att"),
    lambda: keras.layers.AdditiveAttention(),
    lambda: keras.layers.AdditiveAttention(use_scale=False, dropout=0.2, seed=1),
])
def test_config_equals_keras_and_round_trips(make):
    keras_layer = make()
    ours = deserialize_layer(keras_spec(keras_layer))
    assert type(ours).__name__ == type(keras_layer).__name__
    assert ours.get_config() == keras_layer.get_config()
    assert type(ours).from_config(ours.get_config()).get_config() == ours.get_config()


@pytest.mark.parametrize("kind", sorted(LAYERS))
def test_weights_have_keras_names_shapes_and_order(rng, kind):
    inputs = [_normal(rng, 1, 2, 3), _normal(rng, 1, 4, 5), _normal(rng, 1, 4, 3)]
    keras_layer = LAYERS[kind]()
    keras_layer(inputs)
    ours = deserialize_layer(keras_spec(keras_layer))
    ours(inputs)
    assert [(w.path, w.shape) for w in ours.weights] == [(w.path, tuple(w.shape)) for w in keras_layer.weights]


def test_additive_scale_starts_glorot_uniform_over_the_query_dim():
    layer = layers.AdditiveAttention()
    layer([np.zeros((1, 2, 400), "float32")] * 2)
    scale = layer.get_weights()[0]
    limit = np.sqrt(6 / (400 + 400))
    assert scale.shape == (400,) and np.abs(scale).max() <= limit and np.abs(scale).max() > 0.9 * limit


def test_symbolic_call_gives_output_and_score_shapes():
    query, value, key = layers.Input((3, 4)), layers.Input((5, 6)), layers.Input((5, 4))
    output, scores = layers.Attention()([query, value, key], return_attention_scores=True)
    assert output.shape == (None, 3, 6) and scores.shape == (None, 3, 5)
    assert layers.AdditiveAttention()([query, key]).shape == (None, 3, 4)


def _randomized(model, rng):
    for layer in model.layers:
        layer.set_weights([_normal(rng, *w.shape) * 0.5 + 1.0 for w in layer.weights])
    return model


def _load_in_modelcli(keras_model, folder):
    keras_model.save_weights(folder / "m.weights.h5")
    ours = models.model_from_json(keras_model.to_json())
    ours.load_weights(str(folder / "m.weights.h5"))
    return ours


def test_keras_functional_model_with_attention_predicts_the_same(rng, tmp_path):
    query, value = keras.Input((4, 3)), keras.Input((6, 3))
    attended = keras.layers.Attention(use_scale=True, score_mode="concat", dropout=0.3)([query, value])
    outputs = keras.layers.Dense(2)(keras.layers.GlobalAveragePooling1D()(attended))
    keras_model = _randomized(keras.Model([query, value], outputs), rng)
    ours = _load_in_modelcli(keras_model, tmp_path)
    x = [_normal(rng, 5, 4, 3), _normal(rng, 5, 6, 3)]
    np.testing.assert_allclose(ours.predict(x), keras_model.predict(x, verbose=0), atol=1e-5)


def test_keras_model_whose_value_mask_comes_from_an_embedding_predicts_the_same(rng, tmp_path):
    query, tokens = keras.Input((3, 4)), keras.Input((6,), dtype="int32")
    embedded = keras.layers.Embedding(10, 4, mask_zero=True)(tokens)
    attended = keras.layers.Attention(use_scale=True)([query, embedded], use_causal_mask=True)
    outputs = keras.layers.Dense(2)(keras.layers.GlobalAveragePooling1D()(attended))
    keras_model = _randomized(keras.Model([query, tokens], outputs), rng)
    ours = _load_in_modelcli(keras_model, tmp_path)
    x = [_normal(rng, 3, 3, 4), np.array([[3, 5, 2, 0, 0, 0], [0, 0, 7, 9, 8, 1], [4, 0, 3, 1, 0, 0]], "int32")]
    np.testing.assert_allclose(ours.predict(x), keras_model.predict(x, verbose=0), atol=1e-5)


def _self_attention_over_tokens(lib):
    tokens = lib.layers.Input((6,), dtype="int32")
    embedded = lib.layers.Embedding(10, 4, mask_zero=True)(tokens)
    attended = lib.layers.AdditiveAttention()([embedded, embedded], use_causal_mask=True)
    outputs = lib.layers.Dense(2)(lib.layers.GlobalAveragePooling1D()(attended))  # pools the query's steps only
    return lib.Model(tokens, outputs)


def test_the_query_mask_reaches_the_next_layer_in_a_functional_model(rng):
    import modelcli
    keras_model = _randomized(_self_attention_over_tokens(keras), rng)
    ours = _self_attention_over_tokens(modelcli)
    ours.set_weights(keras_model.get_weights())
    ids = np.array([[3, 5, 2, 0, 0, 0], [4, 1, 7, 9, 8, 0], [0, 2, 3, 1, 0, 0]], "int32")
    np.testing.assert_allclose(ours.predict(ids), keras_model.predict(ids, verbose=0), atol=1e-5)


def test_keras_json_of_self_attention_over_an_embedding_mask(rng, tmp_path):
    """Keras 3 writes the query mask the layer passes on as a ConvertToTensor op node."""
    keras_model = _randomized(_self_attention_over_tokens(keras), rng)
    ours = _load_in_modelcli(keras_model, tmp_path)
    ids = np.array([[3, 5, 2, 0, 0, 0], [4, 1, 7, 9, 8, 0]], "int32")
    np.testing.assert_allclose(ours.predict(ids), keras_model.predict(ids, verbose=0), atol=1e-5)


def test_a_modelcli_model_is_read_back_by_keras(rng):
    import modelcli
    query, value = modelcli.layers.Input((3, 4)), modelcli.layers.Input((5, 4))
    output, scores = modelcli.layers.Attention(use_scale=True, score_mode="concat")([query, value],
                                                                                 return_attention_scores=True)
    additive = modelcli.layers.AdditiveAttention(dropout=0.1)([query, value, value])
    ours = modelcli.Model([query, value], [output, scores, additive])
    theirs = keras.models.model_from_json(ours.to_json())
    theirs.set_weights(ours.get_weights())
    x = [_normal(rng, 2, 3, 4), _normal(rng, 2, 5, 4)]
    for mine, expected in zip(ours.predict(x), theirs.predict(x, verbose=0)):
        np.testing.assert_allclose(mine, expected, atol=1e-6)


def test_gradients_reach_every_weight(rng):
    for layer in (layers.Attention(use_scale=True, score_mode="concat"), layers.AdditiveAttention()):
        inputs = [torch.as_tensor(_normal(rng, 2, 3, 4)), torch.as_tensor(_normal(rng, 2, 5, 4))]
        layer(inputs, use_causal_mask=True).square().sum().backward()
        assert [p.grad is not None and p.grad.abs().sum() > 0 for p in layer.parameters()] == \
            [True] * len(layer.weights)


def test_keras2_causal_flag_means_the_causal_mask(rng):
    """TF ≤ 2.9 saved causal masking in the config; Keras 3 cannot read it, so compare with use_causal_mask."""
    inputs = [_normal(rng, 2, 5, 3), _normal(rng, 2, 5, 3)]
    keras2 = {"class_name": "Attention", "config": {"name": "attention", "trainable": True, "dtype": "float32",
                                                    "causal": True, "dropout": 0.0, "use_scale": False,
                                                    "score_mode": "dot"}}
    layer = deserialize_layer(keras2)
    expected = keras.layers.Attention()(inputs, use_causal_mask=True)
    np.testing.assert_allclose(layer(inputs).cpu().numpy(), to_numpy(expected), atol=1e-6)
    assert not np.allclose(layer(inputs).cpu().numpy(), to_numpy(keras.layers.Attention()(inputs)), atol=1e-3)
    assert layer.get_config()["causal"] is True  # kept when written back


def test_keras2_model_json_with_causal_additive_attention(rng):
    keras2_json = json.dumps({"class_name": "Functional", "keras_version": "2.4.0", "backend": "tensorflow",
                              "config": {"name": "model", "layers": [
        {"class_name": "InputLayer", "name": "q", "inbound_nodes": [],
         "config": {"batch_input_shape": [None, 4, 3], "dtype": "float32", "sparse": False, "ragged": False,
                    "name": "q"}},
        {"class_name": "InputLayer", "name": "v", "inbound_nodes": [],
         "config": {"batch_input_shape": [None, 4, 3], "dtype": "float32", "sparse": False, "ragged": False,
                    "name": "v"}},
        {"class_name": "AdditiveAttention", "name": "additive_attention",
         "config": {"name": "additive_attention", "trainable": True, "dtype": "float32", "use_scale": True,
                    "causal": True, "dropout": 0.0},
         "inbound_nodes": [[["q", 0, 0, {}], ["v", 0, 0, {}]]]}],
        "input_layers": [["q", 0, 0], ["v", 0, 0]], "output_layers": [["additive_attention", 0, 0]]}})
    ours = models.model_from_json(keras2_json)
    scale = _normal(rng, 3)
    ours.set_weights([scale])
    reference = keras.layers.AdditiveAttention()
    x = [_normal(rng, 2, 4, 3), _normal(rng, 2, 4, 3)]
    reference(x)
    reference.set_weights([scale])
    got = ours.predict(x)
    got = got[0] if isinstance(got, list) else got  # Keras 2 lists even a single output
    np.testing.assert_allclose(got, to_numpy(reference(x, use_causal_mask=True)), atol=1e-5)


@pytest.mark.parametrize("make, message", [
    (lambda: layers.Attention(score_mode="add"), "score_mode: expected 'dot' or 'concat', got 'add'"),
    (lambda: layers.Attention(dropout=1.5), "dropout: expected a number with 0 <= dropout <= 1, got 1.5"),
    (lambda: layers.AdditiveAttention(seed="x"), "seed: expected an integer or null"),
    (lambda: layers.Attention()(np.zeros((1, 2, 3), "float32")), "takes a list \\[query, value\\]"),
    (lambda: layers.Attention()([np.zeros((1, 2, 3), "float32"), np.zeros((1, 2, 4), "float32")]),
     "query and key must have the same last dimension"),
    (lambda: layers.Attention()([layers.Input((2, 3)), layers.Input((4, 5)), layers.Input((3, 3))]),
     "value and key must have the same number of steps"),
])
def test_bad_arguments_are_refused(make, message):
    with pytest.raises(SpecError, match=message):
        make()

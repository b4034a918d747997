"""GroupQueryAttention against real Keras 3: numbers, masks, dropout, weights, configs and files."""
import numpy as np
import pytest
import torch

from keras_reference import assert_layer_matches_keras, keras, keras_spec, to_numpy, to_numpy_torch
from modelcli import layers, models
from modelcli.errors import SpecError
from modelcli.layers.deserialize import deserialize_layer, serialize_layer

pytestmark = [
    pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy:DeprecationWarning"),
    # Keras warns that its own projections drop the masks carried by the query and value.
    pytest.mark.filterwarnings("ignore:Layer '(query|key|value)' .* was passed an input with a mask:UserWarning"),
]

GQA = {"head_dim": 3, "num_query_heads": 4, "num_key_value_heads": 2}  # two query heads per key/value head


def _normal(rng, *shape):
    return rng.normal(size=shape).astype("float32")


def _built_keras_gqa(rng, args, **kwargs):
    """A Keras GroupQueryAttention built on ``args`` with random biases too (zeros would hide a bias mix-up)."""
    layer = keras.layers.GroupQueryAttention(**kwargs)
    layer(*args)
    layer.set_weights([_normal(rng, *w.shape) * 0.5 for w in layer.get_weights()])
    return layer


def _ours_like(keras_layer, args):
    ours = deserialize_layer(keras_spec(keras_layer))
    ours(*args)
    ours.set_weights(keras_layer.get_weights())
    return ours


def _without_unset_initializer_axes(config):
    """Keras ≥ 3.12 writes ``input_axes``/``output_axes`` = None into initializer configs; we omit them."""
    config = dict(config)
    for key, value in config.items():
        if isinstance(value, dict) and isinstance(value.get("config"), dict):
            inner = {k: v for k, v in value["config"].items() if not (k.endswith("_axes") and v is None)}
            config[key] = {**value, "config": inner}
    return config


@pytest.mark.parametrize("kwargs, shapes, call_kwargs", [
    (GQA, [(2, 4, 6)], {}),  # self-attention
    (GQA, [(2, 4, 6), (2, 5, 6)], {}),  # cross-attention
    (GQA, [(2, 4, 6), (2, 5, 6), (2, 5, 3)], {}),  # a key of its own width
    (GQA, [(2, 4, 6), (2, 5, 7)], {}),  # a value wider than the query (eager calls allow it)
    ({**GQA, "num_key_value_heads": 1}, [(2, 4, 6)], {}),  # multi-query attention
    ({**GQA, "num_key_value_heads": 4}, [(2, 4, 6)], {}),  # plain multi-head attention
    (GQA, [(2, 4, 6)], {"use_causal_mask": True}),
    (GQA, [(2, 4, 6), (2, 5, 6)], {"use_causal_mask": True}),  # causal with more keys than queries
    (GQA, [(2, 4, 6), (2, 5, 6)], {"return_attention_scores": True}),
    (GQA, [(2, 4, 6)], {"use_causal_mask": True, "return_attention_scores": True}),
    ({**GQA, "use_bias": False}, [(2, 4, 6), (2, 5, 6)], {}),
    ({**GQA, "use_gate": True}, [(2, 4, 6), (2, 5, 6)], {"return_attention_scores": True}),
    ({**GQA, "use_gate": True}, [(2, 4, 6)], {"use_causal_mask": True}),
    ({**GQA, "sliding_window": 2}, [(2, 5, 6)], {"use_causal_mask": True}),
    ({**GQA, "sliding_window": 2}, [(2, 5, 6)], {"return_attention_scores": True}),  # a symmetric band
    ({**GQA, "dropout": 0.2}, [(2, 4, 6)], {"use_causal_mask": True}),  # Keras's explicit path, inference
])
def test_grouped_query_attention_matches_keras(rng, kwargs, shapes, call_kwargs):
    args = tuple(_normal(rng, *s) for s in shapes)
    args = args * 2 if len(args) == 1 else args
    keras_layer = _built_keras_gqa(rng, args, **kwargs)
    assert_layer_matches_keras(keras_layer, args, call_kwargs=call_kwargs, atol=1e-5)


@pytest.mark.parametrize("mask_shape", [(2, 4, 5), (4, 5)])
@pytest.mark.parametrize("dropout", [0.0, 0.3])
def test_attention_mask_matches_keras(rng, mask_shape, dropout):
    args = (_normal(rng, 2, 4, 6), _normal(rng, 2, 5, 6))
    mask = rng.random(mask_shape) > 0.4
    mask[..., 0, :] = False  # a query step that may attend nowhere: Keras's two paths differ there
    keras_layer = _built_keras_gqa(rng, args, dropout=dropout, **GQA)
    for scores in (False, True):
        assert_layer_matches_keras(keras_layer, args, atol=1e-5,
                                   call_kwargs={"attention_mask": mask, "return_attention_scores": scores})


def test_a_number_mask_alone_is_read_as_keras_reads_it_on_each_path(rng):
    """Alone, a non-boolean ``attention_mask`` reaches the kernel as given: the fused kernel keeps every
    nonzero entry, the explicit softmax only those above 0.5."""
    args = (_normal(rng, 2, 4, 6), _normal(rng, 2, 5, 6))
    mask = rng.choice(np.array([0.0, 0.3, 1.0], "float32"), size=(2, 4, 5))
    keras_layer = _built_keras_gqa(rng, args, **GQA)
    for scores in (False, True):
        assert_layer_matches_keras(keras_layer, args, atol=1e-5,
                                   call_kwargs={"attention_mask": mask, "return_attention_scores": scores})


@pytest.mark.parametrize("dropout", [0.0, 0.2])
@pytest.mark.parametrize("call_kwargs", [{}, {"use_causal_mask": True}, {"return_attention_scores": True}])
def test_query_value_and_key_mask_arguments_match_keras(rng, dropout, call_kwargs):
    args = (_normal(rng, 2, 4, 6), _normal(rng, 2, 5, 6), _normal(rng, 2, 5, 3))
    masks = {"query_mask": np.array([[1, 1, 1, 0], [1, 1, 0, 0]], bool),
             "value_mask": np.array([[1, 1, 1, 1, 0], [1, 1, 1, 0, 0]], bool),
             "key_mask": np.array([[0, 1, 1, 1, 1], [1, 1, 1, 1, 1]], bool)}
    keras_layer = _built_keras_gqa(rng, args, dropout=dropout, **GQA)
    assert_layer_matches_keras(keras_layer, args, call_kwargs={**masks, **call_kwargs}, atol=1e-5)


def _masked(rng, shape, mask):
    tensor = torch.as_tensor(_normal(rng, *shape))
    tensor._keras_mask = torch.as_tensor(mask, dtype=torch.bool)
    return tensor


@pytest.mark.parametrize("dropout", [0.0, 0.2])
@pytest.mark.parametrize("call_kwargs", [
    {}, {"use_causal_mask": True}, {"return_attention_scores": True},
    {"value_mask": np.array([[1, 0, 1, 1, 1], [1, 1, 1, 1, 0]], bool)},  # an argument wins over the carried mask
])
def test_keras_masks_carried_by_query_and_value_match_keras(rng, dropout, call_kwargs):
    query = _masked(rng, (2, 4, 6), [[1, 1, 1, 0], [1, 0, 0, 0]])
    value = _masked(rng, (2, 5, 6), [[1, 1, 1, 0, 0], [1, 1, 0, 0, 0]])
    keras_layer = _built_keras_gqa(rng, (query.numpy(), value.numpy()), dropout=dropout, **GQA)
    ours = _ours_like(keras_layer, (query, value))
    got = ours(query, value, **call_kwargs)
    masks = query._keras_mask, value._keras_mask
    expected = keras_layer(query, value, **call_kwargs)  # Keras takes the masks off the tensors...
    query._keras_mask, value._keras_mask = masks  # ...so put them back
    got, expected = (got, expected) if isinstance(got, tuple) else ((got,), (expected,))
    for mine, theirs in zip(got, expected):
        np.testing.assert_allclose(to_numpy_torch(mine), to_numpy(theirs), atol=1e-5)
    # The output keeps the query's own mask, as Keras's does.
    np.testing.assert_array_equal(got[0]._keras_mask.cpu().numpy(), to_numpy(expected[0]._keras_mask))


def test_masked_causal_decoder_loads_from_keras_files(rng, tmp_path):
    """Embedding(mask_zero) -> causal GroupQueryAttention -> LayerNormalization -> masked pooling -> Dense,
    from Keras's JSON with its .weights.h5, and from its full-model .h5."""
    tokens = np.array([[3, 5, 2, 7, 0, 0], [4, 1, 0, 0, 0, 0]])
    inputs = keras.Input((6,), dtype="int32")
    embedded = keras.layers.Embedding(10, 8, mask_zero=True)(inputs)
    attended = keras.layers.GroupQueryAttention(4, 4, 2)(embedded, embedded, use_causal_mask=True)
    pooled = keras.layers.GlobalAveragePooling1D()(keras.layers.LayerNormalization()(attended))
    keras_model = keras.Model(inputs, keras.layers.Dense(3)(pooled))
    keras_model.set_weights([_normal(rng, *w.shape) * 0.5 for w in keras_model.weights])
    expected = to_numpy(keras_model(tokens))
    keras_model.save_weights(tmp_path / "keras.weights.h5")
    keras_model.save(tmp_path / "keras.h5")

    ours = models.model_from_json(keras_model.to_json())
    ours.load_weights(str(tmp_path / "keras.weights.h5"))
    np.testing.assert_allclose(ours.predict(tokens), expected, atol=1e-5)
    for mine, theirs in zip(ours.get_weights(), keras_model.get_weights()):
        np.testing.assert_array_equal(mine, to_numpy(theirs))
    np.testing.assert_allclose(models.load_model(str(tmp_path / "keras.h5")).predict(tokens), expected, atol=1e-5)


def test_weights_are_the_projections_in_keras_order_and_layout():
    layer = layers.GroupQueryAttention(head_dim=3, num_query_heads=4, num_key_value_heads=2, use_gate=True)
    layer(np.zeros((1, 5, 6), "float32"), np.zeros((1, 7, 8), "float32"))
    assert layer.name.startswith("grouped_query_attention")  # Keras names it after its class
    assert [(w.path, w.shape) for w in layer.weights] == [
        ("query/kernel", (6, 4, 3)), ("query/bias", (4, 3)),
        ("key/kernel", (8, 2, 3)), ("key/bias", (2, 3)),
        ("gate/kernel", (6, 4, 3)), ("gate/bias", (4, 3)),
        ("value/kernel", (8, 2, 3)), ("value/bias", (2, 3)),
        ("attention_output/kernel", (4, 3, 6)), ("attention_output/bias", (6,)),
    ]
    # The groups of a Keras 3 .weights.h5: the projections under Keras's attribute names, and two empty ones.
    assert list(layer._keras_sublayers) == ["_query_dense", "_key_dense", "_gate_dense", "_value_dense",
                                            "_softmax", "_dropout_layer", "_output_dense"]


def test_symbolic_call_gives_output_and_score_shapes():
    query, value, key = layers.Input((4, 6)), layers.Input((5, 6)), layers.Input((5, 3))
    output, scores = layers.GroupQueryAttention(3, 4, 2)(query, value, key, return_attention_scores=True)
    assert output.shape == (None, 4, 6) and scores.shape == (None, 4, 4, 5)
    assert layers.GroupQueryAttention(3, 4, 2)(query, value, use_causal_mask=True).shape == (None, 4, 6)
    assert layers.GroupQueryAttention(3, 4, 2).compute_output_shape((None, 4, 6), (None, 5, 6)) == (None, 4, 6)


def test_shapes_that_keras_refuses_in_a_graph_are_refused():
    layer = layers.GroupQueryAttention(3, 4, 2, name="gqa")
    with pytest.raises(SpecError, match=r"gqa: query and value must have the same last axis"):
        layer(layers.Input((4, 6)), layers.Input((5, 7)))
    with pytest.raises(SpecError, match=r"gqa: value and key must agree .*\(None, 5, 6\).*\(None, 3, 6\)"):
        layers.GroupQueryAttention(3, 4, 2, name="gqa")(layers.Input((4, 6)), layers.Input((5, 6)),
                                                        layers.Input((3, 6)))


def test_dropout_in_training_has_the_statistics_of_keras_dropout(rng):
    """Dropout masks cannot match Keras's draw for draw; over 2000 copies of one input the outputs must have
    Keras's mean (the inference output: dropout keeps the expected attention weights) and spread."""
    query, value = _normal(rng, 1, 4, 6), _normal(rng, 1, 5, 6)
    keras_layer = _built_keras_gqa(rng, (query, value), dropout=0.4, **GQA)
    ours = _ours_like(keras_layer, (query, value))
    inference = to_numpy_torch(ours(query, value))
    np.testing.assert_allclose(inference, to_numpy(keras_layer(query, value)), atol=1e-5)
    assert np.array_equal(to_numpy_torch(ours(query, value)), inference)  # no dropout outside training

    copies = (np.repeat(query, 2000, axis=0), np.repeat(value, 2000, axis=0))
    mine = to_numpy_torch(ours(*copies, training=True))
    theirs = to_numpy(keras_layer(*copies, training=True))
    scale = theirs.std(axis=0)
    np.testing.assert_allclose(mine.mean(axis=0), inference[0], atol=float(4 * scale.max() / np.sqrt(2000)))
    np.testing.assert_allclose(theirs.mean(axis=0), inference[0], atol=float(4 * scale.max() / np.sqrt(2000)))
    np.testing.assert_allclose(mine.std(axis=0), scale, rtol=0.15)


def test_gradients_reach_every_projection(rng):
    layer = layers.GroupQueryAttention(3, 4, 2, use_gate=True)
    x = torch.as_tensor(_normal(rng, 2, 4, 6))
    layer(x, x, use_causal_mask=True).square().sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in layer.parameters())


def test_config_equals_keras_and_both_read_the_other(rng):
    args = (_normal(rng, 2, 4, 6), _normal(rng, 2, 5, 6), _normal(rng, 2, 5, 3))
    keras_layer = _built_keras_gqa(rng, args, dropout=0.1, use_gate=True, sliding_window=3, kernel_regularizer="l2",
                                   bias_initializer="ones", seed=3, **GQA)
    spec = keras_spec(keras_layer)
    ours = deserialize_layer(spec)
    ours.build_from_config(spec["build_config"])
    assert ours.built and len(ours.weights) == 10
    assert ours.get_config() == _without_unset_initializer_axes(keras_layer.get_config())
    assert type(ours).from_config(ours.get_config()).get_config() == ours.get_config()
    assert ours.get_build_config() == {"shapes_dict": {"query_shape": (2, 4, 6), "value_shape": (2, 5, 6),
                                                       "key_shape": (2, 5, 3)}}
    written = serialize_layer(ours)
    assert (written["module"], written["class_name"]) == (spec["module"], spec["class_name"]) == (
        "keras.layers", "GroupQueryAttention")  # the exported name, not the class's own
    rebuilt_by_keras = keras.saving.deserialize_keras_object(written)
    assert rebuilt_by_keras.get_config() == keras_layer.get_config()


@pytest.mark.parametrize("kwargs, message", [
    ({"head_dim": 0, "num_query_heads": 4, "num_key_value_heads": 2}, "head_dim: expected a positive integer, got 0"),
    ({"head_dim": 3, "num_query_heads": 4, "num_key_value_heads": 3},
     "num_key_value_heads: num_query_heads must be a multiple of num_key_value_heads, got num_query_heads=4 "
     "and num_key_value_heads=3"),
    ({**GQA, "num_key_value_heads": 0}, "num_key_value_heads: expected a positive integer, got 0"),
    ({**GQA, "sliding_window": 0}, "sliding_window: expected a positive integer, got 0"),
    ({**GQA, "dropout": 1.0}, r"dropout: expected a rate in \[0, 1\), got 1.0"),
    ({**GQA, "flash_attention": True, "dropout": 0.1}, "flash_attention: flash_attention=True cannot apply dropout"),
])
def test_bad_arguments_are_refused(kwargs, message):
    with pytest.raises(SpecError, match=message):
        layers.GroupQueryAttention(**kwargs)


def test_flash_attention_only_chooses_a_kernel(rng):
    """Keras forces torch's flash kernel (and fails where it cannot run, e.g. float32 on a CPU); here the
    numbers are those of the default layer, and like Keras the layer cannot return scores then."""
    args = (_normal(rng, 2, 4, 6), _normal(rng, 2, 4, 6))
    keras_layer = _built_keras_gqa(rng, args, **GQA)
    spec = keras_spec(keras_layer)
    ours = layers.GroupQueryAttention.from_config({**spec["config"], "flash_attention": True})
    ours(*args)
    ours.set_weights(keras_layer.get_weights())
    np.testing.assert_allclose(to_numpy_torch(ours(*args, use_causal_mask=True)),
                               to_numpy(keras_layer(*args, use_causal_mask=True)), atol=1e-5)
    with pytest.raises(SpecError, match="cannot return attention scores"):
        ours(*args, return_attention_scores=True)

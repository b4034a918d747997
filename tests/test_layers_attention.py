import numpy as np
import pytest
import torch

from keras_reference import assert_layer_matches_keras, keras, keras_spec, to_numpy
from modelcli import layers, models
from modelcli.errors import SpecError
from modelcli.layers.deserialize import deserialize_layer


def _normal(rng, *shape):
    return rng.normal(size=shape).astype("float32")


def _built_keras_mha(rng, args, **kwargs):
    """A Keras MHA built on ``args`` with random biases too (zeros would hide a bias mix-up)."""
    layer = keras.layers.MultiHeadAttention(**kwargs)
    layer(*args)
    layer.set_weights([_normal(rng, *w.shape) * 0.5 for w in layer.get_weights()])
    return layer


def _without_unset_initializer_axes(config):
    """Keras ≥ 3.12 writes ``input_axes``/``output_axes`` = None into initializer configs; we omit them."""
    config = dict(config)
    for key, value in config.items():
        if isinstance(value, dict) and isinstance(value.get("config"), dict):
            inner = {k: v for k, v in value["config"].items() if not (k.endswith("_axes") and v is None)}
            config[key] = {**value, "config": inner}
    return config


@pytest.mark.parametrize("kwargs, shapes, call_kwargs", [
    ({"num_heads": 2, "key_dim": 5}, [(2, 3, 4)], {}),  # self-attention
    ({"num_heads": 2, "key_dim": 5}, [(2, 3, 4), (2, 5, 6)], {}),  # cross-attention
    ({"num_heads": 2, "key_dim": 5, "value_dim": 3}, [(2, 3, 4), (2, 5, 6), (2, 5, 7)], {}),  # separate key
    ({"num_heads": 2, "key_dim": 5}, [(2, 4, 4)], {"use_causal_mask": True}),
    ({"num_heads": 2, "key_dim": 5}, [(2, 3, 4), (2, 5, 6)], {"return_attention_scores": True}),
    ({"num_heads": 2, "key_dim": 5}, [(2, 4, 4)], {"use_causal_mask": True, "return_attention_scores": True}),
    ({"num_heads": 2, "key_dim": 5, "output_shape": (2, 3)}, [(2, 3, 4), (2, 5, 6)], {}),
    ({"num_heads": 3, "key_dim": 2, "output_shape": 7}, [(2, 3, 4)], {}),
    ({"num_heads": 2, "key_dim": 5, "use_bias": False}, [(2, 3, 4), (2, 5, 6)], {}),
    ({"num_heads": 2, "key_dim": 5, "use_gate": True}, [(2, 3, 4), (2, 5, 6)], {}),
    ({"num_heads": 2, "key_dim": 5, "sliding_window": 2}, [(2, 5, 4)], {"use_causal_mask": True}),
    ({"num_heads": 2, "key_dim": 3}, [(2, 3, 4, 5)], {}),  # attention over axes 1 and 2
    ({"num_heads": 2, "key_dim": 3, "attention_axes": (1,)}, [(2, 3, 4, 5)], {}),
    ({"num_heads": 2, "key_dim": 3, "attention_axes": (2,)}, [(2, 3, 4, 5)], {"return_attention_scores": True}),
    ({"num_heads": 2, "key_dim": 3, "attention_axes": (1,)}, [(2, 3, 4, 5)], {"use_causal_mask": True}),
])
def test_multi_head_attention_matches_keras(rng, kwargs, shapes, call_kwargs):
    args = tuple(_normal(rng, *s) for s in shapes)
    args = args * 2 if len(args) == 1 else args
    keras_layer = _built_keras_mha(rng, args, **kwargs)
    assert_layer_matches_keras(keras_layer, args, call_kwargs=call_kwargs, atol=1e-5)


@pytest.mark.parametrize("mask_shape", [(2, 3, 5), (3, 5)])
@pytest.mark.parametrize("dropout", [0.0, 0.3])
def test_attention_mask_matches_keras(rng, mask_shape, dropout):
    args = (_normal(rng, 2, 3, 4), _normal(rng, 2, 5, 6))
    mask = rng.random(mask_shape) > 0.4
    mask[..., 0, :] = False  # a query step that may attend nowhere: Keras's two paths differ there
    keras_layer = _built_keras_mha(rng, args, num_heads=2, key_dim=5, dropout=dropout)
    for scores in (False, True):
        assert_layer_matches_keras(keras_layer, args, atol=1e-5,
                                   call_kwargs={"attention_mask": mask, "return_attention_scores": scores})


def test_attention_mask_on_4d_inputs_matches_keras(rng):
    x = _normal(rng, 2, 3, 4, 5)
    keras_layer = _built_keras_mha(rng, (x, x), num_heads=2, key_dim=3)
    mask = rng.random((2, 3, 4, 3, 4)) > 0.3
    assert_layer_matches_keras(keras_layer, (x, x), call_kwargs={"attention_mask": mask}, atol=1e-5)


def _masked(rng, shape, mask):
    tensor = torch.as_tensor(_normal(rng, *shape))
    tensor._keras_mask = torch.as_tensor(mask)
    return tensor


@pytest.mark.parametrize("dropout", [0.0, 0.2])
@pytest.mark.parametrize("call_kwargs", [{}, {"use_causal_mask": True}, {"return_attention_scores": True}])
def test_keras_masks_carried_by_query_and_value_match_keras(rng, dropout, call_kwargs):
    keras_layer = _built_keras_mha(rng, (_normal(rng, 2, 3, 4), _normal(rng, 2, 5, 4)), num_heads=2, key_dim=5,
                                   dropout=dropout)
    query = _masked(rng, (2, 3, 4), [[1, 1, 0], [1, 0, 0]])
    value = _masked(rng, (2, 5, 4), [[1, 1, 1, 0, 0], [1, 0, 0, 0, 0]])
    ours = deserialize_layer(keras_spec(keras_layer))
    ours(query, value)
    ours.set_weights(keras_layer.get_weights())
    got = ours(query, value, **call_kwargs)
    masks = query._keras_mask, value._keras_mask
    expected = keras_layer(query, value, **call_kwargs)  # Keras takes the masks off the tensors...
    query._keras_mask, value._keras_mask = masks  # ...so put them back
    got, expected = (got, expected) if isinstance(got, tuple) else ((got,), (expected,))
    for mine, theirs in zip(got, expected):
        np.testing.assert_allclose(mine.detach().cpu().numpy(), to_numpy(theirs), atol=1e-5)
    np.testing.assert_array_equal(got[0]._keras_mask.cpu().numpy(), to_numpy(expected[0]._keras_mask))


def test_self_attention_over_an_embedding_mask_in_a_functional_model_matches_keras(rng, tmp_path):
    tokens = np.array([[3, 5, 2, 0, 0], [4, 1, 0, 0, 0]])
    inputs = keras.Input((5,), dtype="int32")
    embedded = keras.layers.Embedding(10, 4, mask_zero=True)(inputs)
    attended = keras.layers.MultiHeadAttention(2, 3)(embedded, embedded)
    outputs = keras.layers.BatchNormalization()(keras.layers.LayerNormalization()(attended))
    keras_model = keras.Model(inputs, outputs)
    for layer in keras_model.layers[1:]:
        layer.set_weights([_normal(rng, *w.shape) + (2.0 if "variance" in w.path else 0.0) for w in layer.weights])
    keras_model.save_weights(tmp_path / "keras.weights.h5")
    ours = models.model_from_json(keras_model.to_json())
    ours.load_weights(str(tmp_path / "keras.weights.h5"))
    np.testing.assert_allclose(ours.predict(tokens), to_numpy(keras_model(tokens)), atol=1e-5)


def test_weights_are_the_four_projections_in_keras_order_and_layout():
    layer = layers.MultiHeadAttention(num_heads=2, key_dim=5, value_dim=3, output_shape=7)
    layer(np.zeros((1, 3, 4), "float32"), np.zeros((1, 6, 8), "float32"))
    assert [(w.path, w.shape) for w in layer.weights] == [
        ("query/kernel", (4, 2, 5)), ("query/bias", (2, 5)),
        ("key/kernel", (8, 2, 5)), ("key/bias", (2, 5)),
        ("value/kernel", (8, 2, 3)), ("value/bias", (2, 3)),
        ("attention_output/kernel", (2, 3, 7)), ("attention_output/bias", (7,)),
    ]
    # The groups of a Keras 3 .weights.h5: the four projections and two empty ones.
    assert list(layer._keras_sublayers) == ["query_dense", "key_dense", "value_dense", "_softmax",
                                            "_dropout_layer", "output_dense"]


def test_projection_kernels_count_fans_over_heads_like_keras():
    layer = layers.MultiHeadAttention(num_heads=2, key_dim=5)
    layer(np.zeros((1, 3, 4), "float32"), np.zeros((1, 3, 4), "float32"))
    kernel = layer.get_weights()[0]  # (4, 2, 5): fan_in 4, fan_out 2·5 as Keras's EinsumDense counts them
    assert np.abs(kernel).max() <= np.sqrt(6 / (4 + 10))
    assert np.abs(kernel).max() > np.sqrt(6 / (8 + 20))  # the limit a plain 3D kernel's fans would give


def test_symbolic_call_gives_output_and_score_shapes():
    query, value = layers.Input((3, 4)), layers.Input((5, 6))
    output, scores = layers.MultiHeadAttention(2, 5)(query, value, return_attention_scores=True)
    assert output.shape == (None, 3, 4) and scores.shape == (None, 2, 3, 5)
    image = layers.Input((3, 4, 6))
    output, scores = layers.MultiHeadAttention(2, 5, attention_axes=(2,))(image, image,
                                                                        return_attention_scores=True)
    assert output.shape == (None, 3, 4, 6) and scores.shape == (None, 3, 2, 4, 4)
    layer = layers.MultiHeadAttention(2, 5, output_shape=(2, 3))
    assert layer.compute_output_shape((None, 3, 4), (None, 5, 6)) == (None, 3, 2, 3)


def test_dropout_is_random_in_training_only(rng):
    layer = layers.MultiHeadAttention(2, 5, dropout=0.5)
    x = _normal(rng, 2, 6, 4)
    assert torch.equal(layer(x, x), layer(x, x))
    assert not torch.equal(layer(x, x, training=True), layer(x, x, training=True))


def test_gradients_reach_every_projection(rng):
    layer = layers.MultiHeadAttention(2, 5)
    x = torch.as_tensor(_normal(rng, 2, 3, 4))
    layer(x, x, use_causal_mask=True).square().sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in layer.parameters())


def test_config_equals_keras_and_round_trips(rng):
    args = (_normal(rng, 2, 3, 4), _normal(rng, 2, 5, 6))
    keras_layer = _built_keras_mha(rng, args, num_heads=2, key_dim=5, dropout=0.1, output_shape=(6,),
                                   kernel_regularizer="l2", seed=3)
    spec = keras_spec(keras_layer)
    ours = deserialize_layer(spec)
    ours.build_from_config(spec["build_config"])
    assert ours.built and len(ours.weights) == 8
    assert ours.get_config() == _without_unset_initializer_axes(keras_layer.get_config())
    assert type(ours).from_config(ours.get_config()).get_config() == ours.get_config()
    assert ours.get_build_config() == {"shapes_dict": {"query_shape": (2, 3, 4), "value_shape": (2, 5, 6)}}


def test_keras2_config_with_build_shapes_builds_at_load():
    keras2 = {"class_name": "MultiHeadAttention", "config": {
        "name": "mha", "trainable": True, "dtype": "float32", "num_heads": 2, "key_dim": 3, "value_dim": 3,
        "dropout": 0.0, "use_bias": True, "output_shape": None, "attention_axes": [1],
        "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
        "bias_initializer": {"class_name": "Zeros", "config": {}}, "kernel_regularizer": None,
        "bias_regularizer": None, "activity_regularizer": None, "kernel_constraint": None, "bias_constraint": None,
        "query_shape": [None, 5, 4], "key_shape": [None, 7, 6], "value_shape": [None, 7, 6],
        "softmax_robust_masking": False}}
    layer = deserialize_layer(keras2)
    assert layer.built
    assert [w.shape for w in layer.weights][::2] == [(4, 2, 3), (6, 2, 3), (6, 2, 3), (2, 3, 4)]


@pytest.mark.parametrize("kwargs, message", [
    ({"num_heads": 0, "key_dim": 2}, "num_heads: expected a positive integer, got 0"),
    ({"num_heads": 2, "key_dim": -1}, "key_dim: expected a positive integer, got -1"),
    ({"num_heads": 2, "key_dim": 2, "value_dim": 1.5}, "value_dim: expected a positive integer"),
    ({"num_heads": 2, "key_dim": 2, "attention_axes": "time"}, "attention_axes"),
])
def test_bad_arguments_are_refused(kwargs, message):
    with pytest.raises(SpecError, match=message):
        layers.MultiHeadAttention(**kwargs)


def test_causal_mask_over_two_attention_axes_is_refused(rng):
    # Keras fails here with an index error; the causal order of a 2D grid is undefined.
    image = _normal(rng, 1, 3, 4, 5)
    with pytest.raises(SpecError, match="use_causal_mask needs a single attention axis, got attention_axes=.1, 2."):
        layers.MultiHeadAttention(2, 3)(image, image, use_causal_mask=True)


def test_value_and_key_must_agree_off_the_feature_axis():
    layer = layers.MultiHeadAttention(2, 3, name="attn")
    with pytest.raises(SpecError, match=r"attn: value and key must agree .*\(None, 5, 6\).*\(None, 4, 6\)"):
        layer(layers.Input((3, 4)), layers.Input((5, 6)), layers.Input((4, 6)))


# ----- EinsumDense ----------------------------------------------------------------------------------

@pytest.mark.parametrize("equation, output_shape, bias_axes, input_shape", [
    ("ab,bc->ac", 5, "c", (2, 4)),
    ("abc,cde->abde", (3, 2, 5), "de", (2, 3, 4)),
    ("abcd,cde->abe", (3, 6), "e", (2, 3, 4, 5)),
    ("...b,bc->...c", 5, "c", (2, 3, 4)),
    ("abc,cd->abd", (3, 5), None, (2, 3, 4)),
    ("abc,cd->adb", (5, 3), "d", (2, 3, 4)),  # not a plain matrix product: runs through einsum
    ("ab...,bc->ac...", (5, 6), "c", (2, 4, 6)),
])
def test_einsum_dense_matches_keras(rng, equation, output_shape, bias_axes, input_shape):
    keras_layer = keras.layers.EinsumDense(equation, output_shape=output_shape, bias_axes=bias_axes,
                                           activation="relu")
    keras_layer.build(input_shape)
    keras_layer.set_weights([_normal(rng, *w.shape) for w in keras_layer.get_weights()])
    ours = assert_layer_matches_keras(keras_layer, _normal(rng, *input_shape))
    unknown_batch = (None,) + input_shape[1:]
    assert ours.compute_output_shape(unknown_batch) == tuple(keras_layer.compute_output_shape(unknown_batch))
    assert ours.get_config() == _without_unset_initializer_axes(keras_layer.get_config())


def test_einsum_dense_rejects_equations_it_cannot_read():
    with pytest.raises(SpecError, match="equation: invalid einsum equation 'ab->b'"):
        layers.EinsumDense("ab->b", output_shape=3)

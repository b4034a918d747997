import numpy as np
import pytest
import torch

from keras_reference import assert_layer_matches_keras, keras, keras_spec, to_numpy
from modelcli import layers
from modelcli.errors import SpecError
from modelcli.layers.deserialize import deserialize_layer

ELEMENTWISE = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"]


def _arrays(rng, *shapes):
    return [rng.normal(size=s).astype("float32") for s in shapes]


@pytest.mark.parametrize("name", ELEMENTWISE)
@pytest.mark.parametrize("shapes", [
    [(2, 3, 4), (2, 3, 4)],
    [(2, 3, 4), (2, 1, 4)],  # size-1 axes stretch
    [(2, 3, 4), (2, 4)],  # lower rank: Keras inserts the axis after the batch axis
])
def test_elementwise_merges_match_keras(rng, name, shapes):
    assert_layer_matches_keras(getattr(keras.layers, name)(), _arrays(rng, *shapes))


@pytest.mark.parametrize("name", ["Add", "Multiply", "Average", "Maximum", "Minimum"])
def test_elementwise_merges_of_three_inputs_match_keras(rng, name):
    assert_layer_matches_keras(getattr(keras.layers, name)(), _arrays(rng, (2, 5), (2, 5), (2, 1)))


@pytest.mark.parametrize("axis", [-1, 1, 2])
def test_concatenate_matches_keras(rng, axis):
    assert_layer_matches_keras(keras.layers.Concatenate(axis=axis), _arrays(rng, (2, 3, 4), (2, 3, 4)))


@pytest.mark.parametrize("axes, shapes", [
    (2, [(2, 3, 4), (2, 5, 4)]),
    ((2, 2), [(2, 3, 4), (2, 5, 4)]),
    (-1, [(2, 3, 4), (2, 5, 4)]),
    (1, [(2, 3, 4), (2, 3, 5)]),
    ((1, 2), [(2, 4), (2, 3, 4)]),
    ((2, 1), [(2, 3, 4), (2, 4, 6, 2)]),
    (1, [(2, 4), (2, 4)]),  # two vectors give (batch, 1)
])
@pytest.mark.parametrize("normalize", [False, True])
def test_dot_matches_keras(rng, axes, shapes, normalize):
    assert_layer_matches_keras(keras.layers.Dot(axes=axes, normalize=normalize), _arrays(rng, *shapes))


def test_dot_normalized_is_the_cosine_similarity():
    out = layers.Dot(axes=1, normalize=True)([np.array([[3.0, 4.0]], "float32"), np.array([[4.0, 3.0]], "float32")])
    np.testing.assert_allclose(out.cpu().numpy(), [[24 / 25]], rtol=1e-6)


@pytest.mark.parametrize("name, kwargs, shapes", [
    ("Add", {}, [(None, 3, 4), (None, 1, 4)]),
    ("Multiply", {}, [(None, 3, 4), (None, 4)]),
    ("Maximum", {}, [(2, 3), (None, 3)]),
    ("Concatenate", {"axis": 1}, [(None, 3, 4), (None, 5, 4)]),
    ("Concatenate", {}, [(None, None, 4), (None, 7, 2)]),
    ("Dot", {"axes": (1, 2)}, [(None, 4), (None, 3, 4)]),
    ("Dot", {"axes": 1}, [(None, 4), (None, 4)]),
])
def test_compute_output_shape_equals_keras(name, kwargs, shapes):
    expected = getattr(keras.layers, name)(**kwargs).compute_output_shape(shapes)
    assert getattr(layers, name)(**kwargs).compute_output_shape(shapes) == tuple(expected)


def test_concatenate_shape_mismatch_is_reported_when_the_graph_is_built():
    a, b = layers.Input((3, 4)), layers.Input((5, 2))
    with pytest.raises(SpecError) as caught:
        layers.Concatenate(name="join")([a, b])
    message = str(caught.value)
    assert message.startswith("join: ")
    assert "(None, 3, 4)" in message and "(None, 5, 2)" in message


def test_functional_helpers_build_the_layer_and_call_it(rng):
    a, b = layers.Input((3, 4)), layers.Input((3, 4))
    assert layers.concatenate([a, b], axis=1).shape == (None, 6, 4)
    assert layers.dot([a, b], axes=2).shape == (None, 3, 3)
    joined = layers.add([a, b])
    assert joined.shape == (None, 3, 4) and isinstance(joined.history[0], layers.Add)
    x, y = _arrays(rng, (2, 3), (2, 3))
    for helper, expected in [(layers.add, x + y), (layers.subtract, x - y), (layers.multiply, x * y),
                             (layers.average, (x + y) / 2), (layers.maximum, np.maximum(x, y)),
                             (layers.minimum, np.minimum(x, y)), (layers.concatenate, np.concatenate([x, y], -1))]:
        np.testing.assert_allclose(helper([x, y]).cpu().numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(layers.dot([x, y], axes=1, normalize=False).cpu().numpy(),
                               (x * y).sum(1, keepdims=True), rtol=1e-5)


def _masked(rng, shape, mask):
    tensor = torch.as_tensor(rng.normal(size=shape).astype("float32"))
    if mask is not None:
        tensor._keras_mask = torch.as_tensor(mask)
    return tensor


MASK_A = np.array([[1, 1, 0], [1, 0, 0]], bool)
MASK_B = np.array([[1, 0, 1], [0, 0, 0]], bool)


@pytest.mark.parametrize("name, kwargs", [(n, {}) for n in ELEMENTWISE]
                         + [("Concatenate", {}), ("Concatenate", {"axis": 1}), ("Dot", {"axes": 2})])
@pytest.mark.parametrize("masks", [(MASK_A, MASK_B), (MASK_A, None), (None, MASK_B)])
def test_masked_inputs_give_keras_values_and_output_mask(rng, name, kwargs, masks):
    inputs = [_masked(rng, (2, 3, 4), masks[0]), _masked(rng, (2, 3, 4), masks[1])]
    keras_layer = getattr(keras.layers, name)(**kwargs)
    expected = keras_layer(inputs)
    got = deserialize_layer(keras_spec(keras_layer))(inputs)
    np.testing.assert_allclose(got.cpu().numpy(), to_numpy(expected), atol=1e-6)
    expected_mask = getattr(expected, "_keras_mask", None)
    got_mask = getattr(got, "_keras_mask", None)
    if expected_mask is None:
        assert got_mask is None
    else:
        np.testing.assert_array_equal(got_mask.cpu().numpy(), to_numpy(expected_mask))


def test_merge_mask_is_the_or_of_the_input_masks():
    a, b = torch.tensor([[True, False, False]]), torch.tensor([[False, False, True]])
    assert layers.Add().compute_mask([None, None], [a, b]).tolist() == [[True, False, True]]
    assert layers.Add().compute_mask([None, None], [a, None]) is None


@pytest.mark.parametrize("keras_layer", [keras.layers.Add(name="plus"), keras.layers.Concatenate(axis=1),
                                         keras.layers.Dot(axes=(1, 2), normalize=True), keras.layers.Minimum()])
def test_config_round_trip_equals_keras(keras_layer):
    ours = deserialize_layer(keras_spec(keras_layer))
    assert ours.get_config() == keras_layer.get_config()
    assert type(ours).from_config(ours.get_config()).get_config() == ours.get_config()


def test_bad_calls_and_arguments_are_reported():
    with pytest.raises(SpecError, match="Subtract takes exactly 2 inputs, got 3"):
        layers.Subtract()([np.zeros((1, 2), "float32")] * 3)
    with pytest.raises(SpecError, match="incompatible shapes"):
        layers.Add().compute_output_shape([(None, 3), (None, 4)])
    with pytest.raises(SpecError, match="must be called on a list of tensors"):
        layers.Add()(np.zeros((1, 2), "float32"))
    with pytest.raises(SpecError, match="axes: expected an integer or two integers"):
        layers.Dot(axes=(1, 2, 3))
    with pytest.raises(SpecError, match="equal sizes on the summed axes"):
        layers.Dot(axes=1).compute_output_shape([(None, 3), (None, 4)])

"""CategoryEncoding and Discretization against real Keras 3 (torch backend): outputs, dtypes,
configs, adapt(), and Keras functional models that use them loaded into modelcli."""
import numpy as np
import pytest
import torch

from keras_reference import keras, keras_spec, to_numpy
from modelcli import layers
from modelcli.errors import DataError, SpecError
from modelcli.layers.deserialize import deserialize_layer
from modelcli.models import model_from_json

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy:DeprecationWarning")

INDICES = {  # shapes that exercise every encoding rule: scalar, vector, trailing 1, batch, rank 3
    "scalar": np.array(2),
    "vector": np.array([1, 3, 3]),
    "column": np.array([[1], [0], [3]]),
    "batch": np.array([[0, 1, 1], [3, 2, -1]]),
    "rank3": np.array([[[1, 2], [0, 3], [3, 3]]]),
}


def _assert_same_as_keras(keras_layer, *args, **kwargs):
    """Our layer, rebuilt from Keras's serialized config, gives Keras's numbers, shape and dtype."""
    expected = keras_layer(*args, **kwargs)
    ours = deserialize_layer(keras_spec(keras_layer))
    got = ours(*args, **kwargs)
    assert got.dtype == expected.dtype, f"{got.dtype} != keras {expected.dtype}"
    np.testing.assert_array_equal(got.cpu().numpy(), to_numpy(expected))
    assert ours.get_config() == keras_layer.get_config()
    return ours


# ----- CategoryEncoding -----------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["one_hot", "multi_hot", "count"])
@pytest.mark.parametrize("case", sorted(INDICES))
def test_category_encoding_matches_keras(mode, case):
    _assert_same_as_keras(keras.layers.CategoryEncoding(num_tokens=4, output_mode=mode), INDICES[case])


def test_category_encoding_counts_with_weights_like_keras():
    weights = np.array([[0.5, 1.0, 2.0], [1.0, 0.25, 3.0]], "float32")
    layer = _assert_same_as_keras(keras.layers.CategoryEncoding(4, output_mode="count"),
                                  INDICES["batch"], count_weights=weights)
    # index 1 appears twice in the first row with weights 1.0 and 2.0; -1 in the second counts nothing
    assert layer(INDICES["batch"], count_weights=weights).tolist() == [[0.5, 3.0, 0.0, 0.0],
                                                                       [0.0, 0.0, 0.25, 1.0]]


def test_category_encoding_float16_policy_gives_float16_like_keras():
    _assert_same_as_keras(keras.layers.CategoryEncoding(4, output_mode="one_hot", dtype="float16"),
                          INDICES["vector"])


def test_category_encoding_keras2_binary_mode_is_multi_hot():
    layer = layers.CategoryEncoding(3, output_mode="binary")
    assert layer.get_config()["output_mode"] == "multi_hot"
    assert layer(np.array([[2, 2, 0]])).tolist() == [[1.0, 0.0, 1.0]]


def test_category_encoding_refuses_what_keras_refuses_or_torch_cannot_do():
    with pytest.raises(SpecError, match="sparse"):
        layers.CategoryEncoding(4, sparse=True)
    with pytest.raises(SpecError, match="num_tokens is required"):
        layers.CategoryEncoding()
    with pytest.raises(SpecError, match="'tf_idf'"):
        layers.CategoryEncoding(4, output_mode="tf_idf")
    with pytest.raises(SpecError, match="count_weights"):
        layers.CategoryEncoding(4, output_mode="multi_hot")(np.array([[1]]), count_weights=np.ones((1, 1)))
    with pytest.raises(DataError, match="out of range"):
        layers.CategoryEncoding(4)(np.array([[4]]))


def test_an_index_out_of_range_encodes_as_zeros_inside_a_cuda_graph_recording(monkeypatch):
    """A recording cannot read the indices back to raise, and a device assert would end the process's
    CUDA use: the out-of-range index gets the zeros a negative one gets."""
    from modelcli.layers.categorical import _encoding
    monkeypatch.setattr(_encoding, "_recording", lambda tensor: True)
    out = layers.CategoryEncoding(4, output_mode="one_hot")(np.array([[4], [1], [-1]]))
    assert out.tolist() == [[0.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]]


@pytest.mark.parametrize("mode, shape", [("one_hot", (3,)), ("one_hot", (1,)), ("multi_hot", (3,)),
                                         ("count", (5,))])
def test_category_encoding_symbolic_output_matches_keras(mode, shape):
    keras_out = keras.layers.CategoryEncoding(4, output_mode=mode)(keras.Input(shape, dtype="int32"))
    ours = layers.CategoryEncoding(4, output_mode=mode)(layers.Input(shape, dtype="int32"))
    assert (tuple(ours.shape), ours.dtype) == (tuple(keras_out.shape), keras_out.dtype)


# ----- Discretization ---------------------------------------------------------------------------

VALUES = np.array([[-1.0, 0.0, 0.5, 1.0, 2.0, 3.0], [1.5, 1.9999, 2.0001, -0.0, 0.9, 7.0]], "float32")


@pytest.mark.parametrize("mode", ["int", "one_hot", "multi_hot", "count"])
@pytest.mark.parametrize("values", [VALUES, VALUES[0], VALUES[:, :1], VALUES.reshape(2, 3, 2)],
                         ids=["batch", "vector", "column", "rank3"])
def test_discretization_matches_keras(mode, values):
    keras_layer = keras.layers.Discretization(bin_boundaries=[0.0, 1.0, 2.0], output_mode=mode)
    _assert_same_as_keras(keras_layer, values)


def test_discretization_puts_a_value_on_a_boundary_in_the_bin_above():
    layer = layers.Discretization(bin_boundaries=[0.0, 1.0, 2.0])
    out = layer(np.array([[-0.5, 0.0, 1.0, 2.0, 9.0]], "float32"))
    assert out.dtype == torch.int32
    assert out.tolist() == [[0, 1, 2, 3, 3]]


def test_discretization_compares_integer_inputs_as_floats_like_keras():
    _assert_same_as_keras(keras.layers.Discretization(bin_boundaries=[0.5, 2.5]), np.array([[0, 1, 2, 3]]))


@pytest.mark.parametrize("num_bins, epsilon, size", [(4, 0.01, 1000), (3, 0.01, 50), (5, 0.1, 333),
                                                     (2, 0.001, 20000)])
def test_discretization_adapt_finds_the_same_boundaries_as_keras(rng, num_bins, epsilon, size):
    data = rng.normal(size=(size, 2)).astype("float32")
    keras_layer = keras.layers.Discretization(num_bins=num_bins, epsilon=epsilon, name="bins")
    keras_layer.update_state(data)  # what Keras's adapt() does with one array (adapt itself needs TensorFlow)
    keras_layer.finalize_state()
    ours = layers.Discretization(num_bins=num_bins, epsilon=epsilon, name="bins")
    ours.adapt(data)
    assert ours.bin_boundaries == keras_layer.bin_boundaries
    assert ours.get_config() == keras_layer.get_config()
    _assert_same_as_keras(keras_layer, data)  # the adapted config (num_bins and boundaries) loads


def test_discretization_refuses_what_it_cannot_do():
    with pytest.raises(SpecError, match="exactly one"):
        layers.Discretization()
    with pytest.raises(SpecError, match="exactly one"):
        layers.Discretization(bin_boundaries=[1.0], num_bins=2)
    with pytest.raises(SpecError, match="sparse"):
        layers.Discretization(bin_boundaries=[1.0], output_mode="one_hot", sparse=True)
    with pytest.raises(SpecError, match="increasing"):
        layers.Discretization(bin_boundaries=[2.0, 1.0])
    with pytest.raises(DataError, match="adapt"):
        layers.Discretization(num_bins=3)(np.zeros((1, 2), "float32"))
    with pytest.raises(DataError, match="needs num_bins"):
        layers.Discretization(bin_boundaries=[1.0]).adapt(np.zeros(3, "float32"))
    with pytest.raises(DataError, match="one NumPy array"):
        layers.Discretization(num_bins=3).adapt([np.zeros(3, "float32")])


@pytest.mark.parametrize("mode, shape", [("int", (3,)), ("one_hot", (3,)), ("one_hot", (1,)), ("count", (3,)),
                                         ("multi_hot", (4, 2))])
def test_discretization_symbolic_output_matches_keras(mode, shape):
    keras_out = keras.layers.Discretization(bin_boundaries=[0.0, 1.0], output_mode=mode)(keras.Input(shape))
    ours = layers.Discretization(bin_boundaries=[0.0, 1.0], output_mode=mode)(layers.Input(shape))
    assert (tuple(ours.shape), ours.dtype) == (tuple(keras_out.shape), keras_out.dtype)


# ----- inside Keras models ----------------------------------------------------------------------

def _keras_models():
    ids = keras.Input((5,), dtype="int32")
    x = keras.layers.CategoryEncoding(6, output_mode="count")(ids)
    yield "ids", keras.Model(ids, keras.layers.Dense(3)(x)), np.array([[0, 1, 1, 5, 2], [4, 4, 4, 3, -1]])

    numbers = keras.Input((4,))
    bins = keras.layers.Discretization(bin_boundaries=[-0.5, 0.0, 0.5])(numbers)
    hot = keras.layers.CategoryEncoding(4, output_mode="multi_hot")(bins)
    one = keras.layers.Discretization(bin_boundaries=[0.0], output_mode="one_hot")(numbers)
    merged = keras.layers.Concatenate()([hot, keras.layers.Flatten()(one)])
    yield "numbers", keras.Model(numbers, keras.layers.Dense(2)(merged)), \
        np.random.default_rng(1).normal(size=(8, 4)).astype("float32")


@pytest.mark.parametrize("name, keras_model, inputs", list(_keras_models()),
                         ids=lambda v: v if isinstance(v, str) else "")
def test_keras_functional_model_loads_and_predicts_the_same(tmp_path, name, keras_model, inputs):
    for w in keras_model.weights:
        w.assign(np.random.default_rng(2).uniform(-1, 1, size=w.shape).astype("float32"))
    expected = keras_model.predict(inputs, verbose=0)
    keras_model.save_weights(tmp_path / "m.weights.h5")
    model = model_from_json(keras_model.to_json())
    model.load_weights(tmp_path / "m.weights.h5")
    np.testing.assert_allclose(model.predict(inputs), expected, atol=1e-5)

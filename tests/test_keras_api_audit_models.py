"""The model and layer API as a Keras user writes it, run once with real Keras and once with modelcli.

Each test takes ``keras`` — the real ``keras`` package or ``modelcli`` — and runs the same user
code against it, so an assertion states what Keras does and checks that modelcli does it too.
"""
from __future__ import annotations

import importlib
import json

import numpy as np
import pytest

pytest.importorskip("keras")


@pytest.fixture(params=["keras", "modelcli"])
def keras(request):
    return importlib.import_module(request.param)


def numpy(value):
    return np.asarray(value.detach().cpu() if hasattr(value, "detach") else value)


def two_branch_model(keras):
    """Two inputs, a shared Dense and an output given as a dict."""
    L = keras.layers
    a, b = keras.Input((4,), name="in_a"), keras.Input((4,), name="in_b")
    shared = L.Dense(3, name="shared")
    return keras.Model({"in_a": a, "in_b": b},
                       {"total": L.Add(name="add")([shared(a), shared(b)]), "first": L.Dense(1, name="first")(a)},
                       name="branches")


def test_layer_input_is_the_tensor_of_its_first_call(keras):
    L = keras.layers
    a, b = keras.Input((4,), name="in_a"), keras.Input((3,), name="in_b")
    joined = L.Concatenate(name="cat")([a, b])
    out = L.Dense(2, name="out")(joined)
    model = keras.Model([a, b], out)
    assert model.get_layer("out").input is joined
    assert model.get_layer("out").input.shape == (None, 7)
    assert model.get_layer("cat").input == [a, b]
    assert model.get_layer("out").output is out


def test_functional_model_input_and_output_are_what_the_constructor_got(keras):
    x = keras.Input((4,), name="x")
    y = keras.layers.Dense(2)(x)
    model = keras.Model(x, y)
    assert model.input is x and model.output is y
    model = two_branch_model(keras)
    assert sorted(model.input) == ["in_a", "in_b"] and sorted(model.output) == ["first", "total"]


def test_a_model_with_dict_outputs_returns_a_dict_when_called(keras):
    model = two_branch_model(keras)
    x = {"in_a": np.ones((2, 4), "float32"), "in_b": np.ones((2, 4), "float32")}
    eager = model(x)
    assert isinstance(eager, dict) and {k: tuple(v.shape) for k, v in eager.items()} == {"total": (2, 3), "first": (2, 1)}
    symbolic = model({"in_a": keras.Input((4,)), "in_b": keras.Input((4,))})
    assert isinstance(symbolic, dict) and symbolic["total"].shape == (None, 3)


def test_model_from_config_rebuilds_a_functional_model(keras):
    model = two_branch_model(keras)
    clone = keras.Model.from_config(model.get_config())
    assert clone.name == "branches"
    assert [layer.name for layer in clone.layers] == ["in_a", "in_b", "shared", "first", "add"]
    assert clone.count_params() == model.count_params() == 20
    clone.set_weights(model.get_weights())
    x = {"in_a": np.ones((2, 4), "float32"), "in_b": np.full((2, 4), 2, "float32")}
    expected, got = model.predict(x, verbose=0), clone.predict(x, verbose=0)
    np.testing.assert_allclose(got["total"], expected["total"], atol=1e-6)


def test_clone_model_makes_new_layers_with_the_same_names(keras):
    L = keras.layers
    model = keras.Sequential([keras.Input((3,)), L.Dense(4, name="a"), L.Dense(2, name="b")], name="seq")
    clone = keras.models.clone_model(model)
    assert type(clone).__name__ == "Sequential" and clone.name == "seq"
    assert [layer.name for layer in clone.layers] == ["a", "b"] and clone.input_shape == (None, 3)
    assert clone.layers[0] is not model.layers[0]
    assert not np.allclose(clone.get_weights()[0], model.get_weights()[0])  # drawn afresh

    branches = two_branch_model(keras)
    clone = keras.models.clone_model(branches)
    assert [layer.name for layer in clone.layers] == ["in_a", "in_b", "shared", "first", "add"]
    assert len(clone.weights) == 4  # the shared Dense is cloned once and stays shared
    clone.set_weights(branches.get_weights())
    x = {"in_a": np.ones((2, 4), "float32"), "in_b": np.full((2, 4), 2, "float32")}
    np.testing.assert_allclose(clone.predict(x, verbose=0)["total"], branches.predict(x, verbose=0)["total"],
                               atol=1e-6)


def test_clone_model_with_a_clone_function_and_new_input_tensors(keras):
    L = keras.layers
    model = keras.Sequential([keras.Input((3,)), L.Dense(4, name="a"), L.Dense(2, name="b")])

    def renamed(layer):
        config = layer.get_config()
        config["name"] = "copy_" + config["name"]
        return type(layer).from_config(config)

    assert [l.name for l in keras.models.clone_model(model, clone_function=renamed).layers] == ["copy_a", "copy_b"]
    x = keras.Input((3,), name="fresh")
    functional = keras.Model(x, L.Dense(2, name="d")(x))
    new_input = keras.Input((3,), name="other")
    clone = keras.models.clone_model(functional, input_tensors=new_input)
    assert clone.inputs[0] is new_input and clone.output_shape == (None, 2)


def test_dict_inputs_and_outputs_flatten_in_key_order(keras):
    """Keras flattens a dict by sorted keys: that order gives model.inputs, outputs, layers and weights."""
    L = keras.layers
    a, b = keras.Input((4,), name="in_a"), keras.Input((2,), name="in_b")
    model = keras.Model({"zb": b, "in_a": a}, {"total": L.Dense(3, name="t")(a), "first": L.Dense(1, name="f")(b)})
    assert [t.name for t in model.inputs] == ["in_a", "in_b"]
    assert model.output_names == ["f", "t"] and [t.shape for t in model.outputs] == [(None, 1), (None, 3)]
    assert [layer.name for layer in model.layers] == ["in_b", "in_a", "f", "t"]
    assert [w.shape for w in model.weights] == [(2, 1), (1,), (4, 3), (3,)]
    out = model({"zb": np.ones((2, 2), "float32"), "in_a": np.ones((2, 4), "float32")})
    assert tuple(out["first"].shape) == (2, 1) and tuple(out["total"].shape) == (2, 3)


def test_layers_serialize_and_deserialize(keras):
    dense = keras.layers.Dense(4, activation="relu", name="dd")
    spec = keras.layers.serialize(dense)
    assert spec["class_name"] == "Dense" and spec["config"]["units"] == 4
    again = keras.layers.deserialize(spec)
    assert type(again).__name__ == "Dense" and again.name == "dd" and again is not dense
    assert json.loads(json.dumps(spec)) == spec


def test_a_weight_is_a_variable_in_keras_layout(keras):
    dense = keras.layers.Dense(3, name="dd")
    dense.build((None, 2))
    kernel = dense.weights[0]
    assert (kernel.name, kernel.path, kernel.shape, kernel.ndim) == ("kernel", "dd/kernel", (2, 3), 2)
    assert kernel.dtype == "float32" and kernel.trainable
    assert tuple(kernel.value.shape) == (2, 3)
    kernel.assign(np.ones((2, 3)))
    assert np.asarray(kernel).shape == (2, 3) and np.asarray(kernel).sum() == 6


def test_set_weights_with_wrong_count_or_shape_is_a_value_error(keras):
    dense = keras.layers.Dense(3, name="dd")
    dense.build((None, 2))
    with pytest.raises(ValueError, match="dd"):
        dense.set_weights([np.zeros((2, 3))])
    with pytest.raises(ValueError, match=r"\(3, 2\)"):
        dense.set_weights([np.zeros((3, 2)), np.zeros(3)])


def test_get_layer_with_an_index_out_of_range_is_a_value_error(keras):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="a")])
    assert model.get_layer(index=0).name == "a"
    with pytest.raises(ValueError):
        model.get_layer(index=3)


def test_saving_load_model_and_save_model(keras, tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="a")], name="seq")
    keras.saving.save_model(model, tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    assert loaded.name == "seq"
    np.testing.assert_allclose(loaded.get_weights()[0], model.get_weights()[0])


def summary_of(model) -> str:
    lines = []
    model.summary(print_fn=lambda line, *args, **kwargs: lines.append(line))
    return "\n".join(lines)


def test_summary_shows_connected_to_only_for_a_graph_that_is_not_a_chain(keras):
    x = keras.Input((3,), name="x")
    chain = keras.Model(x, keras.layers.Dense(1, name="head")(keras.layers.Dense(4, name="hidden")(x)))
    assert "Connected to" not in summary_of(chain)
    text = summary_of(two_branch_model(keras))
    assert "Connected to" in text and "in_a[0][0]" in text

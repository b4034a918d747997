"""Small hand-written Keras 3 specs for tests that need a model file and nothing else."""
import copy
import json


def dense(name, units, source, activation="linear"):
    return {"module": "keras.layers", "class_name": "Dense", "name": name,
            "config": {"name": name, "units": units, "activation": activation},
            "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__",
                                         "config": {"shape": [None, 4], "dtype": "float32",
                                                    "keras_history": [source, 0, 0]}}], "kwargs": {}}]}


def mlp_functional() -> dict:
    """input(4) -> dense(8, relu) -> out(2)."""
    return {"module": "keras.src.models.functional", "class_name": "Functional", "registered_name": "Functional",
            "config": {"name": "mlp", "trainable": True, "layers": [
                {"module": "keras.layers", "class_name": "InputLayer", "name": "x", "inbound_nodes": [],
                 "config": {"batch_shape": [None, 4], "dtype": "float32", "name": "x"}},
                dense("hidden", 8, "x", "relu"),
                dense("out", 2, "hidden"),
            ], "input_layers": [["x", 0, 0]], "output_layers": [["out", 0, 0]]}}


def mlp_sequential(units=(8, 2)) -> dict:
    layers = [{"class_name": "InputLayer", "config": {"batch_shape": [None, 4], "name": "x"}}]
    layers += [{"class_name": "Dense", "config": {"name": f"d{i}", "units": u}} for i, u in enumerate(units)]
    return {"class_name": "Sequential", "config": {"name": "seq", "layers": layers}}


def edited(spec, edit):
    spec = copy.deepcopy(spec)
    edit(spec)
    return spec


def as_json(spec) -> str:
    return json.dumps(spec)

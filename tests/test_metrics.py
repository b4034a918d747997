"""Metrics against real Keras 3 (torch backend): accumulation over batches, weights, reset, names, compile's choices."""
import re

import keras
import numpy as np
import pytest
import torch
from keras.src.metrics import ALL_OBJECTS_DICT as KERAS_METRIC_NAMES
from keras.src.trainers.compile_utils import get_metric as keras_get_metric

import modelcli
from modelcli import metrics
from modelcli.errors import SpecError

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")  # Keras's own

NOT_PORTED = {"BinaryIoU", "IoU", "MeanIoU", "OneHotIoU", "OneHotMeanIoU", "F1Score", "FBetaScore", "R2Score",
              "ConcordanceCorrelation", "PearsonCorrelation", "Metric"}


def numpy(x):
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else keras.ops.convert_to_numpy(x)


def close(ours, theirs):
    np.testing.assert_allclose(numpy(ours), numpy(theirs), rtol=1e-6, atol=1e-6)


def batches(kind, shape, seed=0, weights="sample"):
    """Three (y_true, y_pred, sample_weight) batches of one kind of problem."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(3):
        if kind == "binary":
            y_true, y_pred = rng.integers(0, 2, shape), rng.random(shape)
        elif kind == "logits":
            y_true, y_pred = rng.integers(0, 2, shape), rng.normal(0, 3, shape)
        elif kind == "onehot":
            y_true, y_pred = np.eye(shape[-1])[rng.integers(0, shape[-1], shape[:-1])], rng.random(shape)
        elif kind == "sparse":
            y_true, y_pred = rng.integers(0, shape[-1], shape[:-1]), rng.random(shape)
        elif kind == "sparse_column":
            y_true, y_pred = rng.integers(0, shape[-1], shape[:-1] + (1,)), rng.random(shape)
        elif kind == "regression":
            y_true, y_pred = rng.normal(0, 1, shape), rng.normal(0, 1.5, shape)
        elif kind == "positive":
            y_true, y_pred = rng.random(shape) + 0.5, rng.random(shape) * 2
        elif kind == "ties":  # scores on the thresholds themselves, and exactly 0 and 1
            y_true, y_pred = rng.integers(0, 2, shape), rng.integers(0, 200, shape) / 199
            y_pred.flat[:2] = [0.0, 1.0]
        else:
            raise ValueError(kind)
        if weights == "sample":
            weight = rng.random(shape[0])
        elif weights == "timestep":
            weight = rng.random(shape[:2])
        else:
            weight = None
        out.append((y_true.astype(np.float32), y_pred.astype(np.float32),
                    None if weight is None else weight.astype(np.float32)))
    out[1] = out[1][:2] + (None,)  # one batch without weights
    return out


def accumulate(ours, theirs, data):
    for y_true, y_pred, weight in data:
        ours.update_state(y_true, y_pred, sample_weight=weight)
        theirs.update_state(y_true, y_pred, sample_weight=weight)
    return ours.result(), theirs.result()


# (class name, constructor arguments, data kind, batch shape, weights)
CASES = [
    ("Accuracy", {}, "binary", (8, 1), "sample"),
    ("BinaryAccuracy", {}, "binary", (8, 1), "sample"),
    ("BinaryAccuracy", {"threshold": 0.7}, "binary", (6, 3), "sample"),
    ("BinaryAccuracy", {}, "binary", (4, 5, 1), "timestep"),
    ("CategoricalAccuracy", {}, "onehot", (8, 4), "sample"),
    ("CategoricalAccuracy", {}, "onehot", (4, 5, 3), "timestep"),
    ("SparseCategoricalAccuracy", {}, "sparse", (8, 4), "sample"),
    ("SparseCategoricalAccuracy", {}, "sparse_column", (8, 4), "sample"),
    ("SparseCategoricalAccuracy", {}, "sparse", (4, 5, 3), "timestep"),
    ("TopKCategoricalAccuracy", {}, "onehot", (8, 7), "sample"),
    ("TopKCategoricalAccuracy", {"k": 2}, "onehot", (4, 5, 6), "sample"),
    ("SparseTopKCategoricalAccuracy", {"k": 2}, "sparse", (8, 6), "sample"),
    ("SparseTopKCategoricalAccuracy", {"k": 3}, "sparse_column", (8, 6), "sample"),
    ("MeanSquaredError", {}, "regression", (8, 3), "sample"),
    ("MeanSquaredError", {}, "regression", (4, 5, 3), "timestep"),
    ("MeanAbsoluteError", {}, "regression", (8, 3), "sample"),
    ("MeanAbsolutePercentageError", {}, "positive", (8, 3), "sample"),
    ("MeanSquaredLogarithmicError", {}, "positive", (8, 3), "sample"),
    ("RootMeanSquaredError", {}, "regression", (8, 3), "sample"),
    ("RootMeanSquaredError", {}, "regression", (4, 5, 3), "timestep"),
    ("CosineSimilarity", {}, "regression", (8, 3), "sample"),
    ("CosineSimilarity", {"axis": 0}, "regression", (8, 3), "none"),
    ("LogCoshError", {}, "regression", (8, 3), "sample"),
    ("BinaryCrossentropy", {}, "binary", (8, 1), "sample"),
    ("BinaryCrossentropy", {"from_logits": True, "label_smoothing": 0.1}, "logits", (4, 5, 2), "timestep"),
    ("CategoricalCrossentropy", {}, "onehot", (8, 4), "sample"),
    ("CategoricalCrossentropy", {"from_logits": True, "label_smoothing": 0.2}, "onehot", (4, 5, 3), "timestep"),
    ("SparseCategoricalCrossentropy", {}, "sparse", (8, 4), "sample"),
    ("SparseCategoricalCrossentropy", {"from_logits": True}, "sparse_column", (8, 4), "sample"),
    ("KLDivergence", {}, "onehot", (8, 4), "sample"),
    ("Poisson", {}, "positive", (8, 3), "sample"),
    ("Hinge", {}, "binary", (8, 3), "sample"),
    ("SquaredHinge", {}, "logits", (8, 3), "sample"),
    ("CategoricalHinge", {}, "onehot", (8, 4), "sample"),
    ("AUC", {}, "binary", (16, 1), "sample"),
    ("AUC", {}, "ties", (32,), "sample"),
    ("AUC", {"curve": "PR"}, "binary", (16, 1), "sample"),
    ("AUC", {"curve": "PR"}, "ties", (32, 1), "none"),
    ("AUC", {"curve": "PR", "summation_method": "minoring"}, "binary", (16, 1), "sample"),
    ("AUC", {"curve": "ROC", "summation_method": "majoring"}, "binary", (16, 2), "sample"),
    ("AUC", {"curve": "PRGAIN"}, "binary", (16, 1), "sample"),
    ("AUC", {"num_thresholds": 7}, "ties", (16, 1), "sample"),
    ("AUC", {"thresholds": [0.1, 0.5, 0.75]}, "binary", (16, 1), "sample"),
    ("AUC", {"from_logits": True}, "logits", (16, 1), "sample"),
    ("AUC", {"multi_label": True}, "binary", (16, 3), "sample"),
    ("AUC", {"multi_label": True, "num_labels": 3, "label_weights": [0.2, 1.0, 0.5]}, "binary", (16, 3), "none"),
    ("AUC", {"multi_label": True, "curve": "PR"}, "binary", (16, 3), "sample"),
    ("AUC", {"label_weights": [0.2, 1.0, 0.5]}, "binary", (16, 3), "sample"),
    ("Precision", {}, "binary", (16, 1), "sample"),
    ("Precision", {"thresholds": [0.0, 0.3, 0.5, 0.9]}, "ties", (16, 1), "sample"),
    ("Precision", {"thresholds": [0.0, 0.5, 1.0]}, "binary", (16, 1), "sample"),
    ("Precision", {"top_k": 2}, "binary", (16, 5), "sample"),
    ("Precision", {"class_id": 1}, "onehot", (16, 3), "sample"),
    ("Recall", {}, "binary", (16, 1), "sample"),
    ("Recall", {"thresholds": 0.3}, "binary", (16, 2), "sample"),
    ("Recall", {"top_k": 1, "class_id": 2}, "onehot", (16, 4), "sample"),
    ("TruePositives", {}, "binary", (16, 1), "sample"),
    ("FalsePositives", {"thresholds": [0.2, 0.8]}, "binary", (16, 1), "sample"),
    ("TrueNegatives", {}, "binary", (16, 2), "sample"),
    ("FalseNegatives", {}, "ties", (16,), "none"),
    ("SensitivityAtSpecificity", {"specificity": 0.5}, "binary", (16, 1), "sample"),
    ("SpecificityAtSensitivity", {"sensitivity": 0.4, "num_thresholds": 11}, "binary", (16, 1), "sample"),
    ("PrecisionAtRecall", {"recall": 0.6}, "binary", (16, 1), "sample"),
    ("RecallAtPrecision", {"precision": 0.4, "class_id": 0}, "onehot", (16, 3), "sample"),
]


@pytest.mark.parametrize("name, kwargs, kind, shape, weights", CASES,
                         ids=[f"{c[0]}-{c[1]}-{c[2]}-{c[3]}" for c in CASES])
def test_metric_accumulates_as_keras(name, kwargs, kind, shape, weights):
    ours, theirs = getattr(metrics, name)(**kwargs), getattr(keras.metrics, name)(**kwargs)
    data = batches(kind, shape, seed=len(name), weights=weights)
    result, expected = accumulate(ours, theirs, data)
    close(result, expected)
    default_name = re.compile(r"_\d+$")  # metrics named by a session-wide counter: auc, auc_1, ...
    assert default_name.sub("", ours.name) == default_name.sub("", theirs.name)

    ours.reset_state()
    theirs.reset_state()
    close(ours.result(), theirs.result())
    result, expected = accumulate(ours, theirs, data[::-1])
    close(result, expected)


def test_call_updates_and_returns_the_running_result():
    ours, theirs = metrics.BinaryAccuracy(), keras.metrics.BinaryAccuracy()
    for y_true, y_pred, weight in batches("binary", (8, 1)):
        close(ours(y_true, y_pred, sample_weight=weight), theirs(y_true, y_pred, sample_weight=weight))


@pytest.mark.parametrize("name", ["Mean", "Sum"])
def test_mean_and_sum_of_values(name):
    rng = np.random.default_rng(3)
    ours, theirs = getattr(metrics, name)(), getattr(keras.metrics, name)()
    feeds = [(rng.random((4, 3)), rng.random((4,))), (rng.random((5,)), None),
             (rng.random((2, 3, 2)), rng.random((2, 3))), (np.float32(2.5), None), (rng.random((3, 2)), np.float32(0.5))]
    for values, weight in feeds:
        ours.update_state(values.astype(np.float32), sample_weight=weight)
        theirs.update_state(values.astype(np.float32), sample_weight=weight)
        close(ours.result(), theirs.result())


def test_mask_on_y_pred_weights_the_values():
    rng = np.random.default_rng(4)
    ours, theirs = metrics.CategoricalAccuracy(), keras.metrics.CategoricalAccuracy()
    for y_true, y_pred, weight in batches("onehot", (4, 5, 3), weights="timestep"):
        mask = rng.random((4, 5)) > 0.4
        masked = torch.from_numpy(y_pred)
        masked._keras_mask = torch.from_numpy(mask)
        keras_masked = keras.ops.convert_to_tensor(y_pred)
        keras_masked._keras_mask = keras.ops.convert_to_tensor(mask)
        ours.update_state(y_true, masked, sample_weight=weight)
        theirs.update_state(y_true, keras_masked, sample_weight=weight)
    close(ours.result(), theirs.result())


def test_sparse_crossentropy_metric_ignore_class():
    rng = np.random.default_rng(5)
    ours = metrics.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0)
    theirs = keras.metrics.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0)
    for weight in (None, rng.random((4, 6)).astype(np.float32)):
        y_true = rng.integers(0, 3, (4, 6))
        y_pred = rng.normal(0, 2, (4, 6, 3)).astype(np.float32)
        ours.update_state(y_true, y_pred, sample_weight=weight)
        theirs.update_state(y_true, y_pred, sample_weight=weight)
    close(ours.result(), theirs.result())


def test_epoch_auc_is_the_auc_of_all_predictions_not_a_mean_of_batch_aucs():
    y_true = np.array([[0.0], [1.0], [0.0], [1.0]])
    y_pred = np.array([[0.1], [0.2], [0.8], [0.9]], dtype=np.float32)
    auc = metrics.AUC()
    auc.update_state(y_true[:2], y_pred[:2])  # this batch alone: AUC 1
    auc.update_state(y_true[2:], y_pred[2:])  # this one too
    assert float(auc.result()) == pytest.approx(0.75, abs=1e-6)
    close(auc.result(), keras.metrics.AUC()(y_true, y_pred))


def test_state_stays_on_the_device_without_reading_values_back():
    # Meta tensors have no values: any .item(), bool(tensor) or host copy in update_state would fail.
    for metric, y_true, y_pred in [
        (metrics.AUC(), torch.ones(8, 1), torch.rand(8, 1)),
        (metrics.AUC(multi_label=True), torch.ones(8, 3), torch.rand(8, 3)),
        (metrics.Precision(), torch.ones(8, 1), torch.rand(8, 1)),
        (metrics.Recall(top_k=2), torch.ones(8, 4), torch.rand(8, 4)),
        (metrics.SparseCategoricalAccuracy(), torch.ones(8), torch.rand(8, 4)),
        (metrics.MeanSquaredError(), torch.ones(8, 2), torch.rand(8, 2)),
        (metrics.Hinge(), torch.ones(8, 2), torch.rand(8, 2)),
        (metrics.RootMeanSquaredError(), torch.ones(8, 2), torch.rand(8, 2)),
        (metrics.SparseCategoricalCrossentropy(ignore_class=0), torch.ones(8), torch.rand(8, 4)),
    ]:
        metric.update_state(y_true.to("meta"), y_pred.to("meta"), sample_weight=torch.ones(8, device="meta"))
        assert all(v.device.type == "meta" for v in metric.variables), metric.name
        assert metric.result().device.type == "meta"


def test_update_state_keeps_no_graph():
    y_pred = torch.rand(8, 1, requires_grad=True)
    metric = metrics.BinaryCrossentropy()
    metric.update_state(torch.ones(8, 1), y_pred)
    assert not metric.result().requires_grad


# ---------------------------------------------------------------- names, get, configs

def test_get_resolves_every_name_keras_accepts():
    for name, keras_class in KERAS_METRIC_NAMES.items():
        if keras_class.__name__ in NOT_PORTED or name in ("mean_metric_wrapper", "MeanMetricWrapper"):
            continue
        if keras_class.__name__ in ("SensitivityAtSpecificity", "SpecificityAtSensitivity", "PrecisionAtRecall",
                                    "RecallAtPrecision"):
            assert getattr(metrics, keras_class.__name__) is metrics.METRICS.get(name)  # need an argument
            continue
        ours, theirs = metrics.get(name), keras.metrics.get(name)
        assert type(ours).__name__ == type(theirs).__name__, name
        config, keras_config = ours.get_config(), theirs.get_config()
        config.pop("name"), keras_config.pop("name")  # default names take a session-wide counter
        assert keras_config.items() <= config.items(), name


def test_get_passes_objects_through_and_builds_classes():
    metric = metrics.AUC()
    assert metrics.get(metric) is metric
    assert isinstance(metrics.get(metrics.Recall), metrics.Recall)
    assert metrics.get(metrics.binary_accuracy) is metrics.binary_accuracy
    assert metrics.get(None) is None


@pytest.mark.parametrize("bad, message", [
    ("acuracy", "unknown metric 'acuracy'.*did you mean 'accuracy'"),
    ("Auc", "did you mean 'AUC'|did you mean 'auc'"),
    ({"class_name": "Precission", "config": {}}, "did you mean 'Precision'"),
    ({"class_name": "AUC", "config": {"curv": "PR"}}, "unknown AUC argument 'curv'.*did you mean 'curve'"),
    (3.5, "could not interpret metric identifier"),
])
def test_bad_identifiers_raise_spec_errors(bad, message):
    with pytest.raises(SpecError, match=message):
        metrics.get(bad)


@pytest.mark.parametrize("bad, message", [
    (lambda: metrics.AUC(curve="ROCK"), "curve must be one of"),
    (lambda: metrics.AUC(num_thresholds=1), "num_thresholds must be an integer > 1"),
    (lambda: metrics.Precision(thresholds=[0.5, 1.5]), "thresholds must lie in \\[0, 1\\]"),
    (lambda: metrics.AUC(num_labels=3), "only when multi_label"),
])
def test_bad_arguments_raise_spec_errors(bad, message):
    with pytest.raises(SpecError, match=message):
        bad()


CONFIG_CASES = [(name, kwargs) for name, kwargs, *_ in CASES] + [
    ("Mean", {}), ("Sum", {}), ("SparseTopKCategoricalAccuracy", {"from_sorted_ids": True})]


@pytest.mark.parametrize("name, kwargs", CONFIG_CASES, ids=[f"{n}-{k}" for n, k in CONFIG_CASES])
def test_config_round_trips_and_reads_keras_configs(name, kwargs):
    ours = getattr(metrics, name)(name="custom", **kwargs)
    again = metrics.deserialize(metrics.serialize(ours))
    assert type(again) is type(ours) and again.get_config() == ours.get_config()
    keras_config = keras.metrics.serialize(getattr(keras.metrics, name)(name="custom", **kwargs))
    from_keras = metrics.deserialize(keras_config)
    expected = {k: v for k, v in keras_config["config"].items() if k != "label_weights"}
    assert expected.items() <= from_keras.get_config().items()


def test_mean_metric_wrapper_of_a_function_round_trips():
    wrapper = metrics.MeanMetricWrapper(metrics.sparse_top_k_categorical_accuracy, name="top2", k=2)
    config = metrics.serialize(wrapper)
    keras_wrapper = keras.metrics.MeanMetricWrapper(keras.metrics.sparse_top_k_categorical_accuracy, name="top2", k=2)
    assert config == keras.metrics.serialize(keras_wrapper)
    again = metrics.deserialize(config)
    data = batches("sparse", (8, 5))
    close(*accumulate(again, keras_wrapper, data))


# ---------------------------------------------------------------- what compile picks

RESOLVE_CASES = [
    # (identifier, y_true shape, y_pred shape)
    ("accuracy", (8, 1), (8, 1)),
    ("accuracy", (8,), (8, 1)),
    ("acc", (8,), (8, 4)),
    ("accuracy", (8, 1), (8, 4)),
    ("Accuracy", (8, 4), (8, 4)),
    ("ACC", (8, 5, 4), (8, 5, 4)),
    ("accuracy", (8, 5), (8, 5, 4)),
    ("mse", (8, 3), (8, 3)),
    ("MSE", (8, 3), (8, 3)),
    ("mae", (8, 3), (8, 3)),
    ("mape", (8, 3), (8, 3)),
    ("msle", (8, 3), (8, 3)),
    ("mean_squared_error", (8, 3), (8, 3)),
    ("binary_accuracy", (8, 1), (8, 1)),
    ("AUC", (8, 1), (8, 1)),
    ("auc", (8, 1), (8, 1)),
    ("Precision", (8, 1), (8, 1)),
    ("bce", (8, 1), (8, 1)),
    ("RootMeanSquaredError", (8, 3), (8, 3)),
    ("top_k_categorical_accuracy", (8, 6), (8, 6)),
]


@pytest.mark.parametrize("identifier, y_true_shape, y_pred_shape", RESOLVE_CASES, ids=str)
def test_resolve_matches_keras_compile(identifier, y_true_shape, y_pred_shape):
    theirs = keras_get_metric(identifier, np.zeros(y_true_shape), np.zeros(y_pred_shape))
    ours = metrics.resolve(identifier, "mse", y_true_shape, y_pred_shape)
    assert type(ours).__name__ == type(theirs).__name__
    assert ours.name == theirs.name == identifier


def test_resolve_names_objects_and_functions_as_keras_does():
    for identifier, keras_identifier in [(metrics.AUC(name="my_auc"), keras.metrics.AUC(name="my_auc")),
                                         (metrics.MeanSquaredError(), keras.metrics.MeanSquaredError())]:
        ours, theirs = metrics.resolve(identifier), keras_get_metric(keras_identifier, None, None)
        assert ours is identifier and ours.name == theirs.name
    from modelcli import losses
    ours = metrics.resolve(losses.mean_absolute_error)
    theirs = keras_get_metric(keras.losses.mean_absolute_error, None, None)
    assert type(ours).__name__ == type(theirs).__name__ == "MeanMetricWrapper"
    assert ours.name == theirs.name == "mean_absolute_error"


def test_resolve_ignores_the_loss_when_the_shapes_are_known():
    # Keras 3: binary cross-entropy on a 3-unit sigmoid output still gets categorical accuracy.
    assert isinstance(metrics.resolve("accuracy", "binary_crossentropy", (8, 3), (8, 3)), metrics.CategoricalAccuracy)
    theirs = keras_get_metric("accuracy", np.zeros((8, 3)), np.zeros((8, 3)))
    assert type(theirs).__name__ == "CategoricalAccuracy"


@pytest.mark.parametrize("loss, y_pred_shape, expected", [
    ("binary_crossentropy", None, metrics.BinaryAccuracy),
    ("bce", None, metrics.BinaryAccuracy),
    ("sparse_categorical_crossentropy", None, metrics.SparseCategoricalAccuracy),
    ("SparseCategoricalCrossentropy", (8, 4), metrics.SparseCategoricalAccuracy),
    ("categorical_crossentropy", None, metrics.CategoricalAccuracy),
    ("mse", (8, 1), metrics.BinaryAccuracy),
    (None, None, metrics.CategoricalAccuracy),
])
def test_resolve_falls_back_on_the_loss_without_shapes(loss, y_pred_shape, expected):
    metric = metrics.resolve("acc", loss, None, y_pred_shape)
    assert type(metric) is expected and metric.name == "acc"


def test_crossentropy_metric_is_resolved_like_keras_2():
    assert isinstance(metrics.resolve("crossentropy", None, (8,), (8, 3)), metrics.SparseCategoricalCrossentropy)
    metric = metrics.resolve("ce", None, (8, 1), (8, 1))
    assert isinstance(metric, metrics.BinaryCrossentropy) and metric.name == "ce"


def test_real_keras_compile_picks_the_same_accuracy_and_values():
    rng = np.random.default_rng(6)
    x = rng.random((12, 4)).astype(np.float32)
    for loss, units, activation, y in [
        ("sparse_categorical_crossentropy", 3, "softmax", rng.integers(0, 3, (12,))),
        ("binary_crossentropy", 1, "sigmoid", rng.integers(0, 2, (12, 1)).astype(np.float32)),
    ]:
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(units, activation=activation)])
        model.compile(loss=loss, metrics=["accuracy", "AUC", "mse", "mae"] if units == 1 else ["acc"])
        logs = model.evaluate(x, y, verbose=0, return_dict=True)
        compiled = model.metrics[1].metrics
        y_pred = numpy(model.predict(x, verbose=0))
        for keras_metric in compiled:
            ours = metrics.resolve(keras_metric.name, loss, y.shape, y_pred.shape)
            assert type(ours).__name__ == type(keras_metric).__name__
            ours.update_state(y, y_pred)
            assert float(ours.result()) == pytest.approx(logs[ours.name], abs=1e-6)


def test_a_metric_object_used_before_starts_fit_from_zero():
    """Keras resets compiled metrics when fit starts, including an object that saw data earlier."""
    x = np.linspace(-1, 1, 40, dtype="float32").reshape(20, 2)
    y = (x[:, :1] > 0).astype("float32")

    def trained(auc):
        modelcli.utils.set_random_seed(1)
        model = modelcli.Sequential([modelcli.Input((2,)), modelcli.layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=[auc])
        return model.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False).history["auc"]

    used = modelcli.metrics.AUC(name="auc")
    used.update_state([1.0, 0.0, 0.0], [0.1, 0.9, 0.8])
    assert trained(used) == trained(modelcli.metrics.AUC(name="auc"))

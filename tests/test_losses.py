"""Losses against real Keras 3 (torch backend): functions, classes, reductions, weights, masks, names."""
import keras
import numpy as np
import pytest
import torch
from keras.src.losses import ALL_OBJECTS_DICT as KERAS_LOSS_NAMES
from keras.src.trainers.compile_utils import get_loss as keras_get_loss

from modelcli import losses
from modelcli.errors import SpecError

ATOL = 1e-6
RTOL = 1e-6
NOT_PORTED = {"CTC", "ctc", "Circle", "circle"}


def numpy(x):
    return keras.ops.convert_to_numpy(x) if not isinstance(x, torch.Tensor) else x.detach().cpu().numpy()


def close(ours, theirs):
    np.testing.assert_allclose(numpy(ours), numpy(theirs), rtol=RTOL, atol=ATOL)


# ---------------------------------------------------------------- data

def data(kind, shape, seed=0):
    """(y_true, y_pred) float32 arrays of one kind of problem."""
    rng = np.random.default_rng(seed)
    f32 = lambda a: np.asarray(a, dtype=np.float32)  # noqa: E731
    if kind == "binary_prob":
        y_pred = rng.random(shape)
        y_pred.flat[:3] = [0.0, 1.0, 1e-9]  # exercise the clipping
        return f32(rng.integers(0, 2, shape)), f32(y_pred)
    if kind == "binary_logits":
        y_pred = rng.normal(0, 4, shape)
        y_pred.flat[:2] = [40.0, -40.0]
        return f32(rng.integers(0, 2, shape)), f32(y_pred)
    if kind == "onehot_prob":
        y_pred = rng.random(shape) + 0.05
        y_pred[..., 0] = 0.0  # a zero probability: clipped before the log
        return f32(np.eye(shape[-1])[rng.integers(0, shape[-1], shape[:-1])]), f32(y_pred)
    if kind == "onehot_logits":
        return f32(np.eye(shape[-1])[rng.integers(0, shape[-1], shape[:-1])]), f32(rng.normal(0, 3, shape))
    if kind == "soft_prob":
        y_true = rng.random(shape)
        return f32(y_true / y_true.sum(-1, keepdims=True)), f32(rng.random(shape))
    if kind == "regression":
        return f32(rng.normal(0, 1, shape)), f32(rng.normal(0, 1.5, shape))
    if kind == "positive":
        return f32(rng.random(shape) + 0.5), f32(rng.random(shape) * 2)
    if kind == "signed":
        return f32(rng.choice([-1.0, 1.0], shape)), f32(rng.normal(0, 1, shape))
    raise ValueError(kind)


SHAPES = [(6, 4), (3, 5, 4)]

# (function name, keyword arguments, data kind)
FUNCTION_CASES = [
    ("binary_crossentropy", {}, "binary_prob"),
    ("binary_crossentropy", {"from_logits": True}, "binary_logits"),
    ("binary_crossentropy", {"label_smoothing": 0.2}, "binary_prob"),
    ("binary_crossentropy", {"from_logits": True, "label_smoothing": 0.1, "axis": 0}, "binary_logits"),
    ("binary_focal_crossentropy", {}, "binary_prob"),
    ("binary_focal_crossentropy", {"from_logits": True, "gamma": 3.0}, "binary_logits"),
    ("binary_focal_crossentropy", {"apply_class_balancing": True, "alpha": 0.4, "label_smoothing": 0.1},
     "binary_prob"),
    ("categorical_crossentropy", {}, "onehot_prob"),
    ("categorical_crossentropy", {}, "soft_prob"),
    ("categorical_crossentropy", {"from_logits": True}, "onehot_logits"),
    ("categorical_crossentropy", {"label_smoothing": 0.1}, "onehot_prob"),
    ("categorical_crossentropy", {"from_logits": True, "label_smoothing": 0.2, "axis": 0}, "onehot_logits"),
    ("categorical_focal_crossentropy", {}, "onehot_prob"),
    ("categorical_focal_crossentropy", {"from_logits": True, "alpha": 0.5, "gamma": 1.5, "label_smoothing": 0.1},
     "onehot_logits"),
    ("kl_divergence", {}, "soft_prob"),
    ("poisson", {}, "positive"),
    ("mean_squared_error", {}, "regression"),
    ("mean_absolute_error", {}, "regression"),
    ("mean_absolute_percentage_error", {}, "positive"),
    ("mean_squared_logarithmic_error", {}, "positive"),
    ("cosine_similarity", {}, "regression"),
    ("cosine_similarity", {"axis": 0}, "regression"),
    ("huber", {}, "regression"),
    ("huber", {"delta": 0.3}, "regression"),
    ("log_cosh", {}, "regression"),
    ("hinge", {}, "binary_logits"),
    ("hinge", {}, "signed"),
    ("squared_hinge", {}, "binary_logits"),
    ("squared_hinge", {}, "signed"),
    ("categorical_hinge", {}, "onehot_logits"),
    ("dice", {}, "binary_prob"),
    ("dice", {"axis": 1}, "binary_prob"),
    ("tversky", {"alpha": 0.3, "beta": 0.7}, "binary_prob"),
]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name, kwargs, kind", FUNCTION_CASES,
                         ids=[f"{n}-{k}-{v}" for n, k, v in FUNCTION_CASES])
def test_function_matches_keras(name, kwargs, kind, shape):
    y_true, y_pred = data(kind, shape)
    ours = getattr(losses, name)(torch.from_numpy(y_true), torch.from_numpy(y_pred), **kwargs)
    theirs = getattr(keras.losses, name)(y_true, y_pred, **kwargs)
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert ours.dtype == torch.float32
    close(ours, theirs)


@pytest.mark.parametrize("shape", [(7, 5), (3, 4, 5)], ids=str)
@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("label_shape", ["rank", "trailing_1"])
def test_sparse_categorical_crossentropy_matches_keras(shape, from_logits, label_shape):
    rng = np.random.default_rng(1)
    labels = rng.integers(0, shape[-1], shape[:-1])
    if label_shape == "trailing_1":
        labels = labels[..., None]
    y_pred = rng.normal(0, 3, shape) if from_logits else rng.random(shape)
    y_pred = y_pred.astype(np.float32)
    ours = losses.sparse_categorical_crossentropy(labels, y_pred, from_logits=from_logits)
    theirs = keras.losses.sparse_categorical_crossentropy(labels, y_pred, from_logits=from_logits)
    close(ours, theirs)


def test_sparse_categorical_crossentropy_class_axis_first():
    rng = np.random.default_rng(2)
    y_pred = rng.random((4, 6, 3)).astype(np.float32)  # classes on axis 1
    labels = rng.integers(0, 6, (4, 3))
    close(losses.sparse_categorical_crossentropy(labels, y_pred, axis=1),
          keras.losses.sparse_categorical_crossentropy(labels, y_pred, axis=1))


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "mean_with_sample_weight", None])
def test_sparse_categorical_crossentropy_ignore_class(reduction):
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 4, (5, 6))
    labels[0, :3] = -1
    labels[2, 4] = -1
    y_pred = rng.normal(0, 2, (5, 6, 4)).astype(np.float32)
    weights = rng.random((5, 6)).astype(np.float32)
    for sample_weight in (None, weights):
        ours = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1, reduction=reduction)
        theirs = keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1, reduction=reduction)
        close(ours(labels, y_pred, sample_weight), theirs(labels, y_pred, sample_weight))


# ---------------------------------------------------------------- the tutorial's worked examples

def test_tutorial_binary_crossentropy():
    y_true, y_pred = [[0, 1], [0, 0]], [[-18.6, 0.51], [2.94, -12.8]]
    bce = losses.BinaryCrossentropy(from_logits=True)
    keras_bce = keras.losses.BinaryCrossentropy(from_logits=True)
    assert float(bce(y_true, y_pred)) == pytest.approx(0.8655, abs=1e-4)
    close(bce(y_true, y_pred), keras_bce(np.array(y_true), np.array(y_pred)))
    close(bce([0, 1, 0, 0], [-18.6, 0.51, 2.94, -12.8]),
          keras_bce(np.array([0, 1, 0, 0]), np.array([-18.6, 0.51, 2.94, -12.8])))
    assert float(bce(y_true, y_pred, sample_weight=[0.8, 0.2])) == pytest.approx(0.2436, abs=1e-4)
    close(bce(y_true, y_pred, sample_weight=[0.8, 0.2]),
          keras_bce(np.array(y_true), np.array(y_pred), sample_weight=np.array([0.8, 0.2])))
    summed = losses.BinaryCrossentropy(from_logits=True, reduction="sum")(y_true, y_pred)
    assert float(summed) == pytest.approx(1.7309, abs=1e-4)
    close(summed, keras.losses.BinaryCrossentropy(from_logits=True, reduction="sum")(np.array(y_true),
                                                                                      np.array(y_pred)))
    per_sample = losses.BinaryCrossentropy(from_logits=True, reduction="none")(y_true, y_pred)
    np.testing.assert_allclose(numpy(per_sample), [0.2352, 1.4958], atol=1e-4)
    close(per_sample, keras.losses.BinaryCrossentropy(from_logits=True, reduction=None)(np.array(y_true),
                                                                                        np.array(y_pred)))
    single = losses.binary_crossentropy([[[0.0]]], [[[0.5]]], from_logits=True)
    assert float(single) == pytest.approx(0.974077, abs=1e-6)
    close(single, keras.losses.binary_crossentropy(np.array([[[0.0]]]), np.array([[[0.5]]]), from_logits=True))


def test_tutorial_categorical_crossentropy():
    y_true, y_pred = [[0, 1, 0], [0, 0, 1]], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]]
    cce = losses.CategoricalCrossentropy()
    keras_cce = keras.losses.CategoricalCrossentropy()
    kt, kp = np.array(y_true), np.array(y_pred, dtype=np.float32)
    assert float(cce(y_true, y_pred)) == pytest.approx(1.1769, abs=1e-4)  # the tutorial's 1.117 is a typo
    close(cce(y_true, y_pred), keras_cce(kt, kp))
    assert float(cce(y_true, y_pred, sample_weight=[0.3, 0.7])) == pytest.approx(0.8136, abs=1e-4)
    close(cce(y_true, y_pred, sample_weight=[0.3, 0.7]), keras_cce(kt, kp, sample_weight=np.array([0.3, 0.7])))
    summed = losses.CategoricalCrossentropy(reduction="sum")(y_true, y_pred)
    assert float(summed) == pytest.approx(2.3539, abs=1e-4)
    close(summed, keras.losses.CategoricalCrossentropy(reduction="sum")(kt, kp))
    single = losses.categorical_crossentropy([[[0.0, 1.0]]], [[[0.4, 0.6]]])
    assert float(single) == pytest.approx(0.5108256, abs=1e-6)
    close(single, keras.losses.categorical_crossentropy(np.array([[[0.0, 1.0]]]), np.array([[[0.4, 0.6]]])))


# ---------------------------------------------------------------- classes, reductions, weights

# (class name, constructor arguments, data kind)
CLASS_CASES = [
    ("BinaryCrossentropy", {}, "binary_prob"),
    ("BinaryCrossentropy", {"from_logits": True, "label_smoothing": 0.1}, "binary_logits"),
    ("BinaryFocalCrossentropy", {"apply_class_balancing": True, "gamma": 1.0}, "binary_prob"),
    ("BinaryFocalCrossentropy", {"from_logits": True}, "binary_logits"),
    ("CategoricalCrossentropy", {}, "onehot_prob"),
    ("CategoricalCrossentropy", {"from_logits": True, "label_smoothing": 0.2}, "onehot_logits"),
    ("CategoricalFocalCrossentropy", {"from_logits": True}, "onehot_logits"),
    ("KLDivergence", {}, "soft_prob"),
    ("Poisson", {}, "positive"),
    ("MeanSquaredError", {}, "regression"),
    ("MeanAbsoluteError", {}, "regression"),
    ("MeanAbsolutePercentageError", {}, "positive"),
    ("MeanSquaredLogarithmicError", {}, "positive"),
    ("CosineSimilarity", {}, "regression"),
    ("Huber", {"delta": 0.5}, "regression"),
    ("LogCosh", {}, "regression"),
    ("Hinge", {}, "binary_logits"),
    ("SquaredHinge", {}, "signed"),
    ("CategoricalHinge", {}, "onehot_logits"),
]
REDUCTIONS = ["sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none"]


@pytest.mark.parametrize("name, kwargs, kind", CLASS_CASES, ids=[f"{n}-{k}" for n, k, _ in CLASS_CASES])
def test_class_matches_keras(name, kwargs, kind):
    rng = np.random.default_rng(4)
    for shape in SHAPES:
        y_true, y_pred = data(kind, shape, seed=5)
        # per-sample weights, or per-timestep weights on a sequence output; and a scalar weight
        weights = [None, np.float32(0.7), rng.random(shape[:-1]).astype(np.float32)]
        for reduction in REDUCTIONS:
            ours = getattr(losses, name)(reduction=reduction, **kwargs)
            theirs = getattr(keras.losses, name)(reduction=reduction, **kwargs)
            assert ours.name == theirs.name
            for sample_weight in weights:
                close(ours(y_true, y_pred, sample_weight), theirs(y_true, y_pred, sample_weight=sample_weight))


def test_rank_one_labels_meet_a_single_unit_output():
    rng = np.random.default_rng(6)
    y_true = rng.integers(0, 2, (8,)).astype(np.float32)
    y_pred = rng.random((8, 1)).astype(np.float32)
    weights = rng.random((8,)).astype(np.float32)
    for name in ("BinaryCrossentropy", "MeanSquaredError", "Hinge"):
        close(getattr(losses, name)()(y_true, y_pred, weights),
              getattr(keras.losses, name)()(y_true, y_pred, sample_weight=weights))


def test_per_sample_weights_on_a_sequence_loss_weight_every_timestep():
    # Keras 3 cannot broadcast (batch,) weights onto (batch, T) losses; Keras 2 could, and so do we.
    rng = np.random.default_rng(7)
    y_true, y_pred = data("onehot_prob", (4, 3, 5))
    weights = rng.random(4).astype(np.float32)
    for reduction in REDUCTIONS:
        ours = losses.CategoricalCrossentropy(reduction=reduction)(y_true, y_pred, weights)
        expected = keras.losses.CategoricalCrossentropy(reduction=reduction)(
            y_true, y_pred, sample_weight=np.repeat(weights[:, None], 3, axis=1))
        close(ours, expected)


def keras_masked(array, mask):
    tensor = keras.ops.convert_to_tensor(array)
    tensor._keras_mask = keras.ops.convert_to_tensor(mask)
    return tensor


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mask_on_y_pred_matches_keras(reduction):
    rng = np.random.default_rng(8)
    y_true, y_pred = data("onehot_logits", (4, 6, 3))
    mask = rng.random((4, 6)) > 0.3
    weights = rng.random((4, 6)).astype(np.float32)
    keras_loss = keras.losses.CategoricalCrossentropy(from_logits=True, reduction=reduction)
    ours = losses.CategoricalCrossentropy(from_logits=True, reduction=reduction)
    for sample_weight in (None, weights):
        expected = keras_loss(y_true, keras_masked(y_pred, mask), sample_weight=sample_weight)
        close(ours(y_true, y_pred, sample_weight, mask=mask), expected)
        masked = torch.from_numpy(y_pred)
        masked._keras_mask = torch.from_numpy(mask)
        close(ours(y_true, masked, sample_weight), expected)


def test_reduce_weighted_values_matches_keras():
    from keras.src.losses.loss import reduce_weighted_values as keras_reduce

    rng = np.random.default_rng(9)
    values = rng.random((5, 4)).astype(np.float32)
    weights = rng.random((5, 4)).astype(np.float32)
    mask = rng.random((5, 4)) > 0.5
    for reduction in REDUCTIONS:
        close(losses.reduce_weighted_values(values, weights, mask, reduction),
              keras_reduce(keras.ops.convert_to_tensor(values), weights, mask, reduction))


def test_all_masked_gives_zero_not_nan():
    loss = losses.MeanSquaredError()(np.ones((2, 3, 1)), np.zeros((2, 3, 1)), mask=np.zeros((2, 3), bool))
    assert float(loss) == 0.0


def test_reduction_default_and_bad_reduction():
    assert losses.Loss().reduction == "sum_over_batch_size"
    assert losses.MeanSquaredError(reduction="auto").reduction == "sum_over_batch_size"  # Keras 2 files
    with pytest.raises(SpecError, match="reduction must be one of.*received reduction='summ'.*did you mean 'sum'"):
        losses.MeanSquaredError(reduction="summ")


# ---------------------------------------------------------------- inputs, devices, gradients

def test_inputs_may_be_lists_arrays_or_tensors():
    y_true, y_pred = [[1, 0, 0], [0, 1, 0]], [[0.7, 0.2, 0.1], [0.3, 0.3, 0.4]]
    expected = losses.categorical_crossentropy(torch.tensor(y_true, dtype=torch.float32), torch.tensor(y_pred))
    for yt, yp in [(y_true, y_pred), (np.array(y_true), np.array(y_pred)),
                   (np.array(y_true, np.int64), np.array(y_pred, np.float64))]:
        result = losses.categorical_crossentropy(yt, yp)
        assert result.dtype == torch.float32
        close(result, expected)
    assert losses.sparse_categorical_crossentropy(np.array([0.0, 1.0]), y_pred).shape == (2,)


def test_logits_losses_have_finite_gradients_at_extreme_logits():
    logits = torch.tensor([[60.0, -60.0], [-80.0, 80.0]], requires_grad=True)
    labels = torch.tensor([[0.0, 1.0], [1.0, 0.0]])
    for loss in (losses.BinaryCrossentropy(from_logits=True), losses.CategoricalCrossentropy(from_logits=True)):
        logits.grad = None
        value = loss(labels, logits)
        value.backward()
        assert torch.isfinite(value) and torch.isfinite(logits.grad).all()
    assert float(losses.binary_crossentropy(labels, logits.detach(), from_logits=True).mean()) == pytest.approx(70.0)


def test_ignored_probability_rows_do_not_poison_gradients():
    y_pred = torch.tensor([[0.2, 0.8], [0.0, 0.0]], requires_grad=True)  # an all-zero padding row
    loss = losses.SparseCategoricalCrossentropy(ignore_class=-1)([1, -1], y_pred)
    loss.backward()
    assert torch.isfinite(y_pred.grad).all()


# ---------------------------------------------------------------- names, get, configs

def test_get_resolves_every_name_keras_accepts():
    for name, keras_obj in KERAS_LOSS_NAMES.items():
        if name in NOT_PORTED or name == "LossFunctionWrapper":
            continue
        ours = losses.get(name)
        theirs = keras.losses.get(name)
        if callable(theirs) and not isinstance(theirs, keras.losses.Loss):
            assert callable(ours) and not isinstance(ours, losses.Loss), name
            assert ours.__name__ == theirs.__name__, name
        else:
            assert type(ours).__name__ == keras_obj.__name__, name
            if name != "Loss":  # the base class is named by a session-wide counter
                assert theirs.get_config().items() <= ours.get_config().items(), name


def test_get_accepts_keras_2_names_and_passes_objects_through():
    assert losses.get("logcosh") is losses.log_cosh
    assert losses.get("kullback_leibler_divergence") is losses.kl_divergence
    assert losses.get(None) is None
    loss = losses.Huber()
    assert losses.get(loss) is loss
    assert losses.get(losses.mean_squared_error) is losses.mean_squared_error
    assert isinstance(losses.get(losses.Poisson), losses.Poisson)


@pytest.mark.parametrize("bad, message", [
    ("mean_squred_error", "unknown loss 'mean_squred_error'.*did you mean 'mean_squared_error'"),
    ("BinaryCrossEntropy", "did you mean 'BinaryCrossentropy'"),
    ({"class_name": "Hubber", "config": {}}, "did you mean 'Huber'"),
    ({"class_name": "Huber", "config": {"deltaa": 2.0}}, "unknown Huber argument 'deltaa'.*did you mean 'delta'"),
    ({"config": {}}, "expected a name or a \\{class_name, config\\} mapping"),
    (42, "could not interpret loss identifier 42"),
])
def test_bad_identifiers_raise_spec_errors(bad, message):
    with pytest.raises(SpecError, match=message):
        losses.get(bad)


CLASS_NAMES = sorted({name for name, _, _ in CLASS_CASES} | {"SparseCategoricalCrossentropy", "Dice", "Tversky"})


@pytest.mark.parametrize("name", CLASS_NAMES)
def test_config_round_trips_and_reads_keras_configs(name):
    ours = getattr(losses, name)(reduction="sum", name="custom")
    again = losses.deserialize(losses.serialize(ours))
    assert type(again) is type(ours) and again.get_config() == ours.get_config()
    keras_loss = getattr(keras.losses, name)(reduction="sum", name="custom")
    from_keras = losses.deserialize(keras.losses.serialize(keras_loss))
    assert keras_loss.get_config().items() <= from_keras.get_config().items()
    assert keras.losses.serialize(keras_loss)["class_name"] == losses.serialize(ours)["class_name"]


def test_arguments_keras_forgets_in_its_config_are_kept():
    assert losses.get(losses.serialize(losses.Huber(delta=2.5))).delta == 2.5
    assert losses.get(losses.serialize(losses.CosineSimilarity(axis=1))).axis == 1


def test_functions_serialize_as_keras_3_does():
    for name in ("mse", "binary_crossentropy", "kld", "log_cosh"):
        fn = losses.get(name)
        ours = losses.serialize(fn)
        assert ours == keras.losses.serialize(keras.losses.get(name))
        assert losses.deserialize(ours) is fn


def test_loss_function_wrapper_round_trip_and_name():
    wrapper = losses.LossFunctionWrapper(losses.huber, delta=0.5)
    assert wrapper.name == "huber"
    config = wrapper.get_config()
    assert config["fn"]["config"] == "huber" and config["delta"] == 0.5
    again = losses.LossFunctionWrapper.from_config(config)
    y_true, y_pred = data("regression", (4, 3))
    close(again(y_true, y_pred), keras.losses.Huber(delta=0.5)(y_true, y_pred))


@pytest.mark.parametrize("identifier, y_true_shape, y_pred_shape", [
    ("crossentropy", (8, 1), (8, 1)),
    ("ce", (8,), (8, 3)),
    ("CE", (8, 1), (8, 3)),
    ("crossentropy", (8, 3), (8, 3)),
    ("mse", (8, 3), (8, 3)),
    ("MeanSquaredError", (8, 3), (8, 3)),
    ("bce", (8, 1), (8, 1)),
])
def test_resolve_matches_keras_compile(identifier, y_true_shape, y_pred_shape):
    theirs = keras_get_loss(identifier, np.zeros(y_true_shape), np.zeros(y_pred_shape))
    ours = losses.resolve(identifier, y_true_shape, y_pred_shape)
    assert ours.name == theirs.name
    assert ours.reduction == theirs.reduction
    if hasattr(theirs, "fn"):
        assert ours.fn.__name__ == theirs.fn.__name__
    else:
        assert type(ours).__name__ == type(theirs).__name__


def test_resolve_wraps_functions_and_needs_shapes_for_crossentropy():
    assert losses.resolve(losses.mean_absolute_error).name == "mean_absolute_error"
    loss = losses.Huber()
    assert losses.resolve(loss) is loss
    with pytest.raises(SpecError, match="depending on the shapes"):
        losses.resolve("crossentropy")

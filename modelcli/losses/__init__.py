"""Keras losses on torch tensors: functions, ``Loss`` classes, and name resolution.

``get("mse")`` returns the *function* (as ``keras.losses.get`` does) and
``get("MeanSquaredError")`` an instance; ``resolve`` is what ``compile(loss=...)``
does with its argument: a ``Loss`` object, with functions wrapped in a
``LossFunctionWrapper`` named after the identifier, and ``"crossentropy"`` /
``"ce"`` turned into the binary, sparse or categorical loss by the target shapes.

Names accepted are Keras 3's (class names, function names, ``bce``/``mse``/``mae``/
``mape``/``msle``/``kld`` and their upper-case forms) plus the Keras 2 names
``logcosh`` and ``kullback_leibler_divergence`` that older model files carry.
"""
from __future__ import annotations

from ..errors import SpecError
from ..serialization import deserialize as _deserialize
from .base import (LOSSES, REDUCTIONS, FunctionLoss, Loss, LossFunctionWrapper, apply_mask,
                   reduce_values, reduce_weighted_values, squeeze_or_expand_to_same_rank,
                   standardize_reduction)
from .hinge import CategoricalHinge, Hinge, SquaredHinge, categorical_hinge, hinge, squared_hinge
from .probabilistic import (BinaryCrossentropy, BinaryFocalCrossentropy, CategoricalCrossentropy,
                            CategoricalFocalCrossentropy, KLDivergence, Poisson,
                            SparseCategoricalCrossentropy, binary_crossentropy, binary_focal_crossentropy,
                            categorical_crossentropy, categorical_focal_crossentropy, kl_divergence,
                            poisson, sparse_categorical_crossentropy)
from .regression import (CosineSimilarity, Huber, LogCosh, MeanAbsoluteError, MeanAbsolutePercentageError,
                         MeanSquaredError, MeanSquaredLogarithmicError, cosine_similarity, huber, log_cosh,
                         mean_absolute_error, mean_absolute_percentage_error, mean_squared_error,
                         mean_squared_logarithmic_error)
from .segmentation import Dice, Tversky, dice, tversky

# Aliases Keras users write.
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence
logcosh = log_cosh
bce = BCE = binary_crossentropy


def deserialize(identifier, where: str | None = None):
    """A loss function or ``Loss`` from a name or a Keras ``{class_name, config}`` dict."""
    if isinstance(identifier, dict) and identifier.get("class_name") == "function":
        # Keras 3 writes a built-in function as {"module": "builtins", "class_name": "function", "config": name}.
        name = identifier.get("config")
        fn = LOSSES.get(name, f"{where}.config" if where else "config") if isinstance(name, str) else None
        if fn is None or isinstance(fn, type):
            raise SpecError(f"expected the name of a loss function, got {name!r}", where=where)
        return fn
    return _deserialize(identifier, LOSSES, where)


def get(identifier, where: str | None = None):
    """As ``keras.losses.get``: None, a name, a config dict, a ``Loss`` class, a loss or a callable."""
    if identifier is None:
        return None
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier, where)
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if callable(identifier):
        return identifier
    raise SpecError(f"could not interpret loss identifier {identifier!r}", where=where)


def serialize(loss):
    """Keras 3's form: ``{module, class_name, config, registered_name}``; a function by its name."""
    if loss is None:
        return None
    if isinstance(loss, Loss):
        return {"module": "keras.losses", "class_name": type(loss).__name__, "config": loss.get_config(),
                "registered_name": None}
    name = getattr(loss, "__name__", None)
    if name is None or name not in LOSSES or LOSSES.get(name) is not loss:
        raise SpecError(f"{loss!r} is not a Keras loss and cannot be saved by name")
    return {"module": "builtins", "class_name": "function", "config": name, "registered_name": "function"}


def target_kind(y_true_shape, y_pred_shape) -> str:
    """``"binary"``, ``"sparse"`` or ``"categorical"``, as Keras 3's compile reads the shapes.

    Binary when the output's last axis has size 1; sparse when ``y_true`` has lower
    rank than ``y_pred``, or a last axis of 1 against a wider output; else categorical.
    """
    y_true_shape, y_pred_shape = tuple(y_true_shape), tuple(y_pred_shape)
    if y_pred_shape[-1] == 1:
        return "binary"
    if len(y_true_shape) < len(y_pred_shape) or (y_true_shape[-1] == 1 and y_pred_shape[-1] > 1):
        return "sparse"
    return "categorical"


_CROSSENTROPY = {"binary": binary_crossentropy, "sparse": sparse_categorical_crossentropy,
                 "categorical": categorical_crossentropy}


def resolve(identifier, y_true_shape=None, y_pred_shape=None, where: str | None = None) -> Loss:
    """The ``Loss`` that ``compile(loss=identifier)`` trains with.

    A function (given or named) becomes a ``LossFunctionWrapper`` with the default
    reduction, named as given (``"mse"`` stays ``"mse"``) or after the function.
    """
    if identifier is None:
        return None
    if isinstance(identifier, str) and identifier.lower() in ("crossentropy", "ce"):
        if y_true_shape is None or y_pred_shape is None:
            raise SpecError(f"loss '{identifier}' is binary, sparse or categorical cross-entropy depending on "
                            "the shapes of y_true and y_pred, which are not known yet", where=where)
        loss = _CROSSENTROPY[target_kind(y_true_shape, y_pred_shape)]
    else:
        loss = get(identifier, where)
    if not isinstance(loss, Loss):
        name = identifier if isinstance(identifier, str) else getattr(loss, "name", None) or getattr(
            loss, "__name__", type(loss).__name__)
        loss = LossFunctionWrapper(loss, name=name)
    return loss


__all__ = [
    "Loss", "LossFunctionWrapper", "FunctionLoss", "REDUCTIONS", "standardize_reduction", "reduce_values",
    "reduce_weighted_values", "apply_mask", "squeeze_or_expand_to_same_rank", "get", "serialize",
    "deserialize", "resolve", "target_kind", "LOSSES",
    "BinaryCrossentropy", "BinaryFocalCrossentropy", "CategoricalCrossentropy", "CategoricalFocalCrossentropy",
    "SparseCategoricalCrossentropy", "KLDivergence", "Poisson", "MeanSquaredError", "MeanAbsoluteError",
    "MeanAbsolutePercentageError", "MeanSquaredLogarithmicError", "CosineSimilarity", "Huber", "LogCosh",
    "Hinge", "SquaredHinge", "CategoricalHinge", "Dice", "Tversky",
    "binary_crossentropy", "binary_focal_crossentropy", "categorical_crossentropy",
    "categorical_focal_crossentropy", "sparse_categorical_crossentropy", "kl_divergence", "poisson",
    "mean_squared_error", "mean_absolute_error", "mean_absolute_percentage_error",
    "mean_squared_logarithmic_error", "cosine_similarity", "huber", "log_cosh", "hinge", "squared_hinge",
    "categorical_hinge", "dice", "tversky",
    "mse", "MSE", "mae", "MAE", "mape", "MAPE", "msle", "MSLE", "kld", "KLD", "kullback_leibler_divergence",
    "logcosh", "bce", "BCE",
]

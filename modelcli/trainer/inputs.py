"""Matching user data (arrays, lists, dicts) to a model's inputs, with clear errors."""
from __future__ import annotations

import numpy as np
import torch

from ..errors import DataError


def as_input_list(model, x) -> list:
    """The arrays for ``model.inputs``, in order, from an array, a list or a name-keyed dict."""
    if not model.inputs:
        _build_from_data(model, x)
    names = [t.name for t in model.inputs]
    if isinstance(x, dict):
        missing = [n for n in names if n not in x]
        if missing:
            raise DataError(f"no data for input '{missing[0]}'; the model's inputs are {names}, "
                            f"the data has {sorted(x)}")
        arrays = [x[n] for n in names]
    elif isinstance(x, (list, tuple)) and (len(names) > 1 or holds_arrays(x)):
        arrays = list(x)
    else:
        arrays = [x]
    if len(arrays) != len(names):
        raise DataError(f"the model has {len(names)} inputs ({', '.join(names)}) but got {len(arrays)} arrays")
    arrays = [_as_array(a, n) for a, n in zip(arrays, names)]
    for array, tensor, name in zip(arrays, model.inputs, names):
        check_shape(array.shape, tensor.shape, f"input '{name}'")
    lengths = {len(a) for a in arrays}
    if len(lengths) > 1:
        raise DataError(f"inputs have different numbers of samples: "
                        + ", ".join(f"{n}={len(a)}" for n, a in zip(names, arrays)))
    return arrays


def holds_arrays(x) -> bool:
    """A list of arrays (one per input or output; None for an output without one), not one array
    written as nested Python lists."""
    return any(a is not None for a in x) and all(
        a is None or isinstance(a, (np.ndarray, torch.Tensor, dict)) or hasattr(a, "__array__") for a in x)


def output_keys(model) -> list[str]:
    """How data names the outputs: the keys of a dict of outputs, else the output layers' names."""
    structure = getattr(model, "_output_structure", None)
    return list(structure) if isinstance(structure, dict) else model.output_names


def _build_from_data(model, x) -> None:
    """A Sequential model without an input shape builds from its first data, as in Keras."""
    first = x[0] if isinstance(x, (list, tuple)) and holds_arrays(x) else x
    if isinstance(first, dict) or not hasattr(model, "build_from_call"):
        raise DataError(f"model '{model.name}' has no inputs yet; give it an Input or an input_shape")
    sample = first[:1] if isinstance(first, torch.Tensor) else torch.as_tensor(np.asarray(first)[:1])
    model.build_from_call((sample,), {})


def check_shape(data_shape, expected, where) -> None:
    data_shape, expected = tuple(data_shape), tuple(expected)
    fits = len(data_shape) == len(expected) and all(
        e is None or d == e for d, e in zip(data_shape[1:], expected[1:]))
    if not fits:
        raise DataError(f"data of shape {data_shape} does not fit the model, which expects "
                        f"{shape_text(expected)}", where=where)


def shape_text(shape) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + (",)" if len(shape) == 1 else ")")


def _as_array(value, name):
    if isinstance(value, torch.Tensor):
        return value
    array = np.asarray(value)
    if array.dtype == object:
        raise DataError(f"input '{name}' holds Python objects, not numbers")
    if array.ndim == 0:
        raise DataError(f"input '{name}' is a scalar; expected a batch of samples")
    return array


def to_tensor(array, device, dtype=None) -> torch.Tensor:
    """A batch as a tensor on ``device``; float64 becomes float32 as Keras's float32 policy does."""
    if isinstance(array, torch.Tensor):
        tensor = array
    else:
        array = np.ascontiguousarray(array)
        tensor = torch.from_numpy(array)
    if tensor.dtype == torch.float64:
        tensor = tensor.float()
    if dtype is not None and tensor.dtype != dtype:
        tensor = tensor.to(dtype)
    return tensor.to(device, non_blocking=True)

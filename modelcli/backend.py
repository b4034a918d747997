"""Where tensors live and how names are made: the few process-wide settings.

The device is CUDA when available, else CPU, unless ``set_device`` says otherwise
(the CLI's ``--device``). Layer names follow Keras: the snake_case class name with
a per-session counter (``dense``, ``dense_1``); ``clear_session`` resets them.
"""
from __future__ import annotations

import re
from collections import defaultdict

import torch

_device: torch.device | None = None
_name_counts: dict[str, int] = defaultdict(int)


def device() -> torch.device:
    global _device
    if _device is None:
        _device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        if _device.type == "cuda":
            _exact_float32()
    return _device


def _exact_float32() -> None:
    """float32 means float32, as on the CPU: no TF32 in matmuls or cuDNN convolutions/RNNs."""
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False


def set_device(name: str | torch.device | None) -> torch.device:
    """Pin the device (``"cpu"``, ``"cuda"``, ``"cuda:1"``); ``None`` returns to auto-detection."""
    global _device
    _device = None if name is None else torch.device(name)
    if _device is not None and _device.type == "cuda":
        _exact_float32()
    return device()


def snake_case(name: str) -> str:
    """Keras's rule: ``Conv2D`` → ``conv2d``, ``UpSampling1D`` → ``up_sampling1d``."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def unique_name(base: str) -> str:
    """``dense``, then ``dense_1``, ``dense_2``... as Keras names layers."""
    count = _name_counts[base]
    _name_counts[base] += 1
    return base if count == 0 else f"{base}_{count}"


def clear_session() -> None:
    """Forget the name counters (Keras's ``keras.backend.clear_session``)."""
    _name_counts.clear()


def floatx() -> str:
    return "float32"


_DTYPES = {
    "float32": torch.float32, "float64": torch.float64, "float16": torch.float16,
    "bfloat16": torch.bfloat16, "int32": torch.int32, "int64": torch.int64, "int16": torch.int16,
    "int8": torch.int8, "uint8": torch.uint8, "bool": torch.bool,
}


def torch_dtype(name: str) -> torch.dtype:
    return _DTYPES[name]


def dtype_name(dtype: torch.dtype) -> str:
    return {v: k for k, v in _DTYPES.items()}[dtype]

"""``to_categorical`` and ``normalize``: Keras's array helpers for targets and inputs."""
from __future__ import annotations

import numpy as np


def to_categorical(x, num_classes=None):
    """One-hot rows for integer class labels; a trailing axis of size 1 is dropped first.

    ``to_categorical([0, 2], 3)`` is ``[[1, 0, 0], [0, 0, 1]]`` (float64 as in Keras;
    a torch tensor gives a float32 tensor).
    """
    if _is_torch(x):
        import torch

        labels = x.long()
        if labels.ndim > 1 and labels.shape[-1] == 1:
            labels = labels.squeeze(-1)
        classes = int(labels.max()) + 1 if num_classes is None else num_classes
        return torch.nn.functional.one_hot(labels, classes).float()
    labels = np.array(x, dtype="int64")
    shape = labels.shape
    if len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    labels = labels.reshape(-1)
    if not num_classes:
        num_classes = int(np.max(labels)) + 1
    categorical = np.zeros((labels.shape[0], num_classes))
    categorical[np.arange(labels.shape[0]), labels] = 1
    return categorical.reshape(shape + (num_classes,))


def normalize(x, axis=-1, order=2):
    """``x`` divided by its ``order``-norm along ``axis`` (zero norms left as 1)."""
    if _is_torch(x):
        import torch

        norm = torch.linalg.vector_norm(x, ord=order, dim=axis, keepdim=True)
        return x / torch.where(norm == 0, torch.ones_like(norm), norm)
    x = np.asarray(x)
    norm = np.atleast_1d(np.linalg.norm(x, order, axis))
    norm[norm == 0] = 1
    return x / np.expand_dims(norm, -1 if axis is None else axis)


def _is_torch(x) -> bool:
    return type(x).__module__.startswith("torch")

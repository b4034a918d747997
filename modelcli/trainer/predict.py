"""``model.predict``: batched inference in eval mode, outputs gathered on the device."""
from __future__ import annotations

import math

import torch

from ..backend import torch_dtype
from .inputs import as_input_list, to_tensor


def predict(model, x, batch_size=32, steps=None):
    arrays = as_input_list(model, x)
    n = len(arrays[0])
    device = model._device()
    dtypes = [_input_dtype(t) for t in model.inputs]
    batches = math.ceil(n / batch_size) if steps is None else min(steps, math.ceil(n / batch_size))
    was_training = model.training
    model.eval()
    chunks = []
    try:
        with torch.inference_mode():
            for b in range(batches):
                part = slice(b * batch_size, min(n, (b + 1) * batch_size))
                inputs = [to_tensor(a[part], device, d) for a, d in zip(arrays, dtypes)]
                out = model.call(inputs if len(inputs) > 1 else inputs[0], training=False)
                chunks.append(out if isinstance(out, (list, tuple)) else [out])
    finally:
        model.train(was_training)
    if not chunks:
        return [torch.empty(0).numpy() for _ in model.outputs] if len(model.outputs) > 1 else torch.empty(0).numpy()
    results = [torch.cat([c[i] for c in chunks]).float().cpu().numpy() for i in range(len(chunks[0]))]
    return results[0] if len(results) == 1 else results


def _input_dtype(tensor):
    """Float inputs follow the model's float type; integer inputs keep theirs (Embedding indices)."""
    name = tensor.dtype
    return None if not name.startswith("float") else torch_dtype("float32")

"""Turning what ``fit`` / ``evaluate`` receive into batches of device tensors.

Arrays (NumPy, torch, lists or dicts of them) become tensors once — on the CPU
``torch.from_numpy`` shares memory, so a memory-mapped ``.npy`` is read only as
batches touch it; on a GPU they move once if they fit, else batch by batch from
pinned memory. Shuffling permutes indices on the device, so no per-batch NumPy
work or host sync happens. Python generators, ``modelcli.utils.Sequence`` and
torch ``DataLoader`` yield ``(x, y[, sample_weight])`` batches as in Keras.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from ..errors import DataError
from .inputs import as_input_list, check_shape


def _as_tensor(array):
    if isinstance(array, torch.Tensor):
        return array
    array = np.asarray(array)
    if array.dtype == np.float64:
        array = array.astype(np.float32)
    if not array.flags.c_contiguous and not isinstance(array, np.memmap):
        array = np.ascontiguousarray(array)
    if array.dtype == object:
        raise DataError("data holds Python objects, not numbers")
    return torch.from_numpy(array) if array.flags.writeable else torch.as_tensor(array)


def target_list(model, y):
    """The targets for ``model.outputs``, in order, from an array, a list or a name-keyed dict."""
    names = model.output_names
    if y is None:
        return None
    if isinstance(y, dict):
        missing = [n for n in names if n not in y]
        if missing:
            raise DataError(f"no targets for output '{missing[0]}'; the model's outputs are {names}, "
                            f"the data has {sorted(y)}")
        return [y[n] for n in names]
    if isinstance(y, (list, tuple)) and len(names) > 1:
        if len(y) != len(names):
            raise DataError(f"the model has {len(names)} outputs ({', '.join(names)}) but got {len(y)} target arrays")
        return list(y)
    return [y]


class ArrayData:
    """Parallel arrays: inputs, targets (optional), per-output sample weights (optional)."""

    def __init__(self, xs, ys=None, sws=None):
        self.xs, self.ys, self.sws = xs, ys, sws
        self.n = len(xs[0])
        for name, arrays in (("targets", ys or []), ("sample weights", [s for s in sws or [] if s is not None])):
            for a in arrays:
                if len(a) != self.n:
                    raise DataError(f"{name} have {len(a)} samples but the inputs have {self.n}",
                                    hint="x and y must have one row per sample")
        if self.n == 0:
            raise DataError("the data has no samples")

    @classmethod
    def from_user(cls, model, x, y=None, sample_weight=None, class_weight=None):
        xs = [_as_tensor(a) for a in as_input_list(model, x)]
        ys = target_list(model, y)
        ys = [_as_tensor(a) for a in ys] if ys is not None else None
        if ys is not None:
            for t, a, name in zip(model.outputs, ys, model.output_names):
                _check_target(a, t.shape, name)
        sws = _sample_weights(model, sample_weight, class_weight, ys)
        return cls(xs, ys, sws)

    def split(self, fraction):
        """(train, validation): the validation part is the last floor(n·fraction) samples, unshuffled."""
        split_at = int(math.floor(self.n * (1.0 - fraction)))
        if split_at == 0 or split_at == self.n:
            raise DataError(f"validation_split={fraction} leaves no data for training or validation "
                            f"with {self.n} samples")

        def part(arrays, s):
            return None if arrays is None else [None if a is None else a[s] for a in arrays]

        head, tail = slice(0, split_at), slice(split_at, self.n)
        return (ArrayData(part(self.xs, head), part(self.ys, head), part(self.sws, head)),
                ArrayData(part(self.xs, tail), part(self.ys, tail), part(self.sws, tail)))

    def steps(self, batch_size):
        return math.ceil(self.n / batch_size)

    def to_device(self, device):
        """Move everything to ``device`` once when it fits (always on CPU: that is free)."""
        if device.type != "cpu" and not _fits(self, device):
            self._pin = True
            return self
        move = lambda a: None if a is None else a.to(device, non_blocking=True)  # noqa: E731
        self.xs = [move(a) for a in self.xs]
        self.ys = None if self.ys is None else [move(a) for a in self.ys]
        self.sws = None if self.sws is None else [move(a) for a in self.sws]
        return self

    def batches(self, batch_size, shuffle=False, generator=None, device=None, steps=None):
        """Yield (xs, ys, sws) lists of tensors; the last batch may be smaller."""
        n = self.n
        order = None
        if shuffle is True:
            order = torch.randperm(n, generator=generator).to(self.xs[0].device)
        elif shuffle == "batch":
            count = math.ceil(n / batch_size)
            order = [b for b in torch.randperm(count, generator=generator).tolist()]
        count = math.ceil(n / batch_size) if steps is None else min(steps, math.ceil(n / batch_size))
        for b in range(count):
            if shuffle == "batch":
                k = order[b]
                index = slice(k * batch_size, min(n, (k + 1) * batch_size))
            elif order is not None:
                index = order[b * batch_size:(b + 1) * batch_size]
            else:
                index = slice(b * batch_size, min(n, (b + 1) * batch_size))
            yield self._take(index, device)

    def _take(self, index, device):
        def take(a):
            if a is None:
                return None
            part = a[index]
            return part if device is None or part.device == device else part.to(device, non_blocking=True)
        return ([take(a) for a in self.xs], None if self.ys is None else [take(a) for a in self.ys],
                None if self.sws is None else [take(a) for a in self.sws])


def _fits(data, device) -> bool:
    total = sum(a.numel() * a.element_size() for a in data.xs + (data.ys or []))
    free, _ = torch.cuda.mem_get_info(device)
    return total < 0.4 * free


def _check_target(array, output_shape, name):
    if array.ndim == 0:
        raise DataError(f"targets for output '{name}' are a scalar; expected one row per sample")
    rank_ok = array.ndim in (len(output_shape), len(output_shape) - 1)
    if not rank_ok:
        raise DataError(f"targets of shape {tuple(array.shape)} do not fit output '{name}' of shape "
                        f"{_text(output_shape)}", where=f"y[{name}]")


def _text(shape):
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


def _sample_weights(model, sample_weight, class_weight, ys):
    names = model.output_names
    sws = None
    if sample_weight is not None:
        if isinstance(sample_weight, dict):
            sws = [None if sample_weight.get(n) is None else _as_tensor(sample_weight[n]).float() for n in names]
        elif isinstance(sample_weight, (list, tuple)) and len(names) > 1:
            sws = [None if s is None else _as_tensor(s).float() for s in sample_weight]
        else:
            sws = [_as_tensor(sample_weight).float()] * len(names)
    if class_weight is not None:
        if len(names) > 1:
            raise DataError("class_weight is only supported for models with a single output",
                            hint="use sample_weight per output instead")
        if ys is None:
            raise DataError("class_weight needs targets")
        cw = _class_weights(class_weight, ys[0])
        sws = [cw if sws is None or sws[0] is None else sws[0] * cw]
    return sws


def _class_weights(class_weight, y):
    """Each sample's weight from its class (argmax of one-hot targets, else the label)."""
    labels = y.argmax(-1) if y.ndim > 1 and y.shape[-1] > 1 else y.reshape(len(y), -1)[:, 0]
    labels = labels.long()
    top = int(labels.max()) if labels.numel() else 0
    table = torch.ones(max(top + 1, max(int(k) for k in class_weight) + 1))
    for k, v in class_weight.items():
        table[int(k)] = float(v)
    return table[labels]


def check_inputs(model, xs):
    for array, tensor, name in zip(xs, model.inputs, model.input_names):
        check_shape(array.shape, tensor.shape, f"input '{name}'")


class IteratorData:
    """Batches from a Python generator, a ``Sequence`` or a torch ``DataLoader``."""

    def __init__(self, source, steps=None):
        self.source = source
        self._steps = steps
        if steps is None and hasattr(source, "__len__"):
            self._steps = len(source)

    def steps(self, batch_size=None):
        return self._steps

    def batches(self, model, device, steps=None, epoch=0):
        limit = steps or self._steps
        if hasattr(self.source, "__getitem__") and hasattr(self.source, "__len__") and \
                not isinstance(self.source, torch.utils.data.DataLoader):
            iterator = (self.source[i] for i in range(len(self.source)))
        else:
            iterator = iter(self.source)
        for b, item in enumerate(iterator):
            if limit is not None and b >= limit:
                break
            yield _unpack(model, item, device)
        if hasattr(self.source, "on_epoch_end"):
            self.source.on_epoch_end()


def _unpack(model, item, device):
    if not isinstance(item, (list, tuple)) or len(item) not in (1, 2, 3):
        raise DataError("a generator must yield (inputs, targets) or (inputs, targets, sample_weights)")
    x = item[0]
    y = item[1] if len(item) > 1 else None
    sw = item[2] if len(item) > 2 else None
    data = ArrayData.from_user(model, x, y, sw)
    return data._take(slice(None), device)

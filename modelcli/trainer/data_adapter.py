"""Turning what ``fit`` / ``evaluate`` / ``predict`` receive into batches of device tensors.

Every kind of data becomes a *source* that hands out one pass over the data at a
time (``passes`` of ``(xs, ys, sws)`` lists of tensors), says how many batches a
pass has (``num_batches``, None when unknown) and gets ``on_epoch_begin`` /
``on_epoch_end`` around each epoch:

- :class:`ArrayData` — NumPy, torch, lists, or lists / dicts of them. They become
  tensors once (on the CPU ``torch.from_numpy`` shares memory, so a memory-mapped
  ``.npy`` is read only as batches touch it; on a GPU they move once if they fit).
  Shuffling draws one order per pass on the host from torch's global generator
  and moves it to the device once: no per-batch NumPy work and no host sync.
- :class:`SequenceData` — a ``modelcli.utils.Sequence`` (Keras's ``Sequence`` /
  ``PyDataset``): batches by index, in order (``shuffle=True`` shuffles the batch
  order with Python's ``random``, as Keras does), fetched by ``workers`` threads
  up to ``max_queue_size`` batches ahead.
- :class:`IterableData` — a Python generator (one pass in its lifetime, read
  ahead by one thread) or a torch ``DataLoader`` (a fresh pass each time; it has
  its own workers).

:class:`EpochIterator` cuts passes into epochs with Keras's ``steps_per_epoch`` rule.
"""
from __future__ import annotations

import collections
import itertools
import math
import queue
import random
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

from ..errors import DataError
from ..utils.packing import unpack_x_y_sample_weight
from .inputs import as_input_list, holds_arrays, output_keys, shape_text
from .prefetch import prefetch, staged


# ----- what the user passed ------------------------------------------------------------------------
def is_array_like(x) -> bool:
    return (x is None or isinstance(x, (list, tuple, dict, np.ndarray, torch.Tensor))
            or hasattr(x, "__array__") or (hasattr(x, "shape") and hasattr(x, "dtype")))


def is_dataloader(x) -> bool:
    return isinstance(x, torch.utils.data.DataLoader)


def is_sequence(x) -> bool:
    """A Keras ``Sequence`` / ``PyDataset`` (ours or one that looks like it): batches by index."""
    return (not is_array_like(x) and not is_dataloader(x) and hasattr(x, "__getitem__")
            and (hasattr(x, "__len__") or hasattr(x, "num_batches")))


def is_batch_source(x) -> bool:
    """True for data that yields whole batches: a generator, an iterable, a Sequence, a DataLoader."""
    return not is_array_like(x) and (is_dataloader(x) or is_sequence(x) or hasattr(x, "__iter__")
                                     or hasattr(x, "__next__"))


def adapt(model, x, y=None, sample_weight=None, class_weight=None, *, batch_size=None, steps=None,
          shuffle=False, workers=None, use_multiprocessing=None, max_queue_size=None, what="fit"):
    """The source for ``x`` (and ``y`` / weights for arrays), with Keras's argument checks."""
    if x is None:
        raise DataError(f"{what}() needs input data x")
    if class_weight is not None and sample_weight is not None:
        raise DataError("You cannot `class_weight` and `sample_weight` at the same time.",
                        hint="fold the class weights into sample_weight")
    if class_weight is not None and not isinstance(class_weight, dict):
        raise DataError(f"class_weight must be a dict mapping class indices to weights, "
                        f"got {type(class_weight).__name__}")
    if shuffle not in (True, False, None, "batch"):
        raise DataError(f"shuffle must be True, False or 'batch', got {shuffle!r}")
    if not is_batch_source(x):
        if y is None and what != "predict":
            raise DataError(f"{what}() needs targets y")
        data = ArrayData.from_user(model, x, y if what != "predict" else None, sample_weight, class_weight)
        data.batch_size = batch_size or (math.ceil(data.n / steps) if steps else 32)
        data.shuffle = shuffle
        return data
    kind = "DataLoader" if is_dataloader(x) else "Sequence" if is_sequence(x) else "generator"
    for name, value in (("y", y), ("sample_weight", sample_weight)):
        if value is not None:
            raise DataError(f"When providing `x` as a {kind}, `{name}` should not be passed; the {kind} "
                            f"yields it as part of each batch: (inputs, targets[, sample_weights])")
    loading = _Loading(x, workers, use_multiprocessing, max_queue_size)
    if kind == "Sequence":
        return SequenceData(model, x, class_weight, what, loading, shuffle is True)
    return IterableData(model, x, class_weight, what, loading)


def train_validation_split(x, y, sample_weight, fraction):
    """``((x, y, sample_weight), (x_val, y_val, sample_weight_val))``: the last floor(n·fraction) samples
    validate, taken before any shuffling, as Keras takes them."""
    if is_batch_source(x):
        raise DataError("Argument `validation_split` is only supported for tensors or NumPy arrays, "
                        f"not for a {type(x).__name__}", hint="pass validation_data instead")
    if not 0 < fraction < 1:
        raise DataError(f"validation_split must be between 0 and 1, got {fraction}")
    n = _length(x)
    split_at = int(math.floor(n * (1.0 - fraction)))
    if split_at == 0 or split_at == n:
        raise DataError(f"Training data contains {n} samples, which is not sufficient to split it into "
                        f"a validation and training set as specified by `validation_split={fraction}`")
    head, tail = slice(0, split_at), slice(split_at, n)
    return (tuple(_cut(a, head) for a in (x, y, sample_weight)),
            tuple(_cut(a, tail) for a in (x, y, sample_weight)))


def _cut(data, part):
    """``data`` (None, an array, or a list / tuple / dict of arrays) cut to ``part`` along the samples."""
    if data is None:
        return None
    if isinstance(data, dict):
        return {k: _cut(v, part) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        if holds_arrays(data):
            return type(data)(_cut(a, part) for a in data)
        data = np.asarray(data)
    return data[part]


def _length(data) -> int:
    if isinstance(data, dict):
        return _length(next(iter(data.values())))
    if isinstance(data, (list, tuple)) and holds_arrays(data):
        return _length(next(a for a in data if a is not None))
    return len(data)


class _Loading:
    """``workers`` / ``use_multiprocessing`` / ``max_queue_size``: the call's values, else the Sequence's."""

    def __init__(self, source, workers, use_multiprocessing, max_queue_size):
        pick = lambda value, name, default: value if value is not None else getattr(source, name, default)  # noqa: E731
        self.workers = pick(workers, "workers", 1)
        self.max_queue_size = pick(max_queue_size, "max_queue_size", 10)
        if pick(use_multiprocessing, "use_multiprocessing", False):
            raise DataError("use_multiprocessing=True is not supported: worker processes would fork a process "
                            "that holds torch's threads and tensors",
                            hint="use workers=N (threads) for a Sequence, or a torch DataLoader with num_workers")
        if not isinstance(self.workers, int) or self.workers < 0:
            raise DataError(f"workers must be an integer >= 0, got {self.workers!r}")


class Source:
    """One pass at a time over some data (see the module docstring)."""

    num_batches = None

    def passes(self, device):
        raise NotImplementedError

    def on_epoch_begin(self):
        pass

    def on_epoch_end(self):
        pass

    def close(self):
        pass


# ----- arrays -------------------------------------------------------------------------------------
def _as_tensor(array):
    if isinstance(array, torch.Tensor):
        return array.float() if array.dtype == torch.float64 else array
    array = np.asarray(array)
    if array.dtype == object:
        raise DataError("data holds Python objects, not numbers")
    if array.dtype == np.float64:
        array = array.astype(np.float32)
    if not array.flags.c_contiguous and not isinstance(array, np.memmap):
        array = np.ascontiguousarray(array)
    return torch.from_numpy(array) if array.flags.writeable else torch.as_tensor(array)


def target_list(model, y):
    """The targets for ``model.outputs``, in order, from an array, a list or a name-keyed dict."""
    keys = output_keys(model)
    if y is None:
        return None
    if isinstance(y, dict):
        missing = [k for k in keys if k not in y]
        if missing:
            raise DataError(f"no targets for output '{missing[0]}'; the model's outputs are {keys}, "
                            f"the data has {sorted(y)}")
        return [y[k] for k in keys]
    if len(keys) > 1:
        if not isinstance(y, (list, tuple)) or len(y) != len(keys):
            count = len(y) if isinstance(y, (list, tuple)) else 1
            raise DataError(f"the model has {len(keys)} outputs ({', '.join(keys)}) but got {count} target arrays")
        return list(y)
    if isinstance(y, (list, tuple)) and len(y) == 1 and hasattr(y[0], "shape"):
        return list(y)
    return [y]


class ArrayData(Source):
    """Parallel tensors: inputs, targets (optional), per-output sample weights (optional)."""

    batch_size = 32
    shuffle = False
    shard = None  # a distributed.shard.BatchShard: this worker's part of each batch (several devices only)
    _placed_on = None

    def __init__(self, xs, ys=None, sws=None):
        self.xs, self.ys, self.sws = xs, ys, sws
        self.n = len(xs[0])
        if self.n == 0:
            raise DataError("the data has no samples")

    @classmethod
    def from_user(cls, model, x, y=None, sample_weight=None, class_weight=None):
        xs = [_as_tensor(a) for a in as_input_list(model, x)]
        ys = target_list(model, y)
        ys = [_as_tensor(a) for a in ys] if ys is not None else None
        if ys is not None:
            for tensor, array, key in zip(model.outputs, ys, output_keys(model)):
                _check_target(array, tensor.shape, key)
                _check_count(array, len(xs[0]), f"y['{key}']" if len(ys) > 1 else "y")
        sws = _sample_weights(model, sample_weight, class_weight, ys)
        for sw, key in zip(sws or [], output_keys(model)):
            if sw is not None:
                _check_count(sw, len(xs[0]), f"sample_weight['{key}']" if len(sws) > 1 else "sample_weight")
        return cls(xs, ys, sws)

    @property
    def num_batches(self):
        return math.ceil(self.n / self.batch_size)

    def to_device(self, device):
        """Move everything to ``device`` once when it fits (always on CPU: that is free)."""
        self._placed_on = device
        if device.type != "cpu" and not _fits(self, device):
            return self
        move = lambda a: None if a is None else a.to(device, non_blocking=True)  # noqa: E731
        self.xs = [move(a) for a in self.xs]
        self.ys = None if self.ys is None else [move(a) for a in self.ys]
        self.sws = None if self.sws is None else [move(a) for a in self.sws]
        return self

    def passes(self, device):
        """One pass: (xs, ys, sws) batches of ``batch_size`` (the last may be smaller)."""
        if self._placed_on != device:
            self.to_device(device)
        n, size = self.n, self.batch_size
        order = _order(n, size, self.shuffle)
        if self.shard is not None:
            order = self.shard.same_order(order)
        if order is not None:
            order = order.to(self.xs[0].device)
        host = staged(self.xs[0].device, device)  # too big for the device: cut here, prefetch there
        batches = (self.take(self._batch_index(order, start, min(n, start + size)), None if host else device)
                   for start in range(0, n, size))
        yield from prefetch(batches, device) if host else batches

    def _batch_index(self, order, start, stop):
        """The samples of the batch ``[start, stop)`` of this pass (this worker's part of it)."""
        if self.shard is not None:
            start, stop = self.shard.part(start, stop)
        return slice(start, stop) if order is None else order[start:stop]

    def take(self, index, device):
        def take(a):
            if a is None:
                return None
            # index_select, not a[index]: the same gather at a fraction of advanced indexing's host cost
            part = a[index] if isinstance(index, slice) else a.index_select(0, index)
            return part if device is None or part.device == device else part.to(device, non_blocking=True)
        return ([take(a) for a in self.xs], None if self.ys is None else [take(a) for a in self.ys],
                None if self.sws is None else [take(a) for a in self.sws])


def _order(n, batch_size, shuffle):
    """The sample order of one pass, drawn from torch's global generator (``set_random_seed`` fixes it).

    ``True``: a permutation of all samples (seeded from the global generator, as torch's
    RandomSampler does). ``'batch'``: batches stay in order and each is permuted within
    itself, as in Keras 3 (HDF5-friendly: every batch still reads one contiguous block).
    """
    if shuffle is True:
        seed = int(torch.empty((), dtype=torch.int64).random_().item())
        return torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    if shuffle == "batch":  # sort keys "batch number + uniform draw": each batch permuted within itself
        return torch.argsort(torch.arange(n, dtype=torch.float64).div_(batch_size).floor_()
                             + torch.rand(n, dtype=torch.float64))
    return None


def _fits(data, device) -> bool:
    total = sum(a.numel() * a.element_size() for a in data.xs + (data.ys or []))
    free, _ = torch.cuda.mem_get_info(device)
    return total < 0.4 * free


def _check_count(array, n, name):
    if len(array) != n:
        raise DataError(f"Data cardinality is ambiguous: x has {n} samples but {name} has {len(array)}",
                        hint="make sure all arrays contain the same number of samples")


def _check_target(array, output_shape, name):
    if array.ndim == 0:
        raise DataError(f"targets for output '{name}' are a scalar; expected one row per sample")
    if array.ndim not in (len(output_shape), len(output_shape) - 1):
        raise DataError(f"targets of shape {tuple(array.shape)} do not fit output '{name}' of shape "
                        f"{shape_text(output_shape)}", where=f"y[{name}]")


def _sample_weights(model, sample_weight, class_weight, ys):
    """One weight tensor (or None) per output: per sample (n,) or per timestep (n, T)."""
    keys = output_keys(model)
    sws = None
    if sample_weight is not None:
        if isinstance(sample_weight, dict):
            unknown = [k for k in sample_weight if k not in keys]
            if unknown:
                raise DataError(f"sample_weight names output '{unknown[0]}', but the model's outputs are {keys}")
            sws = [sample_weight.get(k) for k in keys]
        elif isinstance(sample_weight, (list, tuple)) and len(keys) > 1:
            if len(sample_weight) != len(keys):
                raise DataError(f"You should provide one `sample_weight` array per output: the model has "
                                f"{len(keys)} outputs, got {len(sample_weight)} arrays")
            sws = list(sample_weight)
        else:
            sws = [sample_weight] * len(keys)
        sws = [None if s is None else _as_tensor(s).float() for s in sws]
        if len(keys) > 1 and not isinstance(sample_weight, (list, tuple, dict)) and sws[0].ndim > 1 \
                and sws[0].shape[1] != 1:
            raise DataError("For a model with multiple outputs, a single `sample_weight` array must have one "
                            f"weight per sample, got shape {tuple(sws[0].shape)}",
                            hint="pass a list or dict with one array per output for per-timestep weights")
        _check_temporal(model, sws)
    if class_weight is not None:
        if len(keys) > 1:
            raise DataError("`class_weight` is only supported for Models with a single output.",
                            hint="use sample_weight per output instead")
        if ys is None:
            raise DataError("class_weight needs targets y")
        sws = [class_weight_to_sample_weights(ys[0], class_weight)]
    return sws


def _check_temporal(model, sws):
    """With ``compile(sample_weight_mode='temporal')`` an output's weights must be 2D, (samples, timesteps)."""
    modes = getattr(model, "_sample_weight_modes", None) or [None] * len(sws)
    for sw, mode, key in zip(sws, modes, output_keys(model)):
        if mode == "temporal" and sw is not None and sw.ndim != 2:
            raise DataError(f"sample_weight for output '{key}' has shape {tuple(sw.shape)}; "
                            "sample_weight_mode='temporal' expects 2D weights (samples, timesteps)")


def class_weight_to_sample_weights(y, class_weight):
    """Each sample's weight from its class: argmax of one-hot rows, else the rounded label (Keras's rule);
    classes missing from ``class_weight`` weigh 1."""
    labels = y
    if labels.ndim > 1:
        labels = labels.argmax(-1) if labels.shape[-1] != 1 else labels.squeeze(-1)
    if labels.ndim != 1:
        raise DataError(f"class_weight needs one class per sample, but targets of shape {tuple(y.shape)} give "
                        f"{tuple(labels.shape[1:])} per sample", hint="use sample_weight for per-timestep weights")
    labels = torch.round(labels.float()).long()
    known = [int(k) for k in class_weight]
    size = max(known + [int(labels.max()) if labels.numel() else 0]) + 1
    table = torch.ones(size)
    for k, v in class_weight.items():
        table[int(k)] = float(v)
    return table.to(labels.device)[labels]


# ----- Sequences, generators, DataLoaders ----------------------------------------------------------------
class _BatchStream(Source):
    """What Sequences and iterables share: turning yielded batches into tensors."""

    def __init__(self, model, class_weight, what):
        self.model = model
        self.class_weight = class_weight
        self.what = what

    def convert(self, item, device):
        x, y, sw = unpack_x_y_sample_weight(item)
        if self.what == "predict":
            y = sw = None
        elif y is None:
            raise DataError(f"{self.what}() needs targets, but a batch holds inputs only",
                            hint="yield (inputs, targets) or (inputs, targets, sample_weights)")
        if self.class_weight is not None and sw is not None:
            raise DataError("You cannot specify `class_weight` and `sample_weight` at the same time: "
                            "the batches already carry sample weights")
        data = ArrayData.from_user(self.model, x, y, sw, self.class_weight)
        return data.take(slice(None), device)


class SequenceData(_BatchStream):
    def __init__(self, model, sequence, class_weight, what, loading, shuffle):
        super().__init__(model, class_weight, what)
        self.sequence = sequence
        self.shuffle = shuffle
        self.loading = loading

    @property
    def num_batches(self):
        return self.sequence.num_batches if hasattr(self.sequence, "num_batches") else len(self.sequence)

    def on_epoch_begin(self):
        if hasattr(self.sequence, "on_epoch_begin"):
            self.sequence.on_epoch_begin()

    def on_epoch_end(self):
        if hasattr(self.sequence, "on_epoch_end"):
            self.sequence.on_epoch_end()

    def passes(self, device):
        count = self.num_batches
        indices = itertools.count() if count is None else list(range(count))
        if self.shuffle and count is not None:
            random.shuffle(indices)
        items = (_ordered_map(self.sequence.__getitem__, indices, self.loading) if self.loading.workers
                 else map(self.sequence.__getitem__, indices))
        for item in items:
            yield self.convert(item, device)


def _ordered_map(fn, indices, loading):
    """``map(fn, indices)`` computed by ``workers`` threads, at most ``max_queue_size`` ahead, in order."""
    pool = ThreadPoolExecutor(loading.workers)
    pending = collections.deque()
    indices = iter(indices)
    try:
        for index in itertools.islice(indices, max(1, loading.max_queue_size)):
            pending.append(pool.submit(fn, index))
        while pending:
            result = pending.popleft().result()
            for index in itertools.islice(indices, 1):
                pending.append(pool.submit(fn, index))
            yield result
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


class IterableData(_BatchStream):
    """A DataLoader or re-iterable object (a fresh pass each time), or a generator (one pass, ever)."""

    def __init__(self, model, source, class_weight, what, loading):
        super().__init__(model, class_weight, what)
        self.source = source
        self.loading = loading
        self._one_shot = hasattr(source, "__next__") and not is_dataloader(source)
        self._ahead = None

    @property
    def num_batches(self):
        try:
            return len(self.source) if hasattr(self.source, "__len__") else None
        except TypeError:  # a DataLoader over an IterableDataset has no length
            return None

    def passes(self, device):
        if not self._one_shot:
            items = iter(self.source)
        else:
            if self._ahead is None:  # one reader for the generator's whole life: nothing read ahead is lost
                self._ahead = _ReadAhead(self.source, self.loading.max_queue_size) if self.loading.workers \
                    else iter(self.source)
            items = self._ahead
        for item in items:
            yield self.convert(item, device)

    def close(self):
        if isinstance(self._ahead, _ReadAhead):
            self._ahead.close()


class _ReadAhead:
    """Iterate ``items`` in a background thread, up to ``size`` items ahead; errors surface in order."""

    _DONE = object()

    def __init__(self, items, size):
        self._queue = queue.Queue(max(1, size))
        self._stop = threading.Event()
        self._finished = False
        self._thread = threading.Thread(target=self._run, args=(items,), daemon=True)
        self._thread.start()

    def _run(self, items):
        try:
            for item in items:
                if not self._put((item, None)):
                    return
        except BaseException as err:  # noqa: BLE001 - handed to the consumer
            self._put((None, err))
            return
        self._put((self._DONE, None))

    def _put(self, entry) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(entry, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self):
        return self

    def __next__(self):
        if self._finished:
            raise StopIteration
        item, err = self._queue.get()
        if err is not None or item is self._DONE:
            self._finished = True
            if err is not None:
                raise err
            raise StopIteration
        return item

    def close(self):
        """Stop reading; wait a moment for the thread, so a later reader of the same generator is alone."""
        self._stop.set()
        self._thread.join(timeout=1.0)


# ----- epochs ---------------------------------------------------------------------------------------------
class EpochIterator:
    """The batches of each epoch, with Keras's rule for ``steps_per_epoch``.

    Without it an epoch is one pass. With it, epochs draw ``steps`` batches each from
    a pass that carries on into the next epoch, and a new pass starts only once the
    current one is used up — an epoch that reaches the end of a pass stops there
    (with a warning) rather than wrap around. Keras does the same with arrays.
    """

    def __init__(self, source, steps=None):
        if steps is not None and (not isinstance(steps, int) or steps < 1):
            raise DataError(f"steps must be a positive integer or None, got {steps!r}")
        self.source = source
        self.steps = steps
        self._pass = None
        self._seen = 0

    @property
    def num_steps(self):
        """The steps of an epoch for the progress bar (None when unknown)."""
        return self.steps or self.source.num_batches

    def epoch(self, device):
        self.source.on_epoch_begin()
        try:
            if self.steps is None:
                yield from self.source.passes(device)
                return
            total = self.source.num_batches
            for _ in range(self.steps):
                if self._pass is None:
                    self._pass, self._seen = self.source.passes(device), 0
                batch = next(self._pass, None) if total is None or self._seen < total else None
                if batch is None:
                    self._pass = None
                    warnings.warn("Your input ran out of data; this epoch ends early. Make sure the data can "
                                  "give `steps_per_epoch * epochs` batches.", stacklevel=4)
                    return
                self._seen += 1
                yield batch
            if total is not None and self._seen >= total:
                self._pass = None
        finally:
            self.source.on_epoch_end()

    def close(self):
        self._pass = None
        self.source.close()

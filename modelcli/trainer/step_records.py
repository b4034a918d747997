"""Step results kept for the loss tracker and metrics, fed to them a few dozen steps at a time.

Keras updates the metrics after every step. For the metrics whose state is a sum
over samples (every built-in one: means of per-sample values, confusion counts, AUC's
threshold counts) updating once with the concatenation of several batches gives the
same state, up to float rounding in the order of the additions. Doing so turns a
dozen small tensor ops and their Python glue per step into the same dozen per flush,
which is what a small model's step time is made of (the tiny MLP of
``benchmarks/train_speed.py`` spent about a sixth of its step there).

Each step's loss, targets, predictions, masks and sample weights are copied into
buffers allocated once, rather than kept as they are: tensors kept alive across steps
would sit in the holes the freed batches leave in the CPU heap, and a memory-mapped
epoch of 2 MiB batches then grew the heap by about 1 MiB a step. The buffers hold
``max_steps`` steps or about ``max_elements`` elements, whichever is less; they are
flushed when full, when a batch's structure changes (another sequence length, sample
weights appearing), and whenever the logs are read: at epoch ends, and when a
callback or the progress bar reads batch logs. A metric that is not known to be
such a sum (a user's metric, a user's function that returns one value per batch)
makes the trainer update after every step, as Keras does.
"""
from __future__ import annotations

import torch


class StepRecords:
    """Buffers of the steps not yet counted: ``add`` each step, ``drain`` to count them."""

    def __init__(self, max_steps: int = 64, max_elements: int = 1 << 20):
        self.max_steps = max_steps
        self.max_elements = max_elements
        self._structure = None
        self._columns = None  # one buffer per target, prediction, mask and sample weight (or None)
        self._losses = None
        self.counts = []
        self._rows = 0

    def __bool__(self):
        return bool(self.counts)

    @property
    def full(self) -> bool:
        return bool(self.counts) and (len(self.counts) >= self._max_steps or self._rows >= self._capacity)

    def clear(self):
        self.counts = []
        self._rows = 0

    def add(self, loss, count, ys, preds, masks, sws) -> bool:
        """Copy one step in; False (nothing copied) when it does not fit what is held: drain first."""
        tensors = _flatten(ys, preds, masks, sws)
        structure = tuple(None if t is None else (t.shape[1:], t.dtype, t.device) for t in tensors)
        rows = tensors[0].shape[0]
        if structure != self._structure or self._columns is None or self._rows + rows > self._capacity:
            if self.counts:
                return False
            self._allocate(structure, tensors, loss)
        for buffer, tensor in zip(self._columns, tensors):
            if buffer is not None:
                buffer[self._rows:self._rows + rows].copy_(tensor)
        self._losses[len(self.counts)].copy_(loss)
        self.counts.append(count)
        self._rows += rows
        return True

    def drain(self):
        """``(losses, counts, (ys, preds, masks, sws))`` of the steps held, as views of the
        buffers (valid until the next ``add``); the records are empty afterwards."""
        steps, rows = len(self.counts), self._rows
        views = [None if b is None else b[:rows] for b in self._columns]
        losses, counts = self._losses[:steps], self.counts
        self.clear()
        n = len(views) // 4
        parts = [views[i * n:(i + 1) * n] for i in range(4)]
        return losses, counts, tuple(None if all(v is None for v in part) and i in (2, 3) else part
                                     for i, part in enumerate(parts))

    def _allocate(self, structure, tensors, loss):
        rows = tensors[0].shape[0]
        per_row = sum(t[:1].numel() for t in tensors if t is not None) or 1
        steps = max(1, min(self.max_steps, self.max_elements // (per_row * rows)))
        self._max_steps, self._capacity = steps, steps * rows
        self._structure = structure
        self._columns = [None if t is None else torch.empty((self._capacity,) + tuple(t.shape[1:]), dtype=t.dtype,
                                                            device=t.device) for t in tensors]
        self._losses = torch.empty((steps,) + tuple(loss.shape), dtype=loss.dtype, device=loss.device)


def _flatten(ys, preds, masks, sws):
    n = len(preds)
    return list(ys) + list(preds) + (list(masks) if masks is not None else [None] * n) + \
        (list(sws) if sws is not None else [None] * n)

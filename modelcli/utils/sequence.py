"""``Sequence``: a dataset that hands out whole batches by index (Keras's ``keras.utils.Sequence``).

Keras 3 renamed it ``PyDataset``; both names work here. A subclass defines
``__len__`` (the number of batches per epoch) and ``__getitem__(index)``, which
returns ``(inputs, targets)`` or ``(inputs, targets, sample_weights)``;
``on_epoch_end`` runs after every epoch (reshuffle there) and ``on_epoch_begin``
before. Because batches are addressed by index, ``fit`` can fetch them from
several threads and still feed them in order, and ``shuffle=True`` shuffles the
batch order each epoch.

``workers``, ``use_multiprocessing`` and ``max_queue_size`` are Keras 3's
constructor arguments; the same arguments of ``fit`` / ``evaluate`` /
``predict`` override them. A Keras 2 subclass that never calls
``super().__init__()`` still gets the defaults.
"""
from __future__ import annotations

import itertools


class Sequence:
    workers = 1
    use_multiprocessing = False
    max_queue_size = 10

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self.workers = workers
        self.use_multiprocessing = use_multiprocessing
        self.max_queue_size = max_queue_size

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__(index)")

    @property
    def num_batches(self):
        """Batches per epoch, or None for an endless dataset (Keras 3); ``len()`` by default."""
        if type(self).__len__ is not Sequence.__len__:
            return len(self)
        raise NotImplementedError(f"{type(self).__name__} must implement __len__ (or num_batches)")

    def __len__(self):
        count = self.num_batches
        if count is None:
            raise TypeError(f"{type(self).__name__} is endless and has no length")
        return count

    def __iter__(self):
        indices = range(self.num_batches) if self.num_batches is not None else itertools.count()
        for index in indices:
            yield self[index]

    def on_epoch_begin(self):
        """Called before every epoch."""

    def on_epoch_end(self):
        """Called after every epoch."""


PyDataset = Sequence

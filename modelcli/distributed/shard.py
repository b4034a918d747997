"""Each worker's part of every global batch.

``batch_size`` keeps Keras's meaning under ``--devices N``: the GLOBAL batch. Every
worker draws the same sample order (rank 0's, broadcast once a pass, so even workers
whose random generators drifted apart — dropout draws per worker — agree), cuts the
same global batches a single process would, and keeps its contiguous slice of each:
with ``b`` samples in a batch, ranks below ``b mod N`` hold ``b // N + 1`` and the rest
``b // N``. The last, partial batch may leave a worker nothing; it then contributes a
zero gradient (see :mod:`modelcli.distributed.replica`).
"""
from __future__ import annotations

from . import context


class BatchShard:
    def __init__(self, world):
        self.rank, self.size = world.rank, world.size

    def part(self, start: int, stop: int) -> tuple[int, int]:
        """This worker's ``[start, stop)`` within the global batch ``[start, stop)``."""
        base, extra = divmod(stop - start, self.size)
        lo = start + self.rank * base + min(self.rank, extra)
        return lo, lo + base + (1 if self.rank < extra else 0)

    def same_order(self, order):
        """Rank 0's sample order (None — no shuffling — stays None)."""
        return order if order is None else context.broadcast_(order)

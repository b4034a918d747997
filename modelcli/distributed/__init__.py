"""Data-parallel training on several devices (``modelcli train --devices N``, or under ``torchrun``).

- :mod:`.context` — which worker this is (rank, world size) and the collectives;
- :mod:`.shard` — each worker's part of a global batch;
- :mod:`.replica` — the gradient all-reduce and the reduced losses and metrics;
- :mod:`.launch` — starting N local workers through torch's elastic launcher.

The trainer asks :func:`replica_for` once per ``fit`` / evaluation; on one device it is None
and nothing else changes.
"""
from __future__ import annotations

from .context import World, launched, world


def replica_for(model, source, broadcast=False):
    """The model's :class:`~.replica.Replica` with ``source`` sharded, or None for a lone process."""
    here = world()
    if not here.distributed:
        return None
    from .replica import Replica

    found = model.__dict__.get("_replica")
    if not isinstance(found, Replica):
        found = Replica(model, here)
        model.__dict__["_replica"] = found
    found.shard(source)
    if broadcast:
        found.broadcast_weights()
    return found


__all__ = ["World", "launched", "replica_for", "world"]

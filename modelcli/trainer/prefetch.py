"""Batches of host data sent to the GPU one step ahead, from pinned memory on a side stream.

Arrays too large for the device stay on the host (``data_adapter._fits``) and each batch
crosses PCIe. Cut on the host, pinned and copied with ``non_blocking`` on a side stream
while the previous step computes, that copy overlaps the step instead of stalling it.
On the CPU, or when the data already sits on the device, nothing changes.
"""
from __future__ import annotations

import torch


def staged(data_device: torch.device, device: torch.device | None) -> bool:
    """True when batches of data kept on ``data_device`` must be prefetched to ``device``."""
    return device is not None and device.type == "cuda" and data_device.type == "cpu"


def one_ahead(items, send, receive):
    """``receive(send(item))`` for each item, with ``send`` of the next item issued first."""
    pending = None
    for item in items:
        sent = send(item)
        if pending is not None:
            yield receive(pending)
        pending = sent
    if pending is not None:
        yield receive(pending)


def prefetch(batches, device):
    """Host ``(xs, ys, sws)`` batches as device batches, each copied while the step before runs."""
    side, main = torch.cuda.Stream(device), torch.cuda.current_stream(device)

    def send(batch):
        with torch.cuda.stream(side):
            moved = _each(batch, lambda t: t.pin_memory().to(device, non_blocking=True))
            done = torch.cuda.Event()
            done.record(side)
        return moved, done

    def receive(sent):
        moved, done = sent
        main.wait_event(done)
        _each(moved, lambda t: t.record_stream(main))  # the allocator must not recycle it under the step
        return moved

    return one_ahead(batches, send, receive)


def _each(batch, fn):
    return tuple(None if part is None else [None if t is None else fn(t) for t in part] for part in batch)

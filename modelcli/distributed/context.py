"""Which worker this process is, and the few collectives the trainer needs.

A process is one worker of a data-parallel run when a launcher put ``RANK`` and
``WORLD_SIZE`` in its environment (``modelcli train --devices N`` through torch's
elastic launcher, or ``torchrun`` across machines). Everything here is a no-op for a
lone process: ``world()`` then says rank 0 of 1 and nothing is initialized, so a
single-device run does no extra work.

The process group uses NCCL when the model lives on a GPU (each worker takes
``cuda:LOCAL_RANK``) and gloo on the CPU. Collectives move their tensors to the
group's device and back, so callers hand over whatever they hold.
"""
from __future__ import annotations

import dataclasses
import os


@dataclasses.dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        """Rank 0 prints and writes the run folder; the others only train."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1


_world = World()
_device = None  # the process group's device (set by init)


def from_environment() -> World:
    """The launcher's ``RANK`` / ``WORLD_SIZE`` / ``LOCAL_RANK``; rank 0 of 1 when there are none."""
    env = os.environ
    if "RANK" not in env or "WORLD_SIZE" not in env:
        return World()
    return World(int(env["RANK"]), int(env["WORLD_SIZE"]), int(env.get("LOCAL_RANK", env["RANK"])))


def world() -> World:
    """This process's place in the run (initialized by :func:`init`; rank 0 of 1 before)."""
    return _world


def launched() -> bool:
    """True in a process a launcher started as one of several workers."""
    return from_environment().distributed


def init(device) -> World:
    """Join the launcher's process group; returns the device this worker trains on.

    ``device`` is the run's device type (cpu or cuda): on CUDA each worker takes
    ``cuda:LOCAL_RANK`` and the group talks NCCL, on the CPU gloo.
    """
    global _world, _device
    import torch
    import torch.distributed as dist

    found = from_environment()
    if not found.distributed:
        return _world
    device = torch.device(device)
    if device.type == "cuda":
        device = torch.device("cuda", found.local_rank)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo",
                                **({"device_id": device} if device.type == "cuda" else {}))
    _world, _device = found, device
    return _world


def device():
    """The device this worker trains on (None when not distributed)."""
    return _device


def shutdown() -> None:
    """Leave the group :func:`init` joined (nothing to do otherwise)."""
    global _world, _device
    if _device is None:
        return
    import torch.distributed as dist

    if dist.is_initialized():
        dist.destroy_process_group()
    _world, _device = World(), None


def all_reduce_sum_(tensor):
    """Sum ``tensor`` over the workers, in place (through the group's device)."""
    import torch.distributed as dist

    if tensor.device == _device:
        dist.all_reduce(tensor)
        return tensor
    moved = tensor.to(_device)
    dist.all_reduce(moved)
    return tensor.copy_(moved)


def broadcast_(tensor, source=0):
    """Overwrite ``tensor`` with rank ``source``'s, in place."""
    import torch.distributed as dist

    if tensor.device == _device:
        dist.broadcast(tensor, source)
        return tensor
    moved = tensor.to(_device)
    dist.broadcast(moved, source)
    return tensor.copy_(moved)


def broadcast_object(value, source=0):
    """Rank ``source``'s ``value`` on every worker (a run folder's name, a decision)."""
    import torch.distributed as dist

    if not _world.distributed:
        return value
    box = [value]
    dist.broadcast_object_list(box, source, device=_device)
    return box[0]


def gather_object(value):
    """Every worker's ``value``, in rank order, on rank 0 (None on the others and None alone)."""
    import torch.distributed as dist

    if not _world.distributed:
        return None
    out = [None] * _world.size if _world.is_main else None
    if _device.type == "cuda":  # NCCL has no gather_object; all_gather is close enough for small values
        out = [None] * _world.size
        dist.all_gather_object(out, value)
        return out if _world.is_main else None
    dist.gather_object(value, out, dst=0)
    return out

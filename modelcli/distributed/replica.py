"""One model trained by several workers so that the run equals a single process's.

One process's step minimizes the mean loss over the global batch of ``B`` samples.
Worker ``r`` holds ``n_r`` of them (see :mod:`.shard`) and its loss is the mean over
those, so the global mean is ``Σ_r (n_r / B) · loss_r`` and its gradient is
``Σ_r n_r · ∇loss_r / B``. Each worker therefore multiplies its gradients by ``n_r``,
and one SUM all-reduce carries them together with ``n_r`` itself (the last element of
the buffer), so dividing by the summed count gives the single-process gradient —
also for the last, partial batch and for a worker whose share of it is empty (it
skips the forward pass and sends zeros). Every worker then takes the same optimizer
step from the same gradients, and the replicas never drift apart.

Why not torch's ``DistributedDataParallel``: it must own the module's ``forward`` to
hook its reducer, whereas our step goes through ``Model.call`` via ``_forward`` (output
masks, activity penalties, an optionally ``torch.compile``-d loss step); it averages
gradients with equal weights, where equality with one process needs each worker
weighted by its share of the batch; and it re-broadcasts buffers every forward. The
explicit all-reduce after ``backward`` is one collective a step over one flat buffer
per dtype. What it gives up is DDP's overlap of communication with the backward pass,
which matters for large models on many GPUs.

Losses and metrics: the loss tracker and every metric keep sums (``total``, ``count``,
confusion counts...), so their state is all-reduced once at the end of an epoch (and of
an evaluation) before ``result()``; History then holds what one process would log.
Per-batch logs (the progress bar) show rank 0's share only.

What would make a run differ from one process is refused, not silently accepted:
a trainable ``BatchNormalization`` (its statistics would cover one worker's share of the
batch), losses whose reduction is not a mean over the batch (``sum``,
``mean_with_sample_weight``, none), output masks (the masked mean divides by each
worker's own count of unmasked elements), and data that is not arrays. Layers that draw
random numbers while training (Dropout, noise layers) draw them on each worker from its
own generator: such a run is reproducible for a given number of devices, and resumes
exactly, but its masks are not the ones a single process would draw.
"""
from __future__ import annotations

import torch
from torch._utils import _flatten_dense_tensors, _unflatten_dense_tensors

from ..errors import ConfigError, DataError
from . import context
from .shard import BatchShard

_MEAN_REDUCTIONS = ("sum_over_batch_size", "mean")


def check_model(model, devices: int) -> None:
    """Refuse a compiled model whose training under ``devices`` workers would differ from one process."""
    from ..layers.normalization.batch_normalization import BatchNormalization
    from ..trainer.trainer import _all_layers

    for layer in _all_layers(model):
        if isinstance(layer, BatchNormalization) and layer.trainable:
            raise ConfigError(f"layer '{layer.name}' (BatchNormalization) would compute its batch statistics over "
                              f"each worker's part of the batch, not the whole batch", where="--devices",
                              hint="train it on one device, or freeze the layer (trainable: false)")
    for loss, name in zip(model.compiled_loss.losses, model.output_names):
        reduction = getattr(loss, "reduction", "sum_over_batch_size")
        if loss is not None and reduction not in _MEAN_REDUCTIONS:
            raise ConfigError(f"the loss of output '{name}' has reduction={reduction!r}; several devices "
                              f"average each worker's share of the batch, which equals one process only for "
                              f"reduction 'sum_over_batch_size'", where="--devices")


def check_data(n_samples: int, batch_size: int, devices: int, where: str) -> None:
    """Every worker needs a share of every full batch, and of the data."""
    if batch_size < devices:
        raise DataError(f"batch_size {batch_size} is smaller than the {devices} devices; batch_size is the global "
                        f"batch, split between the devices", where=where, hint=f"use batch_size >= {devices}")
    if n_samples < devices:
        raise DataError(f"{n_samples} samples cannot be split between {devices} devices", where=where)


class Replica:
    """The distributed side of one model's ``fit`` / ``evaluate`` on this worker."""

    def __init__(self, model, world):
        self.model = model
        self.world = world
        check_model(model, world.size)

    def shard(self, source, where="data") -> None:
        """Make ``source`` hand this worker its part of every global batch."""
        from ..trainer.data_adapter import ArrayData

        if not isinstance(source, ArrayData):
            raise DataError(f"several devices split arrays between them, not a {type(source).__name__}",
                            where=where, hint="give the data as arrays (npy, npz, csv, h5 files)")
        check_data(source.n, source.batch_size, self.world.size, where)
        source.shard = BatchShard(self.world)

    @torch.no_grad()
    def broadcast_weights(self) -> None:
        """Rank 0's weights everywhere: the seed makes them equal already; this makes sure."""
        for tensor in self.model.state_dict().values():
            context.broadcast_(tensor)

    def train_step(self, xs, ys, sws) -> None:
        """``Trainer._train_step`` with the gradients summed over the workers before the update."""
        outputs = self.model._train_update(xs, ys, sws, before_update=self._before_update)
        if outputs is not None:
            self.model._track_train_step(xs, ys, sws, *outputs)

    def _before_update(self, outputs, n) -> None:
        if outputs is not None:
            _refuse_masks(outputs[1])
        self._sum_gradients(self.model._trainable_params, n)

    def test_step(self, xs, ys, sws) -> None:
        """``Trainer._test_step``; a worker with no share of the batch has nothing to add."""
        if xs[0].shape[0]:
            model = self.model
            preds, masks, loss = model._loss_step(xs, ys, sws, False)
            _refuse_masks(masks)
            model._record(loss, xs[0].shape[0], ys, preds, masks, sws)

    @torch.no_grad()
    def _sum_gradients(self, params, n) -> None:
        """Each ``p.grad`` becomes ``Σ_r n_r·grad_r / Σ_r n_r``."""
        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
        groups = {}
        for i, g in enumerate(grads):
            groups.setdefault(g.dtype, []).append(i)
        count = None
        for dtype, members in groups.items():
            tensors = [grads[i] for i in members]
            first = count is None
            flat = _flatten_dense_tensors(tensors + [tensors[0].new_ones(1)] if first else tensors)
            flat.mul_(n)
            context.all_reduce_sum_(flat)
            if first:
                count = flat[-1:].clone()
            flat.div_(count.to(dtype))
            for i, synced in zip(members, _unflatten_dense_tensors(flat, tensors)):
                params[i].grad = synced

    @torch.no_grad()
    def reduce_metrics(self) -> None:
        """Sum the loss tracker's and every metric's state over the workers (before ``result()``)."""
        model = self.model
        model._flush_records()
        device = context.device()
        tracker = model._loss_tracker
        total = tracker.total if tracker.total is not None else torch.zeros((), device=device)
        states = [total, torch.tensor(float(tracker.count))]
        for metric in model.metrics[1:]:
            states.extend(metric.variables)
        buffer = torch.cat([s.reshape(-1).to(device=device, dtype=torch.float64) for s in states])
        context.all_reduce_sum_(buffer)
        parts = iter(torch.split(buffer, [s.numel() for s in states]))
        tracker.total = next(parts).reshape(()).to(device=total.device, dtype=torch.float32)
        tracker.count = int(next(parts).item())
        for state in states[2:]:
            state.copy_(next(parts).view(state.shape))


def _refuse_masks(masks) -> None:
    if masks is not None and any(m is not None for m in masks):
        raise ConfigError("the model's outputs carry a mask; a masked loss divides by each worker's own count of "
                          "unmasked elements, so several devices would not train as one does", where="--devices",
                          hint="train a masked model on one device")


def check_callbacks(callbacks) -> None:
    """BackupAndRestore restores from files only rank 0 writes: ``--resume`` does its job for a run."""
    from ..callbacks import BackupAndRestore

    for callback in callbacks:
        if isinstance(callback, BackupAndRestore):
            raise ConfigError("BackupAndRestore cannot back up a run on several devices (only rank 0 writes files)",
                              where="callbacks", hint="drop it: the run folder's state and --resume do the same")


def worker_callbacks(callbacks, world) -> list:
    """The callbacks a worker runs: all on rank 0; elsewhere all but those that only write files.

    Callbacks that steer training (EarlyStopping, ReduceLROnPlateau, schedules) stay on every
    worker: they read the same reduced logs and so decide alike.
    """
    from ..callbacks import CSVLogger, ModelCheckpoint, TensorBoard

    if world.is_main:
        return list(callbacks)
    return [c for c in callbacks if not isinstance(c, (CSVLogger, ModelCheckpoint, TensorBoard))]

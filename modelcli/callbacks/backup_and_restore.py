"""BackupAndRestore: survive an interrupted ``fit`` and carry on where it stopped.

At each epoch end (or every ``save_freq`` batches) one file, ``backup_dir/backup.pt``,
is replaced atomically with everything a resumed run needs: the model's weights,
the optimizer's state (slots, step count, learning rate), the next epoch to run
and the logs of the epochs done so far. When ``fit`` starts and a backup exists,
``on_train_begin`` restores it and tells the fit loop where to go on:

* ``model._resume_epoch``: the epoch to start from (it replaces ``initial_epoch``,
  as in Keras; a backup taken mid-epoch reruns that epoch from its start);
* ``model._resume_logs``: ``[(epoch, logs), ...]`` of the epochs already done,
  for the fit loop to replay into its ``History`` so the run's history is whole.

A ``fit`` that ends normally (including by ``stop_training``) deletes the backup
(``delete_checkpoint=True``); one that raises keeps it for the next try. Keras
removes the whole ``backup_dir``; we remove only our files, and the folder if
that leaves it empty. ``double_checkpoint`` keeps the previous backup beside the
latest, and restores from it when the latest cannot be read.

The file holds only tensors, numbers and strings, and is read with
``torch.load(weights_only=True)``: restoring never runs code from the file.
"""
from __future__ import annotations

import os
import shutil

from ..errors import SpecError, WeightsError
from ..saving.atomic import atomic_path
from .callback import Callback
from .registry import register_callback

_FORMAT = 1


@register_callback("BackupAndRestore")
class BackupAndRestore(Callback):
    def __init__(self, backup_dir, save_freq="epoch", double_checkpoint=False, delete_checkpoint=True):
        super().__init__()
        if not backup_dir:
            raise SpecError("Empty `backup_dir` argument passed")
        if save_freq != "epoch" and not (isinstance(save_freq, int) and not isinstance(save_freq, bool)
                                         and save_freq > 0):
            raise SpecError(f"Invalid value for argument `save_freq`. Received: save_freq={save_freq!r}. "
                            "Expected either 'epoch' or a positive integer value.")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.double_checkpoint = double_checkpoint
        self.delete_checkpoint = delete_checkpoint
        self._path = os.path.join(self.backup_dir, "backup.pt")
        self._previous_path = self._path + ".bkp"
        self._reset()

    def get_config(self):
        return {"backup_dir": self.backup_dir, "save_freq": self.save_freq,
                "double_checkpoint": self.double_checkpoint, "delete_checkpoint": self.delete_checkpoint}

    @property
    def needs_batch_logs(self) -> bool:
        return self.save_freq != "epoch"

    def _reset(self):
        self._next_epoch = 0
        self._epoch_logs = []  # [(epoch, logs)]: the fit loop's own dicts, so later callbacks' keys count
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = 0

    # ----- restoring ---------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        self._reset()
        state = self._read()
        if state is None:
            return
        self.model.set_weights([w.numpy() for w in state["weights"]])
        optimizer = getattr(self.model, "optimizer", None)
        if state["optimizer"] is not None and optimizer is not None:
            optimizer.set_state(state["optimizer"])
        self._next_epoch = int(state["epoch"])
        self._epoch_logs = [(int(epoch), dict(epoch_logs)) for epoch, epoch_logs in state["logs"]]
        self.model._resume_epoch = self._next_epoch
        self.model._resume_logs = [(epoch, dict(epoch_logs)) for epoch, epoch_logs in self._epoch_logs]

    def _read(self):
        if not os.path.exists(self._path) and not os.path.exists(self._previous_path):
            return None
        try:
            return _load(self._path)
        except Exception as err:  # any reason the latest cannot be read: a torn copy, another file
            if not os.path.exists(self._previous_path):
                raise WeightsError(f"cannot read the backup: {err}", where=self._path,
                                   hint="delete the backup folder to start afresh") from None
            return _load(self._previous_path)

    # ----- saving ------------------------------------------------------------------------------
    def on_epoch_end(self, epoch, logs=None):
        self._next_epoch = epoch + 1
        self._epoch_logs.append((epoch, logs if logs is not None else {}))
        self._last_batch_seen = 0
        if self.save_freq == "epoch":
            self._save()

    def on_train_batch_end(self, batch, logs=None):
        if self._should_save_on_batch(batch):
            self._save()

    def _should_save_on_batch(self, batch) -> bool:
        if self.save_freq == "epoch":
            return False
        added = batch + 1 if batch <= self._last_batch_seen else batch - self._last_batch_seen
        self._batches_seen_since_last_saving += added
        self._last_batch_seen = batch
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            return True
        return False

    def _save(self):
        import torch

        optimizer = getattr(self.model, "optimizer", None)
        state = {
            "format": _FORMAT,
            "epoch": self._next_epoch,
            "weights": [torch.from_numpy(w) for w in self.model.get_weights()],
            "optimizer": optimizer.get_state() if optimizer is not None else None,
            "logs": [[epoch, {k: float(v) for k, v in epoch_logs.items()}]
                     for epoch, epoch_logs in self._epoch_logs],
        }
        os.makedirs(self.backup_dir, exist_ok=True)
        if self.double_checkpoint and os.path.exists(self._path):
            with atomic_path(self._previous_path) as tmp:
                shutil.copyfile(self._path, tmp)
        with atomic_path(self._path) as tmp:
            torch.save(state, tmp)

    def on_train_end(self, logs=None):
        if not self.delete_checkpoint:
            return
        for path in (self._path, self._previous_path):
            if os.path.exists(path):
                os.remove(path)
        if os.path.isdir(self.backup_dir) and not os.listdir(self.backup_dir):
            os.rmdir(self.backup_dir)


def _load(path):
    import torch

    state = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(state, dict) or state.get("format") != _FORMAT:
        raise ValueError("not a modelcli backup")
    missing = [key for key in ("epoch", "weights", "optimizer", "logs") if key not in state]
    if missing:
        raise ValueError(f"the backup lacks {', '.join(missing)}")
    return state

"""ModelCheckpoint: save the model (or its weights) during training, Keras 3's way.

``filepath`` may hold ``str.format`` fields filled from the logs and the 1-based
``epoch`` (and ``batch``, when saving every ``save_freq`` batches):
``ckpt/{epoch:02d}-{val_loss:.2f}.keras``. A whole model goes to ``.keras`` (or a
legacy ``.h5``); ``save_weights_only`` needs ``.weights.h5`` (Keras 3 layout) or
another ``.h5`` (legacy layout, as tf.keras wrote). With ``save_best_only`` a
file is written only when the monitored value improves on the best so far
(starting from ``initial_value_threshold``); a missing monitor saves anyway, with
a warning. Every write lands atomically (the model's save functions write to a
temporary file and rename it).
"""
from __future__ import annotations

import os
import warnings

from ..errors import SpecError
from .monitor_callback import MonitorCallback
from .registry import register_callback


@register_callback("ModelCheckpoint")
class ModelCheckpoint(MonitorCallback):
    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False, save_weights_only=False,
                 mode="auto", save_freq="epoch", initial_value_threshold=None):
        super().__init__(monitor, mode, initial_value_threshold)
        self.filepath = os.fspath(filepath)
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.save_freq = save_freq
        self.initial_value_threshold = initial_value_threshold
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = None
        self._current_epoch = 0
        if save_freq != "epoch" and not (isinstance(save_freq, int) and not isinstance(save_freq, bool)
                                         and save_freq > 0):
            raise SpecError(f"Unrecognized save_freq: {save_freq!r}. Expected save_freq are 'epoch' or "
                            "positive integer values")
        if save_weights_only and not self.filepath.endswith(".h5"):
            raise SpecError("When using `save_weights_only=True` in `ModelCheckpoint`, the filepath provided "
                            "must end in `.weights.h5` (Keras weights format), or `.h5` (legacy weights). "
                            f"Received: filepath={self.filepath}")
        if not save_weights_only and not self.filepath.endswith((".keras", ".h5")):
            raise SpecError("The filepath provided must end in `.keras` (Keras model format), or `.h5` "
                            f"(legacy model format). Received: filepath={self.filepath}")

    def get_config(self):
        return {"filepath": self.filepath, "monitor": self.monitor, "verbose": self.verbose,
                "save_best_only": self.save_best_only, "save_weights_only": self.save_weights_only,
                "mode": self.mode, "save_freq": self.save_freq,
                "initial_value_threshold": self.initial_value_threshold}

    @property
    def needs_batch_logs(self) -> bool:
        return self.save_freq != "epoch"

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self._should_save_on_batch(batch):
            self._save_model(self._current_epoch, batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        if self.save_freq == "epoch":
            self._save_model(epoch, None, logs)

    def _should_save_on_batch(self, batch) -> bool:
        if self.save_freq == "epoch":
            return False
        if self._last_batch_seen is None or batch <= self._last_batch_seen:  # a new epoch
            added = batch + 1
        else:
            added = batch - self._last_batch_seen
        self._batches_seen_since_last_saving += added
        self._last_batch_seen = batch
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            return True
        return False

    def _save_model(self, epoch, batch, logs):
        logs = dict(logs.items()) if logs else {}  # batch logs are lazy: read them once, here
        filepath = self._file_path(epoch, batch, logs)
        if not self._should_save(epoch, logs, filepath):
            return
        if os.path.isdir(filepath):
            raise SpecError("Please specify a non-directory filepath for ModelCheckpoint. "
                            f"Filepath used is an existing directory: {filepath}")
        folder = os.path.dirname(filepath)
        if folder:
            os.makedirs(folder, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(filepath, overwrite=True)
        else:
            self.model.save(filepath, overwrite=True)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: finished saving model to {filepath}")

    def _should_save(self, epoch, logs, filepath) -> bool:
        if not self.save_best_only:
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: saving model to {filepath}")
            return True
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"Can save best model only with {self.monitor} available.", stacklevel=3)
            return True
        best = "None" if self.best is None else f"{self.best:.5f}"
        if self._is_improvement(current, self.best):
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {best} to {current:.5f}, "
                      f"saving model to {filepath}")
            self.best = current
            return True
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {best}")
        return False

    def _file_path(self, epoch, batch, logs) -> str:
        """``filepath`` with the 1-based epoch (and batch) and the logs filled in."""
        fields = dict(logs)
        if batch is not None:
            fields.setdefault("batch", batch + 1)
        try:
            return self.filepath.format(epoch=epoch + 1, **{k: v for k, v in fields.items() if k != "epoch"})
        except (KeyError, IndexError) as err:
            raise SpecError(f'Failed to format this callback filepath: "{self.filepath}". Reason: {err}',
                            hint=f"the fields it can use are epoch, {', '.join(fields)}") from None

"""TensorBoard: scalars (and weight histograms) for TensorBoard, as Keras 3 writes them.

Two runs under ``log_dir``: ``train`` and ``validation``. Each epoch writes
``epoch_<name>`` at step ``epoch``: the training logs plus ``learning_rate`` (and
``steps_per_second`` with ``write_steps_per_second``) to ``train``, the ``val_``
logs without their prefix to ``validation``. With ``update_freq`` a number of
batches (``'batch'`` is 1), ``batch_<name>`` goes to ``train`` every that many
batches, counted over the whole fit from 1 (batch logs are read only then).
``histogram_freq=n`` writes ``<layer>/<weight>/histogram`` every n epochs.
``write_graph`` writes the model's Keras config as text (the graph view needs
TensorFlow). Profiling, weight images and embeddings need TensorFlow too and are
refused. It writes through ``torch.utils.tensorboard``, which needs the
``tensorboard`` package.
"""
from __future__ import annotations

import os
import time

from ..errors import ModelcliError, SpecError
from .callback import Callback
from .reduce_lr_on_plateau import current_learning_rate
from .registry import register_callback


class MissingDependencyError(ModelcliError, ImportError):
    """An optional package a feature needs is not installed."""


def _summary_writer_class():
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise MissingDependencyError("the TensorBoard callback needs the `tensorboard` package, which is not "
                                     "installed", hint="pip install tensorboard") from None
    return SummaryWriter


@register_callback("TensorBoard")
class TensorBoard(Callback):
    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True, write_images=False,
                 write_steps_per_second=False, update_freq="epoch", profile_batch=0, embeddings_freq=0,
                 embeddings_metadata=None):
        super().__init__()
        self._writer_class = _summary_writer_class()
        for name, value in (("write_images", write_images), ("profile_batch", profile_batch),
                            ("embeddings_freq", embeddings_freq), ("embeddings_metadata", embeddings_metadata)):
            if value:
                raise SpecError(f"TensorBoard's {name} needs TensorFlow and is not available on modelcli's "
                                f"PyTorch backend. Received: {name}={value!r}")
        if update_freq not in ("epoch", "batch") and not (isinstance(update_freq, int) and update_freq > 0):
            raise SpecError(f"update_freq must be 'epoch', 'batch' or a positive integer. "
                            f"Received: update_freq={update_freq!r}")
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = histogram_freq
        self.write_graph = write_graph
        self.write_steps_per_second = write_steps_per_second
        self.update_freq = update_freq
        self._every = 1 if update_freq == "batch" else update_freq
        self._writers = {}
        self._global_train_batch = 0

    def get_config(self):
        return {"log_dir": self.log_dir, "histogram_freq": self.histogram_freq, "write_graph": self.write_graph,
                "write_images": False, "write_steps_per_second": self.write_steps_per_second,
                "update_freq": self.update_freq, "profile_batch": 0, "embeddings_freq": 0,
                "embeddings_metadata": None}

    @property
    def needs_batch_logs(self) -> bool:
        return self._every != "epoch" or self.write_steps_per_second

    def _writer(self, run):
        if run not in self._writers:
            self._writers[run] = self._writer_class(os.path.join(self.log_dir, run))
        return self._writers[run]

    def on_train_begin(self, logs=None):
        self._global_train_batch = 0
        if self.write_graph and hasattr(self.model, "to_json"):
            self._writer("train").add_text("keras", self.model.to_json(), global_step=0)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.perf_counter()
        self._epoch_start_iterations = self._iterations()

    def on_train_batch_begin(self, batch, logs=None):
        self._global_train_batch += 1
        self._batch_start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        step = self._global_train_batch
        if self.write_steps_per_second:
            self._writer("train").add_scalar("batch_steps_per_second",
                                             1.0 / max(time.perf_counter() - self._batch_start, 1e-9), step)
        if self._every != "epoch" and step % self._every == 0 and logs:
            for name, value in logs.items():
                self._writer("train").add_scalar(f"batch_{name}", float(value), step)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        train = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val = {k[4:]: v for k, v in logs.items() if k.startswith("val_")}
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None and hasattr(optimizer, "learning_rate"):
            train["learning_rate"] = current_learning_rate(optimizer)
        if self.write_steps_per_second:
            elapsed = max(time.perf_counter() - self._epoch_start, 1e-9)
            train["steps_per_second"] = (self._iterations() - self._epoch_start_iterations) / elapsed
        for run, values in (("train", train), ("validation", val)):
            for name, value in values.items():
                self._writer(run).add_scalar(f"epoch_{name}", float(value), epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._log_weights(epoch)
        for writer in self._writers.values():
            writer.flush()

    def _log_weights(self, epoch):
        writer = self._writer("train")
        for layer in self.model.layers:
            for weight in layer.weights:
                name = getattr(weight, "path", None) or f"{layer.name}/{weight.name}"
                writer.add_histogram(f"{name.replace(':', '_')}/histogram", weight.numpy(), epoch)

    def _iterations(self) -> int:
        return int(getattr(getattr(self.model, "optimizer", None), "iterations", 0) or 0)

    def on_train_end(self, logs=None):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

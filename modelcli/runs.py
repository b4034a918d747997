"""Run folders: what ``modelcli train`` leaves behind, and the state a run resumes from.

    runs/<name>-<YYYYmmdd-HHMMSS>/
      config.yaml          the resolved config (absolute paths), --set overrides under `overrides`
      model.json model.yaml  the model's spec
      model.weights.h5     final weights (written when training ends)
      checkpoints/         last.weights.h5 after every epoch, best.weights.h5 at the best val_loss (or loss)
      history.json history.csv  every finished epoch's logs
      metrics.json         final {"train": {...}, "validation": {...}, "test": {...}}
      train.log            what happened, with timings
      state/state.pt       everything a resumed run needs (see RunRecorder)

Every file is written to a temporary name in its folder and renamed into place, so a
crash or kill -9 at any moment leaves either the old file or the new one, never half.
"""
from __future__ import annotations

import csv
import io
import json
import os
import random
import re
import time

import numpy as np

from .callbacks.callback import Callback
from .errors import ConfigError, WeightsError, did_you_mean
from .saving.atomic import atomic_path, write_text

RUNS_DIR = "runs"
STATE_FILE = os.path.join("state", "state.pt")
_STATE_FORMAT = 1
_MARKERS = ("config.yaml", "model.json")


# ----- files --------------------------------------------------------------------------------------------------
def atomic_write_text(path, text: str) -> None:
    write_text(path, text)


def atomic_write_json(path, value) -> None:
    write_text(path, json.dumps(value, indent=1) + "\n")


def write_history(run_dir, history: dict) -> None:
    """``history.json`` ({"loss": [...], ...}) and ``history.csv`` (one row per epoch)."""
    atomic_write_json(os.path.join(run_dir, "history.json"), history)
    keys = list(history)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["epoch"] + keys)
    for i in range(max((len(v) for v in history.values()), default=0)):
        writer.writerow([i] + [repr(history[k][i]) if i < len(history[k]) else "" for k in keys])
    atomic_write_text(os.path.join(run_dir, "history.csv"), out.getvalue())


class RunLog:
    """``train.log``: timestamped lines, rewritten atomically at each flush (a resumed run appends)."""

    def __init__(self, path):
        self.path = path
        self.lines = []
        if os.path.exists(path):
            with open(path, encoding="utf8") as f:
                self.lines = f.read().splitlines()

    def write(self, message: str, flush=False) -> None:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        self.lines.extend(f"{stamp} {line}" for line in message.splitlines() or [""])
        if flush:
            self.flush()

    def flush(self) -> None:
        atomic_write_text(self.path, "\n".join(self.lines) + "\n")


# ----- where runs live ------------------------------------------------------------------------------------
def folder_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.") or "run"


def new_run_dir(name: str, parent: str = RUNS_DIR) -> str:
    """``parent/<name>-<YYYYmmdd-HHMMSS>`` (with ``-2``, ``-3``... if two runs start in one second); not created."""
    base = os.path.join(parent, f"{folder_name(name)}-{time.strftime('%Y%m%d-%H%M%S')}")
    path, n = base, 1
    while os.path.exists(path):
        n += 1
        path = f"{base}-{n}"
    return os.path.abspath(path)


def check_new_run_dir(path: str) -> str:
    """A --run-dir for a new run must be new or empty: a run already there is never overwritten."""
    path = os.path.abspath(path)
    if os.path.isfile(path):
        raise ConfigError("is a file, not a folder", where=path, hint="--run-dir names a folder for the run")
    if os.path.isdir(path) and os.listdir(path):
        raise ConfigError("the run folder already holds files; a new run needs a new or empty folder", where=path,
                          hint=f"continue it with: modelcli train --resume {path}" if is_run(path) else None)
    return path


def is_run(path) -> bool:
    return os.path.isdir(path) and any(os.path.exists(os.path.join(path, m)) for m in _MARKERS)


def find_run(path) -> str:
    """The absolute path of a run folder given as a path, or as a name inside ``runs/``."""
    path = os.fspath(path)
    for candidate in (path, os.path.join(RUNS_DIR, path)):
        if is_run(candidate):
            return os.path.abspath(candidate)
    if os.path.isdir(path):
        raise ConfigError("not a run folder: it has no config.yaml or model.json", where=path,
                          hint="give a folder that modelcli train wrote (modelcli runs lists them)")
    known = sorted(os.listdir(RUNS_DIR)) if os.path.isdir(RUNS_DIR) else []
    raise ConfigError("no such run folder", where=path,
                      hint=did_you_mean(os.path.basename(path.rstrip("/")), known) or
                      "modelcli runs lists the runs in ./runs")


def remove_stale_temporaries(run_dir) -> None:
    """A kill -9 mid-write can leave a ``.tmp-*`` file beside its target; the target itself is whole."""
    for folder, _, files in os.walk(run_dir):
        for name in files:
            if name.startswith(".tmp-"):
                os.remove(os.path.join(folder, name))


# ----- random state ------------------------------------------------------------------------------------
def seed_everything(seed) -> None:
    """Seed Python's, NumPy's and torch's generators (weights, dropout, shuffling all draw from them)."""
    import torch

    if seed is None:
        return
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def rng_state() -> dict:
    import torch

    state = np.random.get_state(legacy=False)
    out = {"python": random.getstate(),
           "numpy": {"bit_generator": state["bit_generator"],
                     "key": torch.from_numpy(state["state"]["key"].astype(np.int64)),
                     "pos": int(state["state"]["pos"]), "has_gauss": int(state["has_gauss"]),
                     "gauss": float(state["gauss"])},
           "torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        out["cuda"] = torch.cuda.get_rng_state_all()
    return out


def set_rng_state(state: dict) -> None:
    import torch

    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    n = state["numpy"]
    np.random.set_state({"bit_generator": n["bit_generator"],
                         "state": {"key": n["key"].numpy().astype(np.uint32), "pos": n["pos"]},
                         "has_gauss": n["has_gauss"], "gauss": n["gauss"]})
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


# ----- resume state ------------------------------------------------------------------------------------
def save_state(run_dir, state: dict) -> None:
    import torch

    with atomic_path(os.path.join(run_dir, STATE_FILE)) as tmp:
        torch.save({"format": _STATE_FORMAT, **state}, tmp)


def load_state(run_dir):
    """The saved state, or None when the run never got as far as saving one.

    Read with ``weights_only=True``: tensors, numbers and strings only, never code.
    """
    import torch

    path = os.path.join(run_dir, STATE_FILE)
    if not os.path.exists(path):
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # any reason it cannot be read: a foreign or damaged file
        state = None
    if not isinstance(state, dict) or state.get("format") != _STATE_FORMAT:
        raise WeightsError("cannot read the resume state: it is damaged, or modelcli train did not write it",
                           where=path, hint="delete the state folder and --resume starts the run over from epoch 1")
    return state


def _callback_state(callback) -> dict:
    """A callback's counters and bests (``wait``, ``best``, ``best_weights``...): what on_train_begin resets."""
    import torch

    out = {}
    for key, value in vars(callback).items():
        if key in ("model", "params"):
            continue
        if value is None or isinstance(value, (bool, int, float, str)):
            out[key] = value
        elif isinstance(value, list) and value and all(isinstance(v, np.ndarray) for v in value):
            out[key] = {"arrays": [torch.from_numpy(np.ascontiguousarray(v)) for v in value]}
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            out[key] = list(value)
    return out


def _restore_callback(callback, state: dict) -> None:
    for key, value in state.items():
        if isinstance(value, dict) and "arrays" in value:
            value = [t.numpy() for t in value["arrays"]]
        setattr(callback, key, value)


class RunRecorder(Callback):
    """Keeps a run folder current as ``fit`` goes, and restores a run that resumes.

    At the start (and after every epoch) ``state/state.pt`` is replaced with the next epoch
    to run and everything it needs: the weights, the optimizer's state (slots, step count,
    learning rate), the History so far, the counters of the config's callbacks (EarlyStopping's
    ``wait``, ReduceLROnPlateau's cooldown...) and the Python / NumPy / torch random states —
    the fit loop draws each epoch's shuffle from torch's generator, and dropout draws from it
    too, so a resumed seeded run repeats the uninterrupted one bit for bit. Put it last among
    the callbacks, so the others have updated their state when it saves.

    With several devices every worker has one (each restores the state; their random states
    are gathered into the saved one, ``rng_workers``), and only rank 0's ``writes``.
    """

    def __init__(self, run_dir, log, watched=(), state=None, initial_epoch=0, writes=True):
        super().__init__()
        self.writes = writes
        self.run_dir = run_dir
        self.log = log
        self.watched = list(watched)
        self.state = state
        self.initial_epoch = initial_epoch
        self.history = {}
        self.best = None
        self.seconds = 0.0  # spent keeping the run folder current

    def on_train_begin(self, logs=None):
        if self.state is None:
            start = time.perf_counter()
            self._save(self.initial_epoch, stopped=False)
            self.seconds += time.perf_counter() - start
            return
        state = self.state
        self.model.set_weights([w.numpy() for w in state["weights"]])
        if state["optimizer"] is not None:
            self.model.optimizer.set_state(state["optimizer"])
        for callback, saved in zip(self.watched, state["callbacks"]):
            _restore_callback(callback, saved)
        self.history = {k: list(v) for k, v in state["history"].items()}
        self.best = state["best"]
        set_rng_state(_own_rng_state(state))
        self.model._resume_epoch = int(state["epoch"])
        self.model._resume_logs = [(epoch, {k: v[i] for k, v in self.history.items() if i < len(v)})
                                   for i, epoch in enumerate(range(int(state["epoch"]) - self.epochs_done,
                                                                   int(state["epoch"])))]

    @property
    def epochs_done(self) -> int:
        return max((len(v) for v in self.history.values()), default=0)

    def on_epoch_end(self, epoch, logs=None):
        start = time.perf_counter()
        logs = {k: float(v) for k, v in (logs or {}).items()}
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)
        monitor = "val_loss" if "val_loss" in logs else "loss"
        improved = monitor in logs and (self.best is None or logs[monitor] < self.best["value"])
        if improved:
            self.best = {"monitor": monitor, "value": logs[monitor], "epoch": epoch}
        self._save(epoch + 1, stopped=bool(self.model.stop_training))
        if not self.writes:
            return
        write_history(self.run_dir, self.history)
        self.model.save_weights(os.path.join(self.run_dir, "checkpoints", "last.weights.h5"))
        if improved:
            self.model.save_weights(os.path.join(self.run_dir, "checkpoints", "best.weights.h5"))
        text = " - ".join(f"{k}: {v:.6g}" for k, v in logs.items())
        self.log.write(f"epoch {epoch + 1}/{self.params.get('epochs', '?')}: {text}", flush=True)
        self.seconds += time.perf_counter() - start

    def _save(self, next_epoch, stopped):
        import torch

        from .distributed.context import gather_object

        rng = rng_state()
        workers = gather_object(rng)  # every worker's random state, on rank 0; None on one device
        if not self.writes:
            return
        optimizer = getattr(self.model, "optimizer", None)
        save_state(self.run_dir, {
            "epoch": next_epoch,
            "stopped": stopped,
            "weights": [torch.from_numpy(np.ascontiguousarray(w)) for w in self.model.get_weights()],
            "optimizer": optimizer.get_state() if optimizer is not None else None,
            "history": self.history,
            "best": self.best,
            "callbacks": [_callback_state(c) for c in self.watched],
            "rng": rng,
            **({"rng_workers": workers} if workers is not None else {}),
        })


def _own_rng_state(state) -> dict:
    """This worker's saved random state: its own when the run had as many workers, else rank 0's."""
    from .distributed import world

    workers, rank = state.get("rng_workers"), world().rank
    return workers[rank] if workers and rank < len(workers) else state["rng"]

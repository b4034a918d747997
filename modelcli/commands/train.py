"""``modelcli train CONFIG`` / ``modelcli train --resume RUN``: train, leaving a complete run folder.

Everything is checked first — the config, the model, the compile arguments, the callbacks,
every data file against the model — and only then is the run folder created, so a bad
config leaves nothing behind. Training prints the model summary, Keras's progress and a
table of final metrics; the run folder (see :mod:`modelcli.runs`) is kept current after
every epoch. Ctrl-C keeps the last finished epoch's state and exits with 130; so does any
kill, minus the exit code: ``--resume RUN`` carries on from there.

As one of several workers (``--devices N`` or ``torchrun``, see :mod:`modelcli.distributed`)
every worker trains; only rank 0 prints and writes the run folder.
"""
from __future__ import annotations

import os
import signal
import sys
import time
import warnings

from ..distributed import context as workers
from ..errors import ConfigError

INTERRUPTED = 130


class _Timings(dict):
    """Seconds spent in each phase, for train.log and benchmarks/train_startup.py."""

    def phase(self, name):
        timings = self

        class _Phase:
            def __enter__(self):
                self.start = time.perf_counter()

            def __exit__(self, *exc):
                timings[name] = timings.get(name, 0.0) + time.perf_counter() - self.start
        return _Phase()


def run(config_path=None, overrides=(), run_dir=None, resume=None, device=None, verbose=None, echo=print) -> int:
    """Train; returns the exit code (0, or 130 after Ctrl-C)."""
    timings = _Timings()
    try:
        with timings.phase("import torch"):
            import torch  # noqa: F401  (timed on its own: it is most of the start-up)
        with timings.phase("import modelcli"):
            from .. import callbacks, losses, metrics, models, optimizers  # noqa: F401
            from ..runs import load_state
        with timings.phase("config"):
            config, run_dir = training_config(config_path, overrides, run_dir, resume)
            state = load_state(run_dir) if resume is not None else None
    except KeyboardInterrupt:
        sys.stderr.write("\ninterrupted before training started; nothing was written\n")
        return INTERRUPTED
    return _Training(config, run_dir, state, resume is not None, device, verbose, echo, timings,
                     overrides).run()


def training_config(config_path, overrides, run_dir, resume):
    """``(config, run_dir)``: CONFIG with the overrides, or with ``--resume RUN`` the run's own
    config and folder (a new run's folder stays as given: None until one is chosen)."""
    from ..config import load_config
    from ..runs import find_run

    if resume is not None:
        if config_path is not None or run_dir is not None:
            raise ConfigError("--resume continues a run with the config it was started with",
                              where=config_path or run_dir, hint="give only: modelcli train --resume RUN")
        run_dir = find_run(resume)
        return load_config(os.path.join(run_dir, "config.yaml"), overrides), run_dir
    if config_path is None:
        raise ConfigError("no config given", hint="modelcli train CONFIG, or modelcli train --resume RUN")
    return load_config(config_path, overrides), run_dir


class _Training:
    def __init__(self, config, run_dir, state, resuming, device, verbose, echo, timings, overrides):
        self.config, self.run_dir, self.state, self.resuming = config, run_dir, state, resuming
        self.device, self.echo, self.timings, self.overrides = device, echo, timings, list(overrides)
        fit_verbose = config.fit.get("verbose", "auto")
        self.verbose = verbose if verbose is not None else (1 if fit_verbose == "auto" else fit_verbose)
        self.log = None
        self.recorder = None
        self.world = workers.from_environment()
        self.main = self.world.is_main  # the one that prints and writes

    def run(self) -> int:
        try:
            return self._run()
        except KeyboardInterrupt:
            return self._interrupted()
        except BaseException as err:
            if self.log is not None:
                self.log.write(f"failed: {type(err).__name__}: {err}", flush=True)
            raise
        finally:
            workers.shutdown()

    def _run(self) -> int:
        from .. import backend
        from ..data import load_split
        from ..runs import RunRecorder, check_new_run_dir, new_run_dir, seed_everything

        config, timings = self.config, self.timings

        if self.state is not None and self._finished():
            return 0
        device = backend.set_device(self.device or config.device)
        if self.world.distributed:
            workers.init(device)
            backend.set_device(workers.device())  # cuda:LOCAL_RANK, or the CPU
        run_dir = self.run_dir or new_run_dir(config.name)
        if not self.resuming and self.main:
            run_dir = check_new_run_dir(run_dir)
        run_dir = workers.broadcast_object(run_dir)  # timestamps may differ between machines

        with timings.phase("model"):
            seed_everything(config.seed)
            model = config.build_model()
            config.compile_model(model)
            if self.world.rank and config.seed is not None:  # every worker's dropout draws its own masks
                seed_everything(config.seed + self.world.rank)
            callbacks = config.callbacks_objects(run_dir)
            if self.world.distributed:
                from ..distributed.replica import check_callbacks
                check_callbacks(callbacks)
        with timings.phase("data"):
            splits = {name: load_split(spec, config.base_dir, model, f"data.{name}")
                      for name, spec in config.data.items()}

        self.run_dir = run_dir
        if self.main:
            with timings.phase("run folder"):
                self._open_run_folder(model)
            with timings.phase("printing"):
                self._summary(model)

        fit = {k: v for k, v in config.fit.items() if k not in ("verbose", "mixed_precision")}
        if "validation" in splits:
            fit["validation_data"] = splits["validation"]
        x, y, sample_weight = splits["train"]
        recorder = RunRecorder(run_dir, self.log, watched=callbacks, state=self.state,
                               initial_epoch=fit.get("initial_epoch", 0), writes=self.main)
        self.recorder = recorder
        with timings.phase("train"), warnings.catch_warnings():
            # read-only memory-mapped .npy files become tensors that share their pages; nothing writes to them
            warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
            model.fit(x, y, sample_weight=sample_weight, verbose=self.verbose if self.main else 0,
                      callbacks=self._worker_callbacks(callbacks) + [recorder], **fit)
        with timings.phase("evaluate"):
            metrics = self._final_metrics(model, recorder.history, splits, fit.get("batch_size"))
        if not self.main:
            return 0
        with timings.phase("run folder"):
            self._write_results(model, recorder, metrics)
        timings["train"] -= recorder.seconds  # the run folder's per-epoch files count as writing
        timings["run folder"] += recorder.seconds
        with timings.phase("printing"):
            self._table(metrics)
        self.log.write(f"done after {recorder.epochs_done} epochs; timings (s): " +
                       ", ".join(f"{k} {v:.3f}" for k, v in timings.items()), flush=True)
        self.echo(f"run folder: {run_dir}")
        return 0

    def _worker_callbacks(self, callbacks):
        if not self.world.distributed:
            return callbacks
        from ..distributed.replica import worker_callbacks
        return worker_callbacks(callbacks, self.world)

    # ----- the run folder ------------------------------------------------------------------------------
    def _open_run_folder(self, model):
        from ..runs import RunLog, atomic_write_text, remove_stale_temporaries

        run_dir, config = self.run_dir, self.config
        os.makedirs(run_dir, exist_ok=True)
        if self.resuming:
            remove_stale_temporaries(run_dir)
        self.log = RunLog(os.path.join(run_dir, "train.log"))
        settings = "".join(f" --set {o}" for o in self.overrides)
        if self.resuming:
            epoch = self.state["epoch"] if self.state is not None else 0
            self.log.write(f"resumed at epoch {epoch + 1}" + (f" with{settings}" if settings else ""))
        else:
            self.log.write(f"started from {config.path}" + (f" with{settings}" if settings else ""))
        atomic_write_text(os.path.join(run_dir, "config.yaml"), config.to_yaml())
        if not os.path.exists(os.path.join(run_dir, "model.json")):
            atomic_write_text(os.path.join(run_dir, "model.json"), model.to_json(indent=2) + "\n")
            atomic_write_text(os.path.join(run_dir, "model.yaml"), model.to_yaml())
        self.log.write(f"device {model._device()}, {model.count_params():,} parameters", flush=True)

    def _finished(self) -> bool:
        """A run that already ended: nothing to resume (say so, exit 0)."""
        epochs = self.config.fit.get("epochs", 1)
        done, stopped = int(self.state["epoch"]), bool(self.state.get("stopped"))
        if done < epochs and not stopped:
            return False
        why = "stopped early (a callback ended it)" if stopped else f"finished all {epochs} epochs"
        if not self.main:
            return True
        self.echo(f"nothing to resume: the run {why}; raise fit.epochs to train on, "
                  f"e.g. --set fit.epochs={epochs + 10}" if not stopped else f"nothing to resume: the run {why}")
        return True

    def _summary(self, model):
        from rich.console import Console

        from ..summary import render

        render(Console(), model)

    def _final_metrics(self, model, history, splits, batch_size) -> dict:
        """The last epoch's train / validation logs and, with test data, the test metrics."""
        last = {k: v[-1] for k, v in history.items() if v}
        metrics = {"train": {k: v for k, v in last.items() if not k.startswith("val_")},
                   "validation": {k[4:]: v for k, v in last.items() if k.startswith("val_")}}
        if "test" in splits:
            x, y, sample_weight = splits["test"]
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
                metrics["test"] = model.evaluate(x, y, sample_weight=sample_weight, batch_size=batch_size,
                                                 verbose=0, return_dict=True)
        return {k: v for k, v in metrics.items() if v}

    def _write_results(self, model, recorder, metrics):
        from ..runs import atomic_write_json, write_history

        run_dir = self.run_dir
        model.save_weights(os.path.join(run_dir, "model.weights.h5"))
        write_history(run_dir, recorder.history)
        atomic_write_json(os.path.join(run_dir, "metrics.json"), metrics)
        if "test" in metrics:
            self.log.write("test: " + " - ".join(f"{k}: {v:.6g}" for k, v in metrics["test"].items()), flush=True)

    def _table(self, metrics):
        from rich.console import Console
        from rich.table import Table

        table = Table(title="Final metrics", title_justify="left")
        table.add_column("metric")
        columns = [c for c in ("train", "validation", "test") if c in metrics]
        for column in columns:
            table.add_column(column, justify="right")
        names = list(dict.fromkeys(k for c in columns for k in metrics[c]))
        for name in names:
            table.add_row(name, *(f"{metrics[c][name]:.4f}" if name in metrics[c] else "" for c in columns))
        Console().print(table)

    def _interrupted(self) -> int:
        """Ctrl-C: the state of the last finished epoch is on disk already; record where it stopped."""
        from ..runs import write_history

        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut this short

        recorder = self.recorder
        if not self.main:
            return INTERRUPTED
        if self.log is None:
            sys.stderr.write("\ninterrupted before training started; nothing was written\n")
            return INTERRUPTED
        if recorder is not None:
            write_history(self.run_dir, recorder.history)
        self.log.write("interrupted (Ctrl-C); the last finished epoch's state is saved", flush=True)
        devices = f" --devices {self.world.size}" if self.world.distributed else ""
        sys.stderr.write(f"\ninterrupted: state saved in {self.run_dir}\n"
                         f"continue with: modelcli train --resume {self.run_dir}{devices}\n")
        return INTERRUPTED

"""``modelcli train --devices N``: check everything here, then start N workers on this machine.

The workers are ``python -m modelcli train ...`` processes started by torch's elastic
launcher (``elastic_launch``, as ``torchrun --standalone --nproc-per-node N`` would), so
a worker runs exactly what ``torchrun ... -m modelcli train`` runs on a cluster: it finds
``RANK`` / ``WORLD_SIZE`` / ``LOCAL_RANK`` in its environment and joins the group.

Bad input must never reach the workers: this process reads the config, builds and
compiles the model, reads the data and applies the several-device checks first, and
picks the run folder (one name for every worker). A worker that still fails with a
``ModelcliError`` leaves its message in a file; this process prints the first one as
the usual single ``error:`` line and exits 2. A worker that dies (killed, out of memory)
takes the others down with it; the run folder keeps the last finished epoch's state and
the message says how to resume. Ctrl-C reaches every worker: rank 0 keeps the last finished
epoch's state and says how to resume, as on one device, and the exit code is 130.
"""
from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import sys
import tempfile
import uuid

from ..errors import ConfigError, ModelcliError

ERRORS_ENV = "MODELCLI_WORKER_ERRORS"  # a folder where workers leave their error message, one file per rank
FAILED = 1


class WorkerFailed(ModelcliError):
    """A worker died: the run stopped; its folder keeps the last finished epoch."""

    exit_code = FAILED


def train(config_path, overrides, run_dir, resume, device, verbose, devices, echo=print) -> int:
    """Check, then train on ``devices`` local workers; the exit code (0 when every worker finished)."""
    if not isinstance(devices, int) or devices < 1:
        raise ConfigError(f"--devices must be a positive integer, got {devices!r}")
    run_dir = _prepare(config_path, overrides, run_dir, resume, device, devices)
    argv = ["-m", "modelcli", "train"]
    argv += ["--resume", run_dir] if resume is not None else [config_path, "--run-dir", run_dir]
    for override in overrides:
        argv += ["--set", override]
    if device is not None:
        argv += ["--device", device]
    if verbose is not None:
        argv += ["-v", str(verbose)]
    return _launch(devices, argv, run_dir)


def _prepare(config_path, overrides, run_dir, resume, device, devices) -> str:
    """Everything ``modelcli validate`` checks, plus the several-device rules; returns the run folder."""
    import warnings

    from .. import backend
    from ..commands.train import training_config
    from ..data import load_split
    from ..runs import check_new_run_dir, new_run_dir
    from .replica import check_callbacks, check_data, check_model

    config, run_dir = training_config(config_path, overrides, run_dir, resume)
    if resume is None:
        run_dir = check_new_run_dir(run_dir or new_run_dir(config.name))
    where = backend.set_device(device or config.device)
    if where.type == "cuda":
        import torch

        if devices > torch.cuda.device_count():
            raise ConfigError(f"--devices {devices} asks for more GPUs than the {torch.cuda.device_count()} "
                              f"this machine has", where="--devices")
    model = config.build_model()
    config.compile_model(model)
    check_model(model, devices)
    check_callbacks(config.callbacks_objects())
    fit = config.fit
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        for name, spec in config.data.items():
            x, _, _ = load_split(spec, config.base_dir, model, f"data.{name}")
            n = len(x[0] if isinstance(x, list) else x)
            batch = fit.get("batch_size") or 32
            if name == "validation":
                batch = fit.get("validation_batch_size") or batch
            for part, count in _parts(name, n, fit.get("validation_split") or 0.0):
                check_data(count, batch, devices, f"data.{part}")
    return run_dir


def _parts(name, n, split):
    if name != "train" or not split:
        return [(name, n)]
    held = int(n - int(n * (1.0 - split)))
    return [("train", n - held), ("train (validation_split)", held)]


def _launch(devices, argv, run_dir) -> int:
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.launcher.api import LaunchConfig, elastic_launch

    config = LaunchConfig(min_nodes=1, max_nodes=1, nproc_per_node=devices, run_id=f"modelcli-{uuid.uuid4().hex[:8]}",
                          rdzv_backend="c10d", rdzv_endpoint=f"localhost:{_free_port()}", max_restarts=0,
                          monitor_interval=0.1)
    with tempfile.TemporaryDirectory(prefix="modelcli-workers-") as errors, \
            _environment({ERRORS_ENV: errors, "OMP_NUM_THREADS": _threads(devices)}), _quiet_launcher():
        try:
            elastic_launch(config, sys.executable)(*argv)
        except ChildFailedError as failure:
            return _report(failure, errors, devices, run_dir)
        except SignalException as stop:  # Ctrl-C: the launcher passed it on; rank 0 saved and said so
            return 128 + int(stop.sigval)
    return 0


def _report(failure, errors, devices, run_dir) -> int:
    """One message for a failed group: the first worker's own error, else which worker died and how."""
    messages = sorted(os.listdir(errors), key=int)
    if messages:
        with open(os.path.join(errors, messages[0]), encoding="utf8") as f:
            code, _, message = f.read().partition("\n")
        raise _Relayed(message, int(code))
    rank, info = failure.get_first_failure()
    how = f"was killed by {signal.Signals(-info.exitcode).name}" if info.exitcode < 0 else \
        f"exited with code {info.exitcode}"
    resume = f"modelcli train --resume {run_dir} --devices {devices}"
    raise WorkerFailed(f"worker {rank} of {devices} {how}; the others were stopped",
                       hint=f"the run folder keeps the last finished epoch; continue with: {resume}")


class _Relayed(ModelcliError):
    """A worker's own error message, passed on as it was written."""

    def __init__(self, message, exit_code):
        super().__init__(message)
        self.exit_code = exit_code


def record_error(err) -> bool:
    """In a worker that ``--devices`` started: leave ``err``'s message for the launching process
    (which prints it once for the whole group); False elsewhere (the worker prints it)."""
    folder = os.environ.get(ERRORS_ENV)
    if not folder or "RANK" not in os.environ:
        return False
    with open(os.path.join(folder, os.environ["RANK"]), "w", encoding="utf8") as f:
        f.write(f"{getattr(err, 'exit_code', 2)}\n{err}")
    return True


def _threads(devices) -> str:
    """Share the cores (torchrun's rule of one thread a worker is harsh on a CPU-only machine)."""
    return os.environ.get("OMP_NUM_THREADS") or str(max(1, (os.cpu_count() or 1) // devices))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def _environment(values):
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextlib.contextmanager
def _quiet_launcher():
    """The elastic agent logs every start and failure; our one message says what matters."""
    names = [n for n in list(logging.Logger.manager.loggerDict) if n.startswith("torch.distributed")]
    loggers = [logging.getLogger(n) for n in names]  # each has its own level: the parent's does not reach them
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)

"""The ``modelcli`` command line: a thin skin over the Python API.

Each command is a few lines calling the same functions a Python user calls.
Heavy modules (torch, h5py, rich) are imported inside commands, so ``--help``
stays fast. A :class:`~modelcli.errors.ModelcliError` becomes one line on stderr
and exit code 2; ``--debug`` shows the traceback instead.
"""
from __future__ import annotations

import functools
import io
import os
import sys

import click

from .errors import ModelcliError


def _friendly_errors(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ModelcliError as err:
            if click.get_current_context().find_root().params.get("debug"):
                raise
            from .distributed.launch import record_error
            if not record_error(err):  # a worker of --devices leaves it for the launching process
                click.echo(f"error: {err}", err=True)
            sys.exit(err.exit_code)
    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
@click.version_option(package_name="modelcli")
def main(debug):
    """Keras models on PyTorch: read Keras model files, summarize, train and predict."""


@main.command()
@click.argument("path", type=click.Path(dir_okay=True))
@click.option("--device", default=None, help="cpu, cuda or cuda:N (default: cuda when available).")
@click.option("--show-trainable", is_flag=True, help="Add a column telling which layers train.")
@_friendly_errors
def summary(path, device, show_trainable):
    """Print the layer table of a model (.json/.yaml/.keras/.h5, a training config, or a run folder)."""
    from . import backend
    from .sources import load_model_source
    from .summary import render
    from rich.console import Console

    backend.set_device(device)
    model = load_model_source(path)
    render(Console(), model, show_trainable)


# ----- train, validate (modelcli/commands/) ------------------------------------------------------
_SET_HELP = "Override a config value: KEY.PATH=VALUE, the value read as YAML (e.g. fit.epochs=5). Repeatable."


@main.command()
@click.argument("config", required=False, type=click.Path())
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help=_SET_HELP)
@click.option("--run-dir", type=click.Path(), default=None,
              help="The run folder to create [default: runs/<name>-<YYYYmmdd-HHMMSS>].")
@click.option("--resume", metavar="RUN", type=click.Path(), default=None,
              help="Continue the run in folder RUN from its last finished epoch.")
@click.option("--device", default=None, help="cpu, cuda or cuda:N (default: the config's, else cuda when available).")
@click.option("-v", "--verbose", type=click.IntRange(0, 2), default=None,
              help="0: quiet, 1: progress bar, 2: one line per epoch [default: the config's fit.verbose].")
@click.option("--devices", type=click.IntRange(min=1), default=None, metavar="N",
              help="Train data-parallel on N local workers (GPUs, else CPU processes); batch_size stays global.")
@_friendly_errors
def train(config, overrides, run_dir, resume, device, verbose, devices):
    """Train the model a CONFIG (YAML or JSON) describes, writing a run folder.

    Ctrl-C stops after saving the state of the last finished epoch (exit code 130);
    --resume RUN carries on from there. Under torchrun every worker runs this same command.
    """
    from .commands import train as command
    from .distributed import launched

    if devices is not None and devices > 1 and not launched():
        from .distributed import launch
        sys.exit(launch.train(config, overrides, run_dir, resume, device, verbose, devices, echo=click.echo))
    code = command.run(config, overrides=overrides, run_dir=run_dir, resume=resume, device=device,
                       verbose=verbose, echo=click.echo)
    if code == command.INTERRUPTED and not _in_process():
        # Everything is on disk; leave now, so no late KeyboardInterrupt during interpreter shutdown
        # (joining threads, atexit) turns exit code 130 into death by SIGINT.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


def _in_process() -> bool:
    """True under click's test runner, which must get SystemExit rather than lose its process."""
    return type(sys.stdout) is not io.TextIOWrapper


@main.command()
@click.argument("config", type=click.Path())
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help=_SET_HELP)
@click.option("--device", default=None, help="cpu, cuda or cuda:N (default: the config's, else cuda when available).")
@_friendly_errors
def validate(config, overrides, device):
    """Check a CONFIG end to end (keys, files, model, data shapes) without training."""
    from .commands import validate as command

    command.run(config, overrides=overrides, device=device, echo=click.echo)
# ----- end of train, validate --------------------------------------------------------------------


# ----- evaluate, predict, convert, runs, plot (modelcli/commands/) ------------------------------
@main.command()
@click.argument("source", type=click.Path())
@click.option("--data", "data", type=click.Path(), default=None,
              help="A file with x and y (.npz keyed x/y or by input/output name, .csv, .h5); "
                   "default: the config's test data, else its validation data.")
@click.option("--weights", type=click.Path(), default=None, help="Weights to load (.weights.h5 or .h5).")
@click.option("--batch-size", type=click.IntRange(min=1), default=None, help="Samples per batch.")
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
@click.option("--device", default=None, help="cpu, cuda or cuda:N (default: cuda when available).")
@_friendly_errors
def evaluate(source, data, weights, batch_size, as_json, device):
    """Loss and metrics of a run or a config on its test data.

    SOURCE is a run folder or a training config; --data gives other data.
    """
    from . import backend
    from .commands import evaluate as command

    backend.set_device(device)
    command.run(source, data=data, weights=weights, batch_size=batch_size, as_json=as_json, echo=click.echo)


@main.command()
@click.argument("source", type=click.Path())
@click.option("--input", "-i", "input_path", type=click.Path(), required=True,
              help="The inputs: .npy (streamed, any size), .npz keyed by input name, .csv, .h5.")
@click.option("--output", "-o", type=click.Path(), default=None,
              help="Where to write: .npy (one output), .npz (keyed by output name) or .csv "
                   "[default: predictions.npy, or predictions.npz for several outputs].")
@click.option("--weights", type=click.Path(), default=None, help="Weights to load (.weights.h5 or .h5).")
@click.option("--batch-size", type=click.IntRange(min=1), default=32, show_default=True, help="Samples per batch.")
@click.option("--device", default=None, help="cpu, cuda or cuda:N (default: cuda when available).")
@_friendly_errors
def predict(source, input_path, output, weights, batch_size, device):
    """Write a model's predictions for a data file.

    SOURCE is a run folder, a model file (.json/.yaml/.keras/.h5) or a training config.
    """
    from . import backend
    from .commands import predict as command

    backend.set_device(device)
    command.run(source, input_path, output=output, weights=weights, batch_size=batch_size, echo=click.echo)


@main.command()
@click.argument("source", type=click.Path())
@click.argument("output", type=click.Path())
@_friendly_errors
def convert(source, output):
    """Convert model files: JSON, YAML, .keras, .h5.

    A JSON spec to YAML or back; a .keras, full-model .h5, run folder or training config to a
    spec (.json/.yaml) with its weights beside it (.weights.h5), or to a .keras or .h5.
    """
    from .commands import convert as command

    command.run(source, output, echo=click.echo)


@main.command()
@click.argument("folder", type=click.Path(), default="runs")
@click.option("--json", "as_json", is_flag=True, help="Print the runs as JSON.")
@_friendly_errors
def runs(folder, as_json):
    """List the runs in FOLDER (default: runs) and their final metrics."""
    from .commands import runs as command

    command.run(folder, as_json=as_json, echo=click.echo)


@main.command()
@click.argument("run_dir", metavar="RUN", type=click.Path())
@click.option("--output", "-o", type=click.Path(), default=None,
              help="The image (.png, .svg, .pdf) [default: RUN/history.png].")
@_friendly_errors
def plot(run_dir, output):
    """Draw a run's loss and metric curves per epoch.

    One panel per quantity, training vs validation.
    """
    from .commands import plot as command

    command.run(run_dir, output=output, echo=click.echo)
# ----- end of evaluate, predict, convert, runs, plot ----------------------------------------------


if __name__ == "__main__":  # pragma: no cover
    main()

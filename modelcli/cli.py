"""The ``modelcli`` command line: a thin skin over the Python API.

Each command is a few lines calling the same functions a Python user calls.
Heavy modules (torch, h5py, rich) are imported inside commands, so ``--help``
stays fast. A :class:`~modelcli.errors.ModelcliError` becomes one line on stderr
and exit code 2; ``--debug`` shows the traceback instead.
"""
from __future__ import annotations

import functools
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


if __name__ == "__main__":  # pragma: no cover
    main()

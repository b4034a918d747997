"""``modelcli validate CONFIG``: everything ``train`` checks before it starts, and nothing more.

The config (keys, types, files), the model (built, with its ``weights``), the compile
arguments, the callbacks, and each data split read and checked against the model's inputs
and outputs. Nothing is trained and nothing is written.
"""
from __future__ import annotations

import warnings


def run(config_path, overrides=(), device=None, echo=print) -> dict:
    """Check; prints a table of the data splits and returns ``{split: samples}``."""
    from .. import backend
    from ..config import load_config
    from ..data import load_split

    config = load_config(config_path, overrides)
    backend.set_device(device or config.device)
    model = config.build_model()
    config.compile_model(model)
    config.callbacks_objects()
    splits = {}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        for name, spec in config.data.items():
            splits[name] = load_split(spec, config.base_dir, model, f"data.{name}")
    _print(config, model, splits)
    echo(f"ok: {config.path} is ready to train")
    return {name: len(_first(x)) for name, (x, _, _) in splits.items()}


def _print(config, model, splits):
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{config.name}: model '{model.name}', {model.count_params():,} parameters",
                  title_justify="left")
    for column in ("split", "inputs", "targets"):
        table.add_column(column, no_wrap=True)
    for name, (x, y, _) in splits.items():
        table.add_row(name, _shapes(x, [t.name for t in model.inputs]),
                      _shapes(y, model.output_names) if y is not None else "-")
    Console().print(table)


def _first(arrays):
    return arrays[0] if isinstance(arrays, list) else arrays


def _shapes(arrays, names):
    arrays = arrays if isinstance(arrays, list) else [arrays]
    return "\n".join(f"{n} {tuple(a.shape)} {a.dtype}" for n, a in zip(names, arrays))

"""``modelcli runs [DIR]``: the run folders under DIR, oldest first, with their final metrics.

A run folder is one ``modelcli train`` wrote (:func:`modelcli.runs.is_run`).
Its metrics come from ``metrics.json`` (final train / validation / test metrics) or, for a
run that stopped before writing it, from the last epoch of ``history.json``. A run is
``done`` once its final ``metrics.json`` and ``model.weights.h5`` are there, ``resumable``
when it stopped with resume state saved, else ``incomplete``.
"""
from __future__ import annotations

import json
import os
import re

from ..errors import ConfigError

_STAMP = re.compile(r"-(\d{8}-\d{6})$")
_PREFIXES = {"train": "", "training": "", "val": "val_", "validation": "val_", "test": "test_"}


def run(folder="runs", as_json=False, echo=print):
    from ..runs import is_run

    if not os.path.isdir(folder):
        raise ConfigError("no such folder", where=folder, hint="train a config first: modelcli train CONFIG")
    rows = [describe(os.path.join(folder, name)) for name in os.listdir(folder)
            if is_run(os.path.join(folder, name))]
    rows.sort(key=lambda r: (r["started"] or "", r["run"]))
    if as_json:
        echo(json.dumps(rows, indent=1))
    elif not rows:
        echo(f"no runs in {folder}")
    else:
        _print_table(rows, folder)
    return rows


def describe(path) -> dict:
    """One run: name, start time, status, epochs done and its final metrics (flat keys)."""
    history = _read_json(os.path.join(path, "history.json")) or {}
    final = _read_json(os.path.join(path, "metrics.json"))
    metrics = flat_metrics(final) if final else {k: v[-1] for k, v in history.items()
                                                  if isinstance(v, list) and v}
    done = final is not None and os.path.exists(os.path.join(path, "model.weights.h5"))
    status = "done" if done else ("resumable" if os.path.isdir(os.path.join(path, "state")) else "incomplete")
    name = os.path.basename(os.path.normpath(path))
    stamp = _STAMP.search(name)
    started = (f"{stamp[1][:4]}-{stamp[1][4:6]}-{stamp[1][6:8]} "
               f"{stamp[1][9:11]}:{stamp[1][11:13]}:{stamp[1][13:]}") if stamp else None
    epochs = max((len(v) for v in history.values() if isinstance(v, list)), default=0)
    return {"run": name, "path": path, "started": started, "status": status, "epochs": epochs,
            "metrics": metrics}


def flat_metrics(metrics) -> dict:
    """``{"test": {"loss": 0.1}}`` and ``{"test_loss": 0.1}`` both become ``{"test_loss": 0.1}``."""
    flat = {}
    for key, value in metrics.items():
        if isinstance(value, dict):
            prefix = _PREFIXES.get(key, f"{key}_")
            flat.update({f"{prefix}{k}": v for k, v in value.items() if isinstance(v, (int, float))})
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            flat[key] = value
    return flat


def _read_json(path):
    try:
        with open(path, encoding="utf8") as f:
            value = json.load(f)
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _column_order(key):
    for rank, prefix in enumerate(("val_", "test_")):
        if key.startswith(prefix):
            return rank + 1, key != f"{prefix}loss", key
    return 0, key != "loss", key


def _print_table(rows, folder):
    from rich.console import Console
    from rich.table import Table

    columns = sorted({k for r in rows for k in r["metrics"]}, key=_column_order)
    table = Table(title=f"runs in {folder}")
    for name in ("run", "started", "status", "epochs"):
        table.add_column(name, justify="right" if name == "epochs" else "left")
    for name in columns:
        table.add_column(name, justify="right")
    for r in rows:
        cells = [r["run"], r["started"] or "-", r["status"], str(r["epochs"])]
        cells += [f"{r['metrics'][c]:.4f}" if c in r["metrics"] else "-" for c in columns]
        table.add_row(*cells)
    console = Console()
    if not console.is_terminal:  # a pipe or a file: wide enough that no number is cut
        console = Console(width=max(120, 16 * (4 + len(columns))))
    console.print(table)

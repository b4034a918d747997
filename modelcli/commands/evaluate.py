"""``modelcli evaluate RUN|CONFIG``: loss and metrics, as ``model.evaluate`` computes them.

The model is the run's (``model.json`` + its final ``model.weights.h5``) or the config's
(with the config's ``weights``, if any); ``--weights`` loads other weights on top. It is
compiled as the config says (a run's ``config.yaml`` is the config it trained with) and
evaluated on ``--data FILE``, else on the config's ``data.test``, else ``data.validation``.
"""
from __future__ import annotations

import json
import os

from ..errors import ConfigError


def run(source, data=None, weights=None, batch_size=None, as_json=False, echo=print):
    """Evaluate; prints a table (or JSON) and returns ``{"loss": ..., <metric>: ...}``."""
    from ..config import load_config
    from ..data import load_split
    from ..runs import find_run
    from ..sources import load_model_source

    run_dir = None if os.path.isfile(source) else find_run(source)
    config_path = os.path.join(run_dir, "config.yaml") if run_dir else source
    if run_dir and not os.path.exists(config_path):
        raise ConfigError("the run folder has no config.yaml, so nothing says how to compile the model",
                          where=source, hint="evaluate a training config with --weights RUN/model.weights.h5")
    if not config_path.lower().endswith((".yaml", ".yml", ".json")):
        raise ConfigError("evaluate needs a training config or a run folder (they say how to compile)",
                          where=source, hint="for a bare model file use modelcli predict")
    config = load_config(config_path)
    model = load_model_source(run_dir) if run_dir else config.build_model()
    if weights:
        model.load_weights(weights)
    config.compile_model(model)
    spec, base_dir, where = _data_spec(config, data)
    x, y, sample_weight = load_split(spec, base_dir, model, where)
    batch_size = batch_size or (config.fit or {}).get("batch_size") or 32
    logs = model.evaluate(x, y, sample_weight=sample_weight, batch_size=batch_size, verbose=0, return_dict=True)
    if as_json:
        echo(json.dumps(logs, indent=1))
    else:
        print_metrics(logs, f"{config.name or os.path.basename(source)} on {where}")
    return logs


def _data_spec(config, data):
    """(split spec, folder its paths are relative to, its name for messages)."""
    if data:
        return {"path": data}, os.getcwd(), data
    splits = config.data or {}
    for split in ("test", "validation"):
        if splits.get(split):
            return splits[split], config.base_dir, f"data.{split}"
    raise ConfigError("no data to evaluate on: the config has neither data.test nor data.validation",
                      where=str(config.path), hint="give a file with --data FILE")


def print_metrics(logs, title):
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, value in logs.items():
        table.add_row(name, f"{value:.6g}")
    Console().print(table)

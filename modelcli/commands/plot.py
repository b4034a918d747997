"""``modelcli plot RUN [-o FILE]``: a run's History curves, one panel per quantity.

Each panel draws one quantity per epoch — ``loss``, then each metric — for training
(``loss``) and validation (``val_loss``) when the run has it. Drawn with matplotlib
(``pip install matplotlib``), written to a temporary file and renamed into place.
"""
from __future__ import annotations

import json
import os

from ..errors import ConfigError, ModelcliError

FORMATS = (".png", ".svg", ".pdf")


def run(run_dir, output=None, echo=print):
    from ..runs import find_run

    run_dir = find_run(run_dir)
    history = read_history(run_dir)
    output = output or os.path.join(run_dir, "history.png")
    suffix = os.path.splitext(output)[1].lower()
    if suffix not in FORMATS:
        raise ConfigError(f"cannot draw a plot as '{suffix or os.path.basename(output)}'", where=output,
                          hint="use .png, .svg or .pdf")
    try:
        import matplotlib
    except ImportError:
        raise ModelcliError("plot draws with matplotlib, which is not installed",
                            hint="pip install matplotlib") from None
    matplotlib.use("Agg")
    from matplotlib import pyplot
    from matplotlib.ticker import MaxNLocator

    from ..saving.atomic import atomic_path

    panels = curves(history)
    figure, axes = pyplot.subplots(1, len(panels), figsize=(4.5 * len(panels), 3.6), squeeze=False)
    for ax, (quantity, lines) in zip(axes[0], panels):
        for label, values in lines:
            ax.plot(range(1, len(values) + 1), values, marker="o" if len(values) < 30 else None,
                    markersize=3, label=label)
        ax.set_title(quantity)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend()
    figure.suptitle(os.path.basename(os.path.normpath(run_dir)))
    figure.tight_layout()
    with atomic_path(output) as tmp:
        figure.savefig(tmp, format=suffix[1:], dpi=100)
    pyplot.close(figure)
    echo(f"wrote {output}")
    return output


def read_history(run_dir) -> dict:
    path = os.path.join(run_dir, "history.json")
    if not os.path.exists(path):
        raise ConfigError("the run has no history.json: it has not finished an epoch yet", where=run_dir)
    try:
        with open(path, encoding="utf8") as f:
            history = json.load(f)
    except ValueError as err:
        raise ConfigError(f"history.json is not valid JSON ({err})", where=path) from None
    history = {k: v for k, v in history.items() if isinstance(v, list) and v} if isinstance(history, dict) else {}
    if not history:
        raise ConfigError("history.json has no epochs to draw yet", where=path)
    return history


def curves(history) -> list:
    """``[(quantity, [(label, values), ...]), ...]``: ``loss`` first, each with its ``val_`` twin."""
    quantities = [k for k in history if not k.startswith("val_")]
    quantities += [k[4:] for k in history if k.startswith("val_") and k[4:] not in history]
    quantities.sort(key=lambda k: (k != "loss", not k.endswith("loss"), k))
    return [(q, [(label, history[key]) for label, key in (("train", q), ("validation", f"val_{q}"))
                 if key in history]) for q in quantities]

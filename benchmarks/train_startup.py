"""Where a 1-epoch ``modelcli train`` of a small config spends its time.

    python benchmarks/train_startup.py [CONFIG ...] [--repeat N]

Runs the real executable (``python -m modelcli train CONFIG --set fit.epochs=1 -v 0``) in a fresh
process N times per config and reads the phase timings ``train`` writes to ``train.log``:

- python + CLI: interpreter start, click, process exit (the wall time not covered by a phase);
- import torch, import modelcli: the imports ``train`` needs (``modelcli --help`` imports neither);
- config: reading and checking the config (and the resume state);
- model: building and compiling the model and its callbacks;
- data: reading every split and checking it against the model;
- train: ``fit``, without the run folder's per-epoch files;
- evaluate: the test split after training;
- run folder: config/spec files, per-epoch state + checkpoints + history, final weights and metrics;
- printing: the model summary and the final table (rich).

A bare ``python -c "import torch"`` is timed alongside, as the floor no torch program gets under (its
interpreter start and exit, which tears torch down, compare with "python + CLI").
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_CONFIGS = [os.path.join(ROOT, "configs", name) for name in ("train_seed_mlp.yaml", "quickstart.yaml")]
PHASES = ["python + CLI", "import torch", "import modelcli", "config", "model", "data", "train", "evaluate",
          "run folder", "printing"]


def wall(command, **kwargs) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, **kwargs)
    return time.perf_counter() - start


def torch_floor():
    """(wall seconds, seconds inside ``import torch``) of a bare ``python -c "import torch"``."""
    code = "import time; start = time.perf_counter(); import torch; print(time.perf_counter() - start)"
    start = time.perf_counter()
    inside = float(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout)
    return time.perf_counter() - start, inside


def one_run(config, run_dir) -> dict:
    seconds = wall([sys.executable, "-m", "modelcli", "train", config, "--set", "fit.epochs=1", "-v", "0",
                    "--run-dir", run_dir])
    with open(os.path.join(run_dir, "train.log"), encoding="utf8") as f:
        line = [line for line in f if "timings (s):" in line][-1]
    phases = {name: float(value) for name, value in
              re.findall(r"([a-z][a-z ]*?) (\d+\.\d+)", line.split("timings (s):")[1])}
    phases["python + CLI"] = seconds - sum(phases.values())
    phases["total"] = seconds
    return phases


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("configs", nargs="*", default=DEFAULT_CONFIGS)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    floors = [torch_floor() for _ in range(args.repeat)]
    total, imports = (statistics.median(f[i] for f in floors) for i in (0, 1))
    print(f"python -c 'import torch': {total:.3f} s = import {imports:.3f} s + interpreter start and exit "
          f"{total - imports:.3f} s (median of {args.repeat})\n")
    with tempfile.TemporaryDirectory() as tmp:
        for config in args.configs:
            runs = [one_run(config, os.path.join(tmp, f"{os.path.basename(config)}-{i}")) for i in range(args.repeat)]
            median = {k: statistics.median(r.get(k, 0.0) for r in runs) for k in PHASES + ["total"]}
            print(f"{os.path.relpath(config, ROOT)}, 1 epoch (median of {args.repeat} runs):")
            for name in PHASES:
                share = 100 * median[name] / median["total"]
                print(f"  {name:<16} {median[name]:6.3f} s  {share:5.1f} %")
            overhead = median["total"] - median["import torch"] - median["train"]
            print(f"  {'total':<16} {median['total']:6.3f} s   (beyond import torch and training: {overhead:.3f} s)\n")


if __name__ == "__main__":
    main()

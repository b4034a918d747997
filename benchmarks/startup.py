"""Start-up cost of the CLI, against the floor set by ``import torch``.

Targets (model-files issue): ``modelcli --help`` under 0.3 s, and ``modelcli summary``
on a JSON model at most 0.5 s more than ``python -c 'import torch'``.
Each command runs ``--repeat`` times in a fresh interpreter; the median is reported.

    python benchmarks/startup.py [--repeat 5]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time


def timed(cmd, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, os.path.join(here, "..", "tests"))
    from specs import mlp_functional

    with tempfile.TemporaryDirectory() as tmp:
        spec = os.path.join(tmp, "model.json")
        with open(spec, "w") as f:
            json.dump(mlp_functional(), f)
        modelcli = [sys.executable, "-m", "modelcli"]
        rows = [
            ("python -c 'import torch'", timed([sys.executable, "-c", "import torch"], args.repeat)),
            ("modelcli --help", timed(modelcli + ["--help"], args.repeat)),
            ("modelcli summary model.json", timed(modelcli + ["summary", spec], args.repeat)),
        ]
    width = max(len(name) for name, _ in rows)
    for name, seconds in rows:
        print(f"{name:<{width}}  {seconds:6.3f} s")
    overhead = rows[2][1] - rows[0][1]
    print(f"{'summary - import torch':<{width}}  {overhead:6.3f} s  (target <= 0.5 s)")
    print(f"{'--help':<{width}}  {rows[1][1]:6.3f} s  (target < 0.3 s)")


if __name__ == "__main__":
    main()

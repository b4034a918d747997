"""Where one fit's step time goes, for the contenders of ``gpu_check.py``: kernels, launches, host ops.

    python benchmarks/gpu_profile.py --workload cnn_wide --contender "modelcli bf16" --contender "hand-written bf16"
    python benchmarks/gpu_profile.py --smoke      # on the CPU, tiny sizes (a test runs it)

``gpu_check.py`` says how fast each contender is; this says why one is slower than
another, in one short device session: for each workload and contender it fits one
warm-up epoch, then profiles one epoch under ``torch.profiler`` and prints per step
the wall time, the CUDA kernels launched and their GPU time, the heaviest kernels,
and the host-side torch ops by their own CPU time (the launch overhead of an eager
step shows there). On the CPU only the host ops are recorded.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import gpu_check  # noqa: E402 - puts the repository and tests on the path, as the benchmarks do
from gpu_check import ALL_WORKLOADS, GPU_SAMPLES, SMOKE_SAMPLES, WORKLOADS, contenders  # noqa: E402

from modelcli import backend  # noqa: E402

TOP = 12


def profile(runner, steps, cuda):
    """``runner.fit(1)`` once under the profiler; returns the report lines for it."""
    activities = [torch.profiler.ProfilerActivity.CPU] + ([torch.profiler.ProfilerActivity.CUDA] if cuda else [])
    with torch.profiler.profile(activities=activities) as prof:
        wall = gpu_check.timed(lambda: runner.fit(1))
    events = prof.key_averages()
    lines = [f"### {runner.name}: {wall / steps * 1e6:,.0f} µs per step (wall, {steps} steps, profiler on)"]
    if cuda:
        kernels = [e for e in events if e.device_type == torch.autograd.DeviceType.CUDA]
        launches = sum(e.count for e in kernels)
        gpu_us = sum(e.self_device_time_total for e in kernels)
        lines += [f"{launches / steps:.1f} kernels and {gpu_us / steps:,.0f} µs of GPU time per step", "",
                  _table("kernel", sorted(kernels, key=lambda e: -e.self_device_time_total)[:TOP], steps,
                         lambda e: e.self_device_time_total)]
    host = [e for e in events if e.device_type == torch.autograd.DeviceType.CPU and e.key.startswith("aten::")]
    lines += ["", _table("host op", sorted(host, key=lambda e: -e.self_cpu_time_total)[:TOP], steps,
                         lambda e: e.self_cpu_time_total), ""]
    return lines


def _table(what, events, steps, micros):
    rows = [f"| {what} | calls per step | µs per step |", "|---|---:|---:|"]
    rows += [f"| {e.key[:70]} | {e.count / steps:.2f} | {micros(e) / steps:,.1f} |" for e in events]
    return "\n".join(rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", action="append", choices=list(ALL_WORKLOADS), help="default: mlp")
    parser.add_argument("--contender", action="append", help="a gpu_check contender name (default: all)")
    parser.add_argument("--smoke", action="store_true", help="on the CPU with tiny sizes")
    parser.add_argument("--out", help="also write the report to this file")
    args = parser.parse_args(argv)
    device = torch.device("cpu" if args.smoke or not torch.cuda.is_available() else "cuda")
    cuda = device.type == "cuda"
    lines = [f"# gpu_profile: {torch.cuda.get_device_name(device) if cuda else 'CPU'}, torch {torch.__version__}"]
    for name in args.workload or (list(WORKLOADS)[:1]):
        workload = ALL_WORKLOADS[name]
        n = (SMOKE_SAMPLES if args.smoke else GPU_SAMPLES)[name]
        x, y = workload.make_data(n, np.random.default_rng(0))
        backend.set_device(device)
        torch.manual_seed(0)
        runners = [r for r in contenders(workload, x, y, device) if not args.contender or r.name in args.contender]
        steps = -(-n // workload.batch_size)
        lines += ["", f"## {name} ({n} samples, batch {workload.batch_size})", ""]
        for runner in runners:
            runner.fit(1)  # warm-up: optimizer state, the captured graph, cuDNN's choices
            lines += profile(runner, steps, cuda)
    backend.set_device(None)
    report = "\n".join(lines)
    print(report)
    if args.out:
        with open(args.out, "w") as f:
            f.write(report + "\n")


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"Total {time.perf_counter() - started:.0f} s.")

"""Training speed: modelcli against a hand-written PyTorch loop and Keras 3 (torch backend).

The three contenders train the same architecture on the same in-memory random data
with the same batch size, loss, optimizer hyperparameters and metric list, and the
same torch (so the same threads). Each builds its model, runs one warm-up epoch, and
then ``fit`` with ``--epochs`` epochs is timed; modelcli and the hand-written loop take
turns within each of ``--repeat`` rounds (in a rotating order, so slow drift in the
machine's load hits both alike) and the median is reported. ``predict`` on the training
inputs is timed the same way. Keras 3 runs afterwards, alone: it is imported only once
modelcli and the hand-written loop have finished every workload, so neither shares a
process with a second framework (with Keras 3 trained in the same process, the LSTM's
modelcli/hand-written ratio came out about 5 % lower). Keras 3 is skipped when it does not
import with the torch backend.

    python benchmarks/train_speed.py                       # all workloads, full size
    python benchmarks/train_speed.py --quick               # smoke run, small sizes
    python benchmarks/train_speed.py --workload tiny_mlp --epochs 3 --repeat 5 --threads 1
    python benchmarks/train_speed.py --profile --workload tiny_mlp --workload mlp

``--profile`` times modelcli's step in parts and runs ``fit`` under cProfile instead
(see ``profile_workload``): where modelcli spends time per step beyond the hand-written loop.

The hand-written loop is what a careful PyTorch user writes: an ``nn.Sequential`` of the
matching torch modules, the data as tensors in memory, per epoch a ``torch.randperm``
shuffle, forward, ``CrossEntropyLoss`` on logits (sparse labels) or ``BCELoss`` on a
sigmoid output, backward, ``torch.optim`` step with Keras's hyperparameters (Adam eps
1e-7; RMSprop alpha 0.9, eps 1e-7), ``zero_grad(set_to_none=True)``, and the running
loss and accuracy kept on the device and read once per epoch. Its CNN reads NCHW data
(converted once, outside the timing); modelcli and Keras read NHWC, Keras's layout.
Its predict is an ``inference_mode`` batched forward whose outputs (softmax applied for
the classifiers) are concatenated and returned as NumPy, as ``model.predict`` does.
"""
from __future__ import annotations

import argparse
import cProfile
import datetime
import json
import os
import platform
import pstats
import statistics
import sys
import time
from dataclasses import dataclass
from typing import Callable

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))


# ----- workloads ------------------------------------------------------------------------------------
@dataclass
class Workload:
    name: str
    samples: int
    quick_samples: int
    batch_size: int
    make_data: Callable  # (n, rng) -> (x, y) NumPy arrays in Keras's layout
    keras_model: Callable  # (keras-like module) -> model, for modelcli and Keras 3 alike
    torch_model: Callable  # () -> nn.Module
    loss: str  # Keras loss name
    optimizer: str  # Keras optimizer name, default hyperparameters
    labels: str  # "sparse" (integer classes) or "binary" (0/1 floats, shape (n, 1))
    torch_layout: Callable = staticmethod(lambda x: x)  # Keras-layout inputs -> the torch loop's


def mnist_like(n, rng):
    return rng.random((n, 784), dtype=np.float32), rng.integers(0, 10, n).astype(np.int64)


def mnist_images(n, rng):
    return rng.random((n, 28, 28, 1), dtype=np.float32), rng.integers(0, 10, n).astype(np.int64)


def token_reviews(n, rng):
    return rng.integers(0, 10000, (n, 100)).astype(np.int32), rng.integers(0, 2, (n, 1)).astype(np.float32)


def small_features(n, rng):
    return rng.standard_normal((n, 20), dtype=np.float32), rng.integers(0, 2, (n, 1)).astype(np.float32)


def mlp_keras(K, widths=(256, 128)):
    return K.Sequential([K.Input((784,)), K.layers.Dense(widths[0], activation="relu"),
                         K.layers.Dense(widths[1], activation="relu"), K.layers.Dense(10, activation="softmax")])


def mlp_torch(widths=(256, 128)):
    return nn.Sequential(nn.Linear(784, widths[0]), nn.ReLU(), nn.Linear(widths[0], widths[1]), nn.ReLU(),
                         nn.Linear(widths[1], 10))


def cnn_keras(K, filters=(16, 32)):
    return K.Sequential([K.Input((28, 28, 1)), K.layers.Conv2D(filters[0], 3, activation="relu"),
                         K.layers.MaxPooling2D(), K.layers.Conv2D(filters[1], 3, activation="relu"),
                         K.layers.MaxPooling2D(), K.layers.Flatten(), K.layers.Dense(10, activation="softmax")])


def cnn_torch(filters=(16, 32)):
    return nn.Sequential(nn.Conv2d(1, filters[0], 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(filters[0], filters[1], 3),
                         nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(filters[1] * 5 * 5, 10))


def lstm_keras(K):
    return K.Sequential([K.Input((100,), dtype="int32"), K.layers.Embedding(10000, 128), K.layers.LSTM(32),
                         K.layers.Dense(1, activation="sigmoid")])


class LastOutput(nn.Module):
    """An LSTM that returns its last step's output, as Keras's ``LSTM(return_sequences=False)``."""

    def __init__(self, features, units):
        super().__init__()
        self.lstm = nn.LSTM(features, units, batch_first=True)

    def forward(self, x):
        return self.lstm(x)[0][:, -1]


def lstm_torch():
    return nn.Sequential(nn.Embedding(10000, 128), LastOutput(128, 32), nn.Linear(32, 1), nn.Sigmoid())


def tiny_keras(K):
    return K.Sequential([K.Input((20,)), K.layers.Dense(32, activation="relu"),
                         K.layers.Dense(1, activation="sigmoid")])


def tiny_torch():
    return nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 1), nn.Sigmoid())


WORKLOADS = {w.name: w for w in [
    Workload("mlp", 60000, 6000, 128, mnist_like, mlp_keras, mlp_torch,
             "sparse_categorical_crossentropy", "adam", "sparse"),
    Workload("cnn", 6000, 1200, 64, mnist_images, cnn_keras, cnn_torch,
             "sparse_categorical_crossentropy", "adam", "sparse",
             torch_layout=lambda x: np.ascontiguousarray(x.transpose(0, 3, 1, 2))),
    Workload("lstm", 3200, 640, 32, token_reviews, lstm_keras, lstm_torch, "binary_crossentropy", "rmsprop", "binary"),
    Workload("tiny_mlp", 32000, 6400, 32, small_features, tiny_keras, tiny_torch,
             "binary_crossentropy", "adam", "binary"),
]}
METRICS = ["accuracy"]  # every contender computes the loss and this one metric per epoch


# ----- contenders -----------------------------------------------------------------------------------
class HandWritten:
    name = "hand-written"

    def __init__(self, workload, x, y, device="cpu"):
        self.w = workload
        self.x = torch.from_numpy(workload.torch_layout(x)).to(device)
        self.y = torch.from_numpy(y).to(device)
        self.model = workload.torch_model().to(device)
        if workload.labels == "sparse":
            self.loss_fn = nn.CrossEntropyLoss()
        else:
            self.loss_fn = nn.BCELoss()
        if workload.optimizer == "adam":
            self.opt = torch.optim.Adam(self.model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
        else:
            self.opt = torch.optim.RMSprop(self.model.parameters(), lr=1e-3, alpha=0.9, eps=1e-7)

    def fit(self, epochs):
        model, opt, loss_fn, x, y, bs = self.model, self.opt, self.loss_fn, self.x, self.y, self.w.batch_size
        sparse = self.w.labels == "sparse"
        n = len(x)
        model.train()
        for _ in range(epochs):
            order = torch.randperm(n, device=x.device)
            running = torch.zeros((), device=x.device)
            correct = torch.zeros((), dtype=torch.int64, device=x.device)
            steps = 0
            for start in range(0, n, bs):
                index = order[start:start + bs]
                xb, yb = x[index], y[index]
                out = model(xb)
                loss = loss_fn(out, yb)
                loss.backward()
                opt.step()
                opt.zero_grad(set_to_none=True)
                running += loss.detach()
                with torch.no_grad():
                    correct += (out.argmax(-1) == yb).sum() if sparse else ((out > 0.5) == (yb > 0.5)).sum()
                steps += 1
            self.logs = {"loss": running.item() / steps, "accuracy": correct.item() / n}

    def predict(self):
        model, x, bs = self.model, self.x, self.w.batch_size
        model.eval()
        with torch.inference_mode():
            outs = [model(x[i:i + bs]) for i in range(0, len(x), bs)]
            out = torch.cat(outs)
            if self.w.labels == "sparse":
                out = out.softmax(-1)
            result = out.cpu().numpy()
        model.train()
        return result


class KerasLike:
    """modelcli or Keras 3: the same calls, as a Keras user makes them."""

    def __init__(self, name, module, workload, x, y, metrics=METRICS):
        self.name = name
        self.w = workload
        self.x, self.y = x, y
        self.model = workload.keras_model(module)
        self.model.compile(optimizer=workload.optimizer, loss=workload.loss, metrics=list(metrics))

    def fit(self, epochs):
        self.model.fit(self.x, self.y, batch_size=self.w.batch_size, epochs=epochs, verbose=0, shuffle=True)

    def predict(self):
        return self.model.predict(self.x, batch_size=self.w.batch_size, verbose=0)


def import_keras3():
    """Keras 3 on the torch backend, or (None, why not)."""
    try:
        import keras
    except Exception as err:  # noqa: BLE001 - any import failure means "not available"
        return None, f"import failed: {err}"
    if not keras.__version__.startswith("3") or keras.backend.backend() != "torch":
        return None, f"keras {keras.__version__} on backend {keras.backend.backend()}, not Keras 3 on torch"
    return keras, None


def paired_contenders(workload, x, y):
    import modelcli
    return [KerasLike("modelcli", modelcli, workload, x, y), HandWritten(workload, x, y)]


def keras_contender(keras3):
    return lambda workload, x, y: [KerasLike("Keras 3", keras3, workload, x, y)]


# ----- timing ---------------------------------------------------------------------------------------
def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure(workload, n, epochs, repeat, make_contenders=paired_contenders):
    """{contender: {"fit": [samples/s...], "predict": [samples/s...]}} over ``repeat`` interleaved rounds."""
    rng = np.random.default_rng(0)
    x, y = workload.make_data(n, rng)
    runners = make_contenders(workload, x, y)
    for r in runners:
        r.fit(1)  # warm-up: builds the optimizer, resolves metrics, warms the allocator
        r.predict()
    rates = {r.name: {"fit": [], "predict": []} for r in runners}
    for round_ in range(repeat):
        turn = runners[round_ % len(runners):] + runners[:round_ % len(runners)]
        for r in turn:
            rates[r.name]["fit"].append(n * epochs / timed(lambda: r.fit(epochs)))
        for r in turn:
            rates[r.name]["predict"].append(n / timed(r.predict))
    return rates


def median(values):
    return statistics.median(values) if values else None


def table(results, kind):
    lines = ["| workload | modelcli samples/s | hand-written samples/s | Keras 3 samples/s | modelcli/hand "
             "[quartiles] | modelcli/Keras |", "|---|---:|---:|---:|---:|---:|"]
    for name, rates in results.items():
        series = [rates.get(c, {}).get(kind, []) for c in ("modelcli", "hand-written", "Keras 3")]
        mc, hand, k3 = (median(v) for v in series)
        cell = lambda v: "n/a" if v is None else f"{v:,.0f}"  # noqa: E731
        versus_keras = "n/a" if mc is None or k3 is None else f"{mc / k3:.2f}"
        lines.append(f"| {name} | {cell(mc)} | {cell(hand)} | {cell(k3)} | {paired_ratio(series[0], series[1])} | "
                     f"{versus_keras} |")
    return "\n".join(lines)


def paired_ratio(ours, theirs) -> str:
    """The median over rounds of each round's ratio, with the rounds' quartiles in brackets: both
    sides of a round ran within seconds of each other, so the machine's slow swings in load cancel
    out of the ratio, and the quartiles show what the short bursts leave."""
    if not ours or not theirs:
        return "n/a"
    ratios = [a / b for a, b in zip(ours, theirs)]
    if len(ratios) < 4:
        return f"{statistics.median(ratios):.2f}"
    low, mid, high = statistics.quantiles(ratios, n=4)
    return f"{mid:.2f} [{low:.2f}–{high:.2f}]"


def spread(results):
    """max/min of each contender's rounds: how much the machine's noise moved the numbers."""
    parts = []
    for name, rates in results.items():
        for kind in ("fit", "predict"):
            cells = [f"{c} {max(v[kind]) / min(v[kind]):.2f}" for c, v in rates.items() if v[kind]]
            parts.append(f"{name} {kind}: " + ", ".join(cells))
    return "\n".join(parts)


def environment(threads):
    load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    return (f"{datetime.datetime.now().isoformat(timespec='minutes')} | {platform.processor() or platform.machine()}, "
            f"{os.cpu_count()} CPUs, torch {torch.__version__}, {threads} torch threads | load average {load}")


# ----- profiling ------------------------------------------------------------------------------------
def per_step_us(fn, steps):
    return 1e6 * timed(fn) / steps


def profile_workload(workload, n, epochs, repeat, top):
    """Where modelcli's step spends time beyond the hand-written one.

    1. The whole step, unprofiled: µs per step of both fits, with and without the accuracy metric.
    2. The parts, each timed alone on one batch (public API: ``call``, loss and metric
       objects, ``optimizer.apply``), beside their hand-written counterparts.
    3. ``fit`` under cProfile: the modelcli and Python-level torch functions with the most
       time per step (cProfile's own cost inflates these; compare them with each other).
    """
    import modelcli
    from modelcli import losses

    rng = np.random.default_rng(0)
    x, y = workload.make_data(n, rng)
    steps = -(-n // workload.batch_size) * epochs
    hand = HandWritten(workload, x, y)
    mc = KerasLike("modelcli", modelcli, workload, x, y)
    mc_plain = KerasLike("modelcli", modelcli, workload, x, y, metrics=[])
    for r in (hand, mc, mc_plain):
        r.fit(1)
    rows = {"hand-written fit": [], "modelcli fit": [], "modelcli fit, no metrics": []}
    for _ in range(repeat):
        rows["hand-written fit"].append(per_step_us(lambda: hand.fit(epochs), steps))
        rows["modelcli fit"].append(per_step_us(lambda: mc.fit(epochs), steps))
        rows["modelcli fit, no metrics"].append(per_step_us(lambda: mc_plain.fit(epochs), steps))
    print(f"\n### {workload.name}: {n} samples, batch {workload.batch_size}, {steps} steps per timing, "
          f"{repeat} interleaved rounds\n")
    print("| whole step in fit (unprofiled) | min µs/step | median µs/step |\n|---|---:|---:|")
    for name, values in rows.items():
        print(f"| {name} | {min(values):.0f} | {median(values):.0f} |")

    # 2. the parts, on one batch
    bs = workload.batch_size
    xb_t, yb_t = hand.x[:bs], hand.y[:bs]
    xb, yb = torch.from_numpy(x[:bs]), torch.from_numpy(y[:bs])
    model = mc.model
    loss_obj = losses.get(workload.loss)  # what compile(loss="<name>") builds from the name
    loss_obj = loss_obj if isinstance(loss_obj, losses.Loss) else losses.LossFunctionWrapper(loss_obj)
    params = [p for p in model.parameters() if p.requires_grad]
    reps, rounds = 100, max(5, repeat)

    def pair(hand_fn, mc_fn):
        """Fastest of ``rounds`` interleaved rounds, µs per call: on a busy machine the minimum is the signal."""
        hand_fn(), mc_fn()
        times = ([], [])
        for _ in range(rounds):
            for fn, out in zip((hand_fn, mc_fn), times):
                out.append(per_step_us(lambda: [fn() for _ in range(reps)], reps))
        return min(times[0]), min(times[1])

    def mc_forward():
        return model.call(xb, training=True)

    def hand_forward():
        return hand.model(xb_t)

    pred = mc_forward()
    out = hand_forward()
    mc_loss = lambda: loss_obj(yb, pred)  # noqa: E731
    hand_loss = lambda: hand.loss_fn(out, yb_t)  # noqa: E731
    for p in params:
        p.grad = torch.zeros_like(p)
    for p in hand.model.parameters():
        p.grad = torch.zeros_like(p)
    parts = [
        ("forward", hand_forward, mc_forward),
        ("loss", hand_loss, mc_loss),
        ("forward + loss + backward", lambda: hand_loss_of(hand, xb_t, yb_t).backward(),
         lambda: loss_obj(yb, mc_forward()).backward()),
        ("optimizer step", hand.opt.step, model.optimizer.apply),
    ]
    if workload.optimizer == "adam":
        fused = torch.optim.Adam(hand.model.parameters(), lr=1e-3, eps=1e-7, fused=True)
        parts.append(("optimizer step, hand-written with fused=True", fused.step, model.optimizer.apply))
    sparse = workload.labels == "sparse"
    hand_correct = torch.zeros((), dtype=torch.int64)
    hand_running = torch.zeros(())
    hand_loss_value = hand_loss().detach()

    def hand_metric():
        hand_running.add_(hand_loss_value)
        with torch.no_grad():
            hand_correct.add_((out.argmax(-1) == yb_t).sum() if sparse else ((out > 0.5) == (yb_t > 0.5)).sum())

    # the fit loop's own bookkeeping: a step recorded, and its share of the flush every few dozen steps
    loss_value = mc_loss().detach()
    pred_value = pred.detach()
    model.reset_metrics()
    model._record(loss_value, bs, [yb], [pred_value], None, None)
    flush_every = model._records.max_steps if model._records else 1

    def mc_metric():
        for _ in range(flush_every):
            model._record(loss_value, bs, [yb], [pred_value], None, None)
        model._flush_records()

    def hand_metrics():
        for _ in range(flush_every):
            hand_metric()

    parts.append((f"loss tracker + accuracy update (×{flush_every} steps)", hand_metrics, mc_metric))
    print("\n| part, one batch (min of rounds) | hand-written µs | modelcli µs | extra µs |\n|---|---:|---:|---:|")
    for name, h, m in parts:
        th, tm = pair(h, m)
        print(f"| {name} | {th:.0f} | {tm:.0f} | {tm - th:+.0f} |")
    for p in params:
        p.grad = None

    # 3. cProfile of fit
    profiler = cProfile.Profile()
    profiler.enable()
    mc.fit(epochs)
    profiler.disable()
    stats = pstats.Stats(profiler).stats
    root = os.path.dirname(os.path.dirname(os.path.abspath(modelcli.__file__)))

    def where(filename, line):
        """``modelcli/x.py:line`` for modelcli code, else ``None``."""
        path = os.path.abspath(filename)
        return f"{os.path.relpath(path, root)}:{line}" if path.startswith(os.path.join(root, "modelcli")) else None

    def area(key):
        place = where(key[0], key[1])
        return place.split(":")[0] if place else "torch / Python (outside modelcli)"

    # Each modelcli file's own Python time plus the builtins (torch ops) it calls directly.
    by_area = {}
    for key, (_, _, tottime, _, callers) in stats.items():
        if key[0] == "~":
            for caller, edge in callers.items():
                by_area[area(caller)] = by_area.get(area(caller), 0.0) + edge[2]
        else:
            by_area[area(key)] = by_area.get(area(key), 0.0) + tottime
    total = 1e6 * sum(by_area.values()) / steps
    print(f"\ncProfile of modelcli fit: {total:.0f} µs/step in all (cProfile inflates Python calls). "
          f"Time per step by file: the file's own Python plus the builtins (torch ops) it calls directly:\n")
    print("| file | µs/step |\n|---|---:|")
    for name, seconds in sorted(by_area.items(), key=lambda e: -e[1]):
        if 1e6 * seconds / steps >= 1:
            print(f"| {name} | {1e6 * seconds / steps:.0f} |")
    rows = [(func, where(f, line), calls / steps, 1e6 * own / steps, 1e6 * cum / steps)
            for (f, line, func), (_, calls, own, cum, _) in stats.items() if where(f, line)]
    print(f"\nTop {top} modelcli functions by cumulative time:\n")
    print("| function | where | calls/step | own µs/step | cumulative µs/step |\n|---|---|---:|---:|---:|")
    for func, place, calls, own, cum in sorted(rows, key=lambda e: -e[4])[:top]:
        print(f"| {func} | {place} | {calls:.1f} | {own:.1f} | {cum:.1f} |")


def hand_loss_of(hand, xb, yb):
    return hand.loss_fn(hand.model(xb), yb)


# ----- main -----------------------------------------------------------------------------------------
def pooled(name, args):
    """``measure``'s rates for one workload from ``args.processes`` fresh processes, rounds concatenated
    (each process's rounds stay paired, so per-round ratios still compare neighbours in time)."""
    import subprocess
    import tempfile

    rates = {}
    for _ in range(args.processes):
        with tempfile.NamedTemporaryFile(suffix=".json") as out:
            command = [sys.executable, os.path.abspath(__file__), "--workload", name, "--repeat", str(args.repeat),
                       "--epochs", str(args.epochs), "--rates-out", out.name]
            command += (["--threads", str(args.threads)] if args.threads else []) + \
                (["--quick"] if args.quick else [])
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            with open(out.name) as f:
                for contender, kinds in json.load(f).items():
                    for kind, values in kinds.items():
                        rates.setdefault(contender, {}).setdefault(kind, []).extend(values)
    return rates


def keras_rounds(names, args, results):
    """Keras 3 alone, after modelcli and the hand-written loop are done: ``--repeat`` rounds per workload."""
    keras3, why = (None, "--no-keras") if args.no_keras else import_keras3()
    if keras3 is None:
        print(f"Keras 3: not run: {why}")
        return
    print(f"Keras 3: {keras3.__version__} (torch backend), median of {args.repeat} rounds, run after the others")
    for name, key in zip(names, results):
        w = WORKLOADS[name]
        start = time.perf_counter()
        results[key].update(measure(w, w.quick_samples if args.quick else w.samples, args.epochs, args.repeat,
                                    keras_contender(keras3)))
        print(f"  {name}, Keras 3: {time.perf_counter() - start:.0f} s", file=sys.stderr)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", action="append", choices=list(WORKLOADS),
                        help="run this workload (repeatable; default: all, or tiny_mlp and mlp with --profile)")
    parser.add_argument("--epochs", type=int, default=1, help="epochs per timed fit (after one warm-up epoch)")
    parser.add_argument("--repeat", type=int, default=5, help="interleaved rounds; medians are reported")
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument("--threads", type=int, help="torch.set_num_threads (default: torch's choice)")
    parser.add_argument("--no-keras", action="store_true", help="leave Keras 3 out")
    parser.add_argument("--profile", action="store_true", help="profile modelcli's fit step instead")
    parser.add_argument("--top", type=int, default=25, help="functions listed by --profile")
    parser.add_argument("--processes", type=int, default=1,
                        help="measure each workload in this many fresh processes (--repeat rounds each) and pool "
                             "the rounds: a process's memory layout alone moves a ratio by up to ±15%%")
    parser.add_argument("--rates-out", help=argparse.SUPPRESS)  # a worker of --processes writes its rates here
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    names = args.workload or (["tiny_mlp", "mlp"] if args.profile else list(WORKLOADS))
    print(environment(torch.get_num_threads()))
    if args.profile:
        for name in names:
            w = WORKLOADS[name]
            profile_workload(w, w.quick_samples if args.quick else w.samples, args.epochs, args.repeat, args.top)
        return
    rounds = args.repeat * args.processes
    print(f"{args.epochs} timed epochs after 1 warm-up epoch; modelcli and hand-written: median of {rounds} "
          f"interleaved rounds{f' ({args.processes} processes × {args.repeat})' if args.processes > 1 else ''}, "
          "ratios the median of the rounds' own ratios [quartiles]")
    results = {}
    for name in names:
        w = WORKLOADS[name]
        n = w.quick_samples if args.quick else w.samples
        start = time.perf_counter()
        rates = pooled(name, args) if args.processes > 1 else measure(w, n, args.epochs, args.repeat)
        results[f"{name} ({n}, batch {w.batch_size})"] = rates
        print(f"  {name}: {time.perf_counter() - start:.0f} s", file=sys.stderr)
    if args.rates_out:
        with open(args.rates_out, "w") as f:
            json.dump(next(iter(results.values())), f)
        return
    keras_rounds(names, args, results)
    print("\nfit (training samples per second)\n")
    print(table(results, "fit"))
    print("\npredict (samples per second)\n")
    print(table(results, "predict"))
    print("\nmax/min over the rounds (noise):\n" + spread(results))
    print("\n" + environment(torch.get_num_threads()))


if __name__ == "__main__":
    main()

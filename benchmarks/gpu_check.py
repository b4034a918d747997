"""The GPU check in one run: CUDA predictions against the CPU's, and training speed on CUDA.

    python benchmarks/gpu_check.py --out benchmarks/gpu_check_h100.md   # on a GPU machine, < 4 min on an H100
    python benchmarks/gpu_check.py --smoke                              # everything on the CPU, tiny sizes

1. Parity: every Keras 2 fixture model (``tests/fixtures/keras2``) and every Keras 3
   architecture of the parity suite (``tests/keras3_architectures.py``, when Keras 3
   imports) is built on the CPU and on CUDA with the same weights; the table gives the
   largest |CUDA − CPU| prediction difference per model.
2. Speed: the workloads of ``train_speed.py`` (same models, data, batch sizes), timed as
   samples/s of ``fit`` (median of ``--repeat`` interleaved rounds after one warm-up epoch; a round is
   one ``fit`` call of ``EPOCHS`` epochs, so modelcli's per-call setup counts once per call, as in a
   user's run; the step is captured in the warm-up fit and kept by the model, as the hand-written
   graph is captured once per contender). The contenders: modelcli eager
   (``MODELCLI_CUDA_GRAPHS=off``), modelcli with the whole step captured (the default), both given
   the data as tensors on the device as the hand-written loop holds it; the captured one again given
   the NumPy arrays, which ``fit`` uploads on every call; the hand-written eager loop of
   ``train_speed.py``; the same loop captured by hand as one CUDA graph (the issue's reference);
   and for the MLPs and CNNs modelcli under the ``mixed_bfloat16`` policy (eager and captured) and
   the hand-written loop under bf16 autocast. Peak memory is ``torch.cuda.max_memory_allocated``
   over each contender's timed fits. "capture Δw" is the largest weight difference between
   a modelcli model trained one epoch captured and one trained eagerly from the same start
   (both unshuffled): the captured step must compute what the eager step computes.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime
import functools
import glob
import os
import statistics
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np  # noqa: E402
import torch  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [ROOT, HERE, os.path.join(ROOT, "tests")]

import train_speed  # noqa: E402
from train_speed import WORKLOADS, HandWritten  # noqa: E402

import modelcli  # noqa: E402
from modelcli import backend, models  # noqa: E402
from modelcli.trainer.step_capture import WARMUP_STEPS, WholeStepCapture  # noqa: E402

KERAS2 = os.path.join(ROOT, "tests", "fixtures", "keras2", "tf221")
GPU_SAMPLES = {"mlp": 30000, "cnn": 6400, "lstm": 3200, "tiny_mlp": 16000,  # sized for < 4 minutes on an H100
               "mlp_wide": 20480, "cnn_wide": 10240}
SMOKE_SAMPLES = {"mlp": 256, "cnn": 128, "lstm": 64, "tiny_mlp": 256, "mlp_wide": 128, "cnn_wide": 64}
BF16_WORKLOADS = ("mlp", "cnn", "mlp_wide", "cnn_wide")
EPOCHS = 3  # per timed fit call (1 with --smoke)


# ----- wide workloads: where the arithmetic, not the launches, sets the step time --------------------
WIDE = {
    "mlp_wide": train_speed.Workload("mlp_wide", 20480, 2048, 1024, train_speed.mnist_like,
                                     functools.partial(train_speed.mlp_keras, widths=(4096, 4096)),
                                     functools.partial(train_speed.mlp_torch, widths=(4096, 4096)),
                                     "sparse_categorical_crossentropy", "adam", "sparse"),
    "cnn_wide": train_speed.Workload("cnn_wide", 10240, 1024, 512, train_speed.mnist_images,
                                     functools.partial(train_speed.cnn_keras, filters=(64, 128)),
                                     functools.partial(train_speed.cnn_torch, filters=(64, 128)),
                                     "sparse_categorical_crossentropy", "adam", "sparse",
                                     torch_layout=WORKLOADS["cnn"].torch_layout),
}
ALL_WORKLOADS = {**WORKLOADS, **WIDE}


# ----- parity ---------------------------------------------------------------------------------------
def on_devices(build, xs, device):
    """Largest |prediction on ``device`` − prediction on the CPU| of the model ``build()`` makes."""
    backend.set_device("cpu")
    cpu_model = build()
    expected = _as_list(cpu_model.predict(xs, verbose=0))
    backend.set_device(device)
    model = build()
    model.set_weights(cpu_model.get_weights())
    got = _as_list(model.predict(xs, verbose=0))
    return max(float(np.max(np.abs(g.astype(np.float64) - e))) for g, e in zip(got, expected))


def _as_list(out):
    return [np.asarray(o) for o in out] if isinstance(out, (list, tuple)) else [np.asarray(out)]


def parity_rows(device, smoke):
    rows = []
    specs = sorted(glob.glob(os.path.join(KERAS2, "*.json")))
    for spec in specs[:3] if smoke else specs:
        name = os.path.basename(spec)[:-5]
        data = np.load(os.path.join(KERAS2, f"{name}.npz"))
        xs = [data[k] for k in sorted(data.files) if k.startswith("x")]
        rows.append(("Keras 2 file", name, on_devices(lambda n=name: models.load_model(
            os.path.join(KERAS2, f"{n}.model.h5")), xs if len(xs) > 1 else xs[0], device)))
    try:
        import keras3_architectures as arch
    except BaseException as err:  # noqa: BLE001 - pytest's skip when Keras 3 is missing is a BaseException
        rows.append(("Keras 3 builders", f"not run: {type(err).__name__}: {str(err)[:80]}", None))
        return rows
    for name in sorted(arch.ARCHITECTURES)[:3] if smoke else sorted(arch.ARCHITECTURES):
        def build(name=name):
            model, _ = arch.build_with(modelcli, name)
            return arch.randomize(model, sorted(arch.ARCHITECTURES).index(name) + 100)
        _, inputs = arch.build_with(modelcli, name)
        rows.append(("Keras 3 builder", name, on_devices(build, inputs, device)))
    return rows


# ----- speed ----------------------------------------------------------------------------------------
class Modelcli:
    """modelcli's ``fit`` with the CUDA-graph setting ``graphs`` (``auto`` or ``off``).

    Given a ``device``, ``fit`` gets the data as torch tensors already there, as the hand-written
    loop holds it (Keras on torch takes tensors in ``fit`` too); without one it gets the NumPy
    arrays and uploads them on every call, which the "NumPy input" contender measures."""

    def __init__(self, name, workload, x, y, graphs, device=None):
        if device is not None:
            x, y = torch.from_numpy(x).to(device), torch.from_numpy(y).to(device)
        self.name, self.w, self.x, self.y, self.graphs = name, workload, x, y, graphs
        with graphs_setting(graphs):
            self.model = workload.keras_model(modelcli)
            self.model.compile(optimizer=workload.optimizer, loss=workload.loss, metrics=["accuracy"])

    def fit(self, epochs, shuffle=True):
        with graphs_setting(self.graphs):
            self.model.fit(self.x, self.y, batch_size=self.w.batch_size, epochs=epochs, verbose=0, shuffle=shuffle)


class ModelcliBf16(Modelcli):
    """modelcli with every layer under the ``mixed_bfloat16`` policy (autocast, float32 weights),
    eager (``graphs="off"``) or captured (``"auto"``)."""

    def __init__(self, workload, x, y, graphs="off", device=None):
        modelcli.mixed_precision.set_global_policy("mixed_bfloat16")
        try:
            super().__init__("modelcli bf16" + (" captured" if graphs == "auto" else ""), workload, x, y, graphs,
                             device)
        finally:
            modelcli.mixed_precision.set_global_policy(None)


class HandOnDevice(HandWritten):
    name = "hand-written"

    def __init__(self, workload, x, y, device):
        super().__init__(workload, x, y, device=device)


class HandBf16(HandOnDevice):
    name = "hand-written bf16"

    def fit(self, epochs):
        with torch.autocast(self.x.device.type, dtype=torch.bfloat16):
            super().fit(epochs)


class HandGraphed(HandOnDevice):
    """The hand-written step captured as one CUDA graph: static batch buffers, ``capturable`` Adam /
    RMSprop, loss and correct-count sums inside the graph; the last partial batch runs eagerly."""

    name = "hand-written CUDA graph"

    def __init__(self, workload, x, y, device):
        super().__init__(workload, x, y, device)
        params = self.model.parameters()
        if workload.optimizer == "adam":
            self.opt = torch.optim.Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-7, capturable=True)
        else:
            self.opt = torch.optim.RMSprop(params, lr=1e-3, alpha=0.9, eps=1e-7, capturable=True)
        self.graph = None

    def _step(self, xb, yb):
        out = self.model(xb)
        loss = self.loss_fn(out, yb)
        loss.backward()
        self.opt.step()
        with torch.no_grad():
            self.running.add_(loss.detach())
            hits = (out.argmax(-1) == yb) if self.w.labels == "sparse" else ((out > 0.5) == (yb > 0.5))
            self.correct.add_(hits.sum())

    def _capture(self):
        bs = self.w.batch_size
        self.xb, self.yb = self.x[:bs].clone(), self.y[:bs].clone()
        self.running = torch.zeros((), device=self.x.device)
        self.correct = torch.zeros((), dtype=torch.int64, device=self.x.device)
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(3):
                self.opt.zero_grad(set_to_none=True)
                self._step(self.xb, self.yb)
        torch.cuda.current_stream().wait_stream(side)
        self.opt.zero_grad(set_to_none=True)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph):
            self._step(self.xb, self.yb)

    def fit(self, epochs):
        if self.graph is None:
            self._capture()
        x, y, bs = self.x, self.y, self.w.batch_size
        n = len(x)
        full = n - n % bs
        self.model.train()
        for _ in range(epochs):
            order = torch.randperm(n, device=x.device)
            self.running.zero_()
            self.correct.zero_()
            for start in range(0, full, bs):
                index = order[start:start + bs]
                self.xb.copy_(x[index])
                self.yb.copy_(y[index])
                self.graph.replay()
            if full < n:  # the partial batch: an eager step with its own gradients
                grads = [p.grad for p in self.model.parameters()]
                for p in self.model.parameters():
                    p.grad = None
                self._step(x[order[full:]], y[order[full:]])
                for p, g in zip(self.model.parameters(), grads):
                    p.grad = g
            self.logs = {"loss": self.running.item() / -(-n // bs), "accuracy": self.correct.item() / n}


@contextlib.contextmanager
def graphs_setting(value):
    before = os.environ.get("MODELCLI_CUDA_GRAPHS")
    os.environ["MODELCLI_CUDA_GRAPHS"] = value
    try:
        yield
    finally:
        if before is None:
            del os.environ["MODELCLI_CUDA_GRAPHS"]
        else:
            os.environ["MODELCLI_CUDA_GRAPHS"] = before


def contenders(workload, x, y, device):
    cuda = device.type == "cuda"
    found = [Modelcli("modelcli eager", workload, x, y, "off", device)]
    if cuda:
        found += [Modelcli("modelcli captured", workload, x, y, "auto", device),
                  Modelcli(NUMPY_INPUT, workload, x, y, "auto")]
    found.append(HandOnDevice(workload, x, y, device))
    if cuda:
        found.append(HandGraphed(workload, x, y, device))
    if workload.name in BF16_WORKLOADS:
        found += [ModelcliBf16(workload, x, y, device=device), HandBf16(workload, x, y, device)]
        if cuda:
            found.append(ModelcliBf16(workload, x, y, "auto", device))
    return found


REPLAYS = []  # one entry per step modelcli ran through its captured graph


def count_replays():
    replay = WholeStepCapture._replay

    def counted(self, *batch):
        REPLAYS.append(1)
        return replay(self, *batch)

    WholeStepCapture._replay = counted


def timed(fn):
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    start = time.perf_counter()
    fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - start


def measure(workload, n, repeat, device, epochs):
    """{contender: (median samples/s, peak bytes or None)}."""
    x, y = workload.make_data(n, np.random.default_rng(0))
    backend.set_device(device)
    torch.manual_seed(0)
    runners = contenders(workload, x, y, device)
    for r in runners:
        r.fit(1)  # warm-up: builds the optimizer, captures the graph, warms the allocator
    rates = {r.name: [] for r in runners}
    peaks, replays = {}, {}
    for round_ in range(repeat):
        for r in runners[round_ % len(runners):] + runners[:round_ % len(runners)]:
            if device.type == "cuda":
                torch.cuda.reset_peak_memory_stats()
            before = len(REPLAYS)
            rates[r.name].append(n * epochs / timed(lambda: r.fit(epochs)))
            replays[r.name] = f"{len(REPLAYS) - before} / {epochs * -(-n // workload.batch_size)}"
            if device.type == "cuda":
                peaks[r.name] = max(peaks.get(r.name, 0), torch.cuda.max_memory_allocated())
    return {name: (statistics.median(v), peaks.get(name), replays[name]) for name, v in rates.items()}


def capture_drift(workload, n, device):
    """Largest |w_captured − w_eager| after one unshuffled epoch from the same weights; off CUDA the
    capture is emulated (the recorded step run eagerly), which must give 0."""
    x, y = workload.make_data(n, np.random.default_rng(1))
    backend.set_device(device)
    trained = []
    for graphs in ("auto" if device.type == "cuda" else "emulate", "off"):
        torch.manual_seed(1)
        runner = Modelcli(graphs, workload, x, y, graphs)
        runner.fit(1, shuffle=False)
        trained.append(runner.model.get_weights())
    return max(float(np.max(np.abs(a - b))) for a, b in zip(*trained))


# ----- report ---------------------------------------------------------------------------------------
NUMPY_INPUT = "modelcli captured, NumPy input"
FP32 = ["modelcli eager", "modelcli captured", NUMPY_INPUT, "hand-written", "hand-written CUDA graph"]
BF16 = [("modelcli eager", "modelcli bf16"), ("hand-written", "hand-written bf16"),
        ("modelcli captured", "modelcli bf16 captured")]
COLUMNS = FP32 + [bf16 for _, bf16 in BF16]


def _cell(v):
    return "n/a" if v is None else f"{v:,.0f}"


def _ratio(a, b):
    return "n/a" if a is None or b is None else f"{a / b:.2f}"


def speed_table(results):
    """float32 samples/s and the ratios to the hand-written eager loop, with the capture's replays and Δw."""
    lines = ["| workload | " + " | ".join(f"{c} samples/s" for c in FP32) +
             " | eager/hand | captured/hand | captured, NumPy input/hand | hand graph/hand "
             "| modelcli captured: graph replays / steps per fit | capture Δw |", "|---|" + "---:|" * (len(FP32) + 6)]
    for name, (rates, drift) in results.items():
        rate = {c: rates.get(c, (None,))[0] for c in COLUMNS}
        hand = rate["hand-written"]
        replays = rates.get("modelcli captured", (None, None, "n/a"))[2]
        lines.append(f"| {name} | " + " | ".join(_cell(rate[c]) for c in FP32) + " | " +
                     " | ".join(_ratio(rate[c], hand) for c in FP32 if c != "hand-written") +
                     f" | {replays} | {drift:.1e} |")
    return "\n".join(lines)


def bf16_table(results):
    """Each contender under bf16 autocast against itself in float32."""
    lines = ["| workload | " + " | ".join(f"{fp32} → bf16 samples/s" for fp32, _ in BF16) + " | " +
             " | ".join(f"{bf16} / {fp32}" for fp32, bf16 in BF16) + " |", "|---|" + "---:|" * (2 * len(BF16))]
    for name, (rates, _) in results.items():
        rate = {c: rates.get(c, (None,))[0] for c in COLUMNS}
        if all(rate[bf16] is None for _, bf16 in BF16):
            continue
        lines.append(f"| {name} | " + " | ".join(f"{_cell(rate[a])} → {_cell(rate[b])}" for a, b in BF16) + " | " +
                     " | ".join(_ratio(rate[b], rate[a]) for a, b in BF16) + " |")
    return "\n".join(lines)


def memory_table(results):
    mib = lambda v: "n/a" if v is None else f"{v / 2**20:,.0f}"  # noqa: E731
    lines = ["| workload | " + " | ".join(COLUMNS) + " |", "|---|" + "---:|" * len(COLUMNS)]
    for name, (rates, _) in results.items():
        lines.append(f"| {name} | " + " | ".join(mib(rates.get(c, (None, None))[1]) for c in COLUMNS) + " |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="on the CPU with tiny sizes (a few seconds)")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved timing rounds; medians are reported")
    parser.add_argument("--workload", action="append", choices=list(ALL_WORKLOADS),
                        help="default: all but the wide ones with --smoke")
    parser.add_argument("--out", help="also write the report to this file")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    count_replays()
    device = torch.device("cpu" if args.smoke or not torch.cuda.is_available() else "cuda")
    if args.smoke:
        torch.set_num_threads(1)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU (--smoke)" if args.smoke else "CPU"
    lines = [f"# gpu_check: {name}", "",
             f"{datetime.datetime.now().isoformat(timespec='minutes')}, torch {torch.__version__}, "
             f"CUDA {torch.version.cuda or 'n/a'}, train_speed workloads from {os.path.relpath(train_speed.__file__)}",
             "", "## Predictions on the device against the CPU", "",
             "| source | model | max abs difference |", "|---|---|---:|"]
    for source, model, diff in parity_rows(device, args.smoke):
        lines.append(f"| {source} | {model} | {'n/a' if diff is None else f'{diff:.2e}'} |")
    results = {}
    for workload_name in args.workload or list(WORKLOADS if args.smoke else ALL_WORKLOADS):
        w = ALL_WORKLOADS[workload_name]
        n = (SMOKE_SAMPLES if args.smoke else GPU_SAMPLES)[workload_name]
        results[f"{workload_name} ({n}, batch {w.batch_size})"] = (
            measure(w, n, 1 if args.smoke else args.repeat, device, 1 if args.smoke else EPOCHS),
            capture_drift(w, max(n // 4, (WARMUP_STEPS + 2) * w.batch_size), device))
    lines += ["", f"## fit samples/s on {name} (median of {1 if args.smoke else args.repeat} rounds, "
              f"one fit of {1 if args.smoke else EPOCHS} epoch(s) each)",
              "", speed_table(results), "",
              "capture Δw: " + ("captured" if device.type == "cuda" else "emulated capture (no CUDA)") +
              " against eager, one unshuffled epoch from the same weights.", "",
              "## mixed_bfloat16 against float32 (same rounds)", "", bf16_table(results), "",
              "## peak GPU memory (MiB) over each contender's timed fits", "", memory_table(results), "",
              f"Total {time.perf_counter() - started:.0f} s."]
    report = "\n".join(lines)
    print(report)
    if args.out:
        with open(args.out, "w") as f:
            f.write(report + "\n")
    backend.set_device(None)


if __name__ == "__main__":
    main()

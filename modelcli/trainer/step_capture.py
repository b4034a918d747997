"""The whole training step as one CUDA graph, for models whose step is bound by kernel launches.

A small model's eager step is dozens of tiny kernels, each costing more to launch
from Python than to run. When the model is on CUDA and the batches keep one shape,
``fit`` records forward, loss, backward, optimizer update and constraints once
(``torch.cuda.graph``) and then replays the recording per batch:

- each batch is copied into static input/target/weight buffers the graph reads;
- the numbers that change from step to step (Adam's bias-corrected step size, the
  learning rate of a schedule or one a callback sets, the weight-decay factor) are
  computed on the host by ``optimizer.step_factors()`` and written into device
  tensors before each replay — a Python float would be frozen into the graph;
- the host side of the step (the optimizer's step count) is kept by this class;
- the loss tracker and the metrics are updated eagerly from the graph's static
  outputs, so their Keras semantics (reset per epoch, read by callbacks) are untouched;
- a batch of another shape (the last partial batch) runs the eager step;
- dropout stays random per replay: ``torch.cuda.graph`` registers the default CUDA
  generator and advances its Philox offset on every replay; a seeded layer's own
  generator is registered with the graph for the same.

The first ``WARMUP_STEPS`` batches train eagerly on a side stream (real steps: cuBLAS
and the autograd engine initialise lazily, which a capture must not see). Anything a
capture cannot hold refuses it up front (:func:`refusal`) or at capture time; fit then
warns once and trains eagerly. ``MODELCLI_CUDA_GRAPHS`` chooses: ``auto`` (capture
on CUDA), ``off`` (never; ``compile(run_eagerly=True)`` too), ``emulate`` (the same
static-buffer step with the body run eagerly instead of replayed, on any device: how
the tests exercise this machinery on a CPU).

The recorded step stays with the model for later ``fit`` calls (see :func:`train_step_for`).

The default is ``auto``. ``benchmarks/gpu_check.py`` checked it on an H200: every full
batch replayed, weights within 1.4e-5 of the eager step after an epoch, 6.5× to 9.8× the
hand-written eager loop on the launch-bound benchmark workloads (``benchmarks/README.md``);
``tests/test_step_capture_cuda.py`` compares captured and eager training on a GPU.
"""
from __future__ import annotations

import contextlib
import gc
import os
import warnings

import torch

from ..errors import ConfigError

WARMUP_STEPS = 3
MODES = ("auto", "off", "emulate")
DEFAULT_MODE = "auto"
_warned: set[str] = set()


def mode() -> str:
    """``MODELCLI_CUDA_GRAPHS``: auto (the default), off, or emulate."""
    value = os.environ.get("MODELCLI_CUDA_GRAPHS", DEFAULT_MODE).strip().lower()
    value = {"0": "off", "false": "off", "1": "auto", "on": "auto"}.get(value, value)
    if value not in MODES:
        raise ConfigError(f"MODELCLI_CUDA_GRAPHS must be one of {', '.join(MODES)}; got {value!r}",
                          hint="auto captures the training step on CUDA when it can be captured")
    return value


def train_step_for(model, device):
    """What ``fit`` calls per batch: a :class:`WholeStepCapture`, or ``model._train_step`` when refused.

    The capture outlives the ``fit`` call, as Keras keeps its train function until the next
    ``compile``: a later fit replays the same graph without warming up or recording again,
    as long as :func:`fingerprint` says the step it recorded is still the step to run."""
    why = refusal(model, device)
    if why is None:
        graphs = mode() != "emulate"
        kept = vars(model).get("_whole_step")
        if kept is not None and kept.graphs == graphs and kept.fingerprint == fingerprint(model):
            kept.begin_fit()
            return kept
        step = model.__dict__["_whole_step"] = WholeStepCapture(model, graphs=graphs)
        return step
    if why.loud and device.type == "cuda":
        warn_once(why)
    return model._train_step


def fingerprint(model) -> tuple:
    """What a recorded step depends on beyond the batch: the optimizer, every tensor the graph
    reads or writes in place (by identity and address: ``set_weights`` that swapped a tensor
    would leave the graph updating the old memory), which weights train, each layer's
    ``trainable`` (a frozen BatchNormalization computes differently) and the dtype policies."""
    from ..mixed_precision import policy as dtype_policies
    optimizer = model.optimizer
    tensors = [*model.parameters(), *model.buffers(),
               *(t for slot in getattr(optimizer, "_slots", {}).values() for t in slot)]
    return (id(optimizer), dtype_policies.version(),
            tuple((id(t), t.data_ptr(), t.requires_grad) for t in tensors),
            tuple(getattr(layer, "trainable", None) for layer in model.modules()))


class Refusal(str):
    """Why a step is not captured. Quiet ones are choices (or the CPU); loud ones are setups that
    cannot be captured, worth a warning on a GPU."""

    loud = False


class _Loud(Refusal):
    loud = True


def refusal(model, device) -> Refusal | None:
    """Why this fit's step cannot be captured (None: it can); each reason is one short phrase."""
    chosen = mode()
    if chosen == "off" or getattr(model, "run_eagerly", False):
        return Refusal("turned off")
    if chosen == "auto" and device.type != "cuda":
        return Refusal("not on CUDA")
    if getattr(model, "_jit_compile", False):
        return Refusal("jit_compile=True runs the step through torch.compile")
    optimizer = model.optimizer
    if not getattr(optimizer, "graph_safe", False):
        return _Loud(f"{type(optimizer).__name__}: its update needs the host every step")
    if optimizer.gradient_accumulation_steps:
        return _Loud("gradient_accumulation_steps decides on the host whether a step updates the weights")
    if optimizer.use_ema:
        return _Loud("use_ema's first step and overwrite_frequency are decided on the host")
    return None


def warn_once(why: str) -> None:
    if why not in _warned:
        _warned.add(why)
        warnings.warn(f"fit: training step not captured as a CUDA graph ({why}); running it eagerly",
                      stacklevel=3)


def signature(xs, ys, sws) -> tuple:
    """What a batch must share with the captured one: each tensor's shape, dtype and device."""
    return tuple(None if t is None else (tuple(t.shape), t.dtype, t.device)
                 for part in (xs, ys or (), sws or ()) for t in part) + (ys is None, sws is None)


class WholeStepCapture:
    """A callable ``(xs, ys, sws)`` that trains one step, replaying a captured graph when it can.

    ``graphs=False`` runs the captured body eagerly on the static buffers instead of
    replaying it, with everything else (buffers, device factors, host bookkeeping) the same.
    """

    def __init__(self, model, graphs=True):
        self.model = model
        self.optimizer = model.optimizer
        self.graphs = graphs
        self.key = None  # signature of the batches the graph serves
        self.warmed = 0
        self.graph = None
        self.static = None  # (xs, ys, sws) buffers
        self.outputs = None  # (preds, masks, loss) the body returned
        self.factor_names = ()
        self.factor_values = None  # one device tensor; the optimizer reads 0-d views of it
        self.given_up = None  # why this fit gave up capturing
        self.captured_at = None  # the optimizer's step count when the graph was recorded
        self.fingerprint = None  # fingerprint(model) when the graph was recorded
        self.new_fit = True  # the next batch is a fit's first

    def begin_fit(self):
        """A later ``fit`` reuses this step: its first batch may ask for another signature."""
        self.new_fit = True

    @property
    def captured(self) -> bool:
        return self.static is not None

    def __call__(self, xs, ys, sws):
        if self.given_up is not None or self.model.optimizer is not self.optimizer:
            return self.model._train_step(xs, ys, sws)
        key = signature(xs, ys, sws)
        if self.new_fit:
            self.new_fit = False
            if key != self.key:  # the first fit, or one whose batches have another shape
                self._restart(key)
        if key != self.key:
            return self.model._train_step(xs, ys, sws)
        if self.warmed < WARMUP_STEPS:
            return self._warm_up(xs, ys, sws)
        if not self.captured:
            try:
                self._capture(xs, ys, sws)
            except Exception as err:  # noqa: BLE001 - an op the graph cannot hold (a host sync, ...)
                return self._give_up(f"capture failed: {type(err).__name__}: {str(err)[:200]}", xs, ys, sws)
        self._replay(xs, ys, sws)

    # -- phases ---------------------------------------------------------------------------------
    def _restart(self, key):
        self.key, self.warmed = key, 0
        self.graph = self.static = self.outputs = self.factor_values = self.fingerprint = None

    def _warm_up(self, xs, ys, sws):
        with _side_stream(self.graphs):
            outputs = self.model._train_update(xs, ys, sws)
            self.model._track_train_step(xs, ys, sws, *outputs)
        self.warmed += 1
        if outputs[1] is not None and any(m is not None for m in outputs[1]):
            self._give_up("the outputs carry masks")

    def _capture(self, xs, ys, sws):
        self.static = tuple(None if part is None else [None if t is None else t.clone() for t in part]
                            for part in (xs, ys, sws))
        self.fingerprint = fingerprint(self.model)
        self.captured_at = self.optimizer._iterations
        factors = self.optimizer.step_factors()
        self.factor_names = tuple(factors)
        self.factor_values = torch.tensor(list(factors.values()), dtype=torch.float32, device=xs[0].device)
        if self.graphs:
            torch.cuda.synchronize()
            graph = torch.cuda.CUDAGraph()
            if hasattr(graph, "register_generator_state"):  # torch >= 2.4
                for generator in _private_generators(self.model, xs[0].device):
                    graph.register_generator_state(generator)
            with _collector_paused(), torch.cuda.graph(graph):
                self.outputs = self._body()  # recorded, not run: the weights are untouched
            self.graph = graph

    def _replay(self, xs, ys, sws):
        for part, batch in zip(self.static, (xs, ys, sws)):
            for buffer, tensor in zip(part or (), batch or ()):
                if buffer is not None:
                    buffer.copy_(tensor, non_blocking=True)
        values = torch.tensor(list(self.optimizer.step_factors().values()), dtype=torch.float32)
        self.factor_values.copy_(values, non_blocking=True)
        if self.graphs:
            self.graph.replay()
        else:
            self.outputs = self._body()
        self.optimizer._iterations += 1
        self.model._track_train_step(*self.static, *self.outputs)

    def _body(self):
        """The recorded step: the model's own ``_train_update`` on the static buffers, with the
        optimizer reading its step factors from device tensors; its host bookkeeping is undone
        (``_replay`` counts each replayed step itself).

        The body sees the step count of the capture: a graph replays whatever the host computed
        then, so an emulated step must too, or a step-dependent number that bypassed the device
        factors would pass the emulated tests and be frozen on a GPU."""
        optimizer = self.optimizer
        iterations = optimizer._iterations
        optimizer._device_factors = dict(zip(self.factor_names, self.factor_values.unbind()))
        optimizer._iterations = self.captured_at
        try:
            return self.model._train_update(*self.static)
        finally:
            optimizer._device_factors = None
            optimizer._iterations = iterations

    def _give_up(self, why, *batch):
        self.given_up = why
        self.graph = self.static = self.outputs = self.factor_values = None
        warn_once(why)
        if batch:
            self.model._train_step(*batch)


def _private_generators(model, device):
    """The generators of seeded random layers (Dropout(seed=...), augmentation) on ``device``.

    ``torch.cuda.graph`` advances the default generator on every replay by itself; a layer's own
    generator must be registered with the graph to do the same, else its draws are refused
    during capture (and the step trains eagerly with a warning)."""
    found = {}
    for layer in model.modules():
        generator = getattr(layer, "_generators", {}).get(device)
        if generator is not None:
            found[id(generator)] = generator
    return list(found.values())


@contextlib.contextmanager
def _collector_paused():
    """No cyclic garbage collection while a graph records. A model and the step it keeps refer to
    each other, so a dropped model's graph is freed by the collector, whenever it runs; freeing a
    graph while another records is an operation CUDA forbids, and that capture fails (seen in the
    GPU test run: "operation not permitted when stream is capturing (function reset)")."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextlib.contextmanager
def _side_stream(cuda):
    """Run the block on a fresh CUDA stream ordered after, and before, the current one (no-op off CUDA)."""
    if not cuda:
        yield
        return
    side, main = torch.cuda.Stream(), torch.cuda.current_stream()
    side.wait_stream(main)
    with torch.cuda.stream(side):
        yield
    main.wait_stream(side)

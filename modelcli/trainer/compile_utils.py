"""What ``compile`` turns its arguments into: one loss and a metric list per output.

``loss``, ``loss_weights``, ``metrics`` and ``weighted_metrics`` may each be a single
value, a list (one per output) or a dict keyed by output name, as in Keras.
History names follow Keras 3: ``loss``; with several outputs ``<output>_loss`` (the
unweighted loss of each) and ``<output>_<metric>``; ``metrics`` ignore sample
weights, ``weighted_metrics`` use them (``weighted_<metric>`` when the name is taken).
"""
from __future__ import annotations

from ..errors import SpecError


def per_output(value, names, what, allow_single=True):
    """Spread a compile argument over the outputs: a list in output order (None where absent)."""
    if value is None:
        return [None] * len(names)
    if isinstance(value, dict):
        unknown = [k for k in value if k not in names]
        if unknown:
            raise SpecError(f"{what} names output '{unknown[0]}', but the model's outputs are {names}",
                            where=what)
        return [value.get(n) for n in names]
    if isinstance(value, (list, tuple)) and len(names) > 1 and what in ("loss", "loss_weights"):
        if len(value) != len(names):
            raise SpecError(f"{what} has {len(value)} entries but the model has {len(names)} outputs "
                            f"({', '.join(names)})", where=what)
        return list(value)
    if not allow_single:
        raise SpecError(f"{what} must be a list or a dict for a model with several outputs", where=what)
    return [value] * len(names)


def _metric_lists(metrics, names, what):
    """metrics for each output: ['acc'] applies to every output; a list of lists or a dict is per output."""
    if metrics is None:
        return [[] for _ in names]
    if isinstance(metrics, dict):
        spread = per_output(metrics, names, what)
        return [_as_list(m) for m in spread]
    metrics = list(metrics) if isinstance(metrics, (list, tuple)) else [metrics]
    if len(names) > 1 and len(metrics) == len(names) and any(isinstance(m, (list, tuple)) for m in metrics):
        return [_as_list(m) for m in metrics]
    return [list(metrics) for _ in names]


def _as_list(value):
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _unique(name, taken):
    """Keras adds ``_1``, ``_2``... when two metrics would log under one name."""
    if name not in taken:
        return name
    n = 1
    while f"{name}_{n}" in taken:
        n += 1
    return f"{name}_{n}"


class CompiledLoss:
    """Σ weight_i · loss_i(y_true_i, y_pred_i, sample_weight_i) over the outputs that have a loss."""

    def __init__(self, loss, loss_weights, output_names):
        from .. import losses
        from ..metrics import Mean
        if loss is None:
            raise SpecError("compile() needs a loss", where="loss")
        self.names = output_names
        specs = per_output(loss, output_names, "loss")
        weights = per_output(loss_weights, output_names, "loss_weights") if loss_weights is not None \
            else [None] * len(output_names)
        self.losses = [None if s is None else _loss_object(losses, s, f"loss[{i}]") for i, s in enumerate(specs)]
        self.weights = [1.0 if w is None else float(w) for w in weights]
        if all(l is None for l in self.losses):
            raise SpecError("every output's loss is None; at least one output needs a loss", where="loss")
        active = [i for i, l in enumerate(self.losses) if l is not None]
        self.trackers = {i: Mean(name=f"{output_names[i]}_loss") for i in active} if len(active) > 1 else {}

    def __call__(self, y_true, y_pred, sample_weight):
        total = None
        for i, fn in enumerate(self.losses):
            if fn is None:
                continue
            value = fn(y_true[i], y_pred[i], sample_weight[i] if sample_weight else None)
            if i in self.trackers:
                self.trackers[i].update_state(value.detach(), sample_weight=y_pred[i].shape[0])
            value = value * self.weights[i] if self.weights[i] != 1.0 else value
            total = value if total is None else total + value
        return total


def _loss_object(losses, spec, where):
    obj = losses.get(spec)
    if not isinstance(obj, losses.Loss):
        if not callable(obj):
            raise SpecError(f"expected a loss name, a loss object or a function, got {spec!r}", where=where)
        obj = losses.LossFunctionWrapper(obj, name=getattr(obj, "__name__", "loss"))
    return obj


class CompiledMetrics:
    """Metric objects per output, resolved against the data's shapes on first use."""

    def __init__(self, metrics, weighted_metrics, output_names, losses):
        self.names = output_names
        self._specs = _metric_lists(metrics, output_names, "metrics")
        self._weighted_specs = _metric_lists(weighted_metrics, output_names, "weighted_metrics")
        self._losses = losses
        self.metrics = None  # [(output index, metric, weighted, log name)]

    def build(self, y_true, y_pred):
        from .. import metrics as metrics_module
        built = []
        multi = len(self.names) > 1
        for weighted, specs in ((False, self._specs), (True, self._weighted_specs)):
            for i, output_specs in enumerate(specs):
                for spec in output_specs:
                    metric = metrics_module.resolve(spec, self._losses[i], tuple(y_true[i].shape),
                                                    tuple(y_pred[i].shape))
                    built.append((i, metric, weighted, self._log_name(metric, i, weighted, built)))
        self.metrics = built

    def _log_name(self, metric, output, weighted, built) -> str:
        """Keras 3's names: ``<output>_`` first with several outputs; a weighted metric whose
        name is taken becomes ``weighted_<name>``; still-taken names get ``_1``, ``_2``..."""
        taken = {n for _, _, _, n in built}
        prefix = f"{self.names[output]}_" if len(self.names) > 1 else ""
        name = prefix + metric.name
        if weighted and name in taken:
            name = f"{prefix}weighted_{metric.name}"
        return _unique(name, taken)

    def update_state(self, y_true, y_pred, sample_weight):
        if self.metrics is None:
            self.build(y_true, y_pred)
        for i, metric, weighted, _ in self.metrics:
            sw = sample_weight[i] if (weighted and sample_weight) else None
            metric.update_state(y_true[i], y_pred[i], sample_weight=sw)

    def results(self) -> dict:
        return {name: metric.result() for _, metric, _, name in (self.metrics or [])}

    def base_names(self) -> list[str]:
        return [metric.name for _, metric, _, _ in (self.metrics or [])]

    def reset_state(self):
        if self.metrics is None:  # not built yet: metric objects given to compile may hold old state
            metrics = [m for specs in self._specs + self._weighted_specs for m in specs if hasattr(m, "reset_state")]
        else:
            metrics = [metric for _, metric, _, _ in self.metrics]
        for metric in metrics:
            metric.reset_state()

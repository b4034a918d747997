"""compile / fit / evaluate / predict / train_on_batch / test_on_batch with Keras's semantics.

The step is the hand-written PyTorch loop — forward, loss, backward, optimizer —
plus what Keras adds: the output masks weighting the loss and metrics,
regularization penalties, loss scaling, constraints after the update, the loss
tracker and metrics kept on the device. Reading them (a host sync) happens at
epoch ends, and for a live progress bar a few times a second. What the data is
(arrays, a Sequence, a generator, a DataLoader) is ``data_adapter``'s business:
the loop only sees batches of device tensors.
"""
from __future__ import annotations

import contextlib
import warnings

import torch

from ..callbacks.callback import CallbackList
from ..callbacks.history import History
from ..callbacks.progbar_logger import ProgbarLogger
from .. import distributed
from ..engine import activity
from ..errors import ConfigError, DataError, SpecError
from ..mixed_precision import autocast
from ..utils.packing import unpack_x_y_sample_weight
from .compile_utils import CompiledLoss, CompiledMetrics
from .data_adapter import ArrayData, EpochIterator, adapt, is_batch_source, train_validation_split
from . import sparse_rows
from .inputs import output_keys
from .step_capture import train_step_for
from .step_records import StepRecords


class NotCompiledError(RuntimeError, ValueError):
    """Training or evaluating before ``compile()``: Keras 2 raised RuntimeError, Keras 3 ValueError."""


class Trainer:
    """Mixed into :class:`~modelcli.models.model.Model`."""

    compiled = False
    stop_training = False
    _activity_regularized = False  # compile() looks; predict() on an uncompiled model needs no penalties
    _records = None
    _sparse_embeddings = ()  # Embedding layers trained with row-sparse gradients (sparse_rows.plan)

    # ----- compile ------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None,
                weighted_metrics=None, run_eagerly=False, steps_per_execution=1, jit_compile=False,
                sample_weight_mode=None, auto_scale_loss=True, **kwargs):
        from .. import optimizers
        from ..optimizers.loss_scale_optimizer import wrap_for_policy
        if kwargs:
            raise SpecError(f"unknown compile() argument '{next(iter(kwargs))}'")
        if steps_per_execution != 1:
            raise SpecError(f"`steps_per_execution` must be 1 with the PyTorch backend. "
                            f"Received: steps_per_execution={steps_per_execution}")
        names = self.output_names
        self.optimizer = optimizers.get(optimizer)
        # What model.save() writes as Keras's compile_config.
        self._compile_arguments = {"optimizer": self.optimizer, "loss": loss, "loss_weights": loss_weights,
                                   "metrics": metrics, "weighted_metrics": weighted_metrics}
        if auto_scale_loss:
            self.optimizer = wrap_for_policy(self, self.optimizer)
        self.compiled_loss = CompiledLoss(loss, loss_weights, names)
        self.compiled_metrics = CompiledMetrics(metrics, weighted_metrics, names, self.compiled_loss.losses)
        self.loss = loss
        self._loss_tracker = LossTracker(name="loss")
        self._records = None  # StepRecords, or False while a metric must see every batch on its own
        self._sample_weight_modes = _sample_weight_modes(sample_weight_mode, output_keys(self))
        # Keras's "auto" means eager on the torch backend; run_eagerly wins over jit_compile.
        self._jit_compile = jit_compile is True and not run_eagerly
        self.run_eagerly = bool(run_eagerly)  # Keras's attribute; also keeps fit's step out of a CUDA graph
        self._loss_step = _Compiled(self._forward_and_loss) if self._jit_compile else self._forward_and_loss
        self._regularized = [w for w in self.weights if w.regularizer is not None and w.trainable]
        self._constrained = [w for w in self.weights if w.constraint is not None]
        self._activity_regularized = any(l.activity_regularizer is not None for l in _all_layers(self))
        self.__dict__.pop("_whole_step", None)  # a captured training step records the old loss and metrics
        self.compiled = True

    def _check_compiled(self):
        if not self.compiled:
            raise NotCompiledError("You must call `compile()` before using the model.")

    @property
    def metrics(self):
        if not self.compiled:
            return []
        self._flush_records()  # a callback reading the metric objects mid-epoch sees every step so far
        return [self._loss_tracker] + [m for _, m, _, _ in (self.compiled_metrics.metrics or [])] + \
            list(self.compiled_loss.trackers.values())

    @property
    def metrics_names(self):
        """The names of ``evaluate``'s list of results, in that order."""
        return self._in_order(self._results()) if self.compiled else []

    def reset_metrics(self):
        if self._records:
            self._records.clear()
        self._loss_tracker.reset_state()
        self.compiled_metrics.reset_state()
        for t in self.compiled_loss.trackers.values():
            t.reset_state()

    # ----- one step ------------------------------------------------------------------------------
    def _forward(self, xs, training):
        """The outputs as a list, each carrying its Keras mask (``_keras_mask``) for the loss and metrics."""
        inputs = xs if len(xs) > 1 else xs[0]
        if self._activity_regularized:
            with activity.collecting() as penalties:
                out = self.call(inputs, training=training)
        else:
            out, penalties = self.call(inputs, training=training), ()
        self.__dict__["_activity_losses"] = penalties  # a plain dict write: nn.Module.__setattr__ costs µs a step
        preds = list(out) if isinstance(out, (list, tuple)) else [out]
        state = vars(self)  # plain dict reads: nn.Module's __getattr__ fallback raises for missing names
        masks = state.get("_last_output_masks")
        if masks is None and state.get("_last_output_mask") is not None:
            masks = [state["_last_output_mask"]]
        return _with_masks(preds, masks), masks

    def _forward_and_loss(self, xs, ys, sws, training):
        preds, masks = self._forward(xs, training)
        loss = self.compiled_loss(ys, preds, sws)
        for w in self._regularized:
            loss = loss + w.regularizer(w.layout.to_keras(w.parameter))
        for penalty in self._activity_losses:
            loss = loss + penalty
        return preds, masks, loss

    def _train_step(self, xs, ys, sws):
        self._track_train_step(xs, ys, sws, *self._train_update(xs, ys, sws))

    def _train_update(self, xs, ys, sws, before_update=None):
        """Forward, loss, backward, optimizer, constraints: the part ``step_capture`` records as a CUDA graph.

        Returns ``(preds, masks, loss)``, or None for an empty batch: a DDP worker whose share of
        the last batch is empty computes nothing but still takes the update. ``before_update(outputs,
        n)`` runs between backward and the update; a DDP replica sums the workers' gradients there."""
        for p in self._trainable_params:
            p.grad = None
        n = xs[0].shape[0]
        outputs = self._forward_backward(xs, ys, sws) if n else None
        if before_update is not None:
            before_update(outputs, n)
        self.optimizer.apply()
        for w in self._constrained:
            w.apply_constraint()
        return outputs

    def _forward_backward(self, xs, ys, sws):
        if self._sparse_embeddings:
            with sparse_rows.gradients(self._sparse_embeddings):
                preds, masks, loss = self._loss_step(xs, ys, sws, True)
        else:
            preds, masks, loss = self._loss_step(xs, ys, sws, True)
        self.optimizer.scale_loss(loss).backward()
        return preds, masks, loss

    def _track_train_step(self, xs, ys, sws, preds, masks, loss):
        self._record(loss.detach(), xs[0].shape[0], ys, [p.detach() for p in preds], masks, sws)

    def _test_step(self, xs, ys, sws):
        preds, masks, loss = self._loss_step(xs, ys, sws, False)
        self._record(loss, xs[0].shape[0], ys, preds, masks, sws)

    def _record(self, loss, count, ys, preds, masks, sws):
        """Count one step in the loss tracker and metrics: now, or with the next few steps
        when every metric is a sum over samples (see ``step_records``)."""
        records = self._records
        if records is None:
            records = self._records = self._choose_records(ys, preds)
        if records is False:
            self._update_metrics(loss, count, ys, preds, masks, sws)
            return
        if not records.add(loss, count, ys, preds, masks, sws):
            self._flush_records()
            records.add(loss, count, ys, preds, masks, sws)
        if records.full:
            self._flush_records()

    def _choose_records(self, ys, preds):
        if self.compiled_metrics.metrics is None:
            self.compiled_metrics.build(ys, preds)
        metrics = [m for _, m, _, _ in self.compiled_metrics.metrics]  # the per-output loss trackers update in the loss
        return StepRecords() if all(getattr(m, "concatenable", False) for m in metrics) else False

    def _flush_records(self):
        records = self._records
        if not records:
            return
        losses, counts, (ys, preds, masks, sws) = records.drain()
        with torch.no_grad():
            self._loss_tracker.update_many(losses, counts)
            self.compiled_metrics.update_state(ys, _with_masks(preds, masks), sws)

    @torch.no_grad()
    def _update_metrics(self, loss, count, ys, preds, masks, sws):
        self._loss_tracker.update_state(loss, sample_weight=count)
        self.compiled_metrics.update_state(ys, _with_masks(preds, masks), sws)

    def _prepare_training(self):
        autocast.refresh(self)
        params, names, seen = [], [], set()
        for w in self.trainable_weights:
            p = w.parameter
            if id(p) not in seen and p.requires_grad:
                seen.add(id(p))
                params.append(p)
                names.append(w.name)
        self._trainable_params = params
        if getattr(self.optimizer, "_built_for", None) is not self:
            self.optimizer.build(params, names=names)
            self.optimizer._built_for = self
        self._sparse_embeddings = sparse_rows.plan(self)

    # ----- results --------------------------------------------------------------------------------
    def _results(self) -> dict:
        self._flush_records()
        logs = {"loss": self._loss_tracker.result()}
        logs.update(self.compiled_metrics.results())
        for t in self.compiled_loss.trackers.values():
            logs[t.name] = t.result()
        return logs

    @staticmethod
    def _floats(logs) -> dict:
        """The logs as Python floats, keyed in sorted order as Keras 3 hands them out (History,
        callbacks, ``return_dict``)."""
        if not logs:
            return {}
        values = torch.stack([torch.as_tensor(v, dtype=torch.float32).reshape(()).cpu() for v in logs.values()])
        return dict(sorted(zip(logs, values.tolist())))

    def _in_order(self, logs) -> list:
        """Keras 3's order: loss, compiled metrics as named, per-output losses, then the rest sorted."""
        order = ["loss"] + self.compiled_metrics.base_names() + [t.name for t in self.compiled_loss.trackers.values()]
        return [k for k in order if k in logs] + sorted(k for k in logs if k not in order)

    def _flatten_in_order(self, logs):
        values = [logs[k] for k in self._in_order(logs)]
        return values[0] if len(values) == 1 else values

    # ----- fit --------------------------------------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0,
            steps_per_epoch=None, validation_steps=None, validation_batch_size=None, validation_freq=1,
            max_queue_size=None, workers=None, use_multiprocessing=None):
        """Train for ``epochs - initial_epoch`` epochs; returns the History (see the tutorial for each argument).

        ``workers`` threads (default 1; 0: the main thread) fetch a generator's or a Sequence's batches
        up to ``max_queue_size`` ahead; ``use_multiprocessing=True`` is refused.
        """
        self._check_compiled()
        verbose = 1 if verbose == "auto" else verbose
        _check_validation_freq(validation_freq)
        loading = dict(max_queue_size=max_queue_size, workers=workers, use_multiprocessing=use_multiprocessing)
        if validation_split and validation_data is None:
            (x, y, sample_weight), validation_data = train_validation_split(x, y, sample_weight, validation_split)
        train = EpochIterator(adapt(self, x, y, sample_weight, class_weight, batch_size=batch_size,
                                    steps=steps_per_epoch, shuffle=shuffle, **loading), steps_per_epoch)
        val = None
        if validation_data is not None:
            val_x, val_y, val_sw = (unpack_x_y_sample_weight(validation_data) if not is_batch_source(validation_data)
                                    else (validation_data, None, None))
            val = adapt(self, val_x, val_y, val_sw, batch_size=validation_batch_size or batch_size,
                        steps=validation_steps, **loading)
        device = self._device()
        replica = distributed.replica_for(self, train.source, broadcast=True)  # None on one device
        history = History()
        cbs = ([ProgbarLogger(verbose)] if verbose else []) + list(callbacks or []) + [history]
        callback_list = CallbackList(cbs, self, {"verbose": verbose, "epochs": epochs, "steps": train.num_steps})
        self._prepare_training()
        step = train_step_for(self, device) if replica is None else replica.train_step
        self.stop_training = False
        self.__dict__.pop("_resume_epoch", None)  # BackupAndRestore sets it in on_train_begin
        callback_list.on_train_begin()
        resume = self.__dict__.pop("_resume_epoch", None)
        if resume is not None:
            initial_epoch = resume
            for past_epoch, past_logs in self.__dict__.pop("_resume_logs", ()):
                history.on_epoch_end(past_epoch, past_logs)
        logs = {}
        try:
            for epoch in range(initial_epoch, epochs):
                self.reset_metrics()
                callback_list.on_epoch_begin(epoch)
                self.train()
                if not self._train_epoch(train, device, callback_list, step):
                    warnings.warn("Your input ran out of data; interrupting training. Make sure that your generator "
                                  "can generate at least `steps_per_epoch * epochs` batches.", stacklevel=2)
                    break
                if replica is not None:
                    replica.reduce_metrics()
                logs = self._floats(self._results())
                self.eval()
                if val is not None and _should_validate(epoch, validation_freq):
                    val_logs = self._evaluate_batches(val, validation_steps, device, callback_list)
                    logs = dict(sorted({**logs, **{f"val_{k}": v for k, v in val_logs.items()}}.items()))
                callback_list.on_epoch_end(epoch, logs)
                if self.stop_training:
                    break
        finally:
            train.close()
            if val is not None:
                val.close()
        self.eval()
        if epochs > 0:
            self.optimizer.finalize_variable_values()
        callback_list.on_train_end(logs)
        return history

    def _train_epoch(self, train, device, callback_list, step) -> int:
        """Run one epoch's steps (``step``: ``_train_step`` or a captured one); returns how many ran."""
        hooks = bool(callback_list.batch_callbacks)
        steps = 0
        with contextlib.closing(train.epoch(device)) as batches:
            for xs, ys, sws in batches:
                if hooks:
                    callback_list.batch_hook("on_train_batch_begin", steps)
                step(xs, ys, sws)
                if hooks:
                    callback_list.batch_hook("on_train_batch_end", steps, _LazyLogs(self))
                steps += 1
                if self.stop_training:
                    break
        return steps

    # ----- evaluate ------------------------------------------------------------------------------------
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
                 callbacks=None, max_queue_size=None, workers=None, use_multiprocessing=None, return_dict=False):
        """The loss and metrics over ``x`` (a scalar, or a list in ``metrics_names`` order; a dict with
        ``return_dict``)."""
        self._check_compiled()
        source = adapt(self, x, y, sample_weight, batch_size=batch_size, steps=steps, what="evaluate",
                       max_queue_size=max_queue_size, workers=workers, use_multiprocessing=use_multiprocessing)
        verbose = 1 if verbose == "auto" else verbose
        callback_list = CallbackList(([ProgbarLogger(verbose)] if verbose else []) + list(callbacks or []), self,
                                     {"verbose": verbose, "epochs": 1, "steps": steps or source.num_batches})
        try:
            logs = self._evaluate_batches(source, steps, self._device(), callback_list)
        finally:
            source.close()
        return logs if return_dict else self._flatten_in_order(logs)

    def _evaluate_batches(self, source, steps, device, callback_list) -> dict:
        autocast.refresh(self)
        was_training = self.training
        self.eval()
        self.reset_metrics()
        hooks = bool(callback_list.batch_callbacks)
        replica = distributed.replica_for(self, source)  # None on one device
        step_fn = self._test_step if replica is None else replica.test_step
        callback_list.on_test_begin()
        try:
            with torch.no_grad(), contextlib.closing(EpochIterator(source, steps).epoch(device)) as batches:
                for step, (xs, ys, sws) in enumerate(batches):
                    if hooks:
                        callback_list.batch_hook("on_test_batch_begin", step)
                    step_fn(xs, ys, sws)
                    if hooks:
                        callback_list.batch_hook("on_test_batch_end", step, _LazyLogs(self))
            if replica is not None:
                replica.reduce_metrics()
            logs = self._floats(self._results())
        finally:
            self.train(was_training)
        callback_list.on_test_end(logs)
        return logs

    # ----- predict -------------------------------------------------------------------------------------
    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None, max_queue_size=None,
                workers=None, use_multiprocessing=None):
        """Outputs for ``x`` in batches (default 32), in inference mode, as NumPy arrays shaped like the
        model's outputs (one array, a list, or a dict)."""
        source = adapt(self, x, batch_size=batch_size, steps=steps, what="predict", max_queue_size=max_queue_size,
                       workers=workers, use_multiprocessing=use_multiprocessing)
        verbose = 1 if verbose == "auto" else verbose
        callback_list = CallbackList(([ProgbarLogger(verbose)] if verbose else []) + list(callbacks or []), self,
                                     {"verbose": verbose, "epochs": 1, "steps": steps or source.num_batches})
        hooks = bool(callback_list.batch_callbacks)
        autocast.refresh(self)
        was_training = self.training
        self.eval()
        chunks = []
        callback_list.on_predict_begin()
        try:
            with self._inference(), contextlib.closing(EpochIterator(source, steps).epoch(self._device())) as batches:
                for step, (xs, _, _) in enumerate(batches):
                    if hooks:
                        callback_list.batch_hook("on_predict_batch_begin", step)
                    chunks.append(self._forward(xs, training=False)[0])
                    if hooks:
                        callback_list.batch_hook("on_predict_batch_end", step, {"outputs": chunks[-1]})
        finally:
            self.train(was_training)
            source.close()
        callback_list.on_predict_end()
        if not chunks:
            raise DataError("predict() got no batches: the generator yielded nothing")
        return self._output_structure_of([_numpy(torch.cat(parts)) for parts in zip(*chunks)])

    def _inference(self):
        """``torch.inference_mode`` (no autograd bookkeeping at all, a few µs a layer) when nothing
        made during predict outlives it — the weights exist already and no layer keeps state between
        calls (a stateful RNN) — for inference tensors cannot take part in training later; else no_grad."""
        if getattr(self, "built", False) and not any(getattr(l, "stateful", False) for l in _all_layers(self)):
            return torch.inference_mode()
        return torch.no_grad()

    def predict_on_batch(self, x):
        data = ArrayData.from_user(self, x)
        autocast.refresh(self)
        was_training = self.training
        self.eval()
        try:
            with torch.no_grad():
                preds, _ = self._forward(data.take(slice(None), self._device())[0], training=False)
        finally:
            self.train(was_training)
        return self._output_structure_of([_numpy(p) for p in preds])

    def _output_structure_of(self, arrays):
        structure = getattr(self, "_output_structure", None)
        if isinstance(structure, dict):
            return dict(zip(structure, arrays))
        single = len(arrays) == 1 and not isinstance(structure, (list, tuple))
        return arrays[0] if single else arrays

    # ----- single batches ---------------------------------------------------------------------------------
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        self._check_compiled()
        data = adapt(self, x, y, sample_weight, class_weight, what="train_on_batch")
        device = self._device()
        self._prepare_training()
        self.reset_metrics()
        self.train()
        self._train_step(*data.take(slice(None), device))
        logs = self._floats(self._results())
        return logs if return_dict else self._flatten_in_order(logs)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        self._check_compiled()
        data = adapt(self, x, y, sample_weight, what="test_on_batch")
        data.batch_size = data.n
        logs = self._evaluate_batches(data, None, self._device(), CallbackList([], self, {}))
        return logs if return_dict else self._flatten_in_order(logs)


class _Compiled:
    """``fn`` through ``torch.compile``; if compiling fails (no C compiler, an op it cannot trace),
    warn once and run ``fn`` eagerly from then on."""

    def __init__(self, fn):
        self.fn = fn
        self.compiled = torch.compile(fn)
        self.proven = False

    def __call__(self, *args):
        if self.compiled is None:
            return self.fn(*args)
        try:
            out = self.compiled(*args)
        except Exception as err:  # noqa: BLE001 - any compiler failure; a real error recurs eagerly
            if self.proven:
                raise
            warnings.warn(f"jit_compile=True: torch.compile failed ({type(err).__name__}: {str(err)[:200]}); "
                          "running the train step eagerly", stacklevel=3)
            self.compiled = None
            return self.fn(*args)
        self.proven = True
        return out


class LossTracker:
    """Keras's ``Mean`` of the step losses weighted by batch size, in two in-place ops a step.

    ``Σ loss·n / Σ n`` in float32 on the loss's device; the count stays a Python int.
    """

    def __init__(self, name="loss"):
        self.name = name
        self.reset_state()

    def reset_state(self):
        self.total, self.count = None, 0

    def update_state(self, loss, sample_weight):
        value = loss.detach().to(torch.float32) * sample_weight
        self.total = value if self.total is None else self.total.add_(value)
        self.count += int(sample_weight)

    def update_many(self, losses, counts):
        """``update_state`` for several steps at once: one weighted sum instead of one per step."""
        if len(counts) == 1:
            return self.update_state(losses[0], counts[0])
        losses = losses.to(torch.float32)
        value = (losses * torch.tensor(counts, dtype=torch.float32, device=losses.device)).sum()
        self.total = value if self.total is None else self.total.add_(value)
        self.count += sum(int(c) for c in counts)

    def result(self):
        if self.total is None:
            return torch.tensor(0.0)
        return self.total / torch.tensor(float(self.count), dtype=torch.float32, device=self.total.device)


class _LazyLogs(dict):
    """Batch logs computed only when a callback reads them (reading means a device sync)."""

    def __init__(self, model):
        super().__init__()
        self._model = model
        self._filled = False

    def _fill(self):
        if not self._filled:
            self._filled = True
            super().update(self._model._floats(self._model._results()))

    def __getitem__(self, key):
        self._fill()
        return super().__getitem__(key)

    def __iter__(self):
        self._fill()
        return super().__iter__()

    def __len__(self):
        self._fill()
        return super().__len__()

    def items(self):
        self._fill()
        return super().items()

    def keys(self):
        self._fill()
        return super().keys()

    def get(self, key, default=None):
        self._fill()
        return super().get(key, default)


def _with_masks(preds, masks):
    """``preds``, each carrying its output's mask as ``_keras_mask`` (what Keras's losses and metrics read)."""
    if masks is not None:
        for pred, mask in zip(preds, masks):
            if mask is not None:
                pred._keras_mask = mask
    return preds


def _numpy(tensor):
    if tensor.dtype in (torch.bfloat16, torch.float16):
        tensor = tensor.float()
    return tensor.cpu().numpy()


def _sample_weight_modes(mode, keys):
    """compile's ``sample_weight_mode`` per output: None or 'temporal' (2D weights, Keras 2's flag)."""
    if isinstance(mode, dict):
        unknown = [k for k in mode if k not in keys]
        if unknown:
            raise SpecError(f"sample_weight_mode names output '{unknown[0]}', but the model's outputs are {keys}")
        modes = [mode.get(k) for k in keys]
    elif isinstance(mode, (list, tuple)):
        if len(mode) != len(keys):
            raise SpecError(f"sample_weight_mode has {len(mode)} entries for {len(keys)} outputs")
        modes = list(mode)
    else:
        modes = [mode] * len(keys)
    for m in modes:
        if m not in (None, "temporal"):
            raise SpecError(f"sample_weight_mode must be None or 'temporal', got {m!r}")
    return modes


def _check_validation_freq(freq):
    if isinstance(freq, bool) or not (isinstance(freq, int) and freq >= 1 or isinstance(freq, (list, tuple, set))):
        raise ConfigError(f"validation_freq must be a positive int (validate every that many epochs) or a list "
                          f"of epochs. Received: validation_freq={freq!r}")


def _should_validate(epoch, freq) -> bool:
    if isinstance(freq, int):
        return (epoch + 1) % freq == 0
    return (epoch + 1) in set(freq)


def _all_layers(model):
    for layer in model.layers:
        yield layer
        if hasattr(layer, "layers"):
            yield from _all_layers(layer)

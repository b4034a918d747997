"""compile / fit / evaluate / train_on_batch / test_on_batch with Keras's semantics.

The step is the hand-written PyTorch loop — forward, loss, backward, optimizer —
plus what Keras adds: regularization penalties, constraints after the update,
the loss tracker and metrics kept on the device. Reading them (a host sync)
happens at epoch ends, and for a live progress bar a few times a second.
"""
from __future__ import annotations

import torch

from ..callbacks.callback import CallbackList
from ..engine import activity
from ..callbacks.history import History
from ..callbacks.progbar_logger import ProgbarLogger
from ..errors import DataError, SpecError
from .compile_utils import CompiledLoss, CompiledMetrics
from .data_adapter import ArrayData, IteratorData


class Trainer:
    """Mixed into :class:`~modelcli.models.model.Model`."""

    compiled = False
    stop_training = False

    # ----- compile ------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None,
                weighted_metrics=None, run_eagerly=False, steps_per_execution=1, jit_compile=False,
                sample_weight_mode=None, **kwargs):
        from .. import losses as losses_module
        from .. import metrics as metrics_module  # noqa: F401  (fail early if unavailable)
        from .. import optimizers
        if kwargs:
            raise SpecError(f"unknown compile() argument '{next(iter(kwargs))}'")
        names = self.output_names
        self.optimizer = optimizers.get(optimizer)
        self.compiled_loss = CompiledLoss(loss, loss_weights, names)
        self.compiled_metrics = CompiledMetrics(metrics, weighted_metrics, names, self.compiled_loss.losses)
        self.loss = loss
        self._loss_tracker = metrics_module.Mean(name="loss")
        self._jit_compile = bool(jit_compile)
        self._sample_weight_mode = sample_weight_mode
        self._compiled_step = None
        self._regularized = [w for w in self.weights if w.regularizer is not None and w.trainable]
        self._constrained = [w for w in self.weights if w.constraint is not None]
        self._activity_regularized = any(l.activity_regularizer is not None for l in _all_layers(self))
        self.compiled = True
        del losses_module

    def _check_compiled(self, what):
        if not self.compiled:
            raise RuntimeError(f"You must call `compile()` before using the model for {what}.")

    @property
    def metrics(self):
        if not self.compiled:
            return []
        return [self._loss_tracker] + [m for _, m, _, _ in (self.compiled_metrics.metrics or [])] + \
            list(self.compiled_loss.trackers.values())

    @property
    def metrics_names(self):
        return list(self._result_names())

    def reset_metrics(self):
        self._loss_tracker.reset_state()
        self.compiled_metrics.reset_state()
        for t in self.compiled_loss.trackers.values():
            t.reset_state()

    # ----- one step ------------------------------------------------------------------------------
    def _forward(self, xs, training):
        if self._activity_regularized:
            with activity.collecting() as penalties:
                out = self.call(xs if len(xs) > 1 else xs[0], training=training)
        else:
            out, penalties = self.call(xs if len(xs) > 1 else xs[0], training=training), ()
        self._activity_losses = penalties
        return list(out) if isinstance(out, (list, tuple)) else [out]

    def _total_loss(self, ys, preds, sws):
        loss = self.compiled_loss(ys, preds, sws)
        for w in self._regularized:
            loss = loss + w.regularizer(w.layout.to_keras(w.parameter))
        for penalty in self._activity_losses:
            loss = loss + penalty
        return loss

    def _train_step(self, xs, ys, sws):
        params = self._trainable_params
        for p in params:
            p.grad = None
        preds = self._forward(xs, training=True)
        batch = xs[0].shape[0]
        loss = self._total_loss(ys, preds, sws)
        loss.backward()
        self.optimizer.apply()
        for w in self._constrained:
            w.apply_constraint()
        with torch.no_grad():
            self._loss_tracker.update_state(loss.detach(), sample_weight=batch)
            self.compiled_metrics.update_state(ys, [p.detach() for p in preds], sws)

    def _test_step(self, xs, ys, sws):
        preds = self._forward(xs, training=False)
        loss = self._total_loss(ys, preds, sws)
        self._loss_tracker.update_state(loss, sample_weight=xs[0].shape[0])
        self.compiled_metrics.update_state(ys, preds, sws)

    def _prepare_training(self):
        params = []
        seen = set()
        for w in self.trainable_weights:
            p = w.parameter
            if id(p) not in seen and p.requires_grad:
                seen.add(id(p))
                params.append(p)
        self._trainable_params = params
        if getattr(self.optimizer, "_built_for", None) is not self:
            self.optimizer.build(params)
            self.optimizer._built_for = self

    # ----- results --------------------------------------------------------------------------------
    def _results(self) -> dict:
        logs = {"loss": self._loss_tracker.result()}
        logs.update(self.compiled_metrics.results())
        for t in self.compiled_loss.trackers.values():
            logs[t.name] = t.result()
        return logs

    def _result_names(self):
        return list(self._results())

    @staticmethod
    def _floats(logs) -> dict:
        if not logs:
            return {}
        values = torch.stack([torch.as_tensor(v, dtype=torch.float32).reshape(()).cpu() for v in logs.values()])
        return dict(zip(logs, values.tolist()))

    # ----- fit --------------------------------------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose=1, callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0,
            steps_per_epoch=None, validation_steps=None, validation_batch_size=None, validation_freq=1,
            max_queue_size=10, workers=1, use_multiprocessing=False):
        self._check_compiled("training")
        verbose = 1 if verbose == "auto" else verbose
        train, val = self._fit_data(x, y, batch_size, validation_split, validation_data, sample_weight,
                                    class_weight)
        batch_size = batch_size or 32
        device = self._device()
        if isinstance(train, ArrayData):
            train.to_device(device)
        if isinstance(val, ArrayData):
            val.to_device(device)
        steps = steps_per_epoch or train.steps(batch_size)
        history = History()
        cbs = list(callbacks or [])
        cbs = ([ProgbarLogger(verbose)] if verbose else []) + cbs + [history]
        params = {"verbose": verbose, "epochs": epochs, "steps": steps}
        callback_list = CallbackList(cbs, self, params)
        self._prepare_training()
        self.stop_training = False
        generator = _shuffle_generator()
        self.__dict__.pop("_resume_epoch", None)  # BackupAndRestore sets it in on_train_begin
        callback_list.on_train_begin()
        resume = self.__dict__.pop("_resume_epoch", None)
        if resume is not None:
            initial_epoch = resume
            for past_epoch, past_logs in self.__dict__.pop("_resume_logs", ()):
                history.on_epoch_end(past_epoch, past_logs)
        logs = {}
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            callback_list.on_epoch_begin(epoch)
            self.train()
            self._run_epoch(train, batch_size, shuffle, generator, device, steps_per_epoch, callback_list)
            logs = self._floats(self._results())
            if val is not None and _should_validate(epoch, validation_freq):
                val_logs = self._evaluate_data(val, validation_batch_size or batch_size, device, validation_steps)
                logs.update({f"val_{k}": v for k, v in val_logs.items()})
            callback_list.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        self.train(False)
        callback_list.on_train_end(logs)
        return history

    def _run_epoch(self, data, batch_size, shuffle, generator, device, steps, callback_list):
        batches = (data.batches(batch_size, shuffle, generator, device, steps) if isinstance(data, ArrayData)
                   else data.batches(self, device, steps))
        hooks = bool(callback_list.batch_callbacks)
        for b, (xs, ys, sws) in enumerate(batches):
            if hooks:
                callback_list.batch_hook("on_train_batch_begin", b)
            self._train_step(xs, ys, sws)
            if hooks:
                callback_list.batch_hook("on_train_batch_end", b, _LazyLogs(self))
            if self.stop_training:
                break

    def _fit_data(self, x, y, batch_size, validation_split, validation_data, sample_weight, class_weight):
        if _is_iterator(x):
            if y is not None:
                raise DataError("y must be None when x is a generator, a Sequence or a DataLoader "
                                "(it yields the targets)")
            train = IteratorData(x)
            val = self._validation_data(validation_data)
            if validation_split:
                raise DataError("validation_split is not supported when x is a generator or a Sequence")
            return train, val
        if x is None:
            raise DataError("fit() needs x")
        data = ArrayData.from_user(self, x, y, sample_weight, class_weight)
        if data.ys is None:
            raise DataError("fit() needs targets y")
        val = self._validation_data(validation_data)
        if val is None and validation_split:
            data, val = data.split(validation_split)
        return data, val

    def _validation_data(self, validation_data):
        if validation_data is None:
            return None
        if _is_iterator(validation_data):
            return IteratorData(validation_data)
        if not isinstance(validation_data, (list, tuple)) or len(validation_data) not in (2, 3):
            raise DataError("validation_data must be (x_val, y_val) or (x_val, y_val, sample_weight_val)")
        sw = validation_data[2] if len(validation_data) == 3 else None
        return ArrayData.from_user(self, validation_data[0], validation_data[1], sw)

    # ----- evaluate ------------------------------------------------------------------------------------
    def evaluate(self, x=None, y=None, batch_size=None, verbose=1, sample_weight=None, steps=None,
                 callbacks=None, max_queue_size=10, workers=1, use_multiprocessing=False, return_dict=False):
        self._check_compiled("evaluation")
        if _is_iterator(x):
            data = IteratorData(x, steps)
        else:
            data = ArrayData.from_user(self, x, y, sample_weight)
            if data.ys is None:
                raise DataError("evaluate() needs targets y")
        device = self._device()
        if isinstance(data, ArrayData):
            data.to_device(device)
        logs = self._evaluate_data(data, batch_size or 32, device, steps)
        if return_dict:
            return logs
        return self._flatten_in_order(logs)

    def _evaluate_data(self, data, batch_size, device, steps=None):
        was_training = self.training
        self.eval()
        self.reset_metrics()
        try:
            batches = (data.batches(batch_size, False, None, device, steps) if isinstance(data, ArrayData)
                       else data.batches(self, device, steps))
            with torch.inference_mode():
                for xs, ys, sws in batches:
                    self._test_step(xs, ys, sws)
            return self._floats(self._results())
        finally:
            self.train(was_training)

    def _flatten_in_order(self, logs):
        """Keras 3's order: loss, compiled metrics as named, per-output losses, then the rest sorted."""
        order = ["loss"] + self.compiled_metrics.base_names() + [t.name for t in self.compiled_loss.trackers.values()]
        values = [logs[k] for k in order if k in logs]
        values += [logs[k] for k in sorted(logs) if k not in order]
        return values[0] if len(values) == 1 else values

    # ----- single batches ---------------------------------------------------------------------------------
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        self._check_compiled("training")
        data = ArrayData.from_user(self, x, y, sample_weight, class_weight).to_device(self._device())
        self._prepare_training()
        self.reset_metrics()
        self.train()
        xs, ys, sws = data._take(slice(None), self._device())
        self._train_step(xs, ys, sws)
        logs = self._floats(self._results())
        return logs if return_dict else self._flatten_in_order(logs)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        self._check_compiled("evaluation")
        data = ArrayData.from_user(self, x, y, sample_weight).to_device(self._device())
        logs = self._evaluate_data(data, data.n, self._device())
        return logs if return_dict else self._flatten_in_order(logs)


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


def _is_iterator(x) -> bool:
    if x is None or isinstance(x, (list, tuple, dict)) or hasattr(x, "__array__") or isinstance(x, torch.Tensor):
        return False
    return hasattr(x, "__next__") or hasattr(x, "__iter__") or hasattr(x, "__getitem__")


def _should_validate(epoch, freq) -> bool:
    if isinstance(freq, int):
        return (epoch + 1) % freq == 0
    return (epoch + 1) in set(freq)


def _shuffle_generator():
    seed = torch.randint(0, 2**62, (1,)).item()
    return torch.Generator().manual_seed(seed)


def _all_layers(model):
    for layer in model.layers:
        yield layer
        if hasattr(layer, "layers"):
            yield from _all_layers(layer)



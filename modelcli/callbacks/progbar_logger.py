"""ProgbarLogger: Keras-style progress, without slowing the loop down.

verbose=1 on a terminal redraws one line per epoch (steps, bar, time per step,
running metrics), at most every ``interval`` seconds, so reading the metrics (a
device sync) happens a few times a second rather than every step. verbose=2, or
an output that is not a terminal, prints one line per epoch. ``evaluate`` and
``predict`` get one line of their own, as in Keras (inside ``fit`` the validation
is silent: its results join the epoch's line); "Epoch i/n" only when n > 1.
"""
from __future__ import annotations

import sys
import time

from .callback import Callback

_BAR = 20


def format_logs(logs) -> str:
    return " - ".join(f"{k}: {_fmt(v)}" for k, v in logs.items())


def _fmt(value) -> str:
    value = float(value)
    return f"{value:.4f}" if abs(value) >= 1e-3 or value == 0 else f"{value:.4e}"


def _per_step(seconds: float) -> str:
    return f"{seconds * 1e3:.0f}ms/step" if seconds >= 1e-3 else f"{seconds * 1e6:.0f}us/step"


class ProgbarLogger(Callback):
    def __init__(self, verbose=1, stream=None, interval=0.1):
        super().__init__()
        self.verbose = verbose
        self.stream = stream
        self.interval = interval
        self._in_fit = False  # inside fit, the validation's progress stays off the screen

    @property
    def _out(self):
        return self.stream or sys.stdout

    @property
    def _live(self) -> bool:
        return self.verbose == 1 and getattr(self._out, "isatty", lambda: False)()

    @property
    def needs_batch_logs(self) -> bool:
        return self._live

    def on_train_begin(self, logs=None):
        self._in_fit = True

    def on_epoch_begin(self, epoch, logs=None):
        self._start()
        epochs = self.params.get("epochs")
        if self.verbose and epochs != 1:
            self._write(f"Epoch {epoch + 1}/{epochs or '?'}\n")

    def on_train_batch_end(self, batch, logs=None):
        self._progress(batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._finish(logs)

    def on_test_begin(self, logs=None):
        if not self._in_fit:
            self._start()

    def on_test_batch_end(self, batch, logs=None):
        if not self._in_fit:
            self._progress(batch, logs)

    def on_test_end(self, logs=None):
        if not self._in_fit:
            self._finish(logs)

    def on_predict_begin(self, logs=None):
        self._start()

    def on_predict_batch_end(self, batch, logs=None):
        self._progress(batch, None)

    def on_predict_end(self, logs=None):
        self._finish(None)

    def _start(self):
        self._epoch_start = self._last_draw = time.perf_counter()
        self._seen = 0

    def _progress(self, batch, logs):
        self._seen = batch + 1
        now = time.perf_counter()
        if now - self._last_draw >= self.interval:
            self._last_draw = now
            self._draw(dict(logs or {}), final=False)

    def _finish(self, logs):
        if not self.verbose:
            return
        self._seen = self.params.get("steps") or self._seen
        self._draw(dict(logs or {}), final=True)

    def _draw(self, logs, final):
        steps = self.params.get("steps")
        elapsed = time.perf_counter() - self._epoch_start
        done = self._seen
        per_step = _per_step(elapsed / max(done, 1))
        text = format_logs(logs)
        if self._live:
            filled = int(_BAR * done / steps) if steps else _BAR
            bar = "━" * filled + ("╸" if filled < _BAR else "") + " " * max(_BAR - filled - 1, 0)
            counter = f"{done}/{steps}" if steps else f"{done}"
            self._write(f"\r{counter} {bar} {elapsed:.0f}s {per_step}" + (f" - {text}" if text else "")
                        + ("\n" if final else ""))
        elif final:
            counter = f"{done}/{steps}" if steps else f"{done}"
            self._write(f"{counter} - {elapsed:.0f}s - {per_step}" + (f" - {text}" if text else "") + "\n")

    def _write(self, text):
        self._out.write(text)
        self._out.flush()

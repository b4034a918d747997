"""SGD with Keras's momentum form: ``m ← μ·m − lr·g; w ← w + m`` (Nesterov: ``w ← w + μ·m − lr·g``)."""
from __future__ import annotations

import torch

from ..errors import SpecError
from .base import OPTIMIZERS, Optimizer, add_scaled_


@OPTIMIZERS.register("SGD")
class SGD(Optimizer):
    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False,
                 ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, name=name)
        if isinstance(momentum, bool) or not isinstance(momentum, (int, float)) or not 0 <= momentum <= 1:
            raise SpecError(f"`momentum` must be a float between [0, 1]. Received: momentum={momentum}")
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)

    def _slot_groups(self):
        return (("momentum",),) if self.momentum != 0 else ()

    def _exact_on_zero_gradient(self):
        return self.momentum == 0  # with momentum every row keeps moving

    def sparse_update_step(self, rows, values, param, slots, lr):
        param.index_add_(0, rows, values, alpha=-lr)

    graph_safe = True

    def update_step(self, grads, params, slots, lr):
        lr = self._factor("lr", float(lr))
        if self.momentum == 0:
            add_scaled_(params, grads, -lr)
            return
        momentums = slots["momentum"]
        torch._foreach_mul_(momentums, self.momentum)
        add_scaled_(momentums, grads, -lr)
        if self.nesterov:
            add_scaled_(params, grads, -lr)
            torch._foreach_add_(params, momentums, alpha=self.momentum)
        else:
            torch._foreach_add_(params, momentums)

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}

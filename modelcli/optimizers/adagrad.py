"""Adagrad as Keras computes it, epsilon inside the root and the accumulator starting at
``initial_accumulator_value``: ``a ← a + g²; w ← w − lr·g / √(a + ε)``."""
from __future__ import annotations

import torch

from .base import OPTIMIZERS, Optimizer


@OPTIMIZERS.register("Adagrad")
class Adagrad(Optimizer):
    slot_groups = (("accumulator",),)

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None,
                 loss_scale_factor=None, gradient_accumulation_steps=None, name=None):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, name=name)
        self.initial_accumulator_value = initial_accumulator_value
        self.epsilon = epsilon

    def _slot_initial_value(self, name):
        return self.initial_accumulator_value if name == "accumulator" else 0.0

    def _exact_on_zero_gradient(self):
        return True

    def sparse_update_step(self, rows, values, param, slots, lr):
        # Rows without gradient keep their accumulator and weight.
        accumulator = slots["accumulator"]
        touched = accumulator.index_select(0, rows).add_(values * values)
        accumulator.index_copy_(0, rows, touched)
        denominator = touched.add_(self.epsilon).sqrt_()
        param.index_copy_(0, rows, param.index_select(0, rows).addcdiv_(values * lr, denominator, value=-1))

    graph_safe = True

    def update_step(self, grads, params, slots, lr):
        lr = self._factor("lr", float(lr))
        accumulators = slots["accumulator"]
        torch._foreach_add_(accumulators, torch._foreach_mul(grads, grads))
        denominators = torch._foreach_sqrt(torch._foreach_add(accumulators, self.epsilon))
        torch._foreach_addcdiv_(params, torch._foreach_mul(grads, lr), denominators, value=-1)

    def get_config(self):
        return {**super().get_config(), "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}

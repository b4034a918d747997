"""Adadelta as Keras computes it, with a learning rate on top:
``a ← ρ·a + (1 − ρ)·g²; Δ = −√(d + ε)·g / √(a + ε); d ← ρ·d + (1 − ρ)·Δ²; w ← w + lr·Δ``."""
from __future__ import annotations

import torch

from .base import OPTIMIZERS, Optimizer, add_scaled_


@OPTIMIZERS.register("Adadelta")
class Adadelta(Optimizer):
    slot_groups = (("accumulated_grad", "accumulated_delta_var"),)

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False,
                 ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, name=name)
        self.rho = rho
        self.epsilon = epsilon

    graph_safe = True

    def update_step(self, grads, params, slots, lr):
        rho = self.rho
        grad_avg, delta_avg = slots["accumulated_grad"], slots["accumulated_delta_var"]
        torch._foreach_mul_(grad_avg, rho)
        torch._foreach_add_(grad_avg, torch._foreach_mul(grads, grads), alpha=1 - rho)
        deltas = torch._foreach_mul(torch._foreach_sqrt(torch._foreach_add(delta_avg, self.epsilon)),
                                    grads)
        torch._foreach_div_(deltas, torch._foreach_sqrt(torch._foreach_add(grad_avg, self.epsilon)))
        torch._foreach_neg_(deltas)
        torch._foreach_mul_(delta_avg, rho)
        torch._foreach_add_(delta_avg, torch._foreach_mul(deltas, deltas), alpha=1 - rho)
        add_scaled_(params, deltas, self._factor("lr", float(lr)))

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}

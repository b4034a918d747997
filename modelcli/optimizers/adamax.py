"""Adamax (Adam with the infinity norm) as Keras computes it:
``m ← β₁·m + (1 − β₁)·g; u ← max(β₂·u, |g|); w ← w − lr·m / ((1 − β₁ᵗ)·(u + ε))``."""
from __future__ import annotations

import torch

from .base import OPTIMIZERS, Optimizer, float32


@OPTIMIZERS.register("Adamax")
class Adamax(Optimizer):
    slot_groups = (("momentum", "norm"),)

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None,
                 loss_scale_factor=None, gradient_accumulation_steps=None, name=None):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, name=name)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    graph_safe = True

    def _factor_names(self):
        return super()._factor_names() + ("bias_correction",)

    def _bias_correction_factor(self, lr) -> float:
        return float(1 - torch.pow(float32(self.beta_1), float32(self.iterations + 1)))

    def update_step(self, grads, params, slots, lr):
        bias_correction = self._factor("bias_correction", lr)
        lr = self._factor("lr", float(lr))
        m, u = slots["momentum"], slots["norm"]
        torch._foreach_mul_(m, self.beta_1)
        torch._foreach_add_(m, grads, alpha=1 - self.beta_1)
        torch._foreach_mul_(u, self.beta_2)
        torch._foreach_maximum_(u, torch._foreach_abs(grads))
        denominators = torch._foreach_add(u, self.epsilon)
        torch._foreach_mul_(denominators, bias_correction)
        torch._foreach_addcdiv_(params, torch._foreach_mul(m, lr), denominators, value=-1)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}

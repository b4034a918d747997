"""Nadam (Adam with Nesterov momentum) as Keras computes it, with the momentum schedule
``μₜ = β₁·(1 − ½·0.96ᵗ)`` and its running product ``Πμ`` (the ``u_product`` state):
``m̂ = μₜ₊₁·m / (1 − Πμ·μₜ₊₁) + (1 − μₜ)·g / (1 − Πμ)``, ``v̂ = v / (1 − β₂ᵗ)``,
``w ← w − lr·m̂ / (√v̂ + ε)``."""
from __future__ import annotations

import torch

from .base import OPTIMIZERS, Optimizer, float32


@OPTIMIZERS.register("Nadam")
class Nadam(Optimizer):
    slot_groups = (("momentum", "velocity"),)
    scalar_names = ("u_product",)

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

    def _scalar_initial_value(self, name):
        return 1.0

    def update_step(self, grads, params, slots, lr):
        t = float32(self.iterations + 1)
        beta_1, decay = float32(self.beta_1), float32(0.96)
        u_t = beta_1 * (1.0 - 0.5 * torch.pow(decay, t))
        u_next = beta_1 * (1.0 - 0.5 * torch.pow(decay, t + 1))
        u_product = float32(self.u_product) * u_t
        self.u_product = float(u_product)
        m, v = slots["momentum"], slots["velocity"]
        torch._foreach_mul_(m, self.beta_1)
        torch._foreach_add_(m, grads, alpha=1 - self.beta_1)
        torch._foreach_mul_(v, self.beta_2)
        torch._foreach_add_(v, torch._foreach_mul(grads, grads), alpha=1 - self.beta_2)
        m_hat = torch._foreach_mul(m, float(u_next))
        torch._foreach_div_(m_hat, float(1 - u_product * u_next))
        scaled_grads = torch._foreach_mul(grads, float(1 - u_t))
        torch._foreach_div_(scaled_grads, float(1 - u_product))
        torch._foreach_add_(m_hat, scaled_grads)
        beta_2_power = torch.pow(float32(self.beta_2), t)
        denominators = torch._foreach_sqrt(torch._foreach_div(v, float(1 - beta_2_power)))
        torch._foreach_add_(denominators, self.epsilon)
        torch._foreach_mul_(m_hat, lr)
        torch._foreach_addcdiv_(params, m_hat, denominators, value=-1)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}

"""Adam and AdamW as Keras computes them, bias corrections folded into the step size:
``m ← β₁·m + (1 − β₁)·g; v ← β₂·v + (1 − β₂)·g²; w ← w − lr·√(1 − β₂ᵗ)/(1 − β₁ᵗ) · m / (√v + ε)``.
With ``amsgrad`` the denominator uses the running maximum of ``v``. AdamW is Adam whose
(decoupled) weight decay defaults to 0.004."""
from __future__ import annotations

import numpy as np
import torch

from ..errors import SpecError
from .base import OPTIMIZERS, Optimizer, addcdiv_, float32


@OPTIMIZERS.register("Adam")
class Adam(Optimizer):
    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False,
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
        self.amsgrad = amsgrad

    def _slot_groups(self):
        return (("momentum", "velocity"), ("velocity_hat",)) if self.amsgrad else (("momentum", "velocity"),)

    graph_safe = True

    def _factor_names(self):
        return ("alpha", "decay") if self.weight_decay else ("alpha",)  # lr only reaches the update via alpha

    def _alpha_factor(self, lr) -> float:
        # Keras's float32 arithmetic on NumPy scalars: the same bits as torch scalars, 10x cheaper.
        t = np.float32(self.iterations + 1)
        beta_1_power = np.power(np.float32(self.beta_1), t)
        beta_2_power = np.power(np.float32(self.beta_2), t)
        one = np.float32(1)
        return float(np.float32(lr) * np.sqrt(one - beta_2_power) / (one - beta_1_power))

    def update_step(self, grads, params, slots, lr):
        alpha = self._factor("alpha", lr)
        m, v = slots["momentum"], slots["velocity"]
        # Keras's m += (g − m)(1 − β₁) is exactly lerp; the rest in place: six passes over the
        # weights and one temporary, where the literal formula takes nine passes and three.
        torch._foreach_lerp_(m, grads, 1 - self.beta_1)
        torch._foreach_mul_(v, self.beta_2)
        torch._foreach_addcmul_(v, grads, grads, value=1 - self.beta_2)
        if self.amsgrad:
            torch._foreach_maximum_(slots["velocity_hat"], v)
            v = slots["velocity_hat"]
        denominators = torch._foreach_sqrt(v)
        torch._foreach_add_(denominators, self.epsilon)
        addcdiv_(params, m, denominators, -alpha)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon, "amsgrad": self.amsgrad}


@OPTIMIZERS.register("AdamW")
class AdamW(Adam):
    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, amsgrad=False, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None,
                 loss_scale_factor=None, gradient_accumulation_steps=None, name=None):
        if weight_decay is None:
            raise SpecError("Argument `weight_decay` must be a float. Received: weight_decay=None")
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
                         amsgrad=amsgrad, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, name=name)

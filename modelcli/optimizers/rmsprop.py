"""RMSprop as Keras computes it, epsilon inside the root:
``v ← ρ·v + (1 − ρ)·g²; w ← w − lr·g / √(v + ε)``; centered subtracts ``ḡ²`` (``ḡ ← ρ·ḡ + (1 − ρ)·g``)
inside the root; momentum keeps ``m ← μ·m + lr·g/√(…)`` and subtracts ``m``."""
from __future__ import annotations

import torch

from .base import OPTIMIZERS, Optimizer, addcdiv_


@OPTIMIZERS.register("RMSprop")
class RMSprop(Optimizer):
    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None,
                 loss_scale_factor=None, gradient_accumulation_steps=None, name=None):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, name=name)
        self.rho = rho
        self.momentum = momentum
        self.epsilon = epsilon
        self.centered = centered

    def _slot_groups(self):
        groups = [("velocity",)]
        if self.momentum > 0:
            groups.append(("momentum",))
        if self.centered:
            groups.append(("average_gradient",))
        return tuple(groups)

    graph_safe = True

    def update_step(self, grads, params, slots, lr):
        # In place where Keras's formula allocates: five passes over the weights without momentum,
        # one temporary (the denominator), where the literal formula takes eight passes and four.
        rho, lr = self.rho, self._factor("lr", float(lr))
        velocities = slots["velocity"]
        torch._foreach_mul_(velocities, rho)
        torch._foreach_addcmul_(velocities, grads, grads, value=1 - rho)
        if self.centered:
            averages = slots["average_gradient"]
            torch._foreach_lerp_(averages, grads, 1 - rho)
            denominators = torch._foreach_addcmul(velocities, averages, averages, value=-1)
            torch._foreach_add_(denominators, self.epsilon)
        else:
            denominators = torch._foreach_add(velocities, self.epsilon)
        torch._foreach_sqrt_(denominators)
        if self.momentum > 0:
            momentums = slots["momentum"]
            torch._foreach_mul_(momentums, self.momentum)
            addcdiv_(momentums, grads, denominators, lr)
            torch._foreach_sub_(params, momentums)
        else:
            addcdiv_(params, grads, denominators, -lr)

    def _exact_on_zero_gradient(self):
        return self.momentum == 0 and not self.centered  # else every row moves every step

    def sparse_update_step(self, rows, values, param, slots, lr):
        # Rows without gradient: v ← ρ·v, w unchanged (the dense update adds exact zeros there).
        lr = self._factor("lr", float(lr))
        velocity = slots["velocity"]
        velocity.mul_(self.rho)
        touched = velocity.index_select(0, rows).addcmul_(values, values, value=1 - self.rho)
        velocity.index_copy_(0, rows, touched)
        denominator = touched.add_(self.epsilon).sqrt_()
        param.index_copy_(0, rows, param.index_select(0, rows).addcdiv_(values, denominator, value=-lr))

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered}

"""Mixed precision as Keras offers it: dtype policies, the global policy, loss scaling.

    from modelcli import mixed_precision
    mixed_precision.set_global_policy("mixed_bfloat16")   # layers built from now on
    model = ...                                            # computes in bfloat16, float32 variables

A model with ``mixed_float16`` layers gets a :class:`LossScaleOptimizer` at ``compile``.
Importing this package does not import torch (the config checks names with it).
"""
from __future__ import annotations

from .policy import (DTypePolicy, Policy, dtype_policy, global_policy, set_dtype_policy,
                     set_global_policy)

__all__ = ["DTypePolicy", "Policy", "LossScaleOptimizer", "global_policy", "set_global_policy",
           "dtype_policy", "set_dtype_policy"]


def __getattr__(name):
    if name == "LossScaleOptimizer":
        from ..optimizers.loss_scale_optimizer import LossScaleOptimizer
        return LossScaleOptimizer
    raise AttributeError(f"module 'modelcli.mixed_precision' has no attribute '{name}'")

"""ActivityRegularization: passes inputs through and penalizes them by ``l1·Σ|x| + l2·Σx²``.

The penalty is the layer's ``activity_regularizer``, which the trainer adds to
the loss; the config holds ``l1`` and ``l2`` instead of the regularizer.
"""
from __future__ import annotations

from ...engine.layer import Layer
from ...regularizers import L1L2
from ..registry import register_layer


@register_layer("ActivityRegularization")
class ActivityRegularization(Layer):
    supports_masking = True

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        kwargs.pop("activity_regularizer", None)  # written by some Keras versions; l1/l2 say it all
        super().__init__(activity_regularizer=L1L2(l1=l1, l2=l2), **kwargs)
        self.l1, self.l2 = l1, l2

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.pop("activity_regularizer", None)
        return {**config, "l1": self.l1, "l2": self.l2}

"""TimeDistributed: the same layer applied to every timestep of ``(batch, time, ...)``.

Keras calls the wrapped layer once per timestep. Folding time into the batch —
``(batch·time, ...)``, one call — gives the same numbers for any layer whose steps are
independent, and is much faster. A layer that updates state while training
(non-trainable weights, e.g. BatchNormalization's moving statistics) sees each
timestep as its own batch in Keras, so it keeps the per-timestep loop then.
"""
from __future__ import annotations

import torch

from ...engine.layer import Layer, call_arguments
from ...errors import SpecError
from ..deserialize import deserialize_layer, serialize_layer
from ..registry import register_layer


@register_layer("TimeDistributed")
class TimeDistributed(Layer):
    supports_masking = True

    def __init__(self, layer, **kwargs):
        super().__init__(**kwargs)
        if isinstance(layer, dict):
            layer = deserialize_layer(layer, where="layer")
        if not isinstance(layer, Layer):
            raise SpecError(f"expected a layer, got {type(layer).__name__}", where="layer")
        self.track_sublayer("layer", layer)

    def build(self, input_shape):
        if not self.layer.built:
            self.layer.build(_step_shape(input_shape))

    def compute_output_shape(self, input_shape):
        step = self.layer.compute_output_shape(_step_shape(input_shape))
        return (step[0], input_shape[1], *step[1:])

    def call(self, inputs, training=None, mask=None):
        accepts = call_arguments(type(self.layer))
        kwargs = {"training": training} if accepts.training else {}
        batch, steps = inputs.shape[:2]
        if mask is not None:
            if tuple(mask.shape[:2]) != (batch, steps):
                raise SpecError(f"the mask's shape {tuple(mask.shape)} does not start with the inputs' batch and "
                                f"time dimensions ({batch}, {steps})", where=self.name)
            mask = mask.to(device=inputs.device)
        if training and any(not w.trainable for w in self.layer.weights):
            outputs = []
            for t in range(steps):
                step_mask = {"mask": mask[:, t]} if accepts.mask and mask is not None else {}
                outputs.append(self.layer.call(inputs[:, t], **kwargs, **step_mask))
            return torch.stack(outputs, 1)
        if accepts.mask and mask is not None:
            kwargs["mask"] = mask.reshape(batch * steps, *mask.shape[2:])
        outputs = self.layer.call(inputs.reshape(batch * steps, *inputs.shape[2:]), **kwargs)
        return outputs.reshape(batch, steps, *outputs.shape[1:])

    def get_config(self):
        return {**super().get_config(), "layer": serialize_layer(self.layer)}


def _step_shape(input_shape):
    if len(input_shape) < 3:
        raise SpecError(f"TimeDistributed expects inputs of shape (batch, time, ...), got {tuple(input_shape)}",
                        where="input_shape")
    return (input_shape[0], *input_shape[2:])

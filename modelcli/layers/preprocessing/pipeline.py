"""Pipeline: a plain layer that applies its ``layers`` one after another (in Keras, an
augmentation stack such as Rescaling → RandomFlip → RandomRotation).

Its config holds only ``layers`` (each serialized as Keras writes a layer) and
``name``: Keras's Pipeline takes no ``trainable`` or ``dtype``. ``training`` reaches
every inner layer that takes it, so the augmentation inside acts only while training.

Masks follow Keras's Pipeline: the mask given to the pipeline goes to the first
layer, each layer's output mask to the next, and the pipeline's output carries the
last one's (a layer that does not support masking ends it, as in Keras).
Inner weights are saved as Keras saves them: ``layers/<class>`` (``layers/dense``,
``layers/dense_1``) under the pipeline's group.
"""
from __future__ import annotations

from ...backend import snake_case
from ...engine.layer import Layer, call_arguments
from ...errors import SpecError
from ..deserialize import deserialize_layer
from ..registry import register_layer


@register_layer("Pipeline")
class Pipeline(Layer):
    def __init__(self, layers, name=None):
        super().__init__(name=name)
        if not isinstance(layers, (list, tuple)):
            raise SpecError(f"expected a list of layers, got {type(layers).__name__}", where="layers")
        self._pipeline_layers = [_as_layer(entry, f"layers[{i}]") for i, entry in enumerate(layers)]
        counts = {}
        for layer in self._pipeline_layers:
            base = snake_case(type(layer).__name__)
            counts[base] = counts.get(base, 0) + 1
            self.track_sublayer(f"layers/{base}" if counts[base] == 1 else f"layers/{base}_{counts[base] - 1}",
                                layer)
        self._output_mask = None

    @classmethod
    def from_config(cls, config):
        if "layers" not in config:
            raise SpecError("a Pipeline config needs 'layers', the list of its serialized layers", where="layers")
        return cls(**config)

    def get_config(self):
        from ...saving.spec_writer import layer_entry  # as a model writes its layers (a nested model too)
        return {"layers": [layer_entry(layer) for layer in self._pipeline_layers], "name": self.name}

    @property
    def layers(self) -> list:
        return list(self._pipeline_layers)

    def build(self, input_shape):
        for layer in self._pipeline_layers:
            if not layer.built:
                layer.build(input_shape)
            input_shape = layer.compute_output_shape(input_shape)

    def compute_output_shape(self, input_shape):
        for layer in self._pipeline_layers:
            input_shape = layer.compute_output_shape(input_shape)
        return input_shape

    def compute_output_spec(self, inputs, *args, **kwargs):
        """The last layer's symbolic output: its shape and its dtype."""
        for layer in self._pipeline_layers:
            inputs = layer.compute_output_spec(inputs)
        return inputs

    def call(self, inputs, training=None, mask=None):
        for layer in self._pipeline_layers:
            accepts = call_arguments(type(layer))
            kwargs = {}
            if accepts.training and training is not None:
                kwargs["training"] = training
            if accepts.mask and mask is not None:
                kwargs["mask"] = mask
            outputs = layer.call(inputs, **kwargs)
            mask = layer.compute_mask(inputs, mask)
            inputs = outputs
        # compute_mask, asked right after this call, hands it on (as Functional hands on its outputs' masks)
        self._output_mask = mask
        return inputs

    def compute_mask(self, inputs, mask=None):
        return self._output_mask


def _as_layer(entry, where):
    if isinstance(entry, dict):
        return deserialize_layer(entry, where=where)
    if not isinstance(entry, Layer):
        raise SpecError(f"expected a layer, got {type(entry).__name__}", where=where)
    return entry

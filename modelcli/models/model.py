"""The Model API shared by Functional and Sequential models.

A model is a Layer made of layers. It adds what the tutorial lists for Keras
models: ``layers``, ``inputs``/``outputs``, ``summary()``, ``get_config()``,
``get/set_weights()``, ``to_json()``/``to_yaml()``, ``save_weights()``/
``load_weights()``, ``count_params()``, ``get_layer()`` and ``predict()``.
"""
from __future__ import annotations

import json

from ..engine.layer import Layer
from ..errors import did_you_mean
from ..trainer.trainer import Trainer


class Model(Trainer, Layer):
    keras_module = "keras"

    def __new__(cls, *args, **kwargs):
        if cls is Model and (args or "inputs" in kwargs or "outputs" in kwargs):
            from .functional import Functional
            return Functional.__new__(Functional)
        return super().__new__(cls)

    def __init__(self, name=None, trainable=True, dtype=None, **kwargs):
        super().__init__(name=name, trainable=trainable, dtype=dtype, **kwargs)
        self._layers: list[Layer] = []

    # ----- structure ----------------------------------------------------------------------
    @property
    def layers(self) -> list[Layer]:
        """The model's layers in Keras order (a subclassed model: its Layer attributes)."""
        if self._layers:
            return list(self._layers)
        return [m for m in self.children() if isinstance(m, Layer)]

    def get_layer(self, name=None, index=None) -> Layer:
        if index is not None:
            if not -len(self.layers) <= index < len(self.layers):
                raise ValueError(f"asked for the layer at index {index}, but model '{self.name}' has "
                                 f"{len(self.layers)} layers")
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"no layer named '{name}' in model '{self.name}'"
                         + (f"; {did_you_mean(name, [l.name for l in self.layers])}"
                            if did_you_mean(name, [l.name for l in self.layers]) else ""))

    @property
    def input_shape(self):
        shapes = [t.shape for t in self.inputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def output_shape(self):
        shapes = [t.shape for t in self.outputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def input_names(self) -> list[str]:
        return [t.history[0].name for t in self.inputs]

    @property
    def output_names(self) -> list[str]:
        return [t.history[0].name for t in self.outputs]

    # ----- weights --------------------------------------------------------------------------------
    def _unique_weights(self, attr):
        seen, out = set(), []
        for layer in self.layers:
            for w in getattr(layer, attr):
                if id(w) not in seen:
                    seen.add(id(w))
                    out.append(w)
        return out

    @property
    def weights(self):
        return self._unique_weights("weights")

    @property
    def trainable_weights(self):
        return self._unique_weights("trainable_weights") if self.trainable else []

    @property
    def non_trainable_weights(self):
        if not self.trainable:
            return self.weights
        return self._unique_weights("non_trainable_weights")

    @property
    def legacy_weights(self):
        return self.trainable_weights + self.non_trainable_weights

    @Layer.trainable.setter
    def trainable(self, value):
        self._trainable = bool(value)
        for layer in getattr(self, "_layers", []):
            layer.trainable = value

    def save_weights(self, filepath, overwrite=True, save_format=None) -> None:
        """Keras 3 ``.weights.h5`` by default; ``save_format="h5"`` (or a plain ``.h5``) writes legacy."""
        from ..saving.weights import save_weights
        save_weights(self, filepath, overwrite=overwrite, save_format=save_format)

    def load_weights(self, filepath, by_name=False, skip_mismatch=False) -> None:
        from ..saving.weights import load_weights
        load_weights(self, filepath, by_name=by_name, skip_mismatch=skip_mismatch)

    def save(self, filepath, overwrite=True, **kwargs) -> None:
        """The whole model: ``.keras`` (Keras 3 archive) or ``.h5`` (legacy full model)."""
        from ..saving.load import save_model
        save_model(self, filepath, overwrite=overwrite)

    # ----- specs ---------------------------------------------------------------------------------
    @classmethod
    def from_config(cls, config):
        """``Model.from_config(model.get_config())``: a functional config (layers with their
        inbound nodes, input and output layers) rebuilds the graph, as in Keras."""
        if isinstance(config, dict) and {"layers", "input_layers", "output_layers"} <= config.keys():
            from .functional import Functional
            from .spec import functional_from_config
            return functional_from_config(config, Functional if cls is Model else cls)
        return super().from_config(config)

    def to_json(self, **kwargs) -> str:
        from ..saving.spec_writer import model_spec
        return json.dumps(model_spec(self), **kwargs)

    def to_yaml(self, **kwargs) -> str:
        import yaml

        from ..saving.spec_writer import model_spec
        return yaml.safe_dump(model_spec(self), sort_keys=False, **kwargs)

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False, layer_range=None):
        from ..summary import print_summary
        print_summary(self, print_fn=print_fn, expand_nested=expand_nested, show_trainable=show_trainable,
                      line_length=line_length)

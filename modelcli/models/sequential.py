"""Sequential: a plain stack of layers, each feeding the next.

Once the input shape is known (an ``InputLayer``, ``Input()``, or ``input_shape``
/ ``input_dim`` on the first layer) the stack is built symbolically, so shapes,
``summary()`` and weights exist before any data is seen; otherwise it builds on
the first call, as Keras does.
"""
from __future__ import annotations

from ..engine import activity
from ..engine.keras_tensor import KerasTensor
from ..engine.layer import Layer, call_arguments
from ..errors import SpecError
from ..layers.core.input_layer import InputLayer
from .model import Model


class Sequential(Model):
    def __init__(self, layers=None, name=None, trainable=True, **kwargs):
        super().__init__(name=name, trainable=trainable, **kwargs)
        self._stack: list[Layer] = []
        self.inputs, self.outputs = [], []
        for layer in layers or []:
            self.add(layer, rebuild=False)
        self._maybe_build_graph()

    def add(self, layer, rebuild=True) -> None:
        if isinstance(layer, KerasTensor):  # Sequential.add(Input(...))
            layer = layer.history[0]
        if not isinstance(layer, Layer):
            raise SpecError(f"Sequential.add() takes a layer, got {type(layer).__name__}")
        if isinstance(layer, InputLayer) and self._stack:
            raise SpecError("an InputLayer can only be the first layer of a Sequential model")
        if layer.name in {l.name for l in self._stack}:
            raise SpecError(f"the model already has a layer named '{layer.name}'; layer names must be unique")
        self._stack.append(layer)
        self.add_module(f"layer_{len(self._stack) - 1}", layer)
        if rebuild:
            self._maybe_build_graph()

    def pop(self) -> Layer:
        if not self.layers:
            raise SpecError("there are no layers to pop")
        layer = self._stack.pop()
        self._maybe_build_graph()
        return layer

    @property
    def _layers(self):
        return [l for l in getattr(self, "_stack", []) if not isinstance(l, InputLayer)]

    @_layers.setter
    def _layers(self, value):  # Model.__init__ assigns it; the stack is the truth here
        pass

    # ----- building --------------------------------------------------------------------------
    def _input_batch_shape(self):
        if not self._stack:
            return None, None
        first = self._stack[0]
        if isinstance(first, InputLayer):
            return first.batch_shape, first
        return first._batch_input_shape, None

    def _maybe_build_graph(self):
        batch_shape, input_layer = self._input_batch_shape()
        if batch_shape is None or not self._layers:
            return
        if input_layer is None:
            input_layer = InputLayer(batch_shape=batch_shape, dtype=self._first_input_dtype(),
                                     name=f"{self._stack[0].name}_input")
        x = input_layer.output_tensor
        self.inputs = [x]
        for i, layer in enumerate(self._stack):
            if isinstance(layer, InputLayer):
                continue
            try:
                x = layer(x)
            except SpecError as err:
                raise err.at(f"layers[{i}]") from None
        self.outputs = list(x) if isinstance(x, (list, tuple)) else [x]
        self._input_layer = input_layer
        self.built = True

    def _first_input_dtype(self):
        """Float inputs, unless the first layer reads indices (``default_input_dtype``, e.g. Embedding)."""
        return getattr(self._stack[0], "default_input_dtype", "float32")

    def build(self, input_shape=None):
        if input_shape is not None and not self.inputs:
            self._stack.insert(0, InputLayer(batch_shape=(None,) + tuple(input_shape[1:])))
            self._maybe_build_graph()

    def build_from_call(self, args, kwargs):
        if not self.inputs:
            shape = args[0].shape
            self._stack.insert(0, InputLayer(batch_shape=(None,) + tuple(shape[1:]),
                                             dtype=_dtype_name(args[0])))
            self._maybe_build_graph()

    # ----- running ---------------------------------------------------------------------------
    def call(self, inputs, training=None, mask=None):
        x = inputs
        for layer in self._layers:
            accepts = call_arguments(type(layer))
            kwargs = {}
            if accepts.training:
                kwargs["training"] = training
            if mask is not None and accepts.mask:
                kwargs["mask"] = mask
            out = layer.call(x, **kwargs)
            if layer.activity_regularizer is not None:
                activity.record(layer, out)
            if mask is not None or type(layer).compute_mask is not Layer.compute_mask:
                mask = layer.compute_mask(x, mask)
            x = out
        self.__dict__["_last_output_mask"] = mask  # a plain dict write: nn.Module.__setattr__ is slow
        return x

    def compute_output_shape(self, input_shape):
        return self.outputs[0].shape

    def compute_output_spec(self, *args, **kwargs):
        if not self.outputs:
            raise SpecError(f"Sequential model '{self.name}' has no input shape yet", where=self.name,
                            hint="start it with an InputLayer or give the first layer input_shape=")
        out = self.outputs[0]
        return KerasTensor(out.shape, out.dtype)

    def compute_mask(self, inputs, mask=None):
        return getattr(self, "_last_output_mask", None)

    # ----- config ---------------------------------------------------------------------------------
    def get_config(self):
        from ..saving.spec_writer import sequential_config
        return sequential_config(self)

    @classmethod
    def from_config(cls, config):
        from .spec import sequential_from_config
        return sequential_from_config(config, cls)


def _dtype_name(value) -> str:
    """The dtype name of a tensor or a KerasTensor."""
    if isinstance(value, KerasTensor):
        return value.dtype
    from ..backend import dtype_name
    return dtype_name(value.dtype)

"""InputLayer and ``Input()``: where a functional graph starts."""
from __future__ import annotations

from ... import backend
from ...engine.keras_tensor import KerasTensor, Node
from ...engine.layer import Layer
from ...errors import SpecError
from ..registry import register_layer

_INPUT_DTYPES = ("float32", "float64", "float16", "bfloat16", "int32", "int64", "int16", "int8",
                 "uint8", "bool")


@register_layer("InputLayer")
class InputLayer(Layer):
    def __init__(self, shape=None, batch_size=None, dtype=None, sparse=False, batch_shape=None,
                 name=None, input_shape=None, batch_input_shape=None, ragged=False, optional=False,
                 input_tensor=None, **kwargs):
        batch_shape = batch_shape or batch_input_shape
        shape = shape if shape is not None else input_shape
        if batch_shape is None:
            if shape is None:
                raise SpecError("an InputLayer needs 'shape' or 'batch_shape'", where="batch_shape")
            batch_shape = (batch_size,) + tuple(shape)
        dtype = _input_dtype(dtype)
        super().__init__(name=name or backend.unique_name("input_layer"), sparse=sparse, ragged=ragged,
                         optional=optional, **kwargs)
        self.batch_shape = tuple(None if d is None else int(d) for d in batch_shape)
        self.input_dtype = dtype
        self.built = True
        self.output_tensor = KerasTensor(self.batch_shape, dtype, name=self.name)
        Node(self, (), {}, self.output_tensor)

    def get_config(self):
        return {"batch_shape": list(self.batch_shape), "dtype": self.input_dtype, "sparse": False,
                "ragged": False, "name": self.name, "optional": False}

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return self.batch_shape


def _input_dtype(dtype) -> str:
    if dtype is None:
        return backend.floatx()
    if isinstance(dtype, dict):
        dtype = dtype.get("config", {}).get("name")
    if dtype not in _INPUT_DTYPES:
        raise SpecError(f"input dtype must be one of {_INPUT_DTYPES}, got {dtype!r}", where="dtype")
    return dtype


def Input(shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None, name=None,
          tensor=None, optional=False):
    """A symbolic input: ``Input(shape=(32,))`` stands for a batch of 32-vectors."""
    if shape is None and batch_shape is None:
        raise SpecError("Input() needs shape= or batch_shape=")
    if isinstance(shape, int):
        shape = (shape,)
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, batch_shape=batch_shape, name=name)
    return layer.output_tensor

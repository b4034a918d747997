"""CategoryEncoding: integer indices in ``[0, num_tokens)`` → one-hot, multi-hot or count vectors.

The output has the layer's compute dtype (float32 by default); in ``count`` mode a
``count_weights`` tensor of the input's shape weighs each index instead of 1.
See ``_encoding`` for the shapes. Keras 2 spelled ``multi_hot`` as ``binary``.
"""
from __future__ import annotations

from ... import backend
from ...engine.keras_tensor import KerasTensor
from ...engine.layer import Layer
from ...errors import SpecError
from ..registry import register_layer
from ..reshaping._spatial import positive_int
from ._encoding import ENCODED_MODES, check_output_mode, encode, encoded_shape, refuse_sparse


@register_layer("CategoryEncoding")
class CategoryEncoding(Layer):
    default_input_dtype = "int32"

    def __init__(self, num_tokens=None, output_mode="multi_hot", sparse=False, **kwargs):
        super().__init__(**kwargs)
        if num_tokens is None:
            raise SpecError("num_tokens is required (the size of the encoded vectors)", where="num_tokens",
                            hint="IntegerLookup maps arbitrary integers to indices first")
        self.num_tokens = positive_int(num_tokens, "num_tokens")
        self.output_mode = check_output_mode("multi_hot" if output_mode == "binary" else output_mode,
                                             ENCODED_MODES)
        refuse_sparse(sparse, "CategoryEncoding")
        self.sparse = False

    def call(self, inputs, count_weights=None):
        if count_weights is not None:
            if self.output_mode != "count":
                raise SpecError(f"count_weights only applies to output_mode='count', not "
                                f"{self.output_mode!r}", where=self.name)
            count_weights = self._to_tensor(count_weights, inputs.device).to(
                backend.torch_dtype(self.compute_dtype))
        return encode(inputs, self.output_mode, self.num_tokens, backend.torch_dtype(self.compute_dtype),
                      count_weights, where=self.name)

    def compute_output_shape(self, input_shape):
        return encoded_shape(input_shape, self.output_mode, self.num_tokens)

    def compute_output_spec(self, inputs, count_weights=None):
        return KerasTensor(self.compute_output_shape(inputs.shape), self.compute_dtype)

    def get_config(self):
        return {**super().get_config(), "num_tokens": self.num_tokens, "output_mode": self.output_mode}

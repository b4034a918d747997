"""ReversibleEmbedding: an Embedding that language models also call backwards, on hidden states.

``layer(ids)`` looks rows up like :class:`Embedding`; ``layer(hidden, reverse=True)`` projects
``(..., output_dim)`` hidden states to ``(..., input_dim)`` logits,
``logits = hidden @ embeddings.T`` (tied, the default) or ``hidden @ reverse_embeddings``
(``tie_weights=False``: a second ``(output_dim, input_dim)`` weight, saved after the table).
With ``logit_soft_cap=c`` the logits become ``tanh(logits / c) * c``.
"""
from __future__ import annotations

import numbers

import torch

from ... import backend
from ...engine.keras_tensor import KerasTensor
from ...errors import SpecError
from ..registry import register_layer
from .embedding import Embedding

_REVERSE_DTYPES = ("float16", "bfloat16", "float32", "float64")


@register_layer("ReversibleEmbedding")
class ReversibleEmbedding(Embedding):
    def __init__(self, input_dim, output_dim, tie_weights=True, embeddings_initializer="uniform",
                 embeddings_regularizer=None, embeddings_constraint=None, mask_zero=False,
                 reverse_dtype=None, logit_soft_cap=None, **kwargs):
        super().__init__(input_dim, output_dim, embeddings_initializer=embeddings_initializer,
                         embeddings_regularizer=embeddings_regularizer,
                         embeddings_constraint=embeddings_constraint, mask_zero=mask_zero, **kwargs)
        if not isinstance(tie_weights, bool):
            raise SpecError(f"expected True or False, got {tie_weights!r}", where="tie_weights")
        if reverse_dtype is not None and reverse_dtype not in _REVERSE_DTYPES:
            raise SpecError(f"expected None or one of {', '.join(_REVERSE_DTYPES)}, got {reverse_dtype!r}",
                            where="reverse_dtype")
        if logit_soft_cap is not None and (not isinstance(logit_soft_cap, numbers.Real)
                                           or isinstance(logit_soft_cap, bool) or logit_soft_cap == 0):
            raise SpecError(f"expected None or a non-zero number, got {logit_soft_cap!r}",
                            where="logit_soft_cap")
        self.tie_weights = tie_weights
        self.reverse_dtype = reverse_dtype
        self.logit_soft_cap = logit_soft_cap  # kept as given: Keras writes 30 back as 30, not 30.0

    def build(self, input_shape):
        super().build(input_shape)
        if not self.tie_weights:
            # Keras draws it from the table's initializer (and gives it no regularizer or constraint)
            self.add_weight("reverse_embeddings", (self.output_dim, self.input_dim), self.embeddings_initializer)

    @property
    def table_only_looked_up(self) -> bool:
        """A tied table also takes the projection's dense gradient: no row-sparse lookup (trainer/sparse_rows.py)."""
        return not self.tie_weights

    def call(self, inputs, reverse=False):
        # The functional, Sequential and eager runners ask compute_mask right after each call;
        # it needs to know which way this call went (a plain dict write: no Module bookkeeping).
        self.__dict__["_called_in_reverse"] = bool(reverse)
        return self._project(inputs) if reverse else super().call(inputs)

    def _project(self, hidden):
        """Keras's dtypes: the layer does not cast its inputs (Embedding turns Keras's autocast off),
        but reads its weight in the compute dtype (bfloat16 under mixed_bfloat16); the matmul runs
        in ``reverse_dtype`` if set, else in the wider of the two dtypes, outside any autocast region."""
        kernel = self.embeddings.t() if self.tie_weights else self.reverse_embeddings
        kernel = kernel.to(backend.torch_dtype(self.compute_dtype))
        if self.reverse_dtype is not None:
            dtype = backend.torch_dtype(self.reverse_dtype)
        else:
            dtype = torch.promote_types(hidden.dtype, kernel.dtype)
        with torch.autocast(hidden.device.type, enabled=False):
            logits = torch.matmul(hidden.to(dtype), kernel.to(dtype))
        if self.logit_soft_cap is not None:
            logits = torch.tanh(logits / self.logit_soft_cap) * self.logit_soft_cap
        return logits

    def compute_mask(self, inputs, mask=None):
        """A forward call masks padding ids like Embedding; logits from a reverse call carry no mask
        (Keras attaches the mask inside the forward call only)."""
        if self.__dict__.get("_called_in_reverse", False):
            return None
        return super().compute_mask(inputs, mask)

    def compute_output_shape(self, input_shape, reverse=False):
        if reverse:
            return tuple(input_shape[:-1]) + (self.input_dim,)
        return super().compute_output_shape(input_shape)

    def compute_output_spec(self, inputs, reverse=False):
        return KerasTensor(self.compute_output_shape(inputs.shape, reverse), self.compute_dtype)

    def get_config(self):
        return {**super().get_config(), "tie_weights": self.tie_weights, "reverse_dtype": self.reverse_dtype,
                "logit_soft_cap": self.logit_soft_cap}

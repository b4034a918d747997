"""SpectralNormalization: keeps a wrapped layer's kernel at spectral norm about 1.

The wrapped layer (anything with a ``kernel`` weight, or an ``embeddings`` one) is
tracked as ``layer``. The wrapper holds one weight of its own, ``vector_u`` of shape
(1, last kernel dimension), non-trainable: the running estimate of the kernel's
leading right singular vector.

A training call flattens the kernel K to a matrix W of shape (-1, last dimension)
and runs ``power_iterations`` steps of

    v = unit(u · Wᵀ)        u = unit(v · W)

(``unit(x) = x · min(1/‖x‖, 1e7)``), estimates σ = v · W · uᵀ, and then *stores*
u in ``vector_u`` and K/σ in the wrapped layer's kernel before calling it. A kernel
that is all zeros is left alone (and so is ``vector_u``). Inference calls the
wrapped layer on the kernel as stored: the normalization lives in the weights.

Weights are listed as Keras lists them: the kernel (the wrapper adopts it as its
own), ``vector_u``, then the rest of the wrapped layer's weights; a ``.weights.h5``
file holds the kernel twice (``vars/0`` and ``layer/vars/0``), as Keras writes it.
"""
from __future__ import annotations

import torch

from ...engine.layer import Layer
from ...errors import SpecError
from ..deserialize import deserialize_layer, serialize_layer
from ..registry import register_layer

_EPSILON = 1e-7  # Keras's backend epsilon: unit() never scales by more than its inverse


def _unit(x: torch.Tensor) -> torch.Tensor:
    """``x`` scaled to L2 norm 1 over all its entries (a zero vector stays zero)."""
    return x * torch.clamp(torch.rsqrt(x.square().sum()), max=1.0 / _EPSILON)


@register_layer("SpectralNormalization")
class SpectralNormalization(Layer):
    def __init__(self, layer, power_iterations=1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(layer, dict):
            layer = deserialize_layer(layer, where="layer")
        if not isinstance(layer, Layer):
            raise SpecError(f"expected a layer, got {type(layer).__name__}", where="layer")
        if isinstance(power_iterations, bool) or not isinstance(power_iterations, int) or power_iterations <= 0:
            raise SpecError(f"expected a whole number above 0, got {power_iterations!r}", where="power_iterations")
        self.track_sublayer("layer", layer)
        self.power_iterations = power_iterations
        self._kernel_weight = None

    # ----- weights ---------------------------------------------------------------------------
    def build(self, input_shape):
        if self._kernel_weight is not None:
            return
        if not self.layer.built:
            self.layer.build(input_shape)
        own = {w.name: w for w in self.layer._own_weights}
        kernel = own.get("kernel") or own.get("embeddings")
        if kernel is None:
            raise SpecError(f"SpectralNormalization needs a layer with a 'kernel' or 'embeddings' weight; "
                            f"{type(self.layer).__name__} has neither", where=self.name)
        # Keras's wrapper adopts the kernel variable as its own (first of its weights).
        self._kernel_weight = kernel
        self._own_weights.append(kernel)
        dtype = str(kernel.parameter.dtype).replace("torch.", "")
        self.add_weight("vector_u", (1, kernel.shape[-1]), {"class_name": "TruncatedNormal",
                                                            "config": {"stddev": 0.02}},
                        trainable=False, dtype=dtype)

    @property
    def weights(self):
        return _unique(super().weights)

    @property
    def trainable_weights(self):
        return _unique(super().trainable_weights)

    @property
    def non_trainable_weights(self):
        return _unique(super().non_trainable_weights)

    # ----- calling ------------------------------------------------------------------------------
    def call(self, inputs, training=False):
        if training:
            self._normalize_kernel()
        return self.layer(inputs).to(inputs.dtype)

    @torch.no_grad()
    def _normalize_kernel(self):
        """One training step's power iteration; writes ``vector_u`` and the kernel in place (no host sync)."""
        weight = self._kernel_weight
        view = weight.layout.to_keras(weight.parameter)  # Keras's layout, writing through to the parameter
        kernel = view.detach().clone()
        matrix = kernel.reshape(-1, kernel.shape[-1])
        u = self.vector_u.to(matrix.dtype)
        for _ in range(self.power_iterations):
            v = _unit(u @ matrix.T)
            u = _unit(v @ matrix)
        sigma = ((v @ matrix) @ u.T).reshape(())
        all_zero = (kernel == 0).all()
        self.vector_u.copy_(torch.where(all_zero, self.vector_u, u.to(self.vector_u.dtype)))
        view.copy_(torch.where(all_zero, kernel, kernel / sigma))

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def get_config(self):
        return {**super().get_config(), "layer": serialize_layer(self.layer),
                "power_iterations": self.power_iterations}


def _unique(weights):
    seen, out = set(), []
    for w in weights:
        if id(w) not in seen:
            seen.add(id(w))
            out.append(w)
    return out

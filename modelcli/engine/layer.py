"""The Layer base class: Keras's layer API over a ``torch.nn.Module``.

A subclass keeps, together: its constructor arguments and ``get_config`` (which
mirrors ``__init__``), ``build`` creating its weights with ``add_weight`` (Keras
shape and initializer, torch layout), ``call`` (the maths on torch tensors, Keras
layout of activations: channels last, batch first) and ``compute_output_shape``.

Calling a layer on a :class:`KerasTensor` records a node (functional API);
calling it on a NumPy array or a tensor builds it and computes (eager).
"""
from __future__ import annotations

import functools
import inspect

import numpy as np
import torch

from .. import backend, constraints, initializers, regularizers
from ..errors import SpecError
from ..mixed_precision import policy as dtype_policies
from . import tree
from .keras_tensor import KerasTensor, Node, is_symbolic
from .weights import SAME, KerasWeight

# Keys real Keras writes that change nothing here when they hold their default.
# A non-default value is refused, never silently ignored.
COMPAT_KEYS = {
    "autocast": True, "sparse": False, "ragged": False, "optional": False,
    "quantization_config": None, "lora_rank": None, "lora_alpha": None,
    "input_length": None, "time_major": False, "implementation": None, "synchronized": False,
}


class Layer(torch.nn.Module):
    supports_masking = False

    def __init_subclass__(cls, **kwargs):
        """A layer's own ``build`` marks it built, as in Keras: ``layer.build(shape)`` then
        ``set_weights(...)`` and a call must use those weights, not build new ones."""
        super().__init_subclass__(**kwargs)
        build = cls.__dict__.get("build")
        if build is not None and not getattr(build, "marks_built", False):
            @functools.wraps(build)
            def build_and_mark(self, *args, **kwargs):
                build(self, *args, **kwargs)
                self.built = True
            build_and_mark.marks_built = True
            cls.build = build_and_mark

    def __init__(self, name=None, trainable=True, dtype=None, activity_regularizer=None,
                 input_shape=None, batch_input_shape=None, batch_size=None, input_dim=None,
                 batch_shape=None, **kwargs):
        super().__init__()
        for key, value in kwargs.items():
            _check_compat_key(type(self), key, value)
        self.name = name or backend.unique_name(backend.snake_case(type(self).__name__))
        self._trainable = bool(trainable)
        self.dtype_policy = dtype
        self.activity_regularizer = regularizers.get(activity_regularizer, "activity_regularizer")
        self.built = False
        self._own_weights: list[KerasWeight] = []
        self._keras_sublayers: dict[str, Layer] = {}
        self.inbound_nodes: list[Node] = []
        self._batch_input_shape = _batch_input_shape(input_shape, batch_input_shape or batch_shape,
                                                     batch_size, input_dim)

    # ----- configuration -------------------------------------------------------------
    def get_config(self) -> dict:
        config = {"name": self.name, "trainable": self.trainable,
                  "dtype": dtype_policies.serialize(self.dtype_policy)}
        if self.activity_regularizer is not None:
            config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        return config

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    # ----- Keras properties ---------------------------------------------------------------
    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        for sub in self._keras_sublayers.values():
            sub.trainable = value

    @property
    def dtype_policy(self) -> dtype_policies.DTypePolicy:
        return self._dtype_policy

    @dtype_policy.setter
    def dtype_policy(self, value) -> None:
        self._dtype_policy = dtype_policies.get(value)
        dtype_policies.changed()

    @property
    def compute_dtype(self) -> str:
        return self._dtype_policy.compute_dtype

    @property
    def variable_dtype(self) -> str:
        return self._dtype_policy.variable_dtype

    # ----- weights --------------------------------------------------------------------------
    def add_weight(self, name, shape, initializer="glorot_uniform", trainable=True, layout=SAME,
                   regularizer=None, constraint=None, attr=None, dtype=None) -> torch.nn.Parameter:
        """Create a weight from its Keras shape and initializer; store it in ``layout``."""
        init = initializers.get(initializer, f"{name}_initializer")
        value = layout.to_torch(init(shape, backend.torch_dtype(dtype or self.variable_dtype)))
        param = torch.nn.Parameter(value.contiguous().to(backend.device()),
                                   requires_grad=trainable and self._trainable)
        attr = attr or name
        self.register_parameter(attr, param)
        self._own_weights.append(KerasWeight(self, name, attr, shape, layout, trainable,
                                             regularizers.get(regularizer), constraints.get(constraint)))
        return param

    def track_sublayer(self, keras_attr: str, layer: "Layer") -> "Layer":
        """Register a child the way Keras saves it (``cell``, ``forward_layer``, ``query_dense``)."""
        self._keras_sublayers[keras_attr] = layer
        self.add_module(keras_attr, layer)
        return layer

    @property
    def weights(self) -> list[KerasWeight]:
        """Keras 3 order: own trainable, own non-trainable, then each sublayer's."""
        own = [w for w in self._own_weights if w.trainable] + [w for w in self._own_weights if not w.trainable]
        return own + [w for sub in self._keras_sublayers.values() for w in sub.weights]

    @property
    def trainable_weights(self) -> list[KerasWeight]:
        if not self.trainable:
            return []
        own = [w for w in self._own_weights if w.trainable]
        return own + [w for sub in self._keras_sublayers.values() for w in sub.trainable_weights]

    @property
    def non_trainable_weights(self) -> list[KerasWeight]:
        if not self.trainable:
            return self.weights
        own = [w for w in self._own_weights if not w.trainable]
        return own + [w for sub in self._keras_sublayers.values() for w in sub.non_trainable_weights]

    @property
    def legacy_weights(self) -> list[KerasWeight]:
        """Keras 2 order (legacy HDF5): all trainable first, then all non-trainable."""
        return self.trainable_weights + self.non_trainable_weights

    def get_weights(self) -> list[np.ndarray]:
        return [w.numpy() for w in self.weights]

    def set_weights(self, weights) -> None:
        from ..saving.assign import FROM_SET_WEIGHTS, assign_weights
        assign_weights(self.weights, list(weights), self.name, source=FROM_SET_WEIGHTS)

    def count_params(self) -> int:
        return int(sum(np.prod(w.shape) for w in self.weights))

    def apply_constraints(self) -> None:
        for w in self.weights:
            w.apply_constraint()

    # ----- building and shapes -----------------------------------------------------------------
    def build(self, input_shape) -> None:
        """Create weights once the input shape is known (override in layers with weights)."""
        self.built = True

    def build_from_call(self, args, kwargs) -> None:
        """Build from the shapes of a call's arguments; layers taking several tensors override."""
        self.build(_shape_of(args[0]))

    def _maybe_build(self, args, kwargs) -> None:
        if not self.built:
            self.build_from_call(args, kwargs)
            self.built = True

    def compute_output_shape(self, input_shape):
        return _probe_output_shape(self, input_shape)

    def compute_output_spec(self, *args, **kwargs):
        """Symbolic outputs for symbolic inputs (shape and dtype, no computation)."""
        shapes = self.compute_output_shape(_shape_of(args[0]))
        dtype = self.compute_dtype
        return _to_keras_tensors(shapes, dtype)

    def compute_mask(self, inputs, mask=None):
        return mask if self.supports_masking else None

    # ----- calling -----------------------------------------------------------------------------
    def call(self, inputs, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__}.call")

    def forward(self, *args, **kwargs):
        return self.call(*args, **kwargs)

    def __call__(self, *args, **kwargs):
        if is_symbolic((args, kwargs)):
            return self._call_symbolic(args, kwargs)
        return self._call_eager(args, kwargs)

    def _call_symbolic(self, args, kwargs):
        self._maybe_build(args, kwargs)
        outputs = self.compute_output_spec(*args, **kwargs)
        Node(self, args, kwargs, outputs)
        return outputs

    def _call_eager(self, args, kwargs):
        device = self._device()
        to_tensor = lambda value: self._to_tensor(value, device)  # noqa: E731
        args = tree.map_structure(to_tensor, args)
        kwargs = {k: tree.map_structure(to_tensor, v) for k, v in kwargs.items()}
        self._maybe_build(args, kwargs)
        if vars(self).get("_autocast_plan") != dtype_policies.version():
            from ..mixed_precision.autocast import plan
            plan(self)
        accepts = call_arguments(type(self))
        if not accepts.training:
            kwargs.pop("training", None)
        if not accepts.mask:
            kwargs.pop("mask", None)
        previous_mask = kwargs.get("mask")
        if previous_mask is None:
            previous_mask = tree.map_structure(lambda t: getattr(t, "_keras_mask", None), args[0])
            if not any(m is not None for m in tree.flatten(previous_mask)):
                previous_mask = None
            elif accepts.mask:
                kwargs["mask"] = previous_mask
        if accepts.training and kwargs.get("training") is None:
            kwargs["training"] = False
        outputs = self.call(*args, **kwargs)
        out_mask = self.compute_mask(args[0], previous_mask)
        if out_mask is not None and isinstance(outputs, torch.Tensor):
            outputs._keras_mask = out_mask
        return outputs

    @staticmethod
    def _to_tensor(value, device):
        """A call's argument as a tensor on the layer's device. A tensor on another device moves
        there with its mask, as Keras's torch backend moves it: a model on CUDA can be called with
        CPU tensors as well as NumPy arrays."""
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, torch.Tensor):
            if value.device == device:
                return value
            mask = getattr(value, "_keras_mask", None)
            value = value.to(device)
            if mask is not None:
                value._keras_mask = mask.to(device)
            return value
        array = np.asarray(value)
        if array.dtype == np.float64:
            array = array.astype(np.float32)
        return torch.as_tensor(array, device=device)

    def _device(self) -> torch.device:
        for p in self.parameters():
            return p.device
        return backend.device()

    # ----- graph helpers ---------------------------------------------------------------------------
    @property
    def input(self):
        """The tensor(s) of the first call, as Keras gives them: one tensor, or a flat list."""
        tensors = self._node_attr("input_tensors")
        return tensors[0] if len(tensors) == 1 else tensors

    @property
    def output(self):
        return self._node_attr("outputs")

    @property
    def input_shape(self):
        return tree.map_structure(lambda t: t.shape, self._node_attr("args")[0])

    @property
    def output_shape(self):
        return tree.map_structure(lambda t: t.shape, self._node_attr("outputs"))

    def _node_attr(self, attr):
        if not self.inbound_nodes:
            raise AttributeError(f"layer '{self.name}' has never been called and has no defined {attr}")
        return getattr(self.inbound_nodes[0], attr)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"

    __hash__ = torch.nn.Module.__hash__


class _CallArguments:
    def __init__(self, cls):
        params = inspect.signature(cls.call).parameters
        self.training = "training" in params
        self.mask = "mask" in params


@functools.lru_cache(maxsize=None)
def call_arguments(cls) -> _CallArguments:
    """Whether ``cls.call`` takes ``training`` and ``mask`` (looked up once per class)."""
    return _CallArguments(cls)


def _check_compat_key(cls, key, value) -> None:
    if key not in COMPAT_KEYS:
        from ..errors import did_you_mean
        params = [p for p in inspect.signature(cls.__init__).parameters if p not in ("self", "kwargs")]
        hint = did_you_mean(key, params + list(inspect.signature(Layer.__init__).parameters))
        raise SpecError(f"unknown {cls.__name__} argument '{key}'", where=key, hint=hint)
    if value != COMPAT_KEYS[key] and not (key in ("input_length", "implementation") or value is None):
        raise SpecError(f"{cls.__name__}: {key}={value!r} is not supported by modelcli", where=key)


def _batch_input_shape(input_shape, batch_input_shape, batch_size, input_dim):
    if batch_input_shape is not None:
        return tuple(batch_input_shape)
    if input_shape is not None:
        return (batch_size,) + tuple(input_shape)
    if input_dim is not None:
        return (batch_size, input_dim)
    return None


def _shape_of(structure):
    def shape(t):
        if isinstance(t, KerasTensor):
            return t.shape
        if isinstance(t, torch.Tensor):
            return tuple(t.shape)
        return t
    return tree.map_structure(shape, structure)


def _to_keras_tensors(shapes, dtype):
    """Symbolic outputs for a shape or a (nested) list of shapes: stacked RNN cells return
    ``[output, [h1, c1], [h2]]``. A list holding no shapes is itself a shape."""
    if isinstance(shapes, list) and any(isinstance(s, (tuple, list)) for s in shapes):
        return [_to_keras_tensors(s, dtype) for s in shapes]
    return KerasTensor(shapes, dtype)


def _probe_output_shape(layer, input_shape):
    """Fallback shape inference: run on zeros twice with different sizes for unknown dims."""
    def run(fill):
        def make(shape):
            return torch.zeros([fill if d is None else d for d in shape], device=layer._device())
        probe = make(input_shape) if _is_shape(input_shape) else [make(s) for s in input_shape]
        with torch.no_grad():
            out = layer.call(probe)
        return tree.map_structure(lambda t: tuple(t.shape), out)

    first, second = run(2), run(3)
    return _merge_unknown(first, second)


def _is_shape(value) -> bool:
    return isinstance(value, tuple) and all(d is None or isinstance(d, int) for d in value)


def _merge_unknown(a, b):
    if _is_shape(a):
        return tuple(x if x == y else None for x, y in zip(a, b))
    return [_merge_unknown(x, y) for x, y in zip(a, b)]

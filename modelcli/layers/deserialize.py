"""One layer from its Keras dict (``{class_name, config}``), refusing unsafe ones."""
from __future__ import annotations

from ..errors import SpecError
from ..serialization import check_safe, from_config, keras_class_name
from .registry import LAYERS


# Keras layers modelcli refuses on purpose, with the reason and the way out.
UNAVAILABLE = {
    **dict.fromkeys(("Lambda", "TFOpLambda", "SlicingOpLambda"),
                    ("holds Python code, which modelcli never executes", "replace it with built-in layers")),
    **dict.fromkeys(("StringLookup", "IntegerLookup", "Hashing", "HashedCrossing", "TextVectorization"),
                    ("runs through TensorFlow even in Keras 3, so modelcli has no reference to match",
                     "do this preprocessing before the model and feed it integer ids or numbers")),
    **dict.fromkeys(("TFSMLayer", "JaxLayer", "FlaxLayer", "TorchModuleWrapper"),
                    ("wraps another framework's code, which modelcli never executes",
                     "rebuild that part from Keras layers")),
}


def deserialize_layer(spec, where: str = "layer"):
    """Build a layer from ``{"class_name": ..., "config": {...}}`` as Keras 2 or 3 writes it."""
    if not isinstance(spec, dict) or "class_name" not in spec:
        raise SpecError("expected a layer as {class_name, config}", where=where)
    check_safe(spec, where)
    name = spec["class_name"]
    if name in UNAVAILABLE:
        reason, hint = UNAVAILABLE[name]
        raise SpecError(f"a {name} layer {reason}", where=where, hint=hint)
    cls = LAYERS.get(name, f"{where}.class_name")
    # build_config is not needed: a layer builds when the graph calls it on its input shapes.
    return from_config(cls, spec.get("config", {}), where=f"{where}.config")


def serialize_layer(layer) -> dict:
    """Keras 3's dict for a layer (without graph information)."""
    return {"module": getattr(layer, "keras_module", "keras.layers"),
            "class_name": keras_class_name(layer),
            "config": layer.get_config(), "registered_name": None}


def serialize(layer) -> dict:
    """``keras.layers.serialize``: a layer as the dict Keras 3 writes for it."""
    return serialize_layer(layer)


def deserialize(config, custom_objects=None):
    """``keras.layers.deserialize``: a layer (or a nested model) from its ``{class_name, config}``."""
    if custom_objects:
        raise SpecError("custom_objects are not supported: modelcli never runs code from a model file")
    from ..models.spec import deserialize_any
    return deserialize_any(config, "layer")

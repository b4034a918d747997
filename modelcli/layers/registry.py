"""The registry of layer classes by Keras ``class_name`` (and aliases)."""
from ..registry import Registry

LAYERS = Registry("layer class")


def register_layer(*names):
    """``@register_layer("Conv2D", "Convolution2D")``: the first name is Keras's class name."""
    return LAYERS.register(*names)

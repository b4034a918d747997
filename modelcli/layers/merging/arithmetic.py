"""Element-wise merges: Add, Subtract, Multiply, Average, Maximum, Minimum.

Masked steps (a ``(B, T)`` mask over ``(B, T, F)`` inputs) change the values as
in Keras 3: Multiply treats a masked input as 1 and, when every input is
masked, zeroes the steps no input keeps; Maximum and Minimum take a masked
step from the other inputs. Add, Subtract and Average ignore masks in the values.
"""
from __future__ import annotations

import torch

from ...errors import SpecError
from ..registry import register_layer
from .base_merge import Merge, _expanded


@register_layer("Add")
class Add(Merge):
    def _merge(self, inputs, masks):
        output = inputs[0]
        for x in inputs[1:]:
            output = output + x
        return output


@register_layer("Subtract")
class Subtract(Merge):
    def build(self, input_shape):
        super().build(input_shape)
        self._check_two(len(input_shape))

    def _merge(self, inputs, masks):
        self._check_two(len(inputs))
        return inputs[0] - inputs[1]

    def _check_two(self, count):
        if count != 2:
            raise SpecError(f"Subtract takes exactly 2 inputs, got {count}", where=self.name)


@register_layer("Multiply")
class Multiply(Merge):
    def _merge(self, inputs, masks):
        every_input_masked = all(m is not None for m in masks)
        output = kept = None
        for x, mask in zip(inputs, masks):
            if mask is not None:
                mask = _expanded(mask, x)
                x = torch.where(mask, x, torch.ones((), dtype=x.dtype, device=x.device))
                if every_input_masked:
                    kept = mask if kept is None else kept | mask
            output = x if output is None else output * x
        if every_input_masked:
            output = torch.where(kept, output, torch.zeros((), dtype=output.dtype, device=output.device))
        return output


@register_layer("Average")
class Average(Merge):
    def _merge(self, inputs, masks):
        output = inputs[0]
        for x in inputs[1:]:
            output = output + x
        return output / len(inputs)


class _Extremum(Merge):
    """Maximum / Minimum (``op``): a masked step takes the value of the other inputs."""

    def _merge(self, inputs, masks):
        output, output_mask = inputs[0], masks[0]
        output_mask = None if output_mask is None else _expanded(output_mask, output)
        for x, mask in zip(inputs[1:], masks[1:]):
            mask = None if mask is None else _expanded(mask, x)
            if mask is not None:
                x = torch.where(mask, x, output)
            if output_mask is not None:
                output = torch.where(output_mask, output, x)
            output_mask = output_mask | mask if mask is not None and output_mask is not None else None
            output = self.op(output, x)
        return output


@register_layer("Maximum")
class Maximum(_Extremum):
    op = staticmethod(torch.maximum)


@register_layer("Minimum")
class Minimum(_Extremum):
    op = staticmethod(torch.minimum)


def add(inputs, **kwargs):
    """``Add(**kwargs)(inputs)``: the element-wise sum of a list of tensors."""
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    """``Subtract(**kwargs)(inputs)``: ``inputs[0] - inputs[1]``."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    """``Multiply(**kwargs)(inputs)``: the element-wise product of a list of tensors."""
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    """``Average(**kwargs)(inputs)``: the element-wise mean of a list of tensors."""
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    """``Maximum(**kwargs)(inputs)``: the element-wise maximum of a list of tensors."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    """``Minimum(**kwargs)(inputs)``: the element-wise minimum of a list of tensors."""
    return Minimum(**kwargs)(inputs)

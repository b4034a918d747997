"""Functional models: a graph of layer calls from ``Input`` tensors to outputs.

At construction the graph is ordered once (Keras's order) and compiled into a
flat plan: for each node, where its arguments come from (slot numbers) and
where its outputs go. ``call`` then runs that plan over a list of slots, with no
graph walking per batch. Masks travel beside tensors only when a layer makes one.
"""
from __future__ import annotations

import inspect

from ..engine import activity, tree
from ..engine.keras_tensor import KerasTensor
from ..engine.layer import Layer, call_arguments
from ..errors import SpecError
from .graph import map_graph
from .model import Model


class _Step:
    """One node of the plan: ``outputs[out_slots] = layer(*args, **kwargs)``."""

    __slots__ = ("layer", "args", "kwargs", "out_slots", "in_slots", "simple", "mask_fills",
                 "takes_training", "explicit_mask", "makes_mask", "regularized")

    def __init__(self, node, slot_of):
        def template(value):
            return ("slot", slot_of[id(value)]) if isinstance(value, KerasTensor) else ("const", value)

        self.layer = node.layer
        self.args = tree.map_structure(template, list(node.args))
        # Keras records ``mask=None`` where the symbolic input had no mask and, when it runs, fills a
        # None mask from the tensor: a ReversibleEmbedding makes its padding mask only then.
        self.kwargs = {k: tree.map_structure(template, v) for k, v in node.kwargs.items()
                       if k != "training" and not (v is None and (k == "mask" or k.endswith("_mask")))}
        self.in_slots = [slot_of[id(t)] for t in node.input_tensors]
        self.out_slots = [slot_of[id(t)] for t in node.output_tensors]
        self.takes_training = call_arguments(type(self.layer)).training
        self.mask_fills = _mask_fills(self.layer, self.args, self.kwargs)
        self.explicit_mask = "mask" in self.kwargs
        self.makes_mask = type(self.layer).compute_mask is not Layer.compute_mask
        self.regularized = self.layer.activity_regularizer is not None
        self.simple = (len(self.args) == 1 and self.args[0][0] == "slot" and not self.kwargs)


def _mask_fills(layer, args, kwargs):
    """Which mask arguments the runner fills, by Keras 3's rule.

    With one tensor argument, ``mask`` gets that tensor's mask; with several, each
    tensor argument ``k`` whose call also takes ``k_mask`` gets its own mask
    (MultiHeadAttention's ``query_mask`` / ``value_mask`` / ``key_mask``).
    """
    params = inspect.signature(layer.call).parameters
    names = [n for n, p in params.items() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    bound = dict(zip(names, args))
    bound.update(kwargs)
    tensor_args = {k: v for k, v in bound.items() if _has_slot(v) and not k.endswith("mask")}
    if len(tensor_args) == 1:
        (name, template), = tensor_args.items()
        return [("mask", template)] if "mask" in params and "mask" not in kwargs else []
    return [(f"{k}_mask", v) for k, v in tensor_args.items() if f"{k}_mask" in params and f"{k}_mask" not in kwargs]


def _has_slot(template) -> bool:
    if isinstance(template, tuple) and len(template) == 2 and template[0] in ("slot", "const"):
        return template[0] == "slot"
    if isinstance(template, (list, dict)):
        return any(_has_slot(t) for t in (template.values() if isinstance(template, dict) else template))
    return False


def _fill(template, slots):
    if isinstance(template, tuple) and len(template) == 2 and template[0] in ("slot", "const"):
        return slots[template[1]] if template[0] == "slot" else template[1]
    if isinstance(template, list):
        return [_fill(t, slots) for t in template]
    if isinstance(template, dict):
        return {k: _fill(v, slots) for k, v in template.items()}
    return template


class Functional(Model):
    def __init__(self, inputs, outputs, name=None, trainable=True, **kwargs):
        super().__init__(name=name, trainable=trainable, **kwargs)
        self._init_graph(inputs, outputs)

    def _init_graph(self, inputs, outputs):
        self._input_structure = _sorted_keys(inputs)
        self._output_structure = _sorted_keys(outputs)
        self.inputs = _as_tensor_list(self._input_structure, "inputs")
        self.outputs = _as_tensor_list(self._output_structure, "outputs")
        for t in self.inputs:
            if not isinstance(t, KerasTensor) or t.history is None:
                raise SpecError(f"model inputs must be Input() tensors, got {t!r}")
        nodes, layers = map_graph(self.inputs, self.outputs)
        self._nodes = nodes
        self._operations = layers
        self._layers = [layer for layer in layers if not getattr(layer, "is_op", False)]
        for i, layer in enumerate(self._layers):
            self.add_module(f"layer_{i}", layer)
        self._compile_plan()
        self.built = True

    def _compile_plan(self):
        slot_of = {}
        for t in self.inputs:
            slot_of.setdefault(id(t), len(slot_of))
        input_ids = {id(t) for t in self.inputs}
        steps = []
        for node in self._nodes:
            if node.is_input or all(id(t) in input_ids for t in node.output_tensors):
                continue
            for t in node.output_tensors:
                slot_of.setdefault(id(t), len(slot_of))
            steps.append(_Step(node, slot_of))
        self._steps = steps
        self._slot_count = len(slot_of)
        self._input_slots = [slot_of[id(t)] for t in self.inputs]
        self._output_slots = [slot_of[id(t)] for t in self.outputs]

    # ----- running -------------------------------------------------------------------
    def call(self, inputs, training=None, mask=None):
        slots = [None] * self._slot_count
        masks = [None] * self._slot_count
        values = self._flatten_inputs(inputs)
        in_masks = tree.flatten(mask) if mask is not None else [None] * len(values)
        for slot, value, m in zip(self._input_slots, values, in_masks):
            slots[slot] = value
            masks[slot] = m
        any_mask = mask is not None and any(m is not None for m in in_masks)
        for step in self._steps:
            any_mask = self._run_step(step, slots, masks, training, any_mask)
        outputs = [slots[s] for s in self._output_slots]
        self.__dict__["_last_output_masks"] = [masks[s] for s in self._output_slots] if any_mask else None
        return outputs[0] if self._single_output else outputs

    def _run_step(self, step, slots, masks, training, any_mask):
        layer = step.layer
        if step.simple and not any_mask:
            args, kwargs, in_mask = [slots[step.args[0][1]]], {}, None
        else:
            args = _fill(step.args, slots)
            kwargs = _fill(step.kwargs, slots)
            in_mask = _fill(step.args[0], masks) if any_mask else None
            if in_mask is not None and not any(m is not None for m in tree.flatten(in_mask)):
                in_mask = None
            if step.explicit_mask:
                in_mask = kwargs["mask"]
            elif any_mask:
                for name, template in step.mask_fills:
                    mask = _fill(template, masks)
                    if any(m is not None for m in tree.flatten(mask)):
                        kwargs[name] = mask
        if step.takes_training:
            kwargs["training"] = training
        out = layer.call(*args, **kwargs)
        if step.regularized:
            activity.record(layer, out)
        # a nested result (stacked RNN cells: [output, [h1, c1], [h2]]) fills the slots flattened
        outs = tree.flatten(out) if isinstance(out, (list, tuple)) else [out]
        for slot, value in zip(step.out_slots, outs):
            slots[slot] = value
        if in_mask is not None or step.makes_mask:
            out_mask = layer.compute_mask(args[0], in_mask)
            out_masks = tree.flatten(out_mask) if isinstance(out_mask, (list, tuple)) \
                else [out_mask] * len(step.out_slots)
            for slot, m in zip(step.out_slots, out_masks):
                masks[slot] = m
            return any_mask or any(m is not None for m in out_masks)
        return any_mask

    def _flatten_inputs(self, inputs):
        if isinstance(inputs, dict):
            if isinstance(self._input_structure, dict) and inputs.keys() >= self._input_structure.keys():
                return [inputs[key] for key in self._input_structure]
            try:
                return [inputs[t.name] for t in self.inputs]
            except KeyError as err:
                raise SpecError(f"missing input '{err.args[0]}'; the model's inputs are "
                                f"{[t.name for t in self.inputs]}") from None
        if isinstance(inputs, (list, tuple)):
            return list(inputs)
        return [inputs]

    @property
    def input(self):
        """The input tensor(s) as given to the constructor (a tensor, a list or a dict), as in Keras."""
        return self._input_structure

    @property
    def output(self):
        return self._output_structure

    @property
    def _single_output(self) -> bool:
        return not isinstance(self._output_structure, (list, tuple, dict))

    def _call_eager(self, args, kwargs):
        return self._pack_outputs(super()._call_eager(args, kwargs))

    def _pack_outputs(self, outputs):
        """Outputs given as a dict come back as a dict with the same keys, as in Keras; ``call``
        keeps returning a list, which is what the trainer reads."""
        if isinstance(self._output_structure, dict):
            return dict(zip(self._output_structure, outputs))
        return outputs

    # ----- as a layer inside another model -----------------------------------------------
    def compute_output_spec(self, *args, **kwargs):
        given = [t.shape for t in tree.flatten(args[0])]
        own = [t.shape for t in self.inputs]
        if [s[1:] for s in given] != [s[1:] for s in own]:
            raise SpecError(f"model '{self.name}' expects inputs of shape {own}, got {given}", where=self.name)
        outs = [KerasTensor(t.shape, t.dtype) for t in self.outputs]
        return outs[0] if self._single_output else self._pack_outputs(outs)

    def compute_output_shape(self, input_shape):
        shapes = [t.shape for t in self.outputs]
        return shapes[0] if self._single_output else shapes

    def compute_mask(self, inputs, mask=None):
        masks = getattr(self, "_last_output_masks", None)
        if masks is None:
            return None
        return masks[0] if self._single_output else masks

    # ----- config ----------------------------------------------------------------------------------
    def get_config(self) -> dict:
        from ..saving.spec_writer import functional_config
        return functional_config(self)

    @classmethod
    def from_config(cls, config):
        from .spec import functional_from_config
        return functional_from_config(config, cls)


def _sorted_keys(structure):
    """A dict of tensors with its keys sorted: Keras flattens dicts in key order, which sets the
    order of ``model.inputs`` / ``outputs``, of ``model.layers`` and so of the weights."""
    return dict(sorted(structure.items())) if isinstance(structure, dict) else structure


def _as_tensor_list(structure, what):
    if isinstance(structure, dict):
        return list(structure.values())
    if isinstance(structure, (list, tuple)):
        flat = tree.flatten(structure)
        if not flat:
            raise SpecError(f"a model needs at least one tensor in {what}")
        return flat
    return [structure]


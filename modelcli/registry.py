"""Name → class registries, so deserialization never needs if-chains or eval.

A registry maps the public Keras name of a thing (``"Dense"``, ``"glorot_uniform"``)
and its aliases to the object that implements it. Lookups of unknown names fail
with a :class:`SpecError` that suggests the closest known name.
"""
from __future__ import annotations

from .errors import SpecError, did_you_mean


class Registry:
    def __init__(self, kind: str):
        self.kind = kind
        self._items: dict[str, object] = {}

    def register(self, *names: str):
        """Decorator: ``@LAYERS.register("Dense")`` (several names give aliases)."""

        def decorate(obj):
            for name in names or (obj.__name__,):
                self._items[name] = obj
            return obj

        return decorate

    def add(self, name: str, obj) -> None:
        self._items[name] = obj

    def __contains__(self, name) -> bool:
        return name in self._items

    def names(self) -> list[str]:
        return sorted(self._items)

    def get(self, name: str, where: str | None = None):
        try:
            return self._items[name]
        except (KeyError, TypeError):
            raise SpecError(f"unknown {self.kind} '{name}'", where=where,
                            hint=did_you_mean(name, self._items)) from None

"""Dtype policies: what a layer computes in and what its variables are stored in.

``mixed_bfloat16`` and ``mixed_float16`` compute in the 16-bit type and keep the
variables in float32, so small updates are not rounded away; ``float32`` and the
other plain names do both in one type. New layers take the global policy unless
given ``dtype=``, as in Keras. Nothing here imports torch: the training config checks
names with it before any model is built.
"""
from __future__ import annotations

from ..errors import SpecError, did_you_mean

MIXED = {"mixed_float16": "float16", "mixed_bfloat16": "bfloat16"}
PLAIN = ("float32", "float64", "float16", "bfloat16")
NAMES = PLAIN + tuple(MIXED)

_global_name = "float32"
_version = 0  # grows whenever any layer's policy is set: a model's autocast plan keys on it


class DTypePolicy:
    """Keras's ``DTypePolicy``: ``DTypePolicy("mixed_bfloat16").compute_dtype == "bfloat16"``."""

    def __init__(self, name=None):
        self._name = check_name("float32" if name is None else name)

    @property
    def name(self) -> str:
        return self._name

    @property
    def compute_dtype(self) -> str:
        return MIXED.get(self._name, self._name)

    @property
    def variable_dtype(self) -> str:
        return "float32" if self.is_mixed else self._name

    @property
    def is_mixed(self) -> bool:
        return self._name in MIXED

    def get_config(self) -> dict:
        return {"name": self._name}

    @classmethod
    def from_config(cls, config: dict) -> "DTypePolicy":
        return cls(**config)

    def __eq__(self, other) -> bool:
        return isinstance(other, DTypePolicy) and other.name == self._name

    def __hash__(self) -> int:
        return hash(self._name)

    def __repr__(self) -> str:
        return f'<DTypePolicy "{self._name}">'


Policy = DTypePolicy  # Keras 2's keras.mixed_precision.Policy


def check_name(name, where: str | None = "dtype") -> str:
    """``name`` if it is a policy we know; else a SpecError naming the closest one."""
    if name in NAMES:
        return name
    raise SpecError(f"unknown dtype policy {name!r}; expected one of {', '.join(NAMES)}", where=where,
                    hint=did_you_mean(name, NAMES))


def get(identifier, where: str | None = "dtype") -> DTypePolicy:
    """A policy from ``None`` (the global one), a name, a ``DTypePolicy``, Keras 3's
    ``{"class_name": "DTypePolicy", "config": {"name": ...}}``, Keras 2's ``Policy`` dict,
    or a torch dtype."""
    if identifier is None:
        return global_policy()
    if isinstance(identifier, DTypePolicy):
        return identifier
    if isinstance(identifier, dict):
        return DTypePolicy(check_name((identifier.get("config") or {}).get("name"), where))
    if type(identifier).__module__ == "torch":
        return DTypePolicy(check_name(str(identifier).removeprefix("torch."), where))
    return DTypePolicy(check_name(getattr(identifier, "name", identifier), where))


def serialize(policy: DTypePolicy) -> dict:
    """The form Keras 3 writes in every layer's config."""
    return {"module": "keras", "class_name": "DTypePolicy", "config": policy.get_config(),
            "registered_name": None}


def global_policy() -> DTypePolicy:
    """The policy layers built from now on take (``keras.mixed_precision.global_policy``)."""
    return DTypePolicy(_global_name)


def set_global_policy(policy) -> None:
    """``set_global_policy("mixed_bfloat16")``: later layers compute in bfloat16, store float32.
    ``None`` returns to float32."""
    global _global_name
    _global_name = "float32" if policy is None else get(policy, where="policy").name


def dtype_policy() -> DTypePolicy:
    """``keras.config.dtype_policy()``: the global policy."""
    return global_policy()


def set_dtype_policy(policy) -> None:
    """``keras.config.set_dtype_policy``: the same as :func:`set_global_policy`."""
    set_global_policy(policy)


def version() -> int:
    return _version


def changed() -> None:
    """A layer's policy was set: models plan their autocast again before their next forward."""
    global _version
    _version += 1

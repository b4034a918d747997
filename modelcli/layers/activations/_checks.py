"""Argument checks shared by the activation layers."""
from __future__ import annotations

import numbers

from ...errors import SpecError


def non_negative(value, name, allow_none=False):
    if value is None and allow_none:
        return None
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or value < 0:
        raise SpecError(f"expected a non-negative number, got {value!r}", where=name)
    return value

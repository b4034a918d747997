"""The small exception hierarchy behind every message a user sees.

Each error carries a *place* (a key path such as
``model.config.layers[3].config.units`` or a file path) so the CLI can print one
line that says where the problem is and what to do, and exit with code 2.
"""
from __future__ import annotations

import difflib


class ModelcliError(Exception):
    """Base class: a problem with the user's input, reported without a traceback."""

    exit_code = 2

    def __init__(self, message: str, *, where: str | None = None, hint: str | None = None):
        self.message = message
        self.where = where
        self.hint = hint
        super().__init__(self.format())

    def format(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        if self.hint:
            text += f" ({self.hint})"
        return text

    def at(self, where: str) -> "ModelcliError":
        """Prefix a location, so an error raised deep inside names its full path."""
        if where:
            self.where = f"{where}.{self.where}" if self.where and not self.where.startswith("[") else (
                f"{where}{self.where}" if self.where else where)
            self.args = (self.format(),)
        return self


class SpecError(ModelcliError, ValueError):
    """A model spec (JSON / YAML / config dict) that cannot be turned into a model."""


class WeightsError(ModelcliError, ValueError):
    """A weights file that does not fit the model, or is not a weights file."""


class ConfigError(ModelcliError, ValueError):
    """A training config with a wrong key, type or value."""


class DataError(ModelcliError, ValueError):
    """Input data that cannot be read or does not fit the model."""


def did_you_mean(word: str, choices) -> str | None:
    """A 'did you mean ...?' hint for a mistyped name, or None."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else None

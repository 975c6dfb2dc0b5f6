"""The error every design raises on misuse (kept below the modules that raise it).

Examples
--------
>>> issubclass(MissingColumnError, DesignError) and issubclass(DesignError, ValueError)
True
"""

from __future__ import annotations


class DesignError(ValueError):
    """Misuse of a design's arguments or data; the message names the argument and column."""


class MissingColumnError(DesignError, KeyError):
    """A role column is not in the data (also a ``KeyError``, as pandas raises)."""

    def __str__(self) -> str:  # KeyError would show the message in quotes
        return str(self.args[0]) if self.args else ""

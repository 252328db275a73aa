"""Every error type of gridbook, and the checks that raise them.

Errors a user can fix (a bad config value, an unknown chapter, an unreachable scheduler) are printed by the command
line as one line without a traceback (:mod:`gridbook.cli.main`). Each message names the field and its allowed values;
the ``check_*`` functions below write that message, so every field is checked the same way.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

__all__ = ["ChapterError", "ConfigError", "CorruptRunError", "RunGroupError", "UserError", "check_choice",
           "check_int", "check_positive", "check_range", "invalid"]


class ConfigError(ValueError):
    """A configuration value or key is invalid. The message names the field and the allowed values."""


class UserError(Exception):
    """An error caused by the user's input (not a config field): printed as one line without a traceback."""


class ChapterError(Exception):
    """A chapter notebook failed to execute; the message names the chapter and the failing cell's error."""


class CorruptRunError(ValueError):
    """A run directory exists with a DONE marker but its files do not load or do not match the marker."""


class RunGroupError(RuntimeError):
    """A sweep job raised; ``args = (message, traceback text)`` so the traceback survives pickling to the client."""


def invalid(name: str, value: Any, allowed: str) -> ConfigError:
    """The one-line error ``name=value is invalid; allowed values: allowed``."""
    return ConfigError(f"{name}={value!r} is invalid; allowed values: {allowed}")


def check_choice(name: str, value: Any, allowed: Iterable[Any]) -> None:
    """``value`` must be one of ``allowed``."""
    allowed = tuple(allowed)
    if value not in allowed:
        raise invalid(name, value, ", ".join(map(str, allowed)))


def check_positive(name: str, value: Any, strict: bool = True) -> None:
    """``value`` must be a finite real number, > 0 (``strict``) or >= 0."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        raise invalid(name, value, "a finite number")
    if (value <= 0) if strict else (value < 0):
        raise invalid(name, value, "> 0" if strict else ">= 0")


def check_int(name: str, value: Any, low: int) -> None:
    """``value`` must be an integer (not a bool) >= ``low``."""
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise invalid(name, value, f"an integer >= {low}")


def check_range(name: str, value: Any, low: float = 0.0) -> None:
    """``value`` must be None or a pair ``(a, b)`` with ``low < a <= b``."""
    if value is None:
        return
    if len(value) != 2 or not (low < value[0] <= value[1]):
        raise invalid(name, value, f"None or (a, b) with {low} < a <= b")

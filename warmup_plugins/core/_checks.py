"""Argument checks: each raises a clear ``TypeError``/``ValueError`` naming the argument."""

from __future__ import annotations

import difflib
import itertools
import math
import numbers
import sys
from collections.abc import Iterable, Sequence


def is_real(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def number(
    name: str,
    value: object,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float | int:
    """Return ``value`` as a plain int or float, or raise naming ``name`` and the valid range."""
    if not is_real(value):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    plain = int(value) if isinstance(value, numbers.Integral) else float(value)
    if isinstance(plain, int) and abs(plain) > sys.float_info.max:  # math.isfinite would overflow on it
        raise ValueError(f"{name} must be finite, got an integer too large for a float ({plain.bit_length()} bits)")
    if not math.isfinite(plain):
        raise ValueError(f"{name} must be finite, got {value!r}")
    too_low = low is not None and (plain <= low if low_open else plain < low)
    too_high = high is not None and (plain >= high if high_open else plain > high)
    if too_low or too_high:
        raise ValueError(f"{name} must be in {_interval(low, high, low_open, high_open)}, got {value!r}")
    return plain


def _interval(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    left = "(-inf" if low is None else ("(" if low_open else "[") + f"{low:g}"
    right = "inf)" if high is None else f"{high:g}" + (")" if high_open else "]")
    return f"{left}, {right}"


def integer(name: str, value: object, *, low: int) -> int:
    """Return ``value`` as an int >= ``low``, or raise naming ``name``."""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    if value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    if abs(value) > sys.float_info.max:
        raise ValueError(f"{name} must be an integer within the float range, got one of {int(value).bit_length()} bits")
    return int(value)


def boolean(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__} {value!r}")
    return value


def choice(name: str, value: object, choices: Sequence[str]) -> str:
    """Return ``value`` if it is one of ``choices``; otherwise raise listing them (and a close match)."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, one of {_listing(choices)}; got {type(value).__name__} {value!r}")
    if value not in choices:
        close = difflib.get_close_matches(value, choices, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"{name} must be one of {_listing(choices)}; got {value!r}{hint}")
    return value


def _listing(choices: Iterable[str]) -> str:
    return ", ".join(repr(c) for c in choices)


def numbers_nondecreasing(name: str, values: object, *, low: float) -> tuple[float | int, ...]:
    """Return a non-empty, non-decreasing tuple of finite numbers >= ``low``."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise TypeError(f"{name} must be a sequence of numbers, got {type(values).__name__} {values!r}")
    out = tuple(number(f"{name}[{i}]", v, low=low) for i, v in enumerate(values))
    if not out:
        raise ValueError(f"{name} must not be empty")
    if any(b < a for a, b in itertools.pairwise(out)):
        raise ValueError(f"{name} must be sorted in non-decreasing order, got {list(out)}")
    return out

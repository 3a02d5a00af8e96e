"""Argument checks: each raises a clear ``TypeError``/``ValueError`` naming the argument."""

from __future__ import annotations

import difflib
import itertools
import math
import numbers
import sys
from collections.abc import Iterable, Sequence

from . import restarts


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


def scalar(name: str, value: object) -> float | None:
    """A loss or gradient norm as a float (None stays None): numbers and one-element Tensors/arrays; NaN/inf kept."""
    if value is None:
        return None
    if hasattr(value, "item"):
        size = value.numel() if hasattr(value, "numel") else getattr(value, "size", 1)
        if size != 1:
            raise TypeError(f"{name} must be a number or None, got a {type(value).__name__} of {size} elements")
        value = value.item()
    if not is_real(value):
        raise TypeError(f"{name} must be a number or None, got {type(value).__name__} {value!r}"[:200])
    try:
        return float(value)  # type: ignore[arg-type]
    except OverflowError:
        raise ValueError(f"{name} must fit in a float, got a number too large for one") from None


def unknown_keys(keys: Iterable[str], valid: Iterable[str], what: str) -> None:
    """Refuse ``keys`` (keyword arguments or a mapping's keys) outside ``valid``, listing the valid ones."""
    valid = set(valid)
    unknown = sorted(k for k in keys if k not in valid)
    if unknown:
        raise TypeError(f"unknown {what} {unknown}; valid ones are {sorted(valid)}")


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


# ---------------------------------------------------------------------------- the float range, in one place
# Integers beyond the float range (10**400) are refused by ``number``/``integer`` above; these are the
# other places where valid-looking inputs would leave float arithmetic.
MAX_CYCLES = 2**52  # beyond this, cycle indices and starts are no longer exact in float arithmetic
MAX_PERIODS = sys.float_info.max / (2 * math.pi)  # num_cycles of a cosine: 2 pi num_cycles must be a float


def periods(name: str, value: object) -> float | int:
    """A number of cosine periods ``>= 0`` (0: the cosine stays at its top) whose angle ``2 pi value`` fits in a
    float (``cos(inf)`` is no number)."""
    return number(name, value, low=0, high=MAX_PERIODS)


def reciprocal_fits(name: str, value: float, context: str) -> None:
    """``1 / value`` must be finite (``value >= 1 / 1.8e308``), as an exponential warmup divides by it."""
    if not math.isfinite(1 / value):
        raise ValueError(
            f"{name} must be >= {1 / sys.float_info.max:.3g} {context} (1 / {name} overflows a float), got {value!r}"
        )


def finite_product(name: str, value: float, factor: float, factor_name: str) -> float:
    """``value * factor``, or an error naming both when it overflows a float."""
    product = value * factor
    if not math.isfinite(product):
        raise ValueError(f"{name} ({value!r}) times {factor_name} ({factor}) overflows a float")
    return product


def countable_cycles(clock: float, length: float, mul: float, decay: float, limit: int | None) -> None:
    """The restarts up to ``clock`` must be countable in floats: at most 2**52 cycles, finite starts and peaks."""
    if clock / length > MAX_CYCLES:
        raise ValueError(f"cycle_steps ({length}) is too short: more than 2**52 cycles before total_steps")
    try:
        last = restarts.locate(clock, length, mul)[0]
        decay ** min(last, last if limit is None else limit)  # the peak of the last cycle
    except OverflowError:
        raise ValueError(
            f"cycle_mul ({mul}) or cycle_decay ({decay}) overflows a float over the {clock:g} updates of restarts"
        ) from None

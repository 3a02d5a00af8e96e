"""Warmup shapes: pure functions of the warmup progress ``p = k / W`` in ``[0, 1)``.

Each rises from ``start`` (the start factor ``s``) towards ``end`` (1, the peak, unless the warmup
overlaps a decay); each function states its formula. The value at ``p = 1`` is never taken from
these functions: the schedule returns the peak itself at ``k = W``, so the first update after
warmup uses the peak exactly.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

__all__ = [
    "WARMUPS",
    "WARMUP_SHAPES",
    "WARMUP_TYPES",
    "WarmupShape",
    "constant",
    "cosine",
    "exponential",
    "linear",
    "one_minus_sqrt",
]

WarmupFn = Callable[[float, float, float], float]


def linear(p: float, start: float, end: float = 1.0) -> float:
    """``start + (end - start) * p``.

    >>> linear(0.5, 0.01)
    0.505
    """
    return start + (end - start) * p


def exponential(p: float, start: float, end: float = 1.0) -> float:
    """``start * (end / start) ** p``: a straight line on a log scale (``start > 0``).

    >>> exponential(0.5, 0.01)
    0.1
    """
    return start * (end / start) ** p


def cosine(p: float, start: float, end: float = 1.0) -> float:
    """``start + (end - start) * (1 - cos(pi * p)) / 2``: slow, fast, slow.

    >>> round(cosine(0.5, 0.01), 12)
    0.505
    """
    return start + (end - start) * ((1 - math.cos(math.pi * p)) / 2)  # halve first: the same float, no overflow


def one_minus_sqrt(p: float, start: float, end: float = 1.0) -> float:
    """``start + (end - start) * (1 - sqrt(1 - p))``: fast, then slow (transformers' WSD ``1-sqrt`` warmup).

    >>> one_minus_sqrt(0.75, 0.0)
    0.5
    """
    return start + (end - start) * (1.0 - math.sqrt(1.0 - p))


def constant(p: float, start: float, end: float = 1.0) -> float:
    """``start`` for the whole warmup, then the peak (Goyal et al. 2017).

    >>> constant(0.5, 0.01)
    0.01
    """
    return start


@dataclasses.dataclass(frozen=True)
class WarmupShape:
    """One warmup shape, whole: a new warmup is one more entry in :data:`WARMUP_SHAPES`.

    ``shape(p, start, end)``; ``positive_start``: the shape needs ``start_factor > 0``; ``tunable``:
    offered by the tuning space; ``summary``: one line for the help text.
    """

    shape: WarmupFn
    summary: str
    positive_start: bool = False
    tunable: bool = True


WARMUP_SHAPES: dict[str, WarmupShape] = {
    "linear": WarmupShape(linear, "a straight line from s to the peak"),
    "exponential": WarmupShape(exponential, "a straight line on a log scale (s > 0)", positive_start=True),
    "cosine": WarmupShape(cosine, "slow, fast, slow"),
    "constant": WarmupShape(constant, "s for the whole warmup"),
    "1-sqrt": WarmupShape(one_minus_sqrt, "1 - sqrt(1 - p): fast, then slow (transformers' WSD)", tunable=False),
}
"""Every warmup shape, by ``warmup_type`` name; the first is the default (``"none"``: no warmup)."""
WARMUPS: dict[str, WarmupFn] = {name: entry.shape for name, entry in WARMUP_SHAPES.items()}
WARMUP_TYPES: tuple[str, ...] = (*WARMUPS, "none")


def shape_of(warmup_type: str) -> WarmupFn | None:
    """The shape function of ``warmup_type``, None for ``"none"``."""
    entry = WARMUP_SHAPES.get(warmup_type)
    return None if entry is None else entry.shape

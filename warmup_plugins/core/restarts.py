"""Restart cycles (SGDR, Loshchilov & Hutter 2017): where a step falls among cycles.

Cycle ``i`` (from 0) has length ``L * mul ** i``; it starts at ``L * (mul ** i - 1) / (mul - 1)``
(``L * i`` when ``mul = 1``). The index comes from a closed form and is then corrected against
the cycle starts, so a step exactly on a boundary always opens the new cycle.
"""

from __future__ import annotations

import math

__all__ = ["cycle_start", "locate"]


def cycle_start(i: int, length: float, mul: float) -> float:
    """Start of cycle ``i``: ``length * (mul ** i - 1) / (mul - 1)``, or ``length * i`` if mul = 1."""
    if mul == 1:
        return length * i
    return length * (mul**i - 1) / (mul - 1)


def locate(d: float, length: float, mul: float) -> tuple[int, float, float]:
    """Return ``(i, t, span)``: cycle index, position inside it, and its length, for ``d >= 0``."""
    # log1p: exact enough for a cycle_mul close to 1, where log(1 + x, mul) loses most digits
    i = int(d // length) if mul == 1 else math.floor(math.log1p(d / length * (mul - 1)) / math.log1p(mul - 1))
    while i > 0 and cycle_start(i, length, mul) > d:
        i -= 1
    while cycle_start(i + 1, length, mul) <= d:
        i += 1
    return i, d - cycle_start(i, length, mul), length * mul**i

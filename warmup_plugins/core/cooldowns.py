"""Final-decay (cooldown) shapes of ``wsd`` and ``inverse_sqrt``: factors from 1 (``q = 0``) to 0 (``q = 1``).

``q`` is the cooldown progress in ``[0, 1]``; each shape is one entry of :data:`COOLDOWNS`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

__all__ = ["COOLDOWNS", "COOLDOWN_TYPES", "cooldown"]


def _linear(q: float, power: float, ratio: float, cycles: float) -> float:
    return 1 - q


def _one_minus_sqrt(q: float, power: float, ratio: float, cycles: float) -> float:
    return 1 - math.sqrt(q)


def _cosine(q: float, power: float, ratio: float, cycles: float) -> float:
    if cycles == 0.5:
        return (1 + math.cos(math.pi * q)) / 2
    return (1 + math.cos(math.pi * cycles * 2.0 * q)) / 2  # transformers' expression: rises again past 1 / (2 cycles)


def _power(q: float, power: float, ratio: float, cycles: float) -> float:
    return 1 - q**power


def _exp(q: float, power: float, ratio: float, cycles: float) -> float:
    return (ratio**q - ratio) / (1 - ratio)


COOLDOWNS: dict[str, Callable[[float, float, float, float], float]] = {
    "linear": _linear,  # 1 - q
    "1-sqrt": _one_minus_sqrt,  # 1 - sqrt(q)
    "cosine": _cosine,  # (1 + cos(2 pi cycles q)) / 2, cycles 0.5 by default
    "power": _power,  # 1 - q ** power
    "exp": _exp,  # (ratio ** q - ratio) / (1 - ratio)
}
COOLDOWN_TYPES: tuple[str, ...] = tuple(COOLDOWNS)


def cooldown(q: float, shape: str, power: float, ratio: float, cycles: float = 0.5) -> float:
    """Final-decay factor from 1 (``q = 0``) to 0 (``q = 1``) for the named ``shape``: ``linear`` 1 - q,
    ``1-sqrt`` 1 - sqrt(q), ``cosine`` (1 + cos(2 pi cycles q)) / 2 (with ``cycles = 0.5``, (1 + cos(pi q))
    / 2; more cycles rise again), ``power`` 1 - q ** power, ``exp`` (ratio ** q - ratio) / (1 - ratio).

    >>> cooldown(0.25, "1-sqrt", 0.5, 0.1)
    0.5
    """
    return COOLDOWNS[shape](q, power, ratio, cycles)

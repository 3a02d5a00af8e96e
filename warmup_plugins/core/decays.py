"""Decay shapes after warmup: pure functions, factors relative to the peak; each states its formula.

Annealing shapes (``cosine``, ``linear``, ``polynomial``, ``tanh``) take the decay progress ``p`` in
``[0, 1]`` and go from ``peak`` (1 unless a restart cycle lowered it) to the end factor ``m``.
Step-count shapes (``exponential``, ``step``, ``multistep``, ``inverse_sqrt``) take the updates
since the decay started (``multistep``: since the start of training). Cooldown shapes (the final
decay of ``wsd``) take the cooldown progress ``q`` in ``[0, 1]`` and go from 1 to 0.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence

__all__ = [
    "ANNEALING_TYPES",
    "COOLDOWN_TYPES",
    "DECAY_TYPES",
    "cooldown",
    "cosine",
    "exponential",
    "inverse_sqrt",
    "linear",
    "multistep",
    "polynomial",
    "step",
    "tanh",
]


def cosine(p: float, end: float, peak: float = 1.0) -> float:
    """``end + (peak - end) * (1 + cos(pi * p)) / 2``.

    >>> cosine(0.5, 0.0)
    0.5
    """
    return end + (peak - end) * ((1 + math.cos(math.pi * p)) / 2)  # halve first: the same float, no overflow


def linear(p: float, end: float, peak: float = 1.0) -> float:
    """``end + (peak - end) * (1 - p)``.

    >>> linear(0.25, 0.0)
    0.75
    """
    return end + (peak - end) * (1 - p)


def polynomial(p: float, end: float, power: float, peak: float = 1.0) -> float:
    """``end + (peak - end) * (1 - p) ** power`` (torch's ``PolynomialLR`` when end = 0).

    >>> polynomial(0.5, 0.0, 2.0)
    0.25
    """
    return end + (peak - end) * (1 - p) ** power


def tanh(p: float, end: float, lb: float, ub: float, peak: float = 1.0) -> float:
    """``end + (peak - end) * (1 - tanh(lb * (1 - p) + ub * p)) / 2`` (timm's ``TanhLRScheduler``).

    Not exactly ``peak`` at ``p = 0``: ``(1 - tanh(-7)) / 2`` is ``1 - 8.3e-7`` for timm's default ``lb``.

    >>> round(tanh(0.5, 0.0, -7.0, 3.0), 6)
    0.982014
    """
    return end + (peak - end) * ((1 - math.tanh(lb * (1 - p) + ub * p)) / 2)  # halve first: no overflow


def exponential(d: float, gamma: float) -> float:
    """``gamma ** d``: torch's ``ExponentialLR`` in closed form.

    >>> round(exponential(10, 0.9), 6)
    0.348678
    """
    return gamma**d


def step(d: float, gamma: float, step_size: float) -> float:
    """``gamma ** floor(d / step_size)``: torch's ``StepLR``.

    >>> step(7, 0.5, 3)
    0.25
    """
    steps = d / step_size
    return gamma ** math.floor(steps) if steps < math.inf else gamma**steps  # floor(inf) would overflow


def multistep(k: float, gamma: float, milestones: Sequence[float]) -> float:
    """``gamma ** (number of milestones <= k)``: torch's ``MultiStepLR`` (decayed at the milestone).

    >>> round(multistep(100, 0.1, [50, 100]), 12)
    0.01
    """
    return gamma ** bisect_right(milestones, k)


def inverse_sqrt(d: float, timescale: float) -> float:
    """``(1 + d / timescale) ** -0.5``; with timescale = W this is ``sqrt(W / k)`` (Vaswani et al.).

    >>> inverse_sqrt(300, 100)
    0.5
    """
    return (1 + d / timescale) ** -0.5


def cooldown(q: float, shape: str, power: float, ratio: float) -> float:
    """Final-decay factor from 1 (``q = 0``) to 0 (``q = 1``) for the named ``shape``: ``linear`` 1 - q,
    ``1-sqrt`` 1 - sqrt(q), ``cosine`` (1 + cos(pi q)) / 2, ``power`` 1 - q ** power, ``exp``
    (ratio ** q - ratio) / (1 - ratio).

    >>> cooldown(0.25, "1-sqrt", 0.5, 0.1)
    0.5
    """
    if shape == "linear":
        return 1 - q
    if shape == "1-sqrt":
        return 1 - math.sqrt(q)
    if shape == "cosine":
        return (1 + math.cos(math.pi * q)) / 2
    if shape == "power":
        return 1 - q**power
    return (ratio**q - ratio) / (1 - ratio)  # "exp"


ANNEALING_TYPES: tuple[str, ...] = ("cosine", "linear", "polynomial", "tanh")
DECAY_TYPES: tuple[str, ...] = (
    "constant",
    *ANNEALING_TYPES,
    "exponential",
    "step",
    "multistep",
    "inverse_sqrt",
    "wsd",
)
COOLDOWN_TYPES: tuple[str, ...] = ("linear", "1-sqrt", "cosine", "power", "exp")

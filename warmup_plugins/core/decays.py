"""Decay shapes after warmup: pure functions, factors relative to the peak.

Annealing shapes take the decay progress ``p`` in ``[0, 1]`` and go from ``peak`` (1 unless a
restart cycle lowered it) at ``p = 0`` to the end factor ``m`` at ``p = 1``:

* ``cosine``:     m + (peak - m) * (1 + cos(pi * p)) / 2
* ``linear``:     m + (peak - m) * (1 - p)
* ``polynomial``: m + (peak - m) * (1 - p) ** power
* ``tanh``:       m + (peak - m) * (1 - tanh(lb * (1 - p) + ub * p)) / 2   (timm's; not exactly
  ``peak`` at ``p = 0``: ``(1 - tanh(lb)) / 2`` is 1 - 8.3e-7 for the default lb = -7)

Step-count shapes take ``d``, the updates since the decay started:

* ``exponential``: gamma ** d
* ``step``:        gamma ** floor(d / step_size)
* ``multistep``:   gamma ** (number of milestones <= k), torch's ``MultiStepLR`` rule
* ``inverse_sqrt``: (1 + d / timescale) ** -0.5, i.e. sqrt(W / k) when timescale = W

Cooldown shapes (the final decay of ``wsd``) take the cooldown progress ``q`` in ``[0, 1]`` and go
from 1 to 0: ``linear`` 1 - q, ``1-sqrt`` 1 - sqrt(q), ``cosine`` (1 + cos(pi q)) / 2,
``power`` 1 - q ** power, ``exp`` (r ** q - r) / (1 - r).
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
    """``end + (peak - end) * (1 + cos(pi * p)) / 2``."""
    return end + (peak - end) * ((1 + math.cos(math.pi * p)) / 2)  # halve first: the same float, no overflow


def linear(p: float, end: float, peak: float = 1.0) -> float:
    """``end + (peak - end) * (1 - p)``."""
    return end + (peak - end) * (1 - p)


def polynomial(p: float, end: float, power: float, peak: float = 1.0) -> float:
    """``end + (peak - end) * (1 - p) ** power`` (torch's ``PolynomialLR`` when end = 0)."""
    return end + (peak - end) * (1 - p) ** power


def tanh(p: float, end: float, lb: float, ub: float, peak: float = 1.0) -> float:
    """``end + (peak - end) * (1 - tanh(lb * (1 - p) + ub * p)) / 2`` (timm's ``TanhLRScheduler``)."""
    return end + (peak - end) * ((1 - math.tanh(lb * (1 - p) + ub * p)) / 2)  # halve first: no overflow


def exponential(d: float, gamma: float) -> float:
    """``gamma ** d``: torch's ``ExponentialLR`` in closed form."""
    return gamma**d


def step(d: float, gamma: float, step_size: float) -> float:
    """``gamma ** floor(d / step_size)``: torch's ``StepLR``."""
    steps = d / step_size
    return gamma ** math.floor(steps) if steps < math.inf else gamma**steps  # floor(inf) would overflow


def multistep(k: float, gamma: float, milestones: Sequence[float]) -> float:
    """``gamma ** (number of milestones <= k)``: torch's ``MultiStepLR`` (decayed at the milestone)."""
    return gamma ** bisect_right(milestones, k)


def inverse_sqrt(d: float, timescale: float) -> float:
    """``(1 + d / timescale) ** -0.5``; with timescale = W this is ``sqrt(W / k)`` (Vaswani et al.)."""
    return (1 + d / timescale) ** -0.5


def cooldown(q: float, shape: str, power: float, ratio: float) -> float:
    """Final-decay factor from 1 (``q = 0``) to 0 (``q = 1``) for the named ``shape``."""
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

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
from typing import Any

from . import _checks

__all__ = [
    "WARMUPS",
    "WARMUP_SHAPES",
    "WARMUP_TYPES",
    "WarmupShape",
    "constant",
    "cosine",
    "exponential",
    "linear",
    "one_minus_exp",
    "one_minus_sqrt",
    "radam_factor",
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


def one_minus_exp(k: float, start: float, end: float, tau: float) -> float:
    """``start + (end - start) * (1 - exp(-k / tau))`` at update ``k``: pytorch_warmup's ``1 - exp(-(k + 1) / tau)``
    when ``start = 1 - exp(-1 / tau)`` and ``end = 1``; it approaches the peak, which the schedule takes at ``W``.

    >>> round(one_minus_exp(0, 0.01, 1.0, 100.0), 12), round(one_minus_exp(100, 0.0, 1.0, 100.0), 6)
    (0.01, 0.632121)
    """
    return start + (end - start) * -math.expm1(-k / tau)  # exactly start at k = 0


def _bind_one_minus_exp(s: Any) -> WarmupFn:
    """``1-exp`` of the progress ``p = k / W``: its time constant ``warmup_tau`` is in updates. ``(p W) / tau``, not
    ``p (W / tau)``: a ``tau`` so small that ``W / tau`` overflows would give ``0 * inf = nan`` at ``k = 0``."""
    size, tau = s.warmup_steps, s.warmup_tau

    def shape(p: float, start: float, end: float = 1.0) -> float:
        return start + (end - start) * -math.expm1(-(p * size) / tau)

    return shape


def _check_tau(f: dict[str, Any]) -> dict[str, Any]:
    if f["warmup_tau"] is None:
        raise ValueError("warmup_type='1-exp' needs warmup_tau, its time constant in updates")
    return {"warmup_tau": _checks.number("warmup_tau", f["warmup_tau"], low=0, low_open=True)}


def radam_factor(t: float, beta2: float) -> float:
    """RAdam's rectification at update ``t`` (pytorch_warmup's ``RAdamWarmup``, Liu et al. 2020):
    ``sqrt((rho - 4)(rho - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho))`` at ``rho = rho(t + delta)``, where
    ``rho_inf = 2 / (1 - beta2) - 1``, ``rho(t) = rho_inf - 2 t beta2^t / (1 - beta2^t)`` and ``delta`` is the
    first step with ``rho > 4``. It rises from its value at 0 towards 1 (``beta2 > 0.6``).

    >>> round(radam_factor(0, 0.999), 6), round(radam_factor(1000, 0.999), 6)
    (0.017312, 0.646639)
    """
    rho_inf = 2.0 / (1 - beta2) - 1
    offset = _radam_offset(beta2, rho_inf)
    rho = _rho(t + offset, beta2, rho_inf)
    return math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))


def _rho(t: float, beta2: float, rho_inf: float) -> float:
    b2t = beta2**t
    return rho_inf - t * b2t * 2 / (1 - b2t)  # RAdamWarmup's 2 t b2t, without the inf * 0 of a t past 9e307


def _radam_offset(beta2: float, rho_inf: float) -> int:
    offset = 1
    while _rho(offset, beta2, rho_inf) <= 4:
        offset += 1
    return offset


def _bind_radam(s: Any) -> WarmupFn:
    """``s + (1 - s) (r(k) - r(0)) / (1 - r(0))`` with ``r`` = :func:`radam_factor`: from ``s`` at ``k = 0`` (with
    ``s = r(0)``, RAdamWarmup's own values) towards the peak, taken at ``W``."""
    beta2, size = s.warmup_beta2, s.warmup_steps
    rho_inf = 2.0 / (1 - beta2) - 1
    offset = _radam_offset(beta2, rho_inf)
    denominator = (rho_inf - 4) * (rho_inf - 2)

    def r(t: float) -> float:
        rho = _rho(t + offset, beta2, rho_inf)
        return math.sqrt((rho - 4) * (rho - 2) * rho_inf / (denominator * rho))

    first = r(0)

    def shape(p: float, start: float, end: float = 1.0) -> float:
        return start + (end - start) * ((r(p * size) - first) / (1 - first))

    return shape


BETA2_RANGE = (0.600001, 0.99999)
"""The ``radam`` warmup's working range of ``warmup_beta2``, inside RAdam's (0.6, 1): there the float rectification
(RAdamWarmup's own expressions) stays within 3e-10 of the exact one. Beyond, its digits cancel: at 0.6 + 1e-16
``r(0)`` rounds to 1 and the shape divides by 0; at 1 - 1e-13 ``rho`` falls below 4 and the square root fails."""


def _check_beta2(f: dict[str, Any]) -> dict[str, Any]:
    if f["warmup_beta2"] is None:
        raise ValueError("warmup_type='radam' needs warmup_beta2, Adam's beta2 (as in RAdamWarmup)")
    low, high = BETA2_RANGE
    value = _checks.number("warmup_beta2", f["warmup_beta2"])
    if not low <= value <= high:
        raise ValueError(
            f"warmup_beta2 must be in [{low}, {high}], the working range of the radam warmup (RAdam needs more than "
            f"0.6; nearer 0.6 or 1 its float arithmetic loses every digit), got {f['warmup_beta2']!r}"
        )
    return {"warmup_beta2": value}


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
    offered by the tuning space; ``summary``: one line for the help text. A shape with options of its
    own names them in ``options``, checks them in ``check(fields)`` and builds its ``shape`` for a checked
    schedule with ``bind(s)`` (``shape`` is then None: fastai's ``SchedWarmup`` cannot take it).
    """

    shape: WarmupFn | None
    summary: str
    positive_start: bool = False
    tunable: bool = True
    options: tuple[str, ...] = ()
    check: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    bind: Callable[[Any], WarmupFn] | None = None


WARMUP_SHAPES: dict[str, WarmupShape] = {
    "linear": WarmupShape(linear, "a straight line from s to the peak"),
    "exponential": WarmupShape(exponential, "a straight line on a log scale (s > 0)", positive_start=True),
    "cosine": WarmupShape(cosine, "slow, fast, slow"),
    "constant": WarmupShape(constant, "s for the whole warmup"),
    "1-sqrt": WarmupShape(one_minus_sqrt, "1 - sqrt(1 - p): fast, then slow (transformers' WSD)", tunable=False),
    "1-exp": WarmupShape(
        None,
        "s + (1 - s)(1 - exp(-k / warmup_tau)), then the peak at W (pytorch_warmup's ExponentialWarmup)",
        tunable=False,
        options=("warmup_tau",),
        check=_check_tau,
        bind=_bind_one_minus_exp,
    ),
    "radam": WarmupShape(
        None,
        "RAdam's rectification r(k) from s towards the peak, taken at W (pytorch_warmup's RAdamWarmup)",
        tunable=False,
        options=("warmup_beta2",),
        check=_check_beta2,
        bind=_bind_radam,
    ),
}
"""Every warmup shape, by ``warmup_type`` name; the first is the default (``"none"``: no warmup)."""
WARMUPS: dict[str, WarmupFn] = {name: entry.shape for name, entry in WARMUP_SHAPES.items() if entry.shape}
"""The shapes of the progress alone (no options of their own), by name."""
WARMUP_TYPES: tuple[str, ...] = (*WARMUP_SHAPES, "none")


def shape_of(s: Any) -> WarmupFn | None:
    """The shape function of the checked schedule ``s``'s warmup, None for ``"none"``."""
    entry = WARMUP_SHAPES.get(s.warmup_type)
    if entry is None:
        return None
    return entry.bind(s) if entry.bind is not None else entry.shape

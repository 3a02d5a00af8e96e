"""Compiling a checked schedule into ``f(k)``: a warmup piece and a decay piece, joined at ``W`` and ``T``.

:func:`compile_schedule` builds, once per schedule, the function every adapter calls per update::

    f(k) = warmup(k / W)   for k < W      (towards 1, or the decay's value at W for an overlapping warmup)
           decay(k)        for W <= k < T
           f(T)            for k >= T     (held for ever)

Each decay family has a small factory that returns its ``decay(k)`` and its final value ``f(T)``;
the decay clock is ``d = k - W`` (``k`` for an overlapping warmup, ``warmup_prefix=False``) and the
decay spans ``D = T - W`` (``T``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

from . import decays, restarts, warmups
from .decays import ANNEALING_TYPES

__all__ = ["Compiled", "compile_schedule"]

Factor = Callable[[float], float]


class Compiled(NamedTuple):
    """``f`` for ``k >= 0``, its final value ``f(T)`` and an upper bound of ``f`` over every ``k``."""

    f: Factor
    final: float
    max_factor: float


def compile_schedule(s: Any) -> Compiled:
    """``f(k)`` for the checked schedule ``s`` (a :class:`~warmup_plugins.WarmupSchedule`)."""
    total = math.inf if s.total_steps is None else s.total_steps
    span = None if s.total_steps is None else (s.total_steps - s.warmup_steps if s.warmup_prefix else s.total_steps)
    decay, final = _DECAY_FACTORIES[s.decay_type](s, span)
    if s.total_steps is None:
        final = math.nan  # never used: no k reaches T
    elif s.warmup_prefix and s.total_steps == s.warmup_steps:
        final = 1.0  # no decay at all: the peak is the end
    warmup, start, size = warmups.WARMUPS.get(s.warmup_type), s.start_factor, s.warmup_steps
    target = 1.0
    if s.warmup_end == "decay" and size > 0:  # timm's overlapping warmup rises to the decay's value at W
        target = final if size >= total else decay(size)

    def f(k: float) -> float:
        if k < size:
            return warmup(k / size, start, target)  # type: ignore[misc]
        if k >= total:
            return final
        return decay(k)

    return Compiled(f, final, _max_factor(s))


def _clock(s: Any) -> float:
    """The step where the decay clock starts: ``W`` for a prefix warmup, 0 for an overlapping one."""
    return s.warmup_steps if s.warmup_prefix else 0


def _constant(s: Any, span: float | None) -> tuple[Factor, float]:
    return (lambda k: 1.0), 1.0


def _annealing(s: Any, span: float | None) -> tuple[Factor, float]:
    """cosine, linear, polynomial, tanh over ``D`` (one cycle), or over restart cycles."""
    shape = getattr(decays, s.decay_type)
    args = {"polynomial": (s.end_factor, s.power), "tanh": (s.end_factor, s.tanh_lb, s.tanh_ub)}.get(
        s.decay_type, (s.end_factor,)
    )
    if s.cycle_steps is not None:
        return _restarts(s, shape, args)
    offset, k_decay = _clock(s), s.k_decay
    if span is not None and span > 0 and (k_decay is None or k_decay == 1):

        def decay(k: float) -> float:
            return shape((k - offset) / span, *args)

    else:

        def decay(k: float) -> float:
            return shape(_progress(k - offset, span, k_decay), *args)

    return decay, s.end_factor  # an annealing decay ends at m (tanh's formula stops short of it)


def _restarts(s: Any, shape: Callable[..., float], args: tuple[float, ...]) -> tuple[Factor, float]:
    """SGDR cycles: cycle ``i`` peaks at ``cycle_decay ** i``; past ``cycle_limit`` cycles, the end factor."""
    length, mul, limit, m = s.cycle_steps, s.cycle_mul, s.cycle_limit, s.end_factor
    offset = 0 if s.cycle_warmup else _clock(s)
    warmup = warmups.WARMUPS.get(s.warmup_type) if s.cycle_warmup else None

    def locate(k: float) -> tuple[int, float, float]:
        i, t, span = restarts.locate(k - offset, length, mul)
        return i, min(t, span), span  # float error near a boundary must not take t past the cycle's end

    def decay(k: float) -> float:
        i, t, span = locate(k)
        if limit is not None and i >= limit:
            return m
        peak = s.cycle_decay**i
        if warmup is not None:
            if t < s.warmup_steps:
                return peak * warmup(t / s.warmup_steps, s.start_factor, 1.0)
            t, span = t - s.warmup_steps, span - s.warmup_steps
        return shape(_progress(t, span, s.k_decay), *args, peak)

    if s.total_steps is None:
        return decay, math.nan
    i, t, _ = locate(s.total_steps)
    final = m if t == 0 and i > 0 else decay(s.total_steps)  # T on a cycle boundary ends a cycle, never a new peak
    return decay, final


def _progress(d: float, span: float | None, k_decay: float | None) -> float:
    """``d / D``, or timm's k-decay ``d**k / D**k``; 1 for an empty decay."""
    if span is None or span <= 0:
        return 1.0
    if k_decay is None or k_decay == 1:
        return d / span
    try:
        return d**k_decay / span**k_decay  # timm's expression
    except (OverflowError, ZeroDivisionError):  # a k_decay so large that the powers leave the float range
        return (d / span) ** k_decay


def _exponential(s: Any, span: float | None) -> tuple[Factor, float]:
    offset, gamma, m = _clock(s), s.gamma, s.end_factor
    if gamma is not None:
        decay: Factor = lambda k: decays.exponential(k - offset, gamma)  # noqa: E731
    else:
        decay = lambda k: m ** ((k - offset) / span) if span > 0 else 1.0  # noqa: E731
    return decay, _at_total(s, decay)


def _step(s: Any, span: float | None) -> tuple[Factor, float]:
    offset = _clock(s)

    def decay(k: float) -> float:
        return decays.step(k - offset, s.gamma, s.step_size)

    return decay, _at_total(s, decay)


def _multistep(s: Any, span: float | None) -> tuple[Factor, float]:
    def decay(k: float) -> float:
        return decays.multistep(k, s.gamma, s.milestones)  # milestones count from k = 0, as in torch

    return decay, _at_total(s, decay)


def _with_cooldown(s: Any, span: float | None, stable: Factor) -> tuple[Factor, float]:
    """``stable(k)`` (floored at ``m``), then the cooldown shape from it down to ``m`` over the last updates."""
    offset, m = _clock(s), s.end_factor
    cooldown = s.cooldown_steps if s.cooldown_fraction is None else s.cooldown_fraction * span
    if cooldown is None:

        def decay(k: float) -> float:
            return max(stable(k), m)

    else:
        start = span - cooldown

        def decay(k: float) -> float:
            level = max(stable(k), m)
            d = k - offset
            if d <= start:
                return level
            q = min((d - start) / cooldown, 1.0)
            return m + (level - m) * decays.cooldown(q, s.cooldown_type, s.cooldown_power, s.cooldown_ratio)

    return decay, _at_total(s, decay)


def _inverse_sqrt(s: Any, span: float | None) -> tuple[Factor, float]:
    offset = _clock(s)
    return _with_cooldown(s, span, lambda k: decays.inverse_sqrt(k - offset, s.timescale))


def _wsd(s: Any, span: float | None) -> tuple[Factor, float]:
    return _with_cooldown(s, span, lambda k: 1.0)


def _at_total(s: Any, decay: Factor) -> float:
    return math.nan if s.total_steps is None else decay(s.total_steps)


def _max_factor(s: Any) -> float:
    """An upper bound of ``f`` over every ``k``: ``max(s, 1, m)`` times the highest restart peak."""
    peak = 1.0
    if s.cycle_steps is not None and s.cycle_decay > 1:  # peaks grow: the last cycle's is the highest
        clock = s.total_steps if s.cycle_warmup else s.total_steps - _clock(s)
        last = restarts.locate(clock, s.cycle_steps, s.cycle_mul)[0]
        peak = s.cycle_decay ** (last if s.cycle_limit is None else min(last, s.cycle_limit - 1))
    return max(s.start_factor, 1.0, s.end_factor or 0.0) * peak


_DECAY_FACTORIES: dict[str, Callable[[Any, float | None], tuple[Factor, float]]] = {
    "constant": _constant,
    **dict.fromkeys(ANNEALING_TYPES, _annealing),
    "exponential": _exponential,
    "step": _step,
    "multistep": _multistep,
    "inverse_sqrt": _inverse_sqrt,
    "wsd": _wsd,
}

"""Compiling a checked schedule into ``f(k)``: a warmup piece and a decay piece, joined at ``W`` and ``T``.

:func:`compile_schedule` builds, once per schedule, the function every adapter calls per update::

    f(k) = warmup(k / W)   for k < W      (towards 1, or the decay's value at W for an overlapping warmup)
           decay(k)        for W <= k < T
           f(T)            for k >= T     (held for ever)

Each decay family's factory (its entry in ``decays.FAMILIES``) returns its ``decay(k)`` and ``f(T)``;
the decay clock is ``d = k - W`` (``k`` for an overlapping warmup, ``warmup_prefix=False``) and the
decay spans ``D = T - W`` (``T``).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from . import _parts, restarts, warmups
from ._parts import Factor
from .decays import FAMILIES

__all__ = ["Compiled", "compile_schedule"]


class Compiled(NamedTuple):
    """``f`` for ``k >= 0``, its final value ``f(T)`` and an upper bound of ``f`` over every ``k``."""

    f: Factor
    final: float
    max_factor: float


def compile_schedule(s: Any) -> Compiled:
    """``f(k)`` for the checked schedule ``s`` (a :class:`~warmup_plugins.WarmupSchedule`)."""
    total = math.inf if s.total_steps is None else s.total_steps
    span = None if s.total_steps is None else (s.total_steps - s.warmup_steps if s.warmup_prefix else s.total_steps)
    decay, final = FAMILIES[s.decay_type].factory(s, span)
    if s.total_steps is None:
        final = math.nan  # never used: no k reaches T
    elif s.warmup_prefix and s.total_steps == s.warmup_steps:
        final = 1.0  # no decay at all: the peak is the end
    warmup, start, size = warmups.shape_of(s), s.start_factor, s.warmup_steps
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


def _max_factor(s: Any) -> float:
    """An upper bound of ``f`` over every ``k``: ``max(s, P, m)`` with ``P`` the highest restart peak (a decay goes
    between its peak and ``m``), or ``s P`` where every cycle repeats the warmup; a bound past the float range is
    refused, naming the options that make it."""
    peak = 1.0
    if s.cycle_steps is not None and s.cycle_decay > 1:  # peaks grow: the last cycle's is the highest
        clock = s.total_steps if s.cycle_warmup else s.total_steps - _parts.clock(s)
        last = restarts.locate(clock, s.cycle_steps, s.cycle_mul)[0]
        peak = s.cycle_decay ** (last if s.cycle_limit is None else min(last, s.cycle_limit - 1))
    start = s.start_factor * peak if s.cycle_warmup else s.start_factor
    if not math.isfinite(start):
        raise ValueError(
            f"start_factor ({s.start_factor}) times the last restart's peak (cycle_decay ** i = {peak:g}) overflows "
            "a float: every cycle repeats the warmup from start_factor times its peak"
        )
    return max(start, peak, 1.0, s.end_factor or 0.0)

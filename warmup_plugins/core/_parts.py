"""Pieces several decay families share: option checks (end factor, gamma, cooldown, restarts) and the
decay-clock helpers their factories build ``decay(k)`` from. The families themselves are in :mod:`.decays`.

A check takes the fields (common ones already checked) and returns its options checked and filled
with their defaults; a factory piece takes the checked schedule ``s``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from . import _checks, restarts, warmups
from .cooldowns import COOLDOWN_TYPES, cooldown

Fields = dict[str, Any]
Factor = Callable[[float], float]
n = _checks.number
_BOUNDARY = 1e-9  # T this close to a restart boundary, relative to the cycle, is on it


# ---------------------------------------------------------------------------------------- checks
def decay_span(fields: Fields) -> float:
    """``D``, the decay clock's length: ``T - W``, or ``T`` for an overlapping warmup (``warmup_prefix=False``)."""
    total, warmup = fields["total_steps"], fields["warmup_steps"]
    return total - warmup if fields["warmup_prefix"] else total


def end_factor(f: Fields) -> Fields:
    return {"end_factor": n("end_factor", 0.0 if f["end_factor"] is None else f["end_factor"], low=0)}


def gamma(f: Fields) -> Fields:
    return {"gamma": n("gamma", 0.1 if f["gamma"] is None else f["gamma"], low=0, high=1, low_open=True)}


def cooldown_options(f: Fields, default_type: str, default_fraction: float | None = None) -> Fields:
    """The final decay of ``wsd``/``inverse_sqrt``: its length (steps or a fraction of ``D``) and shape."""
    steps, fraction = f["cooldown_steps"], f["cooldown_fraction"]
    if steps is not None and fraction is not None:
        raise ValueError("give cooldown_steps or cooldown_fraction, not both")
    if steps is None and fraction is None:
        fraction = default_fraction
    if f["total_steps"] is None:
        raise ValueError(f"total_steps is required for a cooldown (decay_type={f['decay_type']!r})")
    out: Fields = {}
    if fraction is not None:
        out["cooldown_fraction"] = n("cooldown_fraction", fraction, low=0, high=1, low_open=True)
    else:
        out["cooldown_steps"] = n("cooldown_steps", steps, low=0, high=decay_span(f))  # 0: a drop to m at T
    shape = out["cooldown_type"] = _checks.choice(
        "cooldown_type", default_type if f["cooldown_type"] is None else f["cooldown_type"], COOLDOWN_TYPES
    )
    for name, owner, default, high in (("cooldown_power", "power", 0.5, None), ("cooldown_ratio", "exp", 0.1, 1)):
        if shape == owner:
            value = default if f[name] is None else f[name]
            out[name] = n(name, value, low=0, high=high, low_open=True, high_open=True)
        elif f[name] is not None:
            raise ValueError(f"{name} is only used by cooldown_type={owner!r}")
    if f["num_cycles"] is not None:
        if shape != "cosine":
            raise ValueError(f"num_cycles is only used by cooldown_type='cosine' here, got cooldown_type={shape!r}")
        out["num_cycles"] = _checks.periods("num_cycles", f["num_cycles"])
    return out


def cycle_options(f: Fields) -> Fields:
    """Restarts: the first cycle's length, its growth, the peaks' decay, a cycle limit, a warmup per cycle."""
    if f["cycle_steps"] is None:
        for name in ("cycle_mul", "cycle_decay", "cycle_limit"):
            if f[name] is not None:
                raise ValueError(f"{name} needs cycle_steps (the first cycle's length)")
        if f["cycle_warmup"] is not None and _checks.boolean("cycle_warmup", f["cycle_warmup"]):
            raise ValueError("cycle_warmup needs cycle_steps (the first cycle's length)")
        return {"cycle_warmup": None}
    out: Fields = {
        "cycle_steps": n("cycle_steps", f["cycle_steps"], low=0, low_open=True),
        # floats: an int base raised to the cycle index would grow into a huge exact int instead of overflowing
        "cycle_mul": float(n("cycle_mul", 1.0 if f["cycle_mul"] is None else f["cycle_mul"], low=1)),
        "cycle_decay": float(
            n("cycle_decay", 1.0 if f["cycle_decay"] is None else f["cycle_decay"], low=0, low_open=True)
        ),
        "cycle_warmup": _checks.boolean("cycle_warmup", False if f["cycle_warmup"] is None else f["cycle_warmup"]),
    }
    if f["cycle_limit"] is not None:
        out["cycle_limit"] = _checks.integer("cycle_limit", f["cycle_limit"], low=1)
    if out["cycle_warmup"]:
        if not f["warmup_prefix"]:
            raise ValueError("cycle_warmup needs warmup_prefix=True")
        if out["cycle_steps"] <= f["warmup_steps"]:
            raise ValueError(
                f"cycle_steps ({out['cycle_steps']}) must be longer than warmup_steps ({f['warmup_steps']}) "
                "when every cycle repeats the warmup"
            )
    clock = f["total_steps"] if out["cycle_warmup"] else decay_span(f)
    _checks.countable_cycles(clock, out["cycle_steps"], out["cycle_mul"], out["cycle_decay"], out.get("cycle_limit"))
    return out


# ------------------------------------------------------------------------------- factory pieces
def clock(s: Any) -> float:
    """The step where the decay clock starts: ``W`` for a prefix warmup, 0 for an overlapping one."""
    return s.warmup_steps if s.warmup_prefix else 0


def progress(d: float, span: float | None, k_decay: float | None) -> float:
    """``d / D``, or timm's k-decay ``d**k / D**k``; 1 for an empty decay."""
    if span is None or span <= 0:
        return 1.0
    if k_decay is None or k_decay == 1:
        return d / span
    try:
        return d**k_decay / span**k_decay  # timm's expression
    except (OverflowError, ZeroDivisionError):  # a k_decay so large that the powers leave the float range
        return (d / span) ** k_decay


def at_total(s: Any, decay: Factor) -> float:
    """``decay(T)``, or ``nan`` for an endless schedule (no ``k`` reaches ``T``)."""
    return math.nan if s.total_steps is None else decay(s.total_steps)


def restart_cycles(s: Any, shape: Callable[..., float], args: tuple[float, ...]) -> tuple[Factor, float]:
    """SGDR cycles: cycle ``i`` peaks at ``cycle_decay ** i``; past ``cycle_limit`` cycles, the end factor."""
    length, mul, limit, m = s.cycle_steps, s.cycle_mul, s.cycle_limit, s.end_factor
    offset = 0 if s.cycle_warmup else clock(s)
    warmup = warmups.shape_of(s) if s.cycle_warmup else None

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
        return shape(progress(t, span, s.k_decay), *args, peak)

    if s.total_steps is None:
        return decay, math.nan
    i, t, span = locate(s.total_steps)
    # T on a cycle boundary ends a cycle, never opens a new peak; "on" within float error (1e-9 of a cycle):
    # (T - W) / n cycles need not add back up to T - W exactly, so T may sit a hair past or before the boundary
    near = _BOUNDARY * span
    final = m if (t <= near and i > 0) or span - t <= near else decay(s.total_steps)
    return decay, final


def with_cooldown(s: Any, span: float | None, stable: Factor) -> tuple[Factor, float]:
    """``stable(k)``, then the cooldown shape from it to ``m`` over the last updates (down, or up for ``m > 1``)."""
    offset, m = clock(s), s.end_factor
    cycles = 0.5 if s.num_cycles is None else s.num_cycles
    length = s.cooldown_steps if s.cooldown_fraction is None else s.cooldown_fraction * span
    if length is None:
        decay = stable
    else:
        start = span - length

        def decay(k: float) -> float:
            level = stable(k)
            d = k - offset
            if d <= start:
                return level
            q = min((d - start) / length, 1.0)
            return m + (level - m) * cooldown(q, s.cooldown_type, s.cooldown_power, s.cooldown_ratio, cycles)

    # a cooldown ends at m (every shape's value at q = 1 is exactly 0), also a cooldown of 0 updates
    return decay, (at_total(s, decay) if length is None else m)

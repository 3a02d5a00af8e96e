"""Checking a schedule's fields once, at construction: common checks, then one small check per decay family.

:func:`validate` takes the fields as given and returns them checked, with each option the chosen
decay reads filled with its default. An option the decay does not read must be left unset (None):
setting it is an error naming the decays that use it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import _checks
from .decays import ANNEALING_TYPES, COOLDOWN_TYPES, DECAY_TYPES
from .warmups import WARMUP_TYPES

__all__ = ["DECAY_OPTIONS", "validate"]

_CYCLE_OPTIONS = ("cycle_steps", "cycle_mul", "cycle_decay", "cycle_limit", "cycle_warmup")
_COOLDOWN_OPTIONS = ("cooldown_steps", "cooldown_fraction", "cooldown_type", "cooldown_power", "cooldown_ratio")
DECAY_OPTIONS: dict[str, tuple[str, ...]] = {
    "constant": (),
    "cosine": ("end_factor", "k_decay", *_CYCLE_OPTIONS),
    "linear": ("end_factor", *_CYCLE_OPTIONS),
    "polynomial": ("end_factor", "power", "k_decay", *_CYCLE_OPTIONS),
    "tanh": ("end_factor", "tanh_lb", "tanh_ub", *_CYCLE_OPTIONS),
    "exponential": ("end_factor", "gamma"),
    "step": ("gamma", "step_size"),
    "multistep": ("gamma", "milestones"),
    "inverse_sqrt": ("end_factor", "timescale", *_COOLDOWN_OPTIONS),
    "wsd": ("end_factor", *_COOLDOWN_OPTIONS),
}
"""The options each decay reads."""
_ALL_OPTIONS = tuple(dict.fromkeys(name for options in DECAY_OPTIONS.values() for name in options))
_NEEDS_TOTAL = (*ANNEALING_TYPES, "wsd")

Fields = dict[str, Any]
n = _checks.number


def validate(fields: Fields) -> Fields:
    """The fields checked and filled; raises ``TypeError``/``ValueError`` naming the field at fault."""
    out = {**fields, **_common(fields)}
    decay = out["decay_type"]
    for name in _ALL_OPTIONS:
        if out[name] is not None and name not in DECAY_OPTIONS[decay]:
            used_by = [d for d, options in DECAY_OPTIONS.items() if name in options]
            raise ValueError(f"{name} is not used by decay_type={decay!r}; it applies to decay_type in {used_by}")
    if decay in _NEEDS_TOTAL and out["total_steps"] is None:
        raise ValueError(f"total_steps is required for decay_type={decay!r}")
    out.update(_FAMILY_CHECKS[decay](out))
    return out


def decay_span(fields: Fields) -> float:
    """``D``, the decay clock's length: ``T - W``, or ``T`` for an overlapping warmup (``warmup_prefix=False``)."""
    total, warmup = fields["total_steps"], fields["warmup_steps"]
    return total - warmup if fields["warmup_prefix"] else total


def _common(f: Fields) -> Fields:
    out: Fields = {"warmup_type": _checks.choice("warmup_type", f["warmup_type"], WARMUP_TYPES)}
    warmup = out["warmup_steps"] = n("warmup_steps", f["warmup_steps"], low=0)
    if out["warmup_type"] == "none" and warmup != 0:
        raise ValueError(f"warmup_steps must be 0 with warmup_type='none', got {warmup!r}")
    if f["total_steps"] is not None:
        out["total_steps"] = n("total_steps", f["total_steps"], low=0)
        if out["total_steps"] < warmup:
            raise ValueError(
                f"warmup_steps ({warmup}) is longer than total_steps ({out['total_steps']}); "
                "both count optimizer updates unless you use WarmupSchedule.from_epochs"
            )
    start = out["start_factor"] = n("start_factor", f["start_factor"], low=0)
    if out["warmup_type"] == "exponential":
        if start == 0:
            raise ValueError("start_factor must be > 0 for warmup_type='exponential' (0 * anything stays 0)")
        _checks.reciprocal_fits("start_factor", start, "for warmup_type='exponential'")
    out["decay_type"] = _checks.choice("decay_type", f["decay_type"], DECAY_TYPES)
    out["warmup_prefix"] = _checks.boolean("warmup_prefix", f["warmup_prefix"])
    out["warmup_end"] = _checks.choice("warmup_end", f["warmup_end"], ("peak", "decay"))
    if out["warmup_end"] == "decay" and out["warmup_prefix"]:
        raise ValueError("warmup_end='decay' needs warmup_prefix=False (a prefix warmup always ends at the peak)")
    return out


def _end_factor(f: Fields) -> Fields:
    return {"end_factor": n("end_factor", 0.0 if f["end_factor"] is None else f["end_factor"], low=0)}


def _constant(f: Fields) -> Fields:
    return {}


def _annealing(f: Fields) -> Fields:
    """cosine, linear, polynomial, tanh: an end factor, the shape's own options, restarts."""
    out = _end_factor(f)
    decay = f["decay_type"]
    if decay in ("cosine", "polynomial"):
        out["k_decay"] = float(n("k_decay", 1.0 if f["k_decay"] is None else f["k_decay"], low=0, low_open=True))
    if decay == "polynomial":
        out["power"] = n("power", 1.0 if f["power"] is None else f["power"], low=0, low_open=True)
    if decay == "tanh":
        lb = out["tanh_lb"] = n("tanh_lb", -7.0 if f["tanh_lb"] is None else f["tanh_lb"])
        ub = out["tanh_ub"] = n("tanh_ub", 3.0 if f["tanh_ub"] is None else f["tanh_ub"])
        if lb >= ub:
            raise ValueError(f"tanh_lb must be < tanh_ub, got {lb} and {ub}")
    return {**out, **_cycles(f)}


def _gamma(f: Fields) -> Fields:
    return {"gamma": n("gamma", 0.1 if f["gamma"] is None else f["gamma"], low=0, high=1, low_open=True)}


def _step(f: Fields) -> Fields:
    if f["step_size"] is None:
        raise ValueError("step_size is required for decay_type='step'")
    return {**_gamma(f), "step_size": n("step_size", f["step_size"], low=0, low_open=True)}


def _multistep(f: Fields) -> Fields:
    if f["milestones"] is None:
        raise ValueError("milestones is required for decay_type='multistep'")
    milestones = _checks.numbers_nondecreasing("milestones", f["milestones"], low=0)
    if f["warmup_prefix"] and milestones[0] <= f["warmup_steps"]:
        raise ValueError(
            f"milestones must lie after the warmup (> warmup_steps={f['warmup_steps']}), got "
            f"{list(milestones)}; milestones count updates from the start of training"
        )
    return {**_gamma(f), "milestones": milestones}


def _exponential(f: Fields) -> Fields:
    if (f["gamma"] is None) == (f["end_factor"] is None):
        raise ValueError("decay_type='exponential' needs exactly one of gamma (per update) or end_factor")
    if f["gamma"] is not None:
        return {"gamma": n("gamma", f["gamma"], low=0, high=1, low_open=True)}
    if f["total_steps"] is None:
        raise ValueError("total_steps is required for decay_type='exponential' with end_factor")
    out = _end_factor(f)
    if out["end_factor"] == 0:
        raise ValueError("end_factor must be > 0 for decay_type='exponential' (an exponential never hits 0)")
    return out


def _inverse_sqrt(f: Fields) -> Fields:
    timescale = f["warmup_steps"] if f["timescale"] is None else f["timescale"]
    if f["timescale"] is None and timescale == 0:
        raise ValueError("decay_type='inverse_sqrt' without warmup needs a timescale > 0")
    out = {**_end_factor(f), "timescale": n("timescale", timescale, low=0, low_open=True)}
    if f["cooldown_steps"] is None and f["cooldown_fraction"] is None:
        for name in ("cooldown_type", "cooldown_power", "cooldown_ratio"):
            if f[name] is not None:
                raise ValueError(f"{name} needs cooldown_steps or cooldown_fraction")
        return out
    return {**out, **_cooldown(f, default_type="linear")}


def _wsd(f: Fields) -> Fields:
    return {**_end_factor(f), **_cooldown(f, default_type="1-sqrt", default_fraction=0.2)}


def _cooldown(f: Fields, default_type: str, default_fraction: float | None = None) -> Fields:
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
        out["cooldown_steps"] = n("cooldown_steps", steps, low=0, high=decay_span(f), low_open=True)
    shape = out["cooldown_type"] = _checks.choice(
        "cooldown_type", default_type if f["cooldown_type"] is None else f["cooldown_type"], COOLDOWN_TYPES
    )
    for name, owner, default, high in (("cooldown_power", "power", 0.5, None), ("cooldown_ratio", "exp", 0.1, 1)):
        if shape == owner:
            value = default if f[name] is None else f[name]
            out[name] = n(name, value, low=0, high=high, low_open=True, high_open=True)
        elif f[name] is not None:
            raise ValueError(f"{name} is only used by cooldown_type={owner!r}")
    return out


def _cycles(f: Fields) -> Fields:
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


_FAMILY_CHECKS: dict[str, Callable[[Fields], Fields]] = {
    "constant": _constant,
    **dict.fromkeys(ANNEALING_TYPES, _annealing),
    "exponential": _exponential,
    "step": _step,
    "multistep": _multistep,
    "inverse_sqrt": _inverse_sqrt,
    "wsd": _wsd,
}
assert set(_FAMILY_CHECKS) == set(DECAY_TYPES)

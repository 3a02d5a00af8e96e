"""Decay shapes after warmup: pure functions, factors relative to the peak; each states its formula.

Annealing shapes (``cosine``, ``linear``, ``polynomial``, ``tanh``) take the decay progress ``p`` in
``[0, 1]`` and go from ``peak`` (1 unless a restart cycle lowered it) to the end factor ``m``.
Step-count shapes (``exponential``, ``step``, ``multistep``, ``inverse_sqrt``) take the updates
since the decay started (``multistep``: since the start of training). Cooldown shapes (the final
decay of ``wsd``) are in :mod:`.cooldowns`.

Each family is ONE entry of :data:`FAMILIES` (a :class:`Family`): the options it reads, their check,
the factory of its ``decay(k)`` and ``f(T)``, and whether it ends at ``end_factor``. Every other table
(``DECAY_TYPES``, the checks' option table, the help text, the CLI's choices, fastai's momentum
mirror, the tuning space) is derived from it, so a new decay is one entry here.
"""

from __future__ import annotations

import dataclasses
import math
from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from . import _checks, _parts
from ._parts import Factor, Fields
from .cooldowns import COOLDOWN_TYPES, cooldown

__all__ = [
    "ANNEALING_TYPES",
    "COOLDOWN_TYPES",
    "DECAY_TYPES",
    "FAMILIES",
    "Family",
    "cooldown",
    "cosine",
    "cosine_wave",
    "exponential",
    "hard_restarts",
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


def cosine_wave(p: float, end: float, cycles: float, peak: float = 1.0) -> float:
    """``end + (peak - end) * (1 + cos(2 pi cycles p)) / 2``: transformers' cosine with ``num_cycles``; it
    reaches ``end`` at ``p = 1 / (2 cycles)`` and rises again for ``cycles > 0.5``.

    >>> cosine_wave(0.5, 0.0, 1.0)
    0.0
    >>> cosine_wave(1.0, 0.0, 1.0)
    1.0
    """
    return end + (peak - end) * ((1 + math.cos(math.pi * cycles * 2.0 * p)) / 2)  # transformers' order


def hard_restarts(p: float, end: float, cycles: float, peak: float = 1.0) -> float:
    """``end + (peak - end) * (1 + cos(pi * ((cycles * p) mod 1))) / 2``: transformers' hard restarts, a whole
    half-cosine per cycle, the last one cut short at ``p = 1`` when ``cycles`` is fractional.

    >>> hard_restarts(0.25, 0.0, 2.0)
    0.5
    >>> hard_restarts(0.5, 0.0, 2.0)
    1.0
    """
    return end + (peak - end) * ((1 + math.cos(math.pi * ((cycles * p) % 1.0))) / 2)


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


# ------------------------------------------------------------------------------------ the families
Check = Callable[[Fields], Fields]
Factory = Callable[[Any, "float | None"], "tuple[Factor, float]"]
n = _checks.number
_CYCLE_OPTIONS = ("cycle_steps", "cycle_mul", "cycle_decay", "cycle_limit", "cycle_warmup")
_COOLDOWN_OPTIONS = (
    "cooldown_steps",
    "cooldown_fraction",
    "cooldown_type",
    "cooldown_power",
    "cooldown_ratio",
    "num_cycles",
)


def _always(spec: Mapping[str, Any]) -> bool:
    return True


def _never(spec: Mapping[str, Any]) -> bool:
    return False


@dataclasses.dataclass(frozen=True)
class Family:
    """One decay family, whole: a new decay is one more entry in :data:`FAMILIES`.

    ``options``: the fields it reads (any other decay option must be left unset); ``check(fields)``:
    those options checked and filled with their defaults (raises naming the field); ``factory(s, D)``:
    ``(decay(k), f(T))`` for a checked schedule ``s`` and decay span ``D`` (None if endless);
    ``ends_at_end_factor(spec)``: whether ``f(T) = end_factor`` for these options (fastai's momentum
    mirror ends such a decay at ``moms[2]``); ``needs_total``: ``total_steps`` is required;
    ``anneal``: for an annealing shape, ``shape(p, *args, peak)`` over progress ``p`` and the fields
    giving ``args`` (restarts apply to it); ``tunable``: offered by the tuning space, whose only decay
    option is ``end_factor``; ``summary``: one line for the help text.
    """

    options: tuple[str, ...]
    check: Check
    factory: Factory
    ends_at_end_factor: Callable[[Mapping[str, Any]], bool]
    summary: str
    needs_total: bool = False
    anneal: tuple[Callable[..., float], tuple[str, ...]] | None = None
    tunable: bool = False


def _constant_check(f: Fields) -> Fields:
    return {}


def _constant(s: Any, span: float | None) -> tuple[Factor, float]:
    return (lambda k: 1.0), 1.0


def _annealing_check(f: Fields) -> Fields:
    """cosine, linear, polynomial, tanh: an end factor, the shape's own options, restarts."""
    out = _parts.end_factor(f)
    options = FAMILIES[f["decay_type"]].options
    if "k_decay" in options:
        out["k_decay"] = float(n("k_decay", 1.0 if f["k_decay"] is None else f["k_decay"], low=0, low_open=True))
    if "power" in options:
        out["power"] = n("power", 1.0 if f["power"] is None else f["power"], low=0, low_open=True)
    if "tanh_lb" in options:
        lb = out["tanh_lb"] = n("tanh_lb", -7.0 if f["tanh_lb"] is None else f["tanh_lb"])
        ub = out["tanh_ub"] = n("tanh_ub", 3.0 if f["tanh_ub"] is None else f["tanh_ub"])
        if lb >= ub:
            raise ValueError(f"tanh_lb must be < tanh_ub, got {lb} and {ub}")
    return {**out, **_parts.cycle_options(f)}


def _annealing(s: Any, span: float | None) -> tuple[Factor, float]:
    """The family's shape from the peak to ``m`` over ``D`` (one cycle), or over restart cycles."""
    shape, arg_names = FAMILIES[s.decay_type].anneal  # type: ignore[misc]
    args = tuple(getattr(s, name) for name in arg_names)
    if s.cycle_steps is not None:
        return _parts.restart_cycles(s, shape, args)
    offset, k_decay = _parts.clock(s), s.k_decay
    if span is not None and span > 0 and (k_decay is None or k_decay == 1):

        def decay(k: float) -> float:
            return shape((k - offset) / span, *args)

    else:

        def decay(k: float) -> float:
            return shape(_parts.progress(k - offset, span, k_decay), *args)

    return decay, s.end_factor  # an annealing decay ends at m (tanh's formula stops short of it)


def _exponential_check(f: Fields) -> Fields:
    if (f["gamma"] is None) == (f["end_factor"] is None):
        raise ValueError("decay_type='exponential' needs exactly one of gamma (per update) or end_factor")
    if f["gamma"] is not None:
        return {"gamma": n("gamma", f["gamma"], low=0, high=1, low_open=True)}
    if f["total_steps"] is None:
        raise ValueError("total_steps is required for decay_type='exponential' with end_factor")
    out = _parts.end_factor(f)
    if out["end_factor"] == 0:
        raise ValueError("end_factor must be > 0 for decay_type='exponential' (an exponential never hits 0)")
    return out


def _exponential(s: Any, span: float | None) -> tuple[Factor, float]:
    offset, gamma, m = _parts.clock(s), s.gamma, s.end_factor
    if gamma is not None:
        decay: Factor = lambda k: exponential(k - offset, gamma)  # noqa: E731
    else:
        decay = lambda k: m ** ((k - offset) / span) if span > 0 else 1.0  # noqa: E731
    return decay, _parts.at_total(s, decay)


def _without_gamma(spec: Mapping[str, Any]) -> bool:
    return spec.get("gamma") is None


def _step_check(f: Fields) -> Fields:
    if f["step_size"] is None:
        raise ValueError("step_size is required for decay_type='step'")
    return {**_parts.gamma(f), "step_size": n("step_size", f["step_size"], low=0, low_open=True)}


def _step(s: Any, span: float | None) -> tuple[Factor, float]:
    offset = _parts.clock(s)

    def decay(k: float) -> float:
        return step(k - offset, s.gamma, s.step_size)

    return decay, _parts.at_total(s, decay)


def _multistep_check(f: Fields) -> Fields:
    if f["milestones"] is None:
        raise ValueError("milestones is required for decay_type='multistep'")
    milestones = _checks.numbers_nondecreasing("milestones", f["milestones"], low=0)
    if f["warmup_prefix"] and milestones[0] <= f["warmup_steps"]:
        raise ValueError(
            f"milestones must lie after the warmup (> warmup_steps={f['warmup_steps']}), got "
            f"{list(milestones)}; milestones count updates from the start of training"
        )
    return {**_parts.gamma(f), "milestones": milestones}


def _multistep(s: Any, span: float | None) -> tuple[Factor, float]:
    def decay(k: float) -> float:
        return multistep(k, s.gamma, s.milestones)  # milestones count from k = 0, as in torch

    return decay, _parts.at_total(s, decay)


def _inverse_sqrt_check(f: Fields) -> Fields:
    timescale = f["warmup_steps"] if f["timescale"] is None else f["timescale"]
    if f["timescale"] is None and timescale == 0:
        raise ValueError("decay_type='inverse_sqrt' without warmup needs a timescale > 0")
    out = {"end_factor": _inverse_sqrt_floor(f), "timescale": n("timescale", timescale, low=0, low_open=True)}
    if f["cooldown_steps"] is None and f["cooldown_fraction"] is None:
        for name in ("cooldown_type", "cooldown_power", "cooldown_ratio", "num_cycles"):
            if f[name] is not None:
                raise ValueError(f"{name} needs cooldown_steps or cooldown_fraction")
        return out
    return {**out, **_parts.cooldown_options(f, default_type="linear")}


def _inverse_sqrt_floor(f: Fields) -> float:
    """inverse_sqrt's ``end_factor`` is a floor under its fall from the peak: in [0, 1] (above, no decay is left)."""
    m = _parts.end_factor(f)["end_factor"]
    if m > 1:
        raise ValueError(
            f"end_factor must be in [0, 1] for decay_type='inverse_sqrt', where it is a floor under the decay from "
            f"the peak (1), got {f['end_factor']!r}"
        )
    return m


def _inverse_sqrt(s: Any, span: float | None) -> tuple[Factor, float]:
    offset, m = _parts.clock(s), s.end_factor
    return _parts.with_cooldown(s, span, lambda k: max(inverse_sqrt(k - offset, s.timescale), m))


def _cosine_wave_check(f: Fields) -> Fields:
    cycles = 0.5 if f["num_cycles"] is None else f["num_cycles"]
    return {**_parts.end_factor(f), "num_cycles": _checks.periods("num_cycles", cycles)}


def _hard_restarts_check(f: Fields) -> Fields:
    cycles = 1.0 if f["num_cycles"] is None else f["num_cycles"]  # 0 cycles: the peak until T (transformers')
    return {**_parts.end_factor(f), "num_cycles": n("num_cycles", cycles, low=0)}


def _cycles_family(shape: Callable[..., float]) -> Factory:
    def factory(s: Any, span: float | None) -> tuple[Factor, float]:
        offset, m, cycles = _parts.clock(s), s.end_factor, s.num_cycles

        def decay(k: float) -> float:
            return shape(_parts.progress(k - offset, span, None), m, cycles)

        return decay, (m if shape is hard_restarts else decay(s.total_steps))  # a restart ends at m at T

    return factory


def _wsd_check(f: Fields) -> Fields:
    return {**_parts.end_factor(f), **_parts.cooldown_options(f, default_type="1-sqrt", default_fraction=0.2)}


def _wsd(s: Any, span: float | None) -> tuple[Factor, float]:
    return _parts.with_cooldown(s, span, lambda k: 1.0)


def _annealing_family(
    shape: Callable[..., float],
    args: tuple[str, ...],
    summary: str,
    *,
    extra: tuple[str, ...] = (),
    tunable: bool = False,
) -> Family:
    """An annealing family: ``shape(p, *args, peak)`` from the peak to ``end_factor`` over ``T - W``, with
    restarts; it reads ``args``, then ``extra`` (``k_decay``), then the cycle options, and ends at ``end_factor``."""
    return Family(
        (*args, *extra, *_CYCLE_OPTIONS),
        _annealing_check,
        _annealing,
        _always,
        summary,
        needs_total=True,
        anneal=(shape, args),
        tunable=tunable,
    )


FAMILIES: dict[str, Family] = {
    "constant": Family((), _constant_check, _constant, _never, "the peak for ever", tunable=True),
    "cosine": _annealing_family(
        cosine, ("end_factor",), "half a cosine from the peak to end_factor", extra=("k_decay",), tunable=True
    ),
    "linear": _annealing_family(linear, ("end_factor",), "a straight line from the peak to end_factor", tunable=True),
    "polynomial": _annealing_family(
        polynomial,
        ("end_factor", "power"),
        "(1 - p) ** power from the peak to end_factor",
        extra=("k_decay",),
        tunable=True,
    ),
    "tanh": _annealing_family(tanh, ("end_factor", "tanh_lb", "tanh_ub"), "timm's tanh from the peak to end_factor"),
    "cosine_wave": Family(
        ("end_factor", "num_cycles"),
        _cosine_wave_check,
        _cycles_family(cosine_wave),
        _never,
        "transformers' cosine with num_cycles: down to end_factor and, past half a period, up again; held at T",
        needs_total=True,
    ),
    "hard_restarts": Family(
        ("end_factor", "num_cycles"),
        _hard_restarts_check,
        _cycles_family(hard_restarts),
        _always,
        "transformers' hard restarts: num_cycles half-cosines (a fraction cuts the last one), end_factor at T",
        needs_total=True,
    ),
    "exponential": Family(
        ("end_factor", "gamma"),
        _exponential_check,
        _exponential,
        _without_gamma,
        "gamma per update, or down to end_factor at T",
        tunable=True,
    ),
    "step": Family(("gamma", "step_size"), _step_check, _step, _never, "gamma every step_size updates"),
    "multistep": Family(("gamma", "milestones"), _multistep_check, _multistep, _never, "gamma at each milestone"),
    "inverse_sqrt": Family(
        ("end_factor", "timescale", *_COOLDOWN_OPTIONS),
        _inverse_sqrt_check,
        _inverse_sqrt,
        _never,
        "(1 + d / timescale) ** -0.5, floored at end_factor, optionally with a cooldown",
    ),
    "wsd": Family(
        ("end_factor", *_COOLDOWN_OPTIONS),
        _wsd_check,
        _wsd,
        _always,
        "the peak, then a cooldown to end_factor",
        needs_total=True,
        tunable=True,
    ),
}
"""Every decay family, by ``decay_type`` name; the first is the default."""

DECAY_TYPES: tuple[str, ...] = tuple(FAMILIES)
ANNEALING_TYPES: tuple[str, ...] = tuple(name for name, family in FAMILIES.items() if family.anneal is not None)
DECAY_OPTIONS: dict[str, tuple[str, ...]] = {name: family.options for name, family in FAMILIES.items()}
"""The options each decay reads."""


def decays_reading(option: str) -> list[str]:
    """The decay families that read ``option``, in table order."""
    return [name for name, family in FAMILIES.items() if option in family.options]


def ends_at_end_factor(spec: Mapping[str, Any]) -> bool:
    """Whether the decay of ``spec`` (a schedule's keyword arguments) ends at its ``end_factor``; False for
    a name that is not a decay (the schedule's own check then names it)."""
    name = spec.get("decay_type", DECAY_TYPES[0])
    family = FAMILIES.get(name) if isinstance(name, str) else None
    return family is not None and family.ends_at_end_factor(spec)

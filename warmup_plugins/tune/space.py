"""The warmup search space as plain data, and its two Optuna forms: ``suggest_schedule`` and ``grid``.

A :class:`SearchSpace` lists the choices and ranges; every one is checked when the space is built,
so a bad space fails before any trial runs. ``suggest_schedule(trial, total_steps=T, space=...)``
asks the trial for one value of each parameter (always all of them, so that Optuna's
``GridSampler`` and its parameter importances see one flat space) and returns a
:class:`Suggestion` any adapter takes. With ``T`` the total updates:

* ``warmup_type``: one of :data:`WARMUP_CHOICES`; ``'untuned'`` is ``warmup_type='untuned_linear'``
  (``W = 2 / (1 - beta2)`` updates from the optimizer, start ``1 / W``; a trial whose untuned warmup
  cannot fit the run is pruned with a one-line reason), ``'adaptive'`` a linear
  warmup of the suggested length driven by an :class:`~warmup_plugins.AdaptiveWarmup`;
* ``warmup_fraction`` (``W = round(fraction * T)`` updates, at least 1) or ``warmup_steps`` (``W``);
  ``'none'`` and ``'untuned'`` ignore it;
* ``start_factor`` (log scale): ``f(0)``, the first update's LR over the peak;
* ``decay_type`` (one of :data:`DECAY_CHOICES`) and ``end_factor`` (``f(T)``; ``'constant'`` ignores it);
* ``peak_lr`` (log scale), beside the schedule: the base LR the adapters multiply by ``f(k)``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import optuna

from .._errors import owned
from ..core import _checks
from ..core.decays import FAMILIES
from ..core.request import ScheduleRequest
from ..core.schedule import WarmupSchedule
from ..core.untuned import untuned_warmup_steps
from ..core.warmups import WARMUP_SHAPES
from ..extensions.adaptive import AdaptiveWarmup
from ..extensions.untuned import beta2_of

__all__ = ["DECAY_CHOICES", "WARMUP_CHOICES", "SearchSpace", "Suggestion", "grid", "suggest_schedule"]

_SHAPED = tuple(name for name, shape in WARMUP_SHAPES.items() if shape.tunable)
WARMUP_CHOICES = ("none", *_SHAPED, "untuned", "adaptive")
DECAY_CHOICES = tuple(name for name, family in FAMILIES.items() if family.tunable)  # end_factor their only option
Range = tuple[float, float]


def _range(name: str, value: object, low: float, high: float | None, *, integer: bool = False) -> Range:
    """A ``(low, high)`` pair inside ``[low, high]``; ``low == high`` fixes the value, ``low > high`` is empty."""
    if isinstance(value, str) or not isinstance(value, Sequence) or len(value) != 2:
        raise TypeError(f"{name} must be a (low, high) pair, got {value!r}")
    check = _checks.integer if integer else _checks.number
    bounds = {"low": low} if integer else {"low": low, "high": high}
    lo, hi = (check(f"{name}[{i}]", v, **bounds) for i, v in enumerate(value))
    if lo > hi:
        raise ValueError(f"{name} is an empty range: low {lo!r} > high {hi!r}")
    return lo, hi


def _choices(name: str, value: object, allowed: tuple[str, ...]) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise TypeError(f"{name} must be a list of names from {list(allowed)}, got {value!r}")
    if not value:
        raise ValueError(f"{name} is empty: give at least one of {list(allowed)}")
    unknown = [v for v in value if v not in allowed]
    if unknown:
        raise ValueError(f"{name}: unknown {unknown}; allowed are {list(allowed)}")
    return tuple(dict.fromkeys(value))


@dataclass(frozen=True)
class SearchSpace:
    """The choices and ``(low, high)`` ranges searched; ``low == high`` fixes a value.

    Give the warmup length either as ``warmup_fraction`` of the run (default) or as ``warmup_steps``
    in updates, not both. ``log_warmup`` samples the length on a log scale. ``peak_lr=None`` leaves
    the LR to the caller (``Suggestion.peak_lr`` is then None).
    """

    warmup_types: tuple[str, ...] = WARMUP_CHOICES
    warmup_fraction: Range | None = (0.01, 0.3)
    warmup_steps: tuple[int, int] | None = None
    log_warmup: bool = False
    start_factor: Range = (0.001, 0.1)
    decay_types: tuple[str, ...] = ("cosine",)
    end_factor: Range = (0.0, 0.0)
    peak_lr: Range | None = (1e-4, 1e-1)

    def __post_init__(self) -> None:
        put = object.__setattr__
        put(self, "warmup_types", _choices("warmup_types", self.warmup_types, WARMUP_CHOICES))
        put(self, "decay_types", _choices("decay_types", self.decay_types, DECAY_CHOICES))
        log = _checks.boolean("log_warmup", self.log_warmup)
        if (self.warmup_fraction is None) == (self.warmup_steps is None):
            raise ValueError("give exactly one of warmup_fraction (of the run) and warmup_steps (updates)")
        if self.warmup_fraction is not None:
            lo, hi = _range("warmup_fraction", self.warmup_fraction, 0, 1)
            if log and lo == 0:
                raise ValueError("warmup_fraction must start above 0 with log_warmup=True")
            put(self, "warmup_fraction", (lo, hi))
        else:
            lo, hi = _range("warmup_steps", self.warmup_steps, int(log), None, integer=True)
            put(self, "warmup_steps", (lo, hi))
        start = _range("start_factor", self.start_factor, 0, 1)
        if start[0] == 0:
            raise ValueError("start_factor is searched on a log scale: its low end must be above 0, got 0")
        put(self, "start_factor", start)
        end = _range("end_factor", self.end_factor, 0, 1)
        if "exponential" in self.decay_types and end[0] == 0:
            raise ValueError("decay_types has 'exponential', which never reaches 0: end_factor must start above 0")
        put(self, "end_factor", end)
        if self.peak_lr is not None:
            lr = _range("peak_lr", self.peak_lr, 0, None)
            if lr[0] == 0:
                raise ValueError("peak_lr is searched on a log scale: its low end must be above 0, got 0")
            put(self, "peak_lr", lr)

    @property
    def length_param(self) -> str:
        """The name of the warmup-length parameter: ``'warmup_fraction'`` or ``'warmup_steps'``."""
        return "warmup_fraction" if self.warmup_fraction is not None else "warmup_steps"

    def check(self, total_steps: int) -> int:
        """Check the space against a run of ``total_steps`` updates; returns ``total_steps``."""
        total = _checks.integer("total_steps", total_steps, low=1)
        if self.warmup_steps is not None and self.warmup_steps[1] > total:
            raise ValueError(f"warmup_steps reaches {self.warmup_steps[1]}, beyond total_steps ({total})")
        return total

    def to_dict(self) -> dict[str, Any]:
        """Plain data (lists for tuples): log it, or rebuild the space with :meth:`from_dict`."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SearchSpace:
        if not isinstance(data, Mapping):
            raise TypeError(f"a search space must be a dict, got {type(data).__name__}")
        _checks.unknown_keys(data, [f.name for f in dataclasses.fields(cls)], "search-space keys")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


@dataclass(frozen=True)
class Suggestion:
    """One trial's warmup: hand ``scheduler_kwargs()`` to any adapter and use ``peak_lr`` as the base LR.

    ``WarmupLR(opt, **s.scheduler_kwargs())``, ``WarmupScheduler(opt, t_in_epochs=False, **s.scheduler_kwargs())``
    or ``WarmupCallback(**s.scheduler_kwargs())``. ``schedule_kwargs`` are the schedule's fields
    (``warmup_type='untuned_linear'`` for an untuned warmup, which the adapter completes from the
    optimizer's ``beta2``), the one :class:`~warmup_plugins.core.request.ScheduleRequest` every adapter
    builds from them (``request``); ``adaptive`` says whether a fresh :class:`AdaptiveWarmup` goes with them.
    """

    warmup_type: str
    schedule_kwargs: dict[str, Any] = field(hash=False)
    adaptive: bool
    peak_lr: float | None

    @property
    def request(self) -> ScheduleRequest:
        """``schedule_kwargs`` as the one request every adapter builds from them."""
        return ScheduleRequest(self.schedule_kwargs)

    @property
    def schedule(self) -> WarmupSchedule:
        """The :class:`WarmupSchedule`; not for ``'untuned'``, whose length needs the optimizer (``schedule_for``)."""
        if self.warmup_type == "untuned":
            raise ValueError(
                "an untuned warmup's length comes from the optimizer's beta2: pass scheduler_kwargs() to an adapter, "
                "or call schedule_for(optimizer)"
            )
        return self.request.resolve()

    @owned
    def schedule_for(self, optimizer: Any) -> WarmupSchedule:
        """The schedule for ``optimizer`` (an untuned warmup reads its ``beta2``), as an adapter resolves it."""
        groups = getattr(optimizer, "param_groups", None)
        if groups is None:
            raise TypeError(f"optimizer must have param_groups, got {type(optimizer).__name__}")
        request = self.request
        return request.resolve(beta2=beta2_of(groups) if request.untuned else None)

    def scheduler_kwargs(self) -> dict[str, Any]:
        """The adapters' keyword arguments: the schedule's fields, plus ``adaptive=AdaptiveWarmup()`` if adaptive.

        Call it once per scheduler: each call gives a fresh ``AdaptiveWarmup``, and two schedulers sharing one
        would both move its clock."""
        return {**self.schedule_kwargs, **({"adaptive": AdaptiveWarmup()} if self.adaptive else {})}

    @property
    def warmup_steps(self) -> int | None:
        """The nominal warmup length in updates (None for ``'untuned'``: it depends on the optimizer)."""
        return self.schedule_kwargs.get("warmup_steps")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def suggest_schedule(
    trial: Any, *, total_steps: int, space: SearchSpace | None = None, beta2: float = 0.999, **space_fields: Any
) -> Suggestion:
    """Ask ``trial`` for a warmup over ``total_steps`` updates from ``space`` (or ``SearchSpace(**space_fields)``).

    Every parameter is suggested in every trial (see the module docs for their meaning). The result is
    also kept in ``trial.user_attrs['suggestion']``, so a report can read the warmup each trial really used.
    ``beta2`` is the optimizer's (Adam's default 0.999): an ``'untuned'`` warmup of ``2 / (1 - beta2)`` updates
    that is longer than the run is skipped, the trial pruned with a one-line reason in ``user_attrs['pruned_by']``.
    """
    if space is None:
        space = SearchSpace(**space_fields)
    elif space_fields:
        raise TypeError(f"pass a SearchSpace or its fields, not both (got {sorted(space_fields)})")
    elif not isinstance(space, SearchSpace):
        raise TypeError(f"space must be a SearchSpace, got {type(space).__name__}")
    total = space.check(total_steps)
    kind = trial.suggest_categorical("warmup_type", space.warmup_types)
    if space.warmup_fraction is not None:
        fraction = trial.suggest_float("warmup_fraction", *space.warmup_fraction, log=space.log_warmup)
        length = min(total, max(1, round(fraction * total)))
    else:
        length = max(1, trial.suggest_int("warmup_steps", *space.warmup_steps, log=space.log_warmup))
    start = trial.suggest_float("start_factor", *space.start_factor, log=True)
    decay = trial.suggest_categorical("decay_type", space.decay_types)
    end = trial.suggest_float("end_factor", *space.end_factor)
    peak = None if space.peak_lr is None else trial.suggest_float("peak_lr", *space.peak_lr, log=True)
    kwargs: dict[str, Any] = {"total_steps": total, "decay_type": decay}
    if decay != "constant":
        kwargs["end_factor"] = end
    if kind == "none":
        kwargs.update(warmup_type="none", warmup_steps=0)
    elif kind == "untuned":
        _skip_if_longer(trial, untuned_warmup_steps(beta2) - 1, total, f"2 / (1 - beta2) - 1 for beta2 {beta2:g}")
        kwargs.update(warmup_type="untuned_linear")
    else:
        kwargs.update(warmup_type="linear" if kind == "adaptive" else kind, warmup_steps=length, start_factor=start)
    suggestion = Suggestion(kind, kwargs, kind == "adaptive", peak)
    trial.set_user_attr("suggestion", suggestion.to_dict())
    return suggestion


def _skip_if_longer(trial: Any, warmup: int, total: int, why: str) -> None:
    """Prune ``trial`` (one line, no traceback) when a warmup of ``warmup`` updates cannot fit ``total``."""
    if warmup > total:
        reason = f"skipped: the untuned warmup ({warmup} updates, {why}) is longer than the {total}-update run"
        trial.set_user_attr("pruned_by", reason)
        raise optuna.TrialPruned(reason)


def _points(low: float, high: float, n: int, log: bool, integer: bool = False) -> list[float]:
    if low == high:
        return [low]
    if log:
        values = [math.exp(math.log(low) + (math.log(high) - math.log(low)) * i / (n - 1)) for i in range(n)]
    else:
        values = [low + (high - low) * i / (n - 1) for i in range(n)]
    return sorted({round(v) for v in values}) if integer else [float(f"{v:.6g}") for v in values]


def _given(name: str, values: object, low: float, high: float, integer: bool = False) -> list[Any]:
    """The chosen grid values, each of the parameter's type (an int for ``warmup_steps``) inside ``[low, high]``."""
    if isinstance(values, str) or not isinstance(values, Sequence) or not values:
        raise ValueError(f"grid: {name} must be a non-empty list of values, got {values!r}")
    for v in values:
        if integer:  # the trial would run int(v) updates while its params record v
            _checks.integer(f"grid: {name} (a whole number of updates)", v, low=low)
        _checks.number(f"grid: {name}", v, low=low, high=high)
    return list(values)


def grid(space: SearchSpace | None = None, *, points: int = 3, **values: Sequence[Any]) -> dict[str, list[Any]]:
    """The space as a grid for ``optuna.samplers.GridSampler``: ``{parameter: [values]}``.

    By default every choice of ``warmup_types`` and ``decay_types``, and ``points`` values across each
    range (evenly spaced; log-spaced for ``start_factor`` and ``peak_lr``; one value for a fixed range).
    Give a parameter's values as a keyword (``peak_lr=[1e-3, 3e-3]``) to choose them; each must lie
    in the space. The grid is a full product: ``'none'`` and ``'untuned'`` ignore the length and start
    factor, so their cells repeat once per length and start factor.
    """
    space = SearchSpace() if space is None else space
    if not isinstance(space, SearchSpace):
        raise TypeError(f"space must be a SearchSpace, got {type(space).__name__}")
    points = _checks.integer("points", points, low=2)
    ranges: dict[str, tuple[Any, Any, bool]] = {
        space.length_param: (*getattr(space, space.length_param), space.log_warmup),
        "start_factor": (*space.start_factor, True),
        "end_factor": (*space.end_factor, False),
    }
    if space.peak_lr is not None:
        ranges["peak_lr"] = (*space.peak_lr, True)
    names = ["warmup_type", space.length_param, "start_factor", "decay_type", "end_factor", "peak_lr"]
    unknown = sorted(set(values) - set(names) - set(ranges))
    if unknown:
        valid = [n for n in names if n in ranges or n in ("warmup_type", "decay_type")]
        raise TypeError(f"grid: unknown parameters {unknown}; this space's parameters are {valid}")
    out: dict[str, list[Any]] = {}
    for name in names:
        if name in ("warmup_type", "decay_type"):
            allowed = space.warmup_types if name == "warmup_type" else space.decay_types
            out[name] = list(_choices(f"grid: {name}", values[name], allowed)) if name in values else list(allowed)
        elif name in ranges:
            low, high, log = ranges[name]
            integer = name == "warmup_steps"
            out[name] = (
                _given(name, values[name], low, high, integer)
                if name in values
                else _points(low, high, points, log, integer)
            )
    return out

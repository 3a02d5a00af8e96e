"""One schedule per param group: from a :class:`WarmupSchedule`, a list of them, or the user's keyword arguments.

Every adapter holds a tuple of schedules, one per group (:data:`Schedules`); most runs share one.
:func:`build_schedules` turns what the user passed into it, keyword arguments through one
:class:`~warmup_plugins.core.request.ScheduleRequest`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .core.request import ScheduleRequest
from .core.schedule import WarmupSchedule
from .extensions.untuned import beta2_of

__all__ = ["Schedules", "build_schedules", "per_group", "schedules_data", "shared"]

Schedules = tuple[WarmupSchedule, ...]


def build_schedules(schedule: object, kwargs: Mapping[str, Any], groups: Sequence[Mapping[str, Any]]) -> Schedules:
    """One schedule per param group, from ``schedule`` (one, or a list of one per group) or from keyword arguments.

    Keyword arguments are one :class:`~warmup_plugins.core.request.ScheduleRequest`: :class:`WarmupSchedule`
    fields, with lengths in updates or in epochs (``warmup_epochs=``, ... with ``steps_per_epoch=``); an
    untuned ``warmup_type`` reads its length from the groups' ``beta2``.
    """
    if schedule is None:
        request = ScheduleRequest(kwargs)
        schedule = request.resolve(beta2=beta2_of(groups) if request.untuned else None)
    elif kwargs:
        raise TypeError(f"pass a WarmupSchedule or its keyword arguments, not both (got {sorted(kwargs)})")
    return per_group(schedule, len(groups))


def per_group(schedule: object, n_groups: int) -> Schedules:
    """``(schedule,) * n_groups`` for one schedule; a list is checked to hold ``n_groups`` schedules."""
    if isinstance(schedule, WarmupSchedule):
        return (schedule,) * n_groups
    is_list = isinstance(schedule, Sequence) and not isinstance(schedule, str) and schedule
    if is_list and all(isinstance(s, WarmupSchedule) for s in schedule):
        if len(schedule) != n_groups:
            raise ValueError(f"got {len(schedule)} schedules for {n_groups} param groups")
        return tuple(schedule)
    raise TypeError(
        "schedule must be a WarmupSchedule or a list of them (one per param group), "
        f"got {type(schedule).__name__} {schedule!r}"[:300]
    )


def shared(schedules: Schedules) -> WarmupSchedule | Schedules:
    """The one schedule every group shares, or the per-group tuple when they differ."""
    first = schedules[0]
    return first if all(s is first or s == first for s in schedules) else schedules


def schedules_data(schedules: Schedules) -> dict[str, Any] | list[dict[str, Any]]:
    """Plain data: one dict when every group shares the schedule, else one per group."""
    if all(s is schedules[0] or s == schedules[0] for s in schedules):
        return schedules[0].to_dict()
    return [s.to_dict() for s in schedules]

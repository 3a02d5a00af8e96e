"""What every adapter shares: building the schedule(s) from arguments, reading base values from
parameter groups and writing scheduled values back (Tensor values in place)."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import torch

from .core import _checks
from .core.schedule import WarmupSchedule, is_epoch_argument
from .extensions.untuned import resolve_untuned

Schedules = WarmupSchedule | tuple[WarmupSchedule, ...]
_FIELDS = frozenset(f.name for f in dataclasses.fields(WarmupSchedule))


def build_schedule(
    schedule: object, kwargs: Mapping[str, Any], owner: str, groups: Sequence[Mapping[str, Any]] = ()
) -> Schedules:
    """One schedule, or one per parameter group, from ``schedule`` or from keyword arguments.

    Keyword arguments are :class:`WarmupSchedule` fields, or its ``from_epochs`` arguments
    (``warmup_epochs=``, ``total_epochs=``, ``steps_per_epoch=``, ...) for lengths in epochs; an
    untuned ``warmup_type`` reads its length from the ``beta2`` of ``groups``.
    """
    if schedule is not None:
        if kwargs:
            raise TypeError(f"{owner}: pass a WarmupSchedule or its keyword arguments, not both (got {sorted(kwargs)})")
        if isinstance(schedule, WarmupSchedule):
            return schedule
        is_list = isinstance(schedule, Sequence) and not isinstance(schedule, str) and schedule
        if is_list and all(isinstance(s, WarmupSchedule) for s in schedule):
            return tuple(schedule)
        raise TypeError(
            f"{owner}: schedule must be a WarmupSchedule or a list of them (one per param group), "
            f"got {type(schedule).__name__}"
        )
    kwargs = resolve_untuned(kwargs, groups, owner)
    unknown = sorted(k for k in kwargs if k not in _FIELDS and not is_epoch_argument(k))
    if unknown:
        raise TypeError(
            f"{owner}: unknown schedule arguments {unknown}; valid ones are {sorted(_FIELDS)} or their epoch forms"
        )
    if any(is_epoch_argument(k) for k in kwargs):
        if "steps_per_epoch" not in kwargs:
            raise ValueError(f"{owner}: lengths in epochs need steps_per_epoch (optimizer updates per epoch)")
        return WarmupSchedule.from_epochs(**kwargs)
    return WarmupSchedule(**kwargs)


def per_group(schedules: Schedules, n_groups: int, owner: str) -> tuple[WarmupSchedule, ...]:
    """Expand to one schedule per group, checking a per-group list has the right length."""
    if isinstance(schedules, WarmupSchedule):
        return (schedules,) * n_groups
    if len(schedules) != n_groups:
        raise ValueError(f"{owner}: got {len(schedules)} schedules for {n_groups} param groups")
    return schedules


def schedules_to_data(schedules: Schedules) -> dict[str, Any] | list[dict[str, Any]]:
    if isinstance(schedules, WarmupSchedule):
        return schedules.to_dict()
    return [s.to_dict() for s in schedules]


def schedules_from_data(data: object) -> Schedules:
    if isinstance(data, Mapping):
        return _saved_schedule(data)
    if isinstance(data, list) and data and all(isinstance(d, Mapping) for d in data):
        return tuple(_saved_schedule(d) for d in data)
    raise TypeError(f"'schedule' in a state dict must be a dict or a list of dicts, got {type(data).__name__}")


def _saved_schedule(data: Mapping[str, Any]) -> WarmupSchedule:
    """A schedule from a state dict: ``to_dict`` wrote every field, so a missing one is an error, not a default."""
    missing = sorted(_FIELDS - set(data))
    if missing:
        raise KeyError(f"a schedule in a state dict is missing the fields {missing}")
    return WarmupSchedule.from_dict(data)


def read_value(group: Mapping[str, Any], key: str, index: int, owner: str) -> float:
    """``group[key]`` as a float (``betas[0]`` for ``key='beta1'``), or a clear error."""
    if key == "beta1":
        betas = group.get("betas")
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise KeyError(f"{owner}: param_groups[{index}] has no 'betas' pair for beta1 (got {betas!r})")
        value = betas[0]
    elif key not in group:
        keys = sorted(k for k in group if k != "params")
        raise KeyError(f"{owner}: param_groups[{index}] has no {key!r} (its keys: {keys})")
    else:
        value = group[key]
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            shape = tuple(value.shape)
            raise ValueError(f"{owner}: param_groups[{index}][{key!r}] must be a scalar Tensor, got shape {shape}")
        value = value.item()
    return float(_checks.number(f"param_groups[{index}][{key!r}]", value, low=0))


def check_range(
    groups: Sequence[Mapping[str, Any]], key: str, bases: Sequence[float], schedules: Schedules, owner: str
) -> None:
    """Every ``base * f(k)`` must fit the group's value: a float, or the dtype of a Tensor value (float32 ...)."""
    for i, (group, base, schedule) in enumerate(zip(groups, bases, per_group(schedules, len(groups), owner))):
        current = group.get("betas", (None,))[0] if key == "beta1" else group.get(key)
        is_tensor = isinstance(current, torch.Tensor) and current.is_floating_point()
        limit = torch.finfo(current.dtype).max if is_tensor else sys.float_info.max
        if base * schedule.max_factor > limit:
            raise ValueError(
                f"{owner}: param_groups[{i}]: the base {key} {base:g} times the schedule's largest factor "
                f"{schedule.max_factor:g} exceeds {limit:g}, the largest value the group's {key!r} can hold"
            )


def write_values(groups: Sequence[dict[str, Any]], key: str, values: Sequence[float]) -> None:
    """Write ``values`` into ``groups[i][key]``; Tensors are filled in place, keeping their identity."""
    if key == "beta1":
        for group, value in zip(groups, values):
            betas = group["betas"]
            if isinstance(betas[0], torch.Tensor):
                betas[0].fill_(value)
            else:
                group["betas"] = (value, *betas[1:])
        return
    for group, value in zip(groups, values):
        current = group[key]
        if current.__class__ is float or not isinstance(current, torch.Tensor):  # float first: it is cheaper
            group[key] = value
        else:
            current.fill_(value)


def new_schedule(
    schedule: object, groups: Sequence[Mapping[str, Any]], key: str, bases: Sequence[float], owner: str
) -> tuple[Schedules, tuple[WarmupSchedule, ...]]:
    """A replacement schedule for ``set_schedule``: checked, expanded per group and checked against the bases."""
    if schedule is None:
        raise TypeError(f"{owner}: schedule must be a WarmupSchedule or a list of them, got None")
    schedule = build_schedule(schedule, {}, owner)
    factors = per_group(schedule, len(groups), owner)
    check_range(groups, key, bases, factors, owner)
    return schedule, factors

"""The one length resolver: schedule lengths given in epochs or as fractions of a fit, converted to updates once.

Every schedule length (``warmup_steps``, ``total_steps``, ``step_size``, ``milestones``, ``timescale``,
``cycle_steps``, ``cooldown_steps``) may be given in three units:

* updates: the field itself (``warmup_steps=500``);
* epochs: ``<name>_epochs`` (``warmup_epochs=5``), ``round(epochs * steps_per_epoch)`` updates, half up;
* a fraction of the fit: ``<name>_pct`` (``warmup_pct=0.1``), ``pct * fit_updates`` updates, not rounded
  (only the fastai adapter knows the fit's length).

>>> to_updates({"warmup_epochs": 2, "total_epochs": 10}, steps_per_epoch=391)
{'warmup_steps': 782, 'total_steps': 3910}
>>> to_updates({"warmup_pct": 0.25}, fit_updates=100)
{'warmup_steps': 25.0}
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from . import _checks

__all__ = ["EPOCH_LENGTHS", "PCT_LENGTHS", "check_forms", "to_updates"]

EPOCH_LENGTHS: dict[str, str] = {
    "warmup_epochs": "warmup_steps",
    "total_epochs": "total_steps",
    "step_size_epochs": "step_size",
    "milestone_epochs": "milestones",
    "timescale_epochs": "timescale",
    "cycle_epochs": "cycle_steps",
    "cooldown_epochs": "cooldown_steps",
}
PCT_LENGTHS: dict[str, str] = {
    "warmup_pct": "warmup_steps",
    "total_pct": "total_steps",
    "step_size_pct": "step_size",
    "milestone_pcts": "milestones",
    "timescale_pct": "timescale",
    "cycle_pct": "cycle_steps",
    "cooldown_pct": "cooldown_steps",
}
_FORMS = {step: (step, epoch, pct) for (epoch, step), pct in zip(EPOCH_LENGTHS.items(), PCT_LENGTHS)}


def _epochs_to_steps(name: str, epochs: object, steps_per_epoch: int) -> int:
    """``round(epochs * steps_per_epoch)``, half up."""
    value = _checks.number(name, epochs, low=0)
    return math.floor(_checks.finite_product(name, value, steps_per_epoch, "steps_per_epoch") + 0.5)


def _is_length_argument(name: str) -> bool:
    """True for an epoch or fraction form of a length (``warmup_epochs``, ``warmup_pct``, ...)."""
    return name in EPOCH_LENGTHS or name in PCT_LENGTHS


def _pct_values(name: str, value: object) -> list[float]:
    """The fractions of ``name`` (a list for ``milestone_pcts``), each a number in [0, 1]."""
    if name != "milestone_pcts":
        return [_checks.number(name, value, low=0, high=1)]
    return [_checks.number(f"{name}[{i}]", v, low=0, high=1) for i, v in enumerate(_sequence(name, value))]


def check_forms(kwargs: Mapping[str, Any]) -> None:
    """At most one unit per length (``warmup_steps`` or ``warmup_epochs`` or ``warmup_pct``); fractions in [0, 1];
    epoch lengths numbers >= 0. A :class:`~warmup_plugins.core.request.ScheduleRequest` calls it once."""
    for forms in _FORMS.values():
        given = [name for name in forms if kwargs.get(name) is not None]
        if len(given) > 1:
            raise TypeError(f"give one of {given}, not several: they are the same length in different units")
    for name in PCT_LENGTHS:
        if kwargs.get(name) is not None:
            _pct_values(name, kwargs[name])
    for name in EPOCH_LENGTHS:
        if kwargs.get(name) is not None:
            _epoch_values(name, kwargs[name])


def to_updates(
    kwargs: Mapping[str, Any], *, steps_per_epoch: object = None, fit_updates: float | None = None
) -> dict[str, Any]:
    """``kwargs`` (checked by :func:`check_forms`) with every epoch and fraction length converted to updates;
    other entries pass through.

    ``steps_per_epoch`` (optimizer updates per epoch) is needed only when an epoch length is given,
    ``fit_updates`` only for a fraction.
    """
    out = {k: v for k, v in kwargs.items() if not _is_length_argument(k)}
    for epoch_name, step_name in EPOCH_LENGTHS.items():
        value = kwargs.get(epoch_name)
        if value is None:
            continue
        if steps_per_epoch is None:
            raise ValueError(f"{epoch_name} needs steps_per_epoch (optimizer updates per epoch)")
        per_epoch = _checks.integer("steps_per_epoch", steps_per_epoch, low=1)
        if step_name == "milestones":
            items = enumerate(_sequence(epoch_name, value))
            out[step_name] = [_epochs_to_steps(f"{epoch_name}[{i}]", v, per_epoch) for i, v in items]
        else:
            out[step_name] = _epochs_to_steps(epoch_name, value, per_epoch)
    for pct_name, step_name in PCT_LENGTHS.items():
        value = kwargs.get(pct_name)
        if value is None:
            continue
        if fit_updates is None:
            raise ValueError(f"{pct_name} is a fraction of a fit, which only the fastai adapter knows")
        steps = [p * fit_updates for p in _pct_values(pct_name, value)]
        out[step_name] = steps if step_name == "milestones" else steps[0]
    return out


def _epoch_values(name: str, value: object) -> list[float]:
    """The epochs of ``name`` (a list for ``milestone_epochs``), each a number >= 0."""
    if name != "milestone_epochs":
        return [_checks.number(name, value, low=0)]
    return [_checks.number(f"{name}[{i}]", v, low=0) for i, v in enumerate(_sequence(name, value))]


def _sequence(name: str, value: object) -> list[Any]:
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise TypeError(f"{name} must be a sequence of numbers, got {value!r}")
    return list(value)  # type: ignore[call-overload]

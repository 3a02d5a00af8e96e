"""One schedule request: the user's keyword arguments, checked once, resolved once into a :class:`WarmupSchedule`.

Every entry point hands the user's schedule keyword arguments to a :class:`ScheduleRequest` the moment they
arrive: ``WarmupLR``, ``WarmupParam`` and timm's ``WarmupScheduler`` (``warmup_plugins._schedules``), fastai's
``WarmupCallback``, timm's ``create_scheduler_v2``, the CLI, tune's ``Suggestion`` and
:meth:`WarmupSchedule.from_epochs`. The request takes, besides :class:`WarmupSchedule`'s fields:

* lengths in epochs (``warmup_epochs=5``, with ``steps_per_epoch=``) or, within a fit (fastai), as fractions
  of it (``warmup_pct=0.1``), see :mod:`.lengths`;
* an untuned warmup (``warmup_type='untuned_linear'``), whose length comes from Adam's ``beta2``, see
  :mod:`.untuned`.

It is **checked once**, when built: the names, the named choices, one unit per length, fractions in
``[0, 1]``, epochs ``>= 0``, what an untuned warmup sets itself. It is **resolved once**, by :meth:`resolve`,
when the run is known (updates per epoch, the fit's length, ``beta2``); :class:`WarmupSchedule` then checks the
fields it is given. Every error names the argument the user passed: a length converted from epochs, from a
fraction or from ``beta2`` is named in the user's words (``warmup_epochs=5 (1955 updates)``).

>>> request = ScheduleRequest({"warmup_epochs": 2, "total_epochs": 10, "decay_type": "cosine"})
>>> request.resolve(steps_per_epoch=391).warmup_steps
782
>>> ScheduleRequest({"warmup_pct": 0.1}, within_fit=True).resolve(fit_updates=1000).total_steps
1000
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
from collections.abc import Iterator, Mapping
from typing import Any

from . import _checks
from .choices import REQUEST_CHOICES
from .lengths import EPOCH_LENGTHS, PCT_LENGTHS, check_forms, to_updates
from .schedule import WarmupSchedule
from .untuned import SETS, UNTUNED_TYPES, untuned_fields

__all__ = ["ScheduleRequest", "check_fits_the_fit"]

FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(WarmupSchedule))
_WARMUP_FORMS = ("warmup_steps", "warmup_epochs", "warmup_pct")


@dataclasses.dataclass(frozen=True)
class ScheduleRequest:
    """A schedule as the user asked for it: ``arguments`` (keyword arguments), checked when built.

    ``within_fit=True`` (fastai's ``WarmupCallback``) allows lengths as fractions of the fit (``*_pct``)
    and takes ``steps_per_epoch`` from the fit, not from the arguments. ``named_as`` says, for a drop-in that
    maps another library's arguments onto the request, which of the user's arguments each request argument
    comes from (``{"warmup_steps": "warmup_epochs=5"}``): an error about it then names that argument too.
    """

    arguments: Mapping[str, Any]
    within_fit: bool = False
    named_as: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.arguments, Mapping):
            raise TypeError(f"schedule arguments must be a mapping, got {type(self.arguments).__name__}")
        arguments = dict(self.arguments)
        object.__setattr__(self, "arguments", arguments)
        object.__setattr__(self, "named_as", dict(self.named_as))
        _check_names(arguments, _checks.boolean("within_fit", self.within_fit))
        check_forms(arguments)
        with _Names(arguments, {}, self.named_as).noted():
            for name, choices in REQUEST_CHOICES.items():
                if arguments.get(name) is not None:
                    _checks.choice(name, arguments[name], choices)
        if self.untuned:
            kind = arguments["warmup_type"]
            given = sorted({name for name in (*_WARMUP_FORMS, *SETS[kind]) if name in arguments})
            if given:
                start = " and starts at 1 / W" if "start_factor" in SETS[kind] else ""
                raise TypeError(
                    f"warmup_type={kind!r} derives the warmup length from beta2 (W = 2 / (1 - beta2)){start}; "
                    f"do not pass {given}"
                )

    def __repr__(self) -> str:
        within = ", within_fit=True" if self.within_fit else ""
        named = f", named_as={self.named_as!r}" if self.named_as else ""
        return f"ScheduleRequest({self.arguments!r}{within}{named})"

    @property
    def untuned(self) -> bool:
        """True when the warmup's length comes from Adam's ``beta2`` (:meth:`resolve` needs it)."""
        return self.arguments.get("warmup_type") in UNTUNED_TYPES

    @property
    def in_epochs(self) -> bool:
        """True when a length is given in epochs (:meth:`resolve` needs the updates per epoch)."""
        return any(self.arguments.get(name) is not None for name in EPOCH_LENGTHS)

    def resolve(
        self, *, steps_per_epoch: object = None, fit_updates: float | None = None, beta2: float | None = None
    ) -> WarmupSchedule:
        """The :class:`WarmupSchedule`, for a run with ``steps_per_epoch`` optimizer updates per epoch (or the
        arguments' own), a fit of ``fit_updates`` updates (which is also the default ``total_steps``) and Adam's
        ``beta2`` (for an untuned warmup): epochs ``E`` become ``round(E * steps_per_epoch)`` updates, fractions
        ``p`` become ``p * fit_updates``."""
        arguments = dict(self.arguments)
        per_epoch = arguments.pop("steps_per_epoch", steps_per_epoch)
        fields = to_updates(arguments, steps_per_epoch=per_epoch, fit_updates=fit_updates)
        converted = {  # a length the request converted, as the user gave it
            EPOCH_LENGTHS.get(name, PCT_LENGTHS.get(name)): f"{name}={value!r}"
            for name, value in arguments.items()
            if name not in FIELDS and value is not None
        }
        if self.untuned:
            kind = fields["warmup_type"]
            if beta2 is None:
                raise ValueError(f"warmup_type={kind!r} needs Adam's beta2 (W = 2 / (1 - beta2))")
            fields.update(untuned_fields(kind, beta2))
            converted.update(dict.fromkeys(SETS[kind], f"warmup_type={kind!r} with beta2={beta2:g}"))
        named = _Names(fields, converted, self.named_as)
        if fit_updates is not None:
            fields.setdefault("total_steps", fit_updates)
            check_fits_the_fit(fields, fit_updates, named)
        _check_warmup_within_total(fields, named)
        with named.noted():
            return WarmupSchedule(**fields)


# ---------------------------------------------------------------------------- checks, in the user's words
def _check_names(arguments: Mapping[str, Any], within_fit: bool) -> None:
    if within_fit and "steps_per_epoch" in arguments:
        raise TypeError("do not pass steps_per_epoch; it is derived from the fit (len(dls.train))")
    if not within_fit:
        fractions = sorted(name for name in arguments if name in PCT_LENGTHS)
        if fractions:
            raise TypeError(
                f"{fractions[0]} is a fraction of a fit, which only fastai's WarmupCallback knows; give the length "
                f"in updates ({PCT_LENGTHS[fractions[0]]}) or in epochs (with steps_per_epoch)"
            )
    valid = {*FIELDS, *EPOCH_LENGTHS, *(PCT_LENGTHS if within_fit else ["steps_per_epoch"])}
    _checks.unknown_keys(arguments, valid, "schedule arguments")


def _shown(value: Any) -> str:
    """A number as ``:g`` shows it (an int too large for a float as it is), anything else as its repr."""
    if not _checks.is_real(value):
        return repr(value)
    try:
        return f"{value:g}"
    except OverflowError:  # an int beyond a float's range
        return str(value)


class _Names:
    """Each resolved value as the user gave it: ``warmup_steps (30)``, ``warmup_epochs=4 (32 updates)``."""

    def __init__(self, fields: Mapping[str, Any], converted: Mapping[str, str], named_as: Mapping[str, str]) -> None:
        self.fields, self.converted, self.origins = fields, converted, {**named_as, **converted}

    def _shown(self, field: str) -> str:
        return _shown(self.fields[field])

    def __call__(self, field: str) -> str:
        if field in self.converted:
            return f"{self.converted[field]} ({self._shown(field)} updates)"
        return f"{field} ({self._shown(field)})"

    @contextlib.contextmanager
    def noted(self) -> Iterator[None]:
        """An error naming fields the user did not pass as such gets, for each, the argument it came from."""
        try:
            yield
        except (TypeError, ValueError) as error:
            message = str(error)
            notes = [
                f"; {field} ({self._shown(field)}) comes from {origin}"
                for field, origin in self.origins.items()
                if field in self.fields and re.search(rf"(?<!\w){field}(?!\w)", message)
            ]
            if not notes:
                raise
            raise type(error)(message + "".join(notes)) from error


def _check_warmup_within_total(fields: Mapping[str, Any], named: _Names) -> None:
    """A warmup longer than the run, when either length was converted (the core names its own fields)."""
    warmup, total = fields.get("warmup_steps"), fields.get("total_steps")
    if not ("warmup_steps" in named.converted or "total_steps" in named.converted):
        return
    if _checks.is_real(warmup) and _checks.is_real(total) and warmup > total:
        raise ValueError(f"{named('warmup_steps')} is longer than {named('total_steps')}")


def check_fits_the_fit(fields: Mapping[str, Any], fit_updates: float, named: Any = None) -> None:
    """Within a fit (fastai), no length may exceed the fit: the index restarts at 0 every fit."""
    for field in ("warmup_steps", "total_steps"):
        value = fields.get(field)
        if _checks.is_real(value) and value > fit_updates:
            name = f"{field} ({_shown(value)})" if named is None else named(field)
            raise ValueError(
                f"{name} is longer than the fit; the index restarts at 0 every fit, so a schedule longer than one "
                "fit never completes (use *_pct or *_epochs lengths, or leave total_steps out)"
            )

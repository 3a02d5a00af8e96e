"""The state codec: a saved state checked whole, by one decoder per key, before any of it is applied.

Adapters use it as a namespace (``from . import _codec as codec``): their ``state_dict`` returns
``codec.versioned({...})``, and their ``load_state_dict`` names one decoder per counter it keeps
(``{"last_epoch": codec.step_number, "_step_count": codec.integer(low=0)}``), which
:meth:`warmup_plugins._seam.Driver.load_state_dict` checks with the driver's own keys through :func:`decode`.
A decoder takes ``(the key, its saved value)`` and returns the checked value, or raises naming the key.

A state of an older format is migrated first (:data:`FORMAT`, :data:`WRITTEN_BY`); a saved schedule that lacks
a field with a default takes the default, so a new :class:`WarmupSchedule` field loads from every older state.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from ._schedules import Schedules, per_group
from .core import _checks
from .core.schedule import WarmupSchedule

__all__ = [
    "FORMAT",
    "FORMAT_KEY",
    "Decoder",
    "Migration",
    "as_is",
    "decode",
    "integer",
    "number",
    "numbers",
    "optional",
    "schedules",
    "step_number",
    "versioned",
    "written_by",
]

Decoder = Callable[[str, object], Any]  # (the key, its saved value) -> the checked value, or an error naming the key
Migration = Callable[[dict[str, Any]], dict[str, Any]]  # a state of format n -> the same state in format n + 1

FORMAT_KEY = "format_version"
FORMAT = 2  # 2: states carry FORMAT_KEY; 1: no FORMAT_KEY (releases up to commit 7bf4816, e.g. 39dcdd3)
WRITTEN_BY = {1: "a release before state format versions (warmup_plugins 0.1.0 up to commit 7bf4816)"}


def versioned(state: dict[str, Any]) -> dict[str, Any]:
    """``state`` stamped with this release's format, as every ``state_dict`` returns it."""
    return {FORMAT_KEY: FORMAT, **state}


def decode(state: object, fields: Mapping[str, Decoder], migrations: Mapping[int, Migration] = {}) -> dict[str, Any]:
    """Every field of a saved ``state`` checked and converted by its decoder; nothing is applied here.

    A state of an older format is first brought to this one by ``migrations[n]`` (format ``n`` to
    ``n + 1``; none: unchanged). The keys must then be exactly ``fields``; a bad value raises naming its key.
    An older state that still fails says which release wrote it and what to do.
    """
    if not isinstance(state, Mapping):
        raise TypeError(f"expected a dict (a state_dict), got {type(state).__name__}")
    version = state.get(FORMAT_KEY, 1)
    if version.__class__ is not int or not 1 <= version <= FORMAT:
        raise ValueError(
            f"{FORMAT_KEY}={version!r}: this release reads state formats 1 to {FORMAT}; a newer format was "
            "written by a newer release of warmup_plugins: upgrade to it to resume"
        )
    state = {k: v for k, v in state.items() if k != FORMAT_KEY}
    for n in range(version, FORMAT):
        state = migrations.get(n, dict)(state)
    with written_by(version):
        missing, extra = sorted(set(fields) - set(state)), sorted(set(state) - set(fields))
        if missing or extra:
            raise KeyError(f"missing keys {missing}, unexpected keys {extra}")
        decoded = {name: decoder(f"{name!r} in a state dict", state[name]) for name, decoder in fields.items()}
    decoded[FORMAT_KEY] = version
    return decoded


@contextlib.contextmanager
def written_by(version: int) -> Iterator[None]:
    """An error checking a state of an older format says which release wrote it and what to do."""
    try:
        yield
    except (TypeError, ValueError, KeyError) as error:
        if version == FORMAT:
            raise
        message = str(error.args[0]) if isinstance(error, KeyError) and error.args else str(error)
        raise type(error)(
            f"{message}; this state (format {version}) was written by {WRITTEN_BY[version]} and cannot be resumed "
            "exactly by this release: resume it with that release, or load only the optimizer's state and start "
            "this scheduler afresh"
        ) from error


# ---------------------------------------------------------------------------- the decoders
def as_is(name: str, value: object) -> object:
    return value


def integer(low: int) -> Decoder:
    return lambda name, value: _checks.integer(name, value, low=low)


def number(low: float) -> Decoder:
    return lambda name, value: _checks.number(name, value, low=low)


def numbers(n: int, low: float = 0) -> Decoder:
    """A list of ``n`` finite numbers >= ``low``, as floats."""

    def decode_numbers(name: str, values: object) -> list[float]:
        if not isinstance(values, (list, tuple)) or len(values) != n:
            raise ValueError(f"{name} must be a list of {n} numbers, got {values!r}"[:300])
        return [float(_checks.number(f"{name}[{i}]", v, low=low)) for i, v in enumerate(values)]

    return decode_numbers


def optional(decoder: Decoder) -> Decoder:
    return lambda name, value: None if value is None else decoder(name, value)


def step_number(name: str, value: object) -> float:
    """A saved update index: a finite number >= -1 (-1: a scheduler not yet started, as in ``SequentialLR``)."""
    step = _checks.number(name, value, low=-1)
    if step < 0 and step != -1:
        raise ValueError(f"{name} must be -1 (not started) or a number >= 0, got {value!r}")
    return step


def schedules(n: int) -> Decoder:
    """Saved schedule data (one dict, or a list of one per group) as one schedule per group."""

    def decode_schedules(name: str, data: object) -> Schedules:
        if isinstance(data, Mapping):
            return (_saved_schedule(name, data),) * n
        if isinstance(data, list) and data and all(isinstance(d, Mapping) for d in data):
            return per_group([_saved_schedule(name, d) for d in data], n)
        raise TypeError(f"{name} must be a dict or a list of dicts, got {type(data).__name__}")

    return decode_schedules


def _saved_schedule(name: str, data: Mapping[str, Any]) -> WarmupSchedule:
    """A saved schedule: ``to_dict`` wrote every field of its release, so a field it lacks is newer than the state
    and takes its default (which keeps the older schedule's values); only a field without a default is required."""
    required = {f.name for f in dataclasses.fields(WarmupSchedule) if not _has_default(f)}
    missing = sorted(required - set(data))
    if missing:
        raise KeyError(f"{name} is missing the schedule fields {missing}")
    return WarmupSchedule.from_dict(data)


def _has_default(field: dataclasses.Field[Any]) -> bool:
    return field.default is not dataclasses.MISSING or field.default_factory is not dataclasses.MISSING

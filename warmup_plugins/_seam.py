"""The seam between the core and the frameworks, owned once for every adapter: the :class:`Driver`.

An adapter keeps only its framework's protocol and its own counter (torch's ``last_epoch``, timm's ``t``,
fastai's batch position). Everything else is one :class:`Driver`: the per-group schedules and base values,
the writer of ``base * f(k)``, the adaptive warmup (which moves the clock ``k``), the record, and the state
codec that checks a whole saved state before any of it is applied (a failed load changes nothing). Its
verbs: :meth:`Driver.write`, :meth:`Driver.observe`, :meth:`Driver.set_schedule`,
:meth:`Driver.state_dict` and :meth:`Driver.load_state_dict`.

This module is framework-neutral (no torch): a :class:`Writer` computes ``value_i(k) = base_i * f_i(k)``;
where the values go is a subclass's job (``warmup_plugins._param_groups.GroupWriter`` for torch param groups
and fastai's hypers). :func:`owned` prefixes the errors of an adapter's public method with its name.
"""

from __future__ import annotations

import abc
import contextlib
import functools
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from .core import _checks
from .core._checks import scalar, unknown_keys
from .core.lengths import EPOCH_LENGTHS, to_updates
from .core.schedule import LATER_FIELDS, WarmupSchedule
from .extensions.adaptive import _bind_adaptive  # also binds a PeakFinder
from .extensions.untuned import _resolve_untuned
from .monitoring.record import TrainingRecord

__all__ = ["FORMAT", "Driver", "Schedules", "Writer", "build_schedules", "decode", "owned", "per_group", "scalar"]

Schedules = tuple[WarmupSchedule, ...]
_FIELDS = frozenset(WarmupSchedule.help())
_FLOAT_MAX = sys.float_info.max
F = TypeVar("F", bound=Callable[..., Any])


# ---------------------------------------------------------------------------- errors named after their owner
def owner_error(owner: str, error: Exception) -> Exception:
    """``error`` with ``owner: `` in front of its message (once: a message that already starts with it is kept)."""
    message = str(error.args[0]) if isinstance(error, KeyError) and error.args else str(error)
    if message.startswith(owner.split(".")[0].split(" ")[0]):
        return error
    return type(error)(f"{owner}: {message}")


def owned(method: F) -> F:
    """Prefix a ``TypeError``/``ValueError``/``KeyError`` raised inside ``method`` with ``Class.method: ``."""

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except (TypeError, ValueError, KeyError) as error:
            name = type(self).__name__ + ("" if method.__name__ == "__init__" else f".{method.__name__}")
            named = owner_error(name, error)
            if named is error:
                raise
            raise named from error

    return wrapper  # type: ignore[return-value]


# ---------------------------------------------------------------------------- one schedule per group
def build_schedules(schedule: object, kwargs: Mapping[str, Any], groups: Sequence[Mapping[str, Any]]) -> Schedules:
    """One schedule per param group, from ``schedule`` (one, or a list of one per group) or from keyword arguments.

    Keyword arguments are :class:`WarmupSchedule` fields, with lengths in updates or in epochs
    (``warmup_epochs=``, ... with ``steps_per_epoch=``); an untuned ``warmup_type`` reads its length
    from the groups' ``beta2``.
    """
    if schedule is None:
        options = dict(_resolve_untuned(kwargs, groups, "untuned warmup"))
        unknown_keys(options, _FIELDS | set(EPOCH_LENGTHS) | {"steps_per_epoch"}, "schedule arguments")
        schedule = WarmupSchedule(**to_updates(options, steps_per_epoch=options.pop("steps_per_epoch", None)))
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


# ---------------------------------------------------------------------------- the writer and the driver
class Writer(abc.ABC):
    """``value_i(k) = base_i * f_i(k)`` for one hyper-parameter of every group; a subclass says where values go."""

    __slots__ = ("_shared", "bases", "last", "schedules")

    def __init__(self, bases: Sequence[float], schedules: Schedules) -> None:
        self.bases, self.schedules = list(bases), schedules
        self.last: list[float] = []  # the values last written
        first = schedules[0]
        self._shared = first if all(s is first for s in schedules) else None

    def values_at(self, k: float) -> list[float]:
        """``[base_i * f_i(k)]``: one expression for every adapter, so the floats are identical."""
        if self._shared is not None:
            factor = self._shared(k)
            return [base * factor for base in self.bases]
        return [base * schedule(k) for base, schedule in zip(self.bases, self.schedules)]

    @abc.abstractmethod
    def write_values(self, values: Sequence[float]) -> None:
        """Write ``values`` (one per group) and keep them as ``last``."""

    @abc.abstractmethod
    def check_groups(self) -> None:
        """Refuse groups that changed in number since the writer was built."""

    @abc.abstractmethod
    def holds_last(self) -> bool:
        """True while the groups still hold exactly the values this writer last wrote."""

    @abc.abstractmethod
    def with_schedules(self, schedules: Schedules, bases: Sequence[float] | None = None) -> Writer:
        """A writer for the same groups with new schedules (and bases), checked as a new one is."""


class Driver:
    """One adapter's run: ``value_i(k) = base_i * f_i(k)`` written through a :class:`Writer`, an optional
    :class:`~warmup_plugins.AdaptiveWarmup` (which moves the clock ``k`` from the losses), an optional
    :class:`~warmup_plugins.TrainingRecord`, and their state codec.

    ``keys`` name the bases, the schedule and the adaptive state (None: not saved) in the adapter's state dict.
    """

    __slots__ = ("_f", "_held", "adaptive", "keys", "observing", "record", "writer")

    def __init__(
        self,
        writer: Writer,
        *,
        adaptive: object = None,
        record: bool | TrainingRecord | None = None,
        param_groups: object = None,
        owner: object = None,
        adapter: str = "",
        keys: tuple[str, str, str | None] = ("base_lrs", "schedule", "adaptive"),
    ) -> None:
        self.writer, self.keys, self._held = writer, keys, False
        self.adaptive = _bind_adaptive(adaptive, shared(writer.schedules), param_groups, owner=owner)
        if not isinstance(record, TrainingRecord):
            record = TrainingRecord(meta={"adapter": adapter}) if _checks.boolean("record", record or False) else None
        self.record = record
        self.observing = record is not None or self.adaptive is not None
        self._use(writer)

    def __eq__(self, other: object) -> bool:
        """Equal writers, adaptive warmups and records (torch's state-dict check compares every attribute)."""
        if not isinstance(other, Driver):
            return NotImplemented
        mine = (self.keys, self.writer, self.adaptive, self.record)
        return mine == (other.keys, other.writer, other.adaptive, other.record)

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def __getstate__(self) -> dict[str, Any]:
        """Everything but the resolved hot path (a closure, rebuilt on unpickling)."""
        return {name: getattr(self, name) for name in self.__slots__ if name != "_f"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            setattr(self, name, value)
        self._f = None if self.writer._shared is None else self.writer._shared._compiled.f

    def _use(self, writer: Writer) -> None:
        """Take ``writer``; keep the record's ``meta`` on the schedule in force; resolve the hot path once."""
        self.writer = writer
        shared_schedule = writer._shared
        self._f = None if shared_schedule is None else shared_schedule._compiled.f  # f(k) for a checked k
        if self.record is not None:
            self.record.meta.update(schedule=writer.schedules[0].to_dict(), base_lrs=list(writer.bases))

    @property
    def schedule(self) -> WarmupSchedule | Schedules:
        """The schedule (a tuple, one per group, if they differ)."""
        return shared(self.writer.schedules)

    @property
    def bases(self) -> list[float]:
        return self.writer.bases

    def values_at(self, k: float) -> list[float]:
        """``[base_i * f_i(k)]``, written nowhere."""
        return self.writer.values_at(k)

    def position(self, k: float) -> tuple[float, float]:
        """``(s, c)``: the adapter's update ``k`` uses ``base_i * f_i(s) * c``. Without an adaptive warmup ``(k, 1)``;
        with one, its own position (an :class:`~warmup_plugins.AdaptiveWarmup`'s clock, a
        :class:`~warmup_plugins.PeakFinder`'s ramp or found peak), whatever ``k`` the adapter counts."""
        return (k, 1.0) if self.adaptive is None else self.adaptive.where()

    def values_for(self, k: float) -> list[float]:
        """The values the adapter's update ``k`` uses, written nowhere: ``base_i * f_i(s) * c``."""
        s, c = self.position(k)
        values = self.writer.values_at(s)
        return values if c == 1.0 else [value * c for value in values]

    def write(self, k: float) -> list[float]:
        """Write the values of the adapter's update ``k`` into every group and return them (the per-update hot
        path): ``base_i * f_i(k)``, or at the adaptive warmup's position (see :meth:`position`)."""
        f, writer, c = self._f, self.writer, 1.0
        if self.adaptive is not None:
            k, c = self.adaptive.where()
        if f is not None and (k.__class__ is int or k.__class__ is float) and 0 <= k <= _FLOAT_MAX:
            factor = f(k)  # what schedule(k) returns once it has checked k
            values = [base * factor for base in writer.bases]
        else:
            values = writer.values_at(k)
        if c != 1.0:
            values = [value * c for value in values]
        writer.write_values(values)
        return values

    def write_values(self, values: Sequence[float]) -> None:
        """Write ``values`` as they are: an adapter's own rule on top of :meth:`values_at` (timm's noise, lr_scale)."""
        self.writer.write_values(values)

    def observe(
        self,
        loss: object,
        grad_norm: object = None,
        *,
        update: float | None = None,
        lr: float | None = None,
        name: str = "loss",
    ) -> None:
        """One finished update: its ``loss`` (and gradient norm) go to the record, as update ``update`` at LR
        ``lr`` (None: not logged), and to the adaptive warmup. All is checked first: a bad value changes nothing."""
        loss, grad_norm = scalar(name, loss), scalar("grad_norm", grad_norm)
        self.writer.check_groups()
        record, adaptive = self.record, self.adaptive
        if record is not None and update is not None:
            record.log_update(update, lr, loss, grad_norm)  # type: ignore[arg-type]
        if adaptive is not None:
            adaptive.observe(loss, grad_norm)
            if record is not None:  # the diagnosis judges by the warmup the adaptive warmup really took
                if adaptive.warmup_done_at is not None:
                    record.meta["warmup_updates"] = adaptive.warmup_done_at
                record.meta[adaptive.REPORT_KEY] = adaptive.report()

    def set_schedule(self, schedule: object) -> None:
        """Replace the schedule (one, or one per group), keeping the bases; an adaptive warmup is bound to it."""
        writer = self.writer.with_schedules(per_group(schedule, len(self.writer.bases)))
        if self.adaptive is not None:
            self.adaptive.bind(shared(writer.schedules))
        self._use(writer)

    def rebase(self, bases: Sequence[float]) -> None:
        """Replace the base values, keeping the schedules."""
        self._use(self.writer.with_schedules(self.writer.schedules, bases))

    # ------------------------------------------------------------------------ the state codec
    def state_dict(self) -> dict[str, Any]:
        """The driver's part of a state dict: the bases, the schedule data, the adaptive warmup's state."""
        bases, schedule, adaptive = self.keys
        state: dict[str, Any] = {bases: list(self.writer.bases), schedule: schedules_data(self.writer.schedules)}
        if adaptive is not None:
            state[adaptive] = None if self.adaptive is None else self.adaptive.state_dict()
        return state

    def load_state_dict(
        self, state_dict: object, counters: Mapping[str, Decoder], migrations: Mapping[int, Migration] = {}
    ) -> dict[str, Any]:
        """Check a whole saved state (the driver's keys and the adapter's ``counters``), then apply the driver's
        part, which cannot fail; return the decoded state, whose counters the adapter applies, then
        :meth:`resume`."""
        n = len(self.writer.bases)
        bases, schedule, adaptive = self.keys
        fields = {**counters, bases: numbers(n), schedule: schedules(n), **({adaptive: as_is} if adaptive else {})}
        state = decode(state_dict, fields, migrations)
        writer = self.writer.with_schedules(state[schedule], state[bases])
        if adaptive is not None:
            self._check_adaptive(state[adaptive], writer.schedules, state[FORMAT_KEY])
        self._held = self.writer.holds_last()
        self._use(writer)
        if adaptive is not None and self.adaptive is not None:
            self.adaptive.bind(shared(writer.schedules))
            self.adaptive.load_state_dict(state[adaptive])
        return state

    def resume(self, values: Sequence[float]) -> list[float]:
        """The load-order rule, after :meth:`load_state_dict`: the loaded step's ``values`` are written only if
        the groups still held exactly what this driver last wrote before the load (a scheduler built after
        ``optimizer.load_state_dict``, or not stepped since). Otherwise nothing is written, as with torch's
        schedulers: the optimizer's state, loaded before or after, holds the values, and a ``SequentialLR``
        member that is not running does not overwrite the running one's. Either way they become ``last``."""
        values = list(values)
        if self._held:
            self.writer.write_values(values)
        else:
            self.writer.last = values
        return values

    def load_adaptive(self, state: object, param_groups: object = None) -> None:
        """Restore the adaptive warmup from ``state`` (checked first), then measure ``param_groups`` from here."""
        self._check_adaptive(state, self.writer.schedules, FORMAT)
        self.adaptive.bind(self.schedule)  # type: ignore[union-attr]
        self.adaptive.load_state_dict(state)  # type: ignore[union-attr]
        if param_groups is not None:
            self.adaptive.bind(self.schedule, param_groups)  # type: ignore[union-attr]

    def _check_adaptive(self, state: object, schedules_: Schedules, version: int) -> None:
        """A saved adaptive state (or None) of format ``version``; the saved and the live run agree on having one."""
        if (self.adaptive is None) != (state is None):
            has = "has" if state is not None else "has no"
            raise ValueError(f"the saved state {has} adaptive warmup and this scheduler does not match")
        if self.adaptive is not None:
            with written_by(version):
                self.adaptive.check_state(state, shared(schedules_))


def schedules_data(schedules: Schedules) -> dict[str, Any] | list[dict[str, Any]]:
    """Plain data: one dict when every group shares the schedule, else one per group."""
    if all(s is schedules[0] or s == schedules[0] for s in schedules):
        return schedules[0].to_dict()
    return [s.to_dict() for s in schedules]


# ---------------------------------------------------------------------------- the state codec
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
    """``to_dict`` wrote every field, so a missing one is an error, not a default."""
    missing = sorted(_FIELDS - set(data) - set(LATER_FIELDS))  # a field newer than the state: its default
    if missing:
        raise KeyError(f"{name} is missing the schedule fields {missing}")
    return WarmupSchedule.from_dict(data)


def step_number(name: str, value: object) -> float:
    """A saved update index: a finite number >= -1 (-1: a scheduler not yet started, as in ``SequentialLR``)."""
    step = _checks.number(name, value, low=-1)
    if step < 0 and step != -1:
        raise ValueError(f"{name} must be -1 (not started) or a number >= 0, got {value!r}")
    return step

"""The seam between the core and the frameworks, owned once for every adapter: the :class:`Driver`.

An adapter keeps only its framework's protocol and its own counter (torch's ``last_epoch``, timm's ``t``,
fastai's batch position). Everything else is one :class:`Driver`: the per-group schedules and base values,
the writer of ``base * f(k)``, the adaptive warmup (which moves the clock ``k``), the record, and their saved
state, checked whole by the state codec (:mod:`warmup_plugins._codec`) before any of it is applied (a failed
load changes nothing). Its verbs: :meth:`Driver.write`, :meth:`Driver.observe`, :meth:`Driver.set_schedule`,
:meth:`Driver.state_dict` and :meth:`Driver.load_state_dict`.

This module is framework-neutral (no torch): a :class:`Writer` computes ``value_i(k) = base_i * f_i(k)``;
where the values go is a subclass's job (``warmup_plugins._param_groups.GroupWriter`` for torch param groups
and fastai's hypers).
"""

from __future__ import annotations

import abc
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from . import _codec as codec
from ._schedules import Schedules, per_group, schedules_data, shared
from .core import _checks
from .core._checks import scalar
from .core.schedule import WarmupSchedule
from .extensions.adaptive import _bind_adaptive  # also binds a PeakFinder
from .monitoring.record import TrainingRecord

__all__ = ["Driver", "Writer"]

_FLOAT_MAX = sys.float_info.max


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
        self,
        state_dict: object,
        counters: Mapping[str, codec.Decoder],
        migrations: Mapping[int, codec.Migration] = {},
    ) -> dict[str, Any]:
        """Check a whole saved state (the driver's keys and the adapter's ``counters``), then apply the driver's
        part, which cannot fail; return the decoded state, whose counters the adapter applies, then
        :meth:`resume`."""
        n = len(self.writer.bases)
        bases, schedule, adaptive = self.keys
        fields = {
            **counters,
            bases: codec.numbers(n),
            schedule: codec.schedules(n),
            **({adaptive: codec.as_is} if adaptive else {}),
        }
        state = codec.decode(state_dict, fields, migrations)
        writer = self.writer.with_schedules(state[schedule], state[bases])
        if adaptive is not None:
            self._check_adaptive(state[adaptive], writer.schedules, state[codec.FORMAT_KEY])
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
        self._check_adaptive(state, self.writer.schedules, codec.FORMAT)
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
            with codec.written_by(version):
                self.adaptive.check_state(state, shared(schedules_))

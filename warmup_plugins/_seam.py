"""The seam between the core and the frameworks, owned once for every adapter.

* :func:`build_schedules` turns what a user passed (a schedule, a list of them, or keyword arguments
  in any unit) into one schedule per param group, once, at the entry point.
* :class:`GroupWriter` is the only place that computes ``base * f(k)`` and writes it into param
  groups (floats assigned, Tensors filled in place). Every adapter writes through it, so the same
  schedule gives the same floats everywhere.
* :func:`decode` checks a whole saved state before any of it is applied: a failed load changes nothing.
* :func:`owned` prefixes the errors of an adapter's public method with its name.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import math
import sys
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import torch

from .core import _checks
from .core.lengths import EPOCH_LENGTHS, to_updates
from .core.schedule import LATER_FIELDS, WarmupSchedule
from .extensions.untuned import _resolve_untuned
from .monitoring.record import TrainingRecord

__all__ = [
    "FORMAT",
    "GroupWriter",
    "Schedules",
    "build_schedules",
    "decode",
    "owned",
    "per_group",
    "read_value",
    "scalar",
    "versioned",
]

Schedules = tuple[WarmupSchedule, ...]
_FIELDS = frozenset(WarmupSchedule.help())
F = TypeVar("F", bound=Callable[..., Any])


# ---------------------------------------------------------------------------- errors named after the method
def owned(method: F) -> F:
    """Prefix a ``TypeError``/``ValueError``/``KeyError`` raised inside ``method`` with ``Class.method: ``."""

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except (TypeError, ValueError, KeyError) as error:
            name = type(self).__name__ + ("" if method.__name__ == "__init__" else f".{method.__name__}")
            message = str(error.args[0]) if isinstance(error, KeyError) and error.args else str(error)
            if message.startswith(type(self).__name__):
                raise
            raise type(error)(f"{name}: {message}") from error

    return wrapper  # type: ignore[return-value]


# ---------------------------------------------------------------------------- one schedule per group
def build_schedules(schedule: object, kwargs: Mapping[str, Any], groups: Sequence[Mapping[str, Any]]) -> Schedules:
    """One schedule per param group, from ``schedule`` (one, or a list of one per group) or from keyword arguments.

    Keyword arguments are :class:`WarmupSchedule` fields, with lengths in updates or in epochs
    (``warmup_epochs=``, ... with ``steps_per_epoch=``); an untuned ``warmup_type`` reads its length
    from the groups' ``beta2``.
    """
    if schedule is None:
        kwargs = _resolve_untuned(kwargs, groups, "untuned warmup")
        unknown = sorted(k for k in kwargs if k not in _FIELDS and k not in EPOCH_LENGTHS and k != "steps_per_epoch")
        if unknown:
            raise TypeError(
                f"unknown schedule arguments {unknown}; valid ones are {sorted(_FIELDS)} or their epoch forms"
            )
        options = dict(kwargs)
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


def schedules_data(schedules: Schedules) -> dict[str, Any] | list[dict[str, Any]]:
    """Plain data: one dict when every group shares the schedule, else one per group."""
    if all(s is schedules[0] or s == schedules[0] for s in schedules):
        return schedules[0].to_dict()
    return [s.to_dict() for s in schedules]


# ---------------------------------------------------------------------------- reading and writing groups
def read_value(group: Mapping[str, Any], key: str, index: int) -> float:
    """``group[key]`` as a float (``betas[0]`` for ``key='beta1'``), or a clear error.

    A Tensor value must be a one-element floating-point Tensor: an integer one would truncate every
    scheduled value when filled in place.
    """
    if key == "beta1":
        betas = group.get("betas")
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise KeyError(f"param_groups[{index}] has no 'betas' pair for beta1 (got {betas!r})")
        value = betas[0]
    elif key not in group:
        raise KeyError(f"param_groups[{index}] has no {key!r} (its keys: {sorted(k for k in group if k != 'params')})")
    else:
        value = group[key]
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise ValueError(f"param_groups[{index}][{key!r}] must be a scalar Tensor, got shape {tuple(value.shape)}")
        if not value.is_floating_point():
            raise TypeError(
                f"param_groups[{index}][{key!r}] is a {value.dtype} Tensor: scheduled values written into it would "
                f"be truncated; use a floating-point Tensor (torch.tensor({value.item()}.0))"
            )
        value = value.item()
    return float(_checks.number(f"param_groups[{index}][{key!r}]", value, low=0))


def _limit(group: Mapping[str, Any], key: str) -> float:
    current = group.get("betas", (None,))[0] if key == "beta1" else group.get(key)
    return torch.finfo(current.dtype).max if isinstance(current, torch.Tensor) else sys.float_info.max


class GroupWriter:
    """``value_i(k) = base_i * f_i(k)`` for one hyper-parameter of every param group; Tensors filled in place.

    The groups are read from ``getattr(source, attribute)`` at every write (torch's
    ``optimizer.param_groups``, fastai's ``opt.hypers``), since loading an optimizer's state
    replaces that list; a group added later is refused at the next write, not left unscheduled.
    """

    __slots__ = ("_into", "_shared", "attribute", "bases", "key", "last", "schedules", "source")

    def __init__(
        self, source: Any, key: str, bases: Sequence[float], schedules: Schedules, attribute: str = "param_groups"
    ) -> None:
        groups = getattr(source, attribute)
        if len(bases) != len(groups) or len(schedules) != len(groups):
            raise ValueError(f"got {len(bases)} base values and {len(schedules)} schedules for {len(groups)} groups")
        for i, (group, base, schedule) in enumerate(zip(groups, bases, schedules)):
            limit = _limit(group, key)
            if base * schedule.max_factor > limit:
                raise ValueError(
                    f"param_groups[{i}]: the base {key} {base:g} times the schedule's largest factor "
                    f"{schedule.max_factor:g} exceeds {limit:g}, the largest value the group's {key!r} can hold"
                )
        self.source, self.attribute, self.key, self.bases, self.schedules = (
            source,
            attribute,
            key,
            list(bases),
            schedules,
        )
        shared = schedules[0]
        self._shared = shared if all(s is shared for s in schedules) else None
        self.last: list[float] = []
        self._into: object = None  # the group list ``last`` was written into

    def __eq__(self, other: object) -> bool:
        """Same groups (the same source object), key, bases, schedules and last values (torch's state-dict check
        compares every attribute of a scheduler and of one loaded from its state)."""
        if not isinstance(other, GroupWriter):
            return NotImplemented
        return self.source is other.source and (self.attribute, self.key, self.bases, self.schedules, self.last) == (
            other.attribute,
            other.key,
            other.bases,
            other.schedules,
            other.last,
        )

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def holds_last(self) -> bool:
        """True while the groups still hold exactly the values this writer last wrote: the optimizer's state was
        not loaded since (that replaces the group list) and no other scheduler wrote (a float value is still the
        very object written; a Tensor one still equal to it)."""
        groups = self.groups
        if not self.last or groups is not self._into or len(groups) != len(self.last):
            return False
        for group, value in zip(groups, self.last):
            current = group.get("betas", (None,))[0] if self.key == "beta1" else group.get(self.key)
            if isinstance(current, torch.Tensor):
                if current.item() != torch.tensor(value, dtype=current.dtype).item():
                    return False
            elif current is not value:
                return False
        return True

    @property
    def groups(self) -> list[dict[str, Any]]:
        groups = getattr(self.source, self.attribute)
        return groups if groups.__class__ is list else groups.items  # fastcore's L (fastai's hypers) keeps a list

    def values_at(self, k: float) -> list[float]:
        """``[base_i * f_i(k)]``: one expression for every adapter, so the floats are identical."""
        shared = self._shared
        if shared is not None:
            factor = shared(k)
            return [base * factor for base in self.bases]
        return [base * schedule(k) for base, schedule in zip(self.bases, self.schedules)]

    def write(self, k: float) -> list[float]:
        """Write update ``k``'s values into the groups and return them."""
        values = self.values_at(k)
        self.write_values(values)
        return values

    def check_groups(self) -> None:
        """Refuse a param group added after the writer was built (torch's schedulers refuse it too)."""
        if len(self.groups) != len(self.bases):
            raise ValueError(
                f"the optimizer has {len(self.groups)} param groups but this scheduler was built for "
                f"{len(self.bases)}; a group added with add_param_group after the scheduler is not scheduled: "
                "build the scheduler after adding every group"
            )

    def write_values(self, values: Sequence[float]) -> None:
        """Write ``values`` (one per group): floats assigned, Tensors filled in place (keeping their identity)."""
        groups, key = self.groups, self.key
        if len(groups) != len(values):
            self.check_groups()
        if key == "beta1":
            for group, value in zip(groups, values):
                betas = group["betas"]
                if isinstance(betas[0], torch.Tensor):
                    betas[0].fill_(value)
                else:
                    group["betas"] = (value, *betas[1:])
        else:
            for group, value in zip(groups, values):
                current = group[key]
                if current.__class__ is float or not isinstance(current, torch.Tensor):  # float first: cheaper
                    group[key] = value
                else:
                    current.fill_(value)
        self.last, self._into = values, groups  # type: ignore[assignment]

    def with_schedules(self, schedules: Schedules, bases: Sequence[float] | None = None) -> GroupWriter:
        """A writer for the same groups with new schedules (and bases), checked as a new one is."""
        bases = self.bases if bases is None else bases
        return GroupWriter(self.source, self.key, bases, schedules, self.attribute)


def resume_values(held: bool, writer: GroupWriter, values: Sequence[float]) -> list[float]:
    """The load-order rule, for every adapter's ``load_state_dict``: the loaded step's ``values`` are written
    through ``writer`` only if ``held``, i.e. the groups still held exactly what this scheduler last wrote
    (:meth:`GroupWriter.holds_last`, checked before the load): a scheduler built after ``optimizer.load_state_dict``
    (or not stepped since), whose LRs nobody wrote since. Otherwise nothing is written, as with torch's
    schedulers: the optimizer's state, loaded before or after, holds the LRs, and a ``SequentialLR`` member
    that is not running does not overwrite the running one's. Either way ``values`` are ``writer.last``."""
    values = list(values)
    if held:
        writer.write_values(values)
    else:
        writer.last = values
    return values


def scalar(name: str, value: object) -> float | None:
    """A loss or gradient norm as a float (None stays None): numbers and one-element Tensors/arrays; NaN/inf kept."""
    if value is None:
        return None
    if hasattr(value, "item"):
        size = value.numel() if hasattr(value, "numel") else getattr(value, "size", 1)
        if size != 1:
            raise TypeError(f"{name} must be a number or None, got a {type(value).__name__} of {size} elements")
        value = value.item()
    if not _checks.is_real(value):
        raise TypeError(f"{name} must be a number or None, got {type(value).__name__} {value!r}"[:200])
    try:
        return float(value)  # type: ignore[arg-type]
    except OverflowError:
        raise ValueError(f"{name} must fit in a float, got an integer too large for one") from None


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


def finite_lrs(values: Sequence[float]) -> None:
    """Refuse LRs that are NaN, infinite or negative (a wrapped scheduler's state that would give them)."""
    bad = [v for v in values if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0)]
    if bad:
        raise ValueError(f"it would set the learning rates {list(values)}; every one must be a finite number >= 0")


def torch_scheduler(scheduler: Any) -> Decoder:
    """A wrapped torch scheduler's saved state, checked by loading it into a copy bound to a stand-in optimizer.

    The keys must be the scheduler's own (a state of another scheduler is refused), the copy must accept
    it (``ReduceLROnPlateau`` checks its ``mode``), and the LRs it gives must be finite (``gamma=nan``) and
    computable (``step_size=0`` divides by zero): all before the real scheduler is touched.
    """

    def decode_scheduler(key: str, state: object) -> dict[str, Any]:
        name = type(scheduler).__name__
        if not isinstance(state, Mapping):
            raise TypeError(f"the wrapped {name}'s state must be a dict, got {type(state).__name__}")
        expected = set(scheduler.state_dict())
        if set(state) != expected:
            missing, extra = sorted(expected - set(state)), sorted(set(state) - expected)
            raise KeyError(f"not a state of the wrapped {name}: missing keys {missing}, unexpected keys {extra}")
        nan = sorted(k for k, v in state.items() if any(_is_nan(x) for x in (v if isinstance(v, list) else [v])))
        if nan:
            raise ValueError(f"the wrapped {name}'s state holds NaN in {nan}")
        trial = copy.deepcopy(scheduler, memo={id(scheduler.optimizer): _stand_in(scheduler.optimizer)})
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                trial.load_state_dict(copy.deepcopy(dict(state)))
                lrs = _probe(trial)
        except Exception as error:  # whatever the wrapped scheduler raises on its own state
            raise ValueError(f"the wrapped {name}'s state is invalid: {type(error).__name__}: {error}") from None
        if lrs is not None:
            finite_lrs(lrs)
        return dict(state)

    return decode_scheduler


def _is_nan(value: object) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _stand_in(optimizer: torch.optim.Optimizer) -> torch.optim.Optimizer:
    """An optimizer with copies of ``optimizer``'s group values and one dummy parameter per group."""
    groups = [
        {**copy.deepcopy({k: v for k, v in g.items() if k != "params"}), "params": [torch.zeros(1)]}
        for g in optimizer.param_groups
    ]
    return torch.optim.SGD(groups, lr=0.0)


def _probe(scheduler: Any) -> list[float] | None:
    """The LRs a loaded scheduler computes next (one plateau step for ``ReduceLROnPlateau``), or None if it
    has no formula of its own (``SequentialLR``, ``ChainedScheduler``)."""
    from torch.optim.lr_scheduler import ReduceLROnPlateau, _enable_get_lr_call

    if isinstance(scheduler, ReduceLROnPlateau):
        best = float(scheduler.best)
        scheduler.step(best if math.isfinite(best) else 0.0)
        return [float(g["lr"]) for g in scheduler.optimizer.param_groups]
    try:
        with _enable_get_lr_call(scheduler):
            return [float(v) for v in scheduler.get_lr()]
    except NotImplementedError:
        return None


# ---------------------------------------------------------------------------- the adaptive warmup and the record
def shared(schedules: Schedules) -> WarmupSchedule | Schedules:
    """The one schedule every group shares, or the per-group tuple when they differ."""
    first = schedules[0]
    return first if all(s is first or s == first for s in schedules) else schedules


def adaptive_state(adaptive: Any, schedules: Schedules, version: int = FORMAT) -> Decoder:
    """A saved adaptive-warmup state (or None) inside a state of format ``version``; the saved and the live
    scheduler must agree on having one."""

    def decode_adaptive(name: str, state: object) -> object:
        if (adaptive is None) != (state is None):
            has = "has" if state is not None else "has no"
            raise ValueError(f"the saved state {has} adaptive warmup and this scheduler does not match")
        if adaptive is not None:
            with written_by(version):
                adaptive.check_state(state, shared(schedules))
        return state

    return decode_adaptive


def restore_adaptive(adaptive: Any, state: object, schedules: Schedules) -> None:
    """Apply a decoded adaptive state (it was checked on a copy, so this cannot fail half-way)."""
    if adaptive is not None:
        adaptive.bind(shared(schedules))
        adaptive.load_state_dict(state)


def new_record(record: object, adapter: str, schedules: Schedules, bases: Sequence[float]) -> TrainingRecord | None:
    """An empty record for an adapter built with ``record=True``: its first schedule and base LRs in ``meta``."""
    if not _checks.boolean("record", record):
        return None
    return TrainingRecord(meta={"adapter": adapter, "schedule": schedules[0].to_dict(), "base_lrs": list(bases)})


def note_schedule(record: TrainingRecord | None, schedules: Schedules, bases: Sequence[float]) -> None:
    """Keep the record's ``meta`` on the schedule in force (after ``load_state_dict`` or ``set_schedule``)."""
    if record is not None:
        record.meta.update(schedule=schedules[0].to_dict(), base_lrs=list(bases))


def note_adaptive(record: TrainingRecord | None, adaptive: Any) -> None:
    """Keep in ``meta['warmup_updates']`` when an adaptive warmup finished (the diagnosis judges by it),
    and its ``report()`` in ``meta['adaptive']`` (a too-high peak, the start it chose)."""
    if record is None:
        return
    if adaptive.warmup_done_at is not None:
        record.meta["warmup_updates"] = adaptive.warmup_done_at
    record.meta["adaptive"] = adaptive.report()

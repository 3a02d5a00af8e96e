"""``WarmupSchedule``: one immutable, picklable description of a whole warmup + decay schedule.

The schedule is a factor ``f(k)`` of the optimizer-update index ``k = 0, 1, ...``; update ``k``
uses ``base_lr * f(k)`` for every parameter group. With ``W`` the warmup length, ``T`` the total
length and ``s`` the start factor:

* ``k < W``: the warmup shape from ``s`` towards 1 (see :mod:`warmup_plugins.core.warmups`);
* ``k = W``: 1, the peak (exactly; ``tanh`` starts at its own formula's ``1 - 8.3e-7``, as timm's);
* ``W <= k < T``: the decay over the remaining ``T - W`` updates (see :mod:`warmup_plugins.core.decays`);
* ``k >= T``: ``f(T)``, the final value, for ever.

``k`` may be a float (fractional epochs), and lengths may be in any unit as long as ``k`` is in
the same one; :meth:`WarmupSchedule.from_epochs` converts epoch lengths to updates once.
The fields are checked by :mod:`.validation` and compiled into ``f`` by :mod:`.evaluation`.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Mapping
from typing import Any

import numpy as np

from . import _checks
from .cooldowns import COOLDOWN_TYPES
from .decays import FAMILIES, decays_reading
from .evaluation import compile_schedule
from .lengths import EPOCH_LENGTHS
from .validation import validate
from .warmups import WARMUP_SHAPES

__all__ = ["DEFAULT_START_FACTOR", "EPOCH_LENGTHS", "WarmupSchedule"]

DEFAULT_START_FACTOR = 0.01
_FLOAT_MAX = sys.float_info.max


def _listing(names: Any, default: str | None = None) -> str:
    """``a (default), b, c``: names from a table, for the help texts (derived, never hand-kept)."""
    return ", ".join(f"{name} (default)" if name == default else name for name in names)


_ENDING = [name for name, family in FAMILIES.items() if family.ends_at_end_factor({"decay_type": name})]


def _field(default: Any, help: str) -> Any:
    """A dataclass field with its help text (read by the CLI, ``warmup-plugins plot --help``)."""
    return dataclasses.field(default=default, metadata={"help": help})


_ALWAYS_SHOWN = ("warmup_type", "warmup_steps", "total_steps", "start_factor", "decay_type")  # in its repr


@dataclasses.dataclass(frozen=True)
class WarmupSchedule:
    """A warmup followed by a decay, as a factor of each parameter group's base value.

    Call it: ``sched(k)`` is ``f(k)`` for a step ``k >= 0``; ``sched(np.arange(n))`` gives all
    factors at once, equal bit for bit to the scalar calls. Each field's meaning is in its help
    (``WarmupSchedule.help()`` lists them); the decay's options must be left unset unless the
    chosen ``decay_type`` reads them.

    >>> s = WarmupSchedule(warmup_steps=10, total_steps=110, decay_type="cosine")
    >>> s(0), s(5), s(10), s(60), s(110), s(500)
    (0.01, 0.505, 1.0, 0.5, 0.0, 0.0)
    """

    warmup_type: str = _field(
        "linear", f"warmup shape: {_listing(WARMUP_SHAPES, 'linear')}, or none (then warmup_steps is 0)"
    )
    warmup_steps: float = _field(0, "W, the warmup length in updates (or whatever unit k counts)")
    total_steps: float | None = _field(
        None, f"T, the total length; needed by the {_listing(n for n, f in FAMILIES.items() if f.needs_total)} decays"
    )
    start_factor: float = _field(
        DEFAULT_START_FACTOR,
        "s = f(0); default 0.01 so that no update is wasted at LR 0; 0 is allowed except for "
        f"{_listing(n for n, w in WARMUP_SHAPES.items() if w.positive_start)}; above 1 for values that fall during "
        "warmup (momentum)",
    )
    decay_type: str = _field(
        "constant",
        f"decay after warmup: {_listing(FAMILIES, 'constant')}",
    )
    end_factor: float | None = _field(
        None,
        f"m, the end factor (default 0) read by {_listing(decays_reading('end_factor'))}; f(T) = m for "
        f"{_listing(_ENDING)} (exponential: when gamma is not given; inverse_sqrt: a floor, at most 1); above 1 "
        "the decay rises to m",
    )
    warmup_prefix: bool = _field(
        True,
        "True: the decay starts after the warmup and runs over T - W. False: timm's overlap, where the decay "
        "clock starts at 0 and the warmup covers its first W steps",
    )
    warmup_end: str = _field(
        "peak",
        "with warmup_prefix=False, what the warmup rises to: peak (1, as timm's cosine) or decay (the decay's "
        "value at W, as timm's tanh)",
    )
    power: float | None = _field(None, "polynomial exponent (default 1)")
    k_decay: float | None = _field(None, "timm's k-decay for cosine/polynomial: progress d**k / D**k (default 1)")
    tanh_lb: float | None = _field(None, "tanh lower bound (default -7)")
    tanh_ub: float | None = _field(None, "tanh upper bound (default 3)")
    gamma: float | None = _field(None, "multiplier of step/multistep (default 0.1) and exponential (per update)")
    step_size: float | None = _field(None, "step period, counted from the end of warmup")
    milestones: tuple[float, ...] | None = _field(
        None, "multistep update indices, counted from the start of training; the factor drops at the milestone"
    )
    timescale: float | None = _field(None, "inverse_sqrt timescale (default W, giving sqrt(W / k))")
    cooldown_steps: float | None = _field(
        None, f"the final decay (optional for some) of {_listing(decays_reading('cooldown_steps'))}: its length"
    )
    cooldown_fraction: float | None = _field(
        None, "the final decay's share of T - W, instead of cooldown_steps (wsd default 0.2)"
    )
    cooldown_type: str | None = _field(
        None, f"final-decay shape: {_listing(COOLDOWN_TYPES)} (wsd default 1-sqrt, inverse_sqrt default linear)"
    )
    cooldown_power: float | None = _field(None, "exponent of the power cooldown (default 0.5)")
    cooldown_ratio: float | None = _field(None, "ratio of the exp cooldown (default 0.1)")
    num_cycles: float | None = _field(
        None,
        "transformers' num_cycles: periods of cosine_wave over T - W (default 0.5, half a cosine), cycles of "
        "hard_restarts (default 1), periods of a cosine cooldown (default 0.5)",
    )
    warmup_tau: float | None = _field(None, "the 1-exp warmup's time constant, in updates (required there)")
    warmup_beta2: float | None = _field(None, "the radam warmup's beta2, in [0.600001, 0.99999] (required there)")
    cycle_steps: float | None = _field(
        None,
        f"restarts ({_listing(decays_reading('cycle_steps'))}): the first cycle's length (default: one cycle over "
        "T - W)",
    )
    cycle_mul: float | None = _field(None, "each cycle is cycle_mul times longer (>= 1, default 1)")
    cycle_decay: float | None = _field(None, "each cycle's peak is cycle_decay times the last (default 1)")
    cycle_limit: int | None = _field(None, "number of cycles, after which the factor stays at end_factor")
    cycle_warmup: bool | None = _field(
        None, "repeat the warmup at the start of every cycle (cycles then include it and start at k = 0)"
    )

    def __post_init__(self) -> None:
        checked = validate({f.name: getattr(self, f.name) for f in dataclasses.fields(self)})
        for name, value in checked.items():
            object.__setattr__(self, name, value)
        object.__setattr__(self, "_compiled", compile_schedule(self))

    # ------------------------------------------------------------------ evaluation
    def __call__(self, step: float | np.ndarray) -> Any:
        """``f(step)``; an array of steps gives an array of factors (the same values as scalars)."""
        if step.__class__ is not int and step.__class__ is not float:
            if isinstance(step, (np.ndarray, list, tuple)):
                return self._evaluate_array(step)
            step = _checks.number("step", step)
        if not 0 <= step <= _FLOAT_MAX:  # also rejects an int too large for float arithmetic
            raise ValueError(f"step must be a finite number >= 0, got {step!r}")
        return self._compiled.f(step)

    def _evaluate_array(self, steps: np.ndarray | list[Any] | tuple[Any, ...]) -> np.ndarray:
        """``f`` at every element, as the scalar calls; real numbers only (no bool, complex, str, dates, masks)."""
        if isinstance(steps, np.ma.MaskedArray):
            raise TypeError("step must be a number or an array of numbers, got a masked array")
        try:
            array = np.asarray(steps)
        except (TypeError, ValueError) as error:
            raise TypeError(f"step must be a number or an array of numbers: {error}") from None
        if array.dtype.kind not in "iuf" and not (array.dtype.kind == "O" or array.size == 0):
            raise TypeError(f"step must be a number or an array of numbers, got an array of {array.dtype}")
        values = [self(float(_checks.number("step", v))) for v in array.ravel().tolist()]
        return np.array(values, dtype=float).reshape(array.shape)

    @property
    def max_factor(self) -> float:
        """An upper bound of ``f(k)`` over all ``k`` (adapters check ``base * max_factor`` fits the value's type)."""
        return self._compiled.max_factor

    @property
    def final_factor(self) -> float:
        """``f(T)``, held for every ``k >= T`` (``nan`` for an endless schedule)."""
        return self._compiled.final

    # ------------------------------------------------------------------ conversions
    def __repr__(self) -> str:
        """The warmup (type, length, start), the total and the decay type, then only the fields that differ from
        what those alone give (the defaults, as checked for that decay): ``eval(repr(s)) == s``.

        >>> WarmupSchedule(warmup_steps=10, total_steps=110, decay_type="cosine")  # end_factor 0: cosine's default
        WarmupSchedule(warmup_type='linear', warmup_steps=10, total_steps=110, start_factor=0.01, decay_type='cosine')
        """
        always = {name: getattr(self, name) for name in _ALWAYS_SHOWN}
        try:
            implied = WarmupSchedule(**always).to_dict()
        except (TypeError, ValueError):  # a decay with a required option: compare with the bare defaults
            implied = {f.name: f.default for f in dataclasses.fields(self)}
        values = self.to_dict()
        shown = [
            f"{f.name}={getattr(self, f.name)!r}"
            for f in dataclasses.fields(self)
            if f.name in always or values[f.name] != implied[f.name]
        ]
        return f"{type(self).__name__}({', '.join(shown)})"

    def __getstate__(self) -> dict[str, Any]:
        return self.to_dict()

    def __setstate__(self, state: dict[str, Any]) -> None:
        """From :meth:`to_dict`'s data; a field newer than the pickle takes its default."""
        unknown = sorted(set(state) - {f.name for f in dataclasses.fields(self)})
        if unknown:
            raise KeyError(f"unknown WarmupSchedule fields: {unknown} (pickled by a newer release?)")
        for f in dataclasses.fields(self):
            value = state.get(f.name, f.default)
            object.__setattr__(self, f.name, tuple(value) if f.name == "milestones" and value is not None else value)
        object.__setattr__(self, "_compiled", compile_schedule(self))

    def to_dict(self) -> dict[str, Any]:
        """Plain data (str, numbers, bools, lists, None): safe for JSON and ``torch.load(weights_only=True)``."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        if out["milestones"] is not None:
            out["milestones"] = list(out["milestones"])
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WarmupSchedule:
        """Rebuild from :meth:`to_dict`'s output; unknown keys raise ``KeyError`` naming them."""
        if not isinstance(data, Mapping):
            raise TypeError(f"schedule data must be a mapping, got {type(data).__name__}")
        unknown = sorted(set(data) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise KeyError(f"unknown WarmupSchedule fields: {unknown}")
        return cls(**data)

    def replace(self, **changes: Any) -> WarmupSchedule:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_epochs(cls, *, steps_per_epoch: int, **kwargs: Any) -> WarmupSchedule:
        """Build from lengths in epochs (fractions allowed), converted once to updates.

        Epoch arguments: ``warmup_epochs``, ``total_epochs``, ``step_size_epochs``,
        ``milestone_epochs``, ``timescale_epochs``, ``cycle_epochs``, ``cooldown_epochs``; each
        becomes ``round(epochs * steps_per_epoch)`` updates. Other fields pass through unchanged.
        The arguments are one :class:`~warmup_plugins.core.request.ScheduleRequest`.

        >>> WarmupSchedule.from_epochs(warmup_epochs=5, total_epochs=90, steps_per_epoch=391).warmup_steps
        1955
        """
        from .request import ScheduleRequest  # the request builds schedules: imported here, not at the top

        spe = _checks.integer("steps_per_epoch", steps_per_epoch, low=1)
        for epoch_name, step_name in EPOCH_LENGTHS.items():
            if step_name in kwargs:
                raise TypeError(f"from_epochs takes lengths in epochs: use {epoch_name} instead of {step_name}")
        return ScheduleRequest(kwargs).resolve(steps_per_epoch=spe)

    @classmethod
    def help(cls) -> dict[str, str]:
        """Each field's help text, by name."""
        return {f.name: f.metadata["help"] for f in dataclasses.fields(cls)}

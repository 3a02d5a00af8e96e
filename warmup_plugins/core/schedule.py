"""``WarmupSchedule``: one immutable, picklable description of a whole warmup + decay schedule.

The schedule is a factor ``f(k)`` of the optimizer-update index ``k = 0, 1, ...``; update ``k``
uses ``base_lr * f(k)`` for every parameter group. With ``W`` the warmup length, ``T`` the total
length and ``s`` the start factor:

* ``k < W``: the warmup shape from ``s`` towards 1 (see :mod:`warmup_plugins.warmups`);
* ``k = W``: exactly 1, the peak;
* ``W <= k < T``: the decay over the remaining ``T - W`` updates (see :mod:`warmup_plugins.decays`);
* ``k >= T``: ``f(T)``, the final value, for ever.

``k`` may be a float (fractional epochs), and lengths may be in any unit as long as ``k`` is in
the same one; :meth:`WarmupSchedule.from_epochs` converts epoch lengths to updates once.
"""

from __future__ import annotations

import dataclasses
import math
import sys
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from . import _checks, decays, restarts, warmups
from .decays import ANNEALING_TYPES, COOLDOWN_TYPES, DECAY_TYPES
from .warmups import WARMUP_TYPES

__all__ = ["DEFAULT_START_FACTOR", "EPOCH_LENGTHS", "WarmupSchedule", "epochs_to_steps"]

DEFAULT_START_FACTOR = 0.01
_FLOAT_MAX = sys.float_info.max
_MAX_CYCLES = 2**52  # beyond this, cycle indices and starts are no longer exact in float arithmetic

_CYCLE_OPTIONS = ("cycle_steps", "cycle_mul", "cycle_decay", "cycle_limit", "cycle_warmup")
_COOLDOWN_OPTIONS = ("cooldown_steps", "cooldown_fraction", "cooldown_type", "cooldown_power", "cooldown_ratio")
# Options each decay reads; any other decay option must be left unset (None).
_DECAY_OPTIONS: dict[str, tuple[str, ...]] = {
    "constant": (),
    "cosine": ("end_factor", "k_decay", *_CYCLE_OPTIONS),
    "linear": ("end_factor", *_CYCLE_OPTIONS),
    "polynomial": ("end_factor", "power", "k_decay", *_CYCLE_OPTIONS),
    "tanh": ("end_factor", "tanh_lb", "tanh_ub", *_CYCLE_OPTIONS),
    "exponential": ("end_factor", "gamma"),
    "step": ("gamma", "step_size"),
    "multistep": ("gamma", "milestones"),
    "inverse_sqrt": ("end_factor", "timescale", *_COOLDOWN_OPTIONS),
    "wsd": ("end_factor", *_COOLDOWN_OPTIONS),
}
_ALL_OPTIONS = tuple(dict.fromkeys(name for opts in _DECAY_OPTIONS.values() for name in opts))
_NEEDS_TOTAL = (*ANNEALING_TYPES, "wsd")
EPOCH_LENGTHS = {
    "warmup_epochs": "warmup_steps",
    "total_epochs": "total_steps",
    "step_size_epochs": "step_size",
    "milestone_epochs": "milestones",
    "timescale_epochs": "timescale",
    "cycle_epochs": "cycle_steps",
    "cooldown_epochs": "cooldown_steps",
}


@dataclasses.dataclass(frozen=True)
class WarmupSchedule:
    """A warmup followed by a decay, as a factor of each parameter group's base value.

    Call it: ``sched(k)`` is ``f(k)`` for a step ``k >= 0``; ``sched(np.arange(n))`` gives all
    factors at once, equal bit for bit to the scalar calls.

    Warmup (``k < W``):
        warmup_type: ``'linear'`` (default), ``'exponential'``, ``'cosine'``, ``'constant'`` or
            ``'none'`` (then ``warmup_steps`` must be 0).
        warmup_steps: ``W``, the warmup length in updates (or whatever unit ``k`` counts).
        start_factor: ``s = f(0)``; default 0.01 so that no update is wasted at LR 0. 0 is allowed
            except for ``'exponential'``. Values above 1 describe hyper-parameters that fall
            during warmup (momentum, say).
        warmup_prefix: True (default): the decay starts after the warmup and runs over
            ``T - W``. False: timm's overlap, where the decay clock starts at 0 and the warmup
            covers its first ``W`` steps (the peak is never used).
        warmup_end: with ``warmup_prefix=False``, what the warmup rises to: ``'peak'`` (1, then a
            jump down to the decay, as timm's cosine) or ``'decay'`` (the decay's value at ``W``,
            as timm's tanh). Must be ``'peak'`` with a prefix warmup.

    Decay (``k >= W``), ``decay_type`` one of :data:`DECAY_TYPES`, default ``'constant'``:
        total_steps: ``T``; needed by ``cosine``, ``linear``, ``polynomial``, ``tanh``, ``wsd``.
        end_factor: ``m``, the final factor (default 0) of ``cosine``, ``linear``,
            ``polynomial``, ``tanh``, ``wsd`` and ``inverse_sqrt`` (where it is a floor), or the
            target of ``exponential`` when ``gamma`` is not given.
        power: ``polynomial`` exponent (default 1).
        k_decay: timm's k-decay for ``cosine``/``polynomial``: progress ``d**k / D**k`` (default 1).
        tanh_lb, tanh_ub: ``tanh`` bounds (default -7, 3).
        gamma: multiplier of ``step``/``multistep`` (default 0.1) and ``exponential`` (per update).
        step_size: ``step`` period, counted from the end of warmup.
        milestones: ``multistep`` update indices, counted from the start of training; the factor
            drops at the milestone itself, as in torch's ``MultiStepLR``.
        timescale: ``inverse_sqrt`` timescale (default ``W``, giving ``sqrt(W / k)``).
        cooldown_steps / cooldown_fraction: the final decay of ``wsd`` (and optionally of
            ``inverse_sqrt``): its length, or its share of ``T - W`` (``wsd`` default 0.2).
        cooldown_type: ``'linear'``, ``'1-sqrt'`` (``wsd`` default), ``'cosine'``, ``'power'``,
            ``'exp'`` (``inverse_sqrt`` default ``'linear'``).
        cooldown_power: exponent of ``'power'`` (default 0.5); cooldown_ratio: of ``'exp'`` (0.1).

    Restarts (``cosine``, ``linear``, ``polynomial``, ``tanh``):
        cycle_steps: first cycle length ``L`` (default: one cycle over ``T - W``).
        cycle_mul: each cycle is ``cycle_mul`` times longer (>= 1, default 1).
        cycle_decay: each cycle's peak is ``cycle_decay`` times the last (default 1).
        cycle_limit: number of cycles, after which the factor stays at ``end_factor``.
        cycle_warmup: repeat the warmup at the start of every cycle (cycles then include it and
            start at ``k = 0``; each warmup rises from ``s`` times that cycle's peak).
    """

    warmup_type: str = "linear"
    warmup_steps: float = 0
    total_steps: float | None = None
    start_factor: float = DEFAULT_START_FACTOR
    decay_type: str = "constant"
    end_factor: float | None = None
    warmup_prefix: bool = True
    warmup_end: str = "peak"
    power: float | None = None
    k_decay: float | None = None
    tanh_lb: float | None = None
    tanh_ub: float | None = None
    gamma: float | None = None
    step_size: float | None = None
    milestones: tuple[float, ...] | None = None
    timescale: float | None = None
    cooldown_steps: float | None = None
    cooldown_fraction: float | None = None
    cooldown_type: str | None = None
    cooldown_power: float | None = None
    cooldown_ratio: float | None = None
    cycle_steps: float | None = None
    cycle_mul: float | None = None
    cycle_decay: float | None = None
    cycle_limit: int | None = None
    cycle_warmup: bool | None = None

    # ------------------------------------------------------------------ construction
    def __post_init__(self) -> None:
        self._validate_and_fill()
        self._prepare()

    def _set(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)

    def _validate_and_fill(self) -> None:
        n = _checks.number
        self._set("warmup_type", _checks.choice("warmup_type", self.warmup_type, WARMUP_TYPES))
        self._set("warmup_steps", n("warmup_steps", self.warmup_steps, low=0))
        if self.warmup_type == "none" and self.warmup_steps != 0:
            raise ValueError(f"warmup_steps must be 0 with warmup_type='none', got {self.warmup_steps!r}")
        if self.total_steps is not None:
            self._set("total_steps", n("total_steps", self.total_steps, low=0))
            if self.total_steps < self.warmup_steps:
                raise ValueError(
                    f"warmup_steps ({self.warmup_steps}) is longer than total_steps ({self.total_steps}); "
                    "both count optimizer updates unless you use WarmupSchedule.from_epochs"
                )
        self._set("start_factor", n("start_factor", self.start_factor, low=0))
        if self.warmup_type == "exponential" and self.start_factor == 0:
            raise ValueError("start_factor must be > 0 for warmup_type='exponential' (0 * anything stays 0)")
        if self.warmup_type == "exponential" and not math.isfinite(1 / self.start_factor):
            raise ValueError(
                f"start_factor must be >= {1 / sys.float_info.max:.3g} for warmup_type='exponential' "
                f"(1 / start_factor overflows a float), got {self.start_factor!r}"
            )
        self._set("decay_type", _checks.choice("decay_type", self.decay_type, DECAY_TYPES))
        self._set("warmup_prefix", _checks.boolean("warmup_prefix", self.warmup_prefix))
        self._set("warmup_end", _checks.choice("warmup_end", self.warmup_end, ("peak", "decay")))
        if self.warmup_end == "decay" and self.warmup_prefix:
            raise ValueError("warmup_end='decay' needs warmup_prefix=False (a prefix warmup always ends at the peak)")

        decay = self.decay_type
        allowed = _DECAY_OPTIONS[decay]
        for name in _ALL_OPTIONS:
            if getattr(self, name) is not None and name not in allowed:
                used_by = [d for d, opts in _DECAY_OPTIONS.items() if name in opts]
                raise ValueError(f"{name} is not used by decay_type={decay!r}; it applies to decay_type in {used_by}")
        if decay in _NEEDS_TOTAL and self.total_steps is None:
            raise ValueError(f"total_steps is required for decay_type={decay!r}")

        fill: dict[str, Any] = {}
        if "end_factor" in allowed and not (decay == "exponential" and self.end_factor is None):
            fill["end_factor"] = n("end_factor", 0.0 if self.end_factor is None else self.end_factor, low=0)
        if decay in ("cosine", "polynomial"):
            fill["k_decay"] = float(n("k_decay", 1.0 if self.k_decay is None else self.k_decay, low=0, low_open=True))
        if decay == "polynomial":
            fill["power"] = n("power", 1.0 if self.power is None else self.power, low=0, low_open=True)
        if decay == "tanh":
            fill["tanh_lb"] = n("tanh_lb", -7.0 if self.tanh_lb is None else self.tanh_lb)
            fill["tanh_ub"] = n("tanh_ub", 3.0 if self.tanh_ub is None else self.tanh_ub)
            if fill["tanh_lb"] >= fill["tanh_ub"]:
                raise ValueError(f"tanh_lb must be < tanh_ub, got {fill['tanh_lb']} and {fill['tanh_ub']}")
        if decay in ("step", "multistep"):
            fill["gamma"] = n("gamma", 0.1 if self.gamma is None else self.gamma, low=0, high=1, low_open=True)
        if decay == "step":
            if self.step_size is None:
                raise ValueError("step_size is required for decay_type='step'")
            fill["step_size"] = n("step_size", self.step_size, low=0, low_open=True)
        if decay == "multistep":
            if self.milestones is None:
                raise ValueError("milestones is required for decay_type='multistep'")
            fill["milestones"] = _checks.numbers_nondecreasing("milestones", self.milestones, low=0)
            if self.warmup_prefix and fill["milestones"][0] <= self.warmup_steps:
                raise ValueError(
                    f"milestones must lie after the warmup (> warmup_steps={self.warmup_steps}), got "
                    f"{list(fill['milestones'])}; milestones count updates from the start of training"
                )
        if decay == "exponential":
            if (self.gamma is None) == (self.end_factor is None):
                raise ValueError("decay_type='exponential' needs exactly one of gamma (per update) or end_factor")
            if self.gamma is not None:
                fill["gamma"] = n("gamma", self.gamma, low=0, high=1, low_open=True)
            elif self.total_steps is None:
                raise ValueError("total_steps is required for decay_type='exponential' with end_factor")
            elif fill["end_factor"] == 0:
                raise ValueError("end_factor must be > 0 for decay_type='exponential' (an exponential never hits 0)")
        if decay == "inverse_sqrt":
            timescale = self.warmup_steps if self.timescale is None else self.timescale
            if self.timescale is None and timescale == 0:
                raise ValueError("decay_type='inverse_sqrt' without warmup needs a timescale > 0")
            fill["timescale"] = n("timescale", timescale, low=0, low_open=True)
        if decay in ("inverse_sqrt", "wsd"):
            fill.update(self._cooldown_fill(decay))
        if decay in ANNEALING_TYPES:
            fill.update(self._cycle_fill())
        for name, value in fill.items():
            self._set(name, value)

    def _cooldown_fill(self, decay: str) -> dict[str, Any]:
        n = _checks.number
        steps, fraction = self.cooldown_steps, self.cooldown_fraction
        if steps is not None and fraction is not None:
            raise ValueError("give cooldown_steps or cooldown_fraction, not both")
        if steps is None and fraction is None:
            if decay == "inverse_sqrt":
                for name in ("cooldown_type", "cooldown_power", "cooldown_ratio"):
                    if getattr(self, name) is not None:
                        raise ValueError(f"{name} needs cooldown_steps or cooldown_fraction")
                return {}
            fraction = 0.2
        out: dict[str, Any] = {}
        if self.total_steps is None:
            raise ValueError(f"total_steps is required for a cooldown (decay_type={decay!r})")
        span = self._decay_span()
        if fraction is not None:
            out["cooldown_fraction"] = n("cooldown_fraction", fraction, low=0, high=1, low_open=True)
        else:
            out["cooldown_steps"] = n("cooldown_steps", steps, low=0, high=span, low_open=True)
        default_type = "1-sqrt" if decay == "wsd" else "linear"
        out["cooldown_type"] = _checks.choice(
            "cooldown_type", default_type if self.cooldown_type is None else self.cooldown_type, COOLDOWN_TYPES
        )
        for name, shape, default, high in (("cooldown_power", "power", 0.5, None), ("cooldown_ratio", "exp", 0.1, 1)):
            value = getattr(self, name)
            if out["cooldown_type"] == shape:
                out[name] = n(
                    name, default if value is None else value, low=0, high=high, low_open=True, high_open=True
                )
            elif value is not None:
                raise ValueError(f"{name} is only used by cooldown_type={shape!r}")
        return out

    def _cycle_fill(self) -> dict[str, Any]:
        n = _checks.number
        if self.cycle_steps is None:
            for name in ("cycle_mul", "cycle_decay", "cycle_limit"):
                if getattr(self, name) is not None:
                    raise ValueError(f"{name} needs cycle_steps (the first cycle's length)")
            if self.cycle_warmup is not None and _checks.boolean("cycle_warmup", self.cycle_warmup):
                raise ValueError("cycle_warmup needs cycle_steps (the first cycle's length)")
            return {"cycle_warmup": None}
        out: dict[str, Any] = {
            "cycle_steps": n("cycle_steps", self.cycle_steps, low=0, low_open=True),
            # floats: an int base raised to the cycle index would grow into a huge exact int instead of overflowing
            "cycle_mul": float(n("cycle_mul", 1.0 if self.cycle_mul is None else self.cycle_mul, low=1)),
            "cycle_decay": float(
                n("cycle_decay", 1.0 if self.cycle_decay is None else self.cycle_decay, low=0, low_open=True)
            ),
            "cycle_warmup": _checks.boolean("cycle_warmup", False if self.cycle_warmup is None else self.cycle_warmup),
        }
        if self.cycle_limit is not None:
            out["cycle_limit"] = _checks.integer("cycle_limit", self.cycle_limit, low=1)
        if out["cycle_warmup"]:
            if not self.warmup_prefix:
                raise ValueError("cycle_warmup needs warmup_prefix=True")
            if out["cycle_steps"] <= self.warmup_steps:
                raise ValueError(
                    f"cycle_steps ({out['cycle_steps']}) must be longer than warmup_steps ({self.warmup_steps}) "
                    "when every cycle repeats the warmup"
                )
        self._check_cycles(self.total_steps if out["cycle_warmup"] else self._decay_span(), out)
        return out

    @staticmethod
    def _check_cycles(clock: float, cycles: dict[str, Any]) -> None:
        """The restarts up to ``T`` must be countable in floats: at most 2**52 cycles, finite starts and peaks."""
        length, mul, decay = cycles["cycle_steps"], cycles["cycle_mul"], cycles["cycle_decay"]
        if clock / length > _MAX_CYCLES:
            raise ValueError(f"cycle_steps ({length}) is too short: more than 2**52 cycles before total_steps")
        try:
            last = restarts.locate(clock, length, mul)[0]
            decay ** min(last, cycles.get("cycle_limit", last))  # the peak of the last cycle
        except OverflowError:
            raise ValueError(
                f"cycle_mul ({mul}) or cycle_decay ({decay}) overflows a float over the {clock:g} updates of restarts"
            ) from None

    def _decay_span(self) -> float:
        """``D``: the decay clock's length (``T - W``, or ``T`` for an overlapping warmup)."""
        assert self.total_steps is not None
        return self.total_steps - self.warmup_steps if self.warmup_prefix else self.total_steps

    def _prepare(self) -> None:
        """Derive the evaluation state once; it is rebuilt after unpickling, never pickled."""
        self._set("_warmup_fn", warmups.WARMUPS.get(self.warmup_type))
        self._set("_total", math.inf if self.total_steps is None else self.total_steps)
        self._set("_span", None if self.total_steps is None else self._decay_span())
        self._set("_decay_fn", getattr(self, "_decay_" + self.decay_type))
        if self.decay_type in ANNEALING_TYPES:
            self._set("_shape", getattr(decays, self.decay_type))
            self._set("_shape_args", self._annealing_args())
            if self.cycle_steps is None:
                self._set("_decay_fn", self._single_cycle())
        if self.cooldown_fraction is not None:
            self._set("_cooldown", self.cooldown_fraction * self._span)
        else:
            self._set("_cooldown", self.cooldown_steps)
        self._set("_warmup_target", 1.0)
        if self.warmup_end == "decay" and self.warmup_steps > 0:
            self._set("_warmup_target", self._decay_fn(self.warmup_steps))
        self._set("_final", self._final_value())
        self._set("_max_factor", self._factor_bound())

    def _annealing_args(self) -> tuple[float, ...]:
        """Arguments after the progress for the :mod:`decays` annealing shape (the peak comes last)."""
        if self.decay_type == "polynomial":
            return (self.end_factor, self.power)
        if self.decay_type == "tanh":
            return (self.end_factor, self.tanh_lb, self.tanh_ub)
        return (self.end_factor,)

    def _final_value(self) -> float:
        if self.total_steps is None:
            return math.nan  # never used: _total is inf
        if self.total_steps == self.warmup_steps and self.warmup_prefix:
            return 1.0
        if self.decay_type in ANNEALING_TYPES and self.cycle_steps is None:
            return self.end_factor  # an annealing decay ends at m (tanh's formula stops short of it)
        return self._decay_fn(self.total_steps, at_end=True)

    def __getstate__(self) -> dict[str, Any]:
        return self.to_dict()

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            self._set(name, tuple(value) if name == "milestones" and value is not None else value)
        self._prepare()

    # ------------------------------------------------------------------ evaluation
    def __call__(self, step: float | np.ndarray) -> Any:
        """``f(step)``; an array of steps gives an array of factors (the same values as scalars)."""
        if step.__class__ is not int and step.__class__ is not float:
            if isinstance(step, (np.ndarray, list, tuple)):
                try:
                    arr = np.asarray(step, dtype=float)
                except (TypeError, ValueError, OverflowError) as error:
                    raise TypeError(f"step must be a number or an array of numbers: {error}") from None
                return np.fromiter(map(self, arr.ravel().tolist()), float, arr.size).reshape(arr.shape)
            step = _checks.number("step", step)
        if not 0 <= step <= _FLOAT_MAX:  # also rejects an int too large for float arithmetic
            raise ValueError(f"step must be a finite number >= 0, got {step!r}")
        if step < self.warmup_steps:
            return self._warmup_fn(step / self.warmup_steps, self.start_factor, self._warmup_target)
        if step >= self._total:
            return self._final
        return self._decay_fn(step)

    def _clock(self, k: float) -> float:
        """Updates on the decay clock at step ``k``."""
        return k - self.warmup_steps if self.warmup_prefix else k

    def _decay_constant(self, k: float, at_end: bool = False) -> float:
        return 1.0

    def _progress(self, d: float, span: float) -> float:
        if span <= 0:
            return 1.0
        kd = self.k_decay
        if kd is None or kd == 1:
            return d / span
        try:
            return d**kd / span**kd  # timm's expression
        except (OverflowError, ZeroDivisionError):  # a k_decay so large that the powers leave the float range
            return (d / span) ** kd

    def _decay_annealing(self, k: float, at_end: bool = False) -> float:
        if self.cycle_steps is None:
            return self._shape(self._progress(self._clock(k), self._span), *self._shape_args)
        d = k if self.cycle_warmup else self._clock(k)
        i, t, span = restarts.locate(d, self.cycle_steps, self.cycle_mul)
        if (at_end and t == 0 and i > 0) or (self.cycle_limit is not None and i >= self.cycle_limit):
            return self.end_factor  # the end of a cycle (never a new peak at T), or past the cycle limit
        peak = self.cycle_decay**i
        if self.cycle_warmup:
            if t < self.warmup_steps:
                return peak * self._warmup_fn(t / self.warmup_steps, self.start_factor, 1.0)
            t, span = t - self.warmup_steps, span - self.warmup_steps
        return self._shape(self._progress(t, span), *self._shape_args, peak)

    def _single_cycle(self) -> Callable[..., float]:
        """The hot path of an annealing decay without restarts, resolved once per schedule."""
        shape, span, m = self._shape, self._span, self.end_factor
        offset = self.warmup_steps if self.warmup_prefix else 0
        if span <= 0 or not (self.k_decay is None or self.k_decay == 1):
            return self._decay_annealing
        if self.decay_type == "polynomial":
            power = self.power

            def decay(k: float, at_end: bool = False) -> float:
                return shape((k - offset) / span, m, power)

        elif self.decay_type == "tanh":
            lb, ub = self.tanh_lb, self.tanh_ub

            def decay(k: float, at_end: bool = False) -> float:
                return shape((k - offset) / span, m, lb, ub)

        else:

            def decay(k: float, at_end: bool = False) -> float:
                return shape((k - offset) / span, m)

        return decay

    _decay_cosine = _decay_linear = _decay_polynomial = _decay_tanh = _decay_annealing

    def _decay_exponential(self, k: float, at_end: bool = False) -> float:
        d = self._clock(k)
        if self.gamma is not None:
            return decays.exponential(d, self.gamma)
        return self.end_factor ** (d / self._span) if self._span > 0 else 1.0

    def _decay_step(self, k: float, at_end: bool = False) -> float:
        return decays.step(self._clock(k), self.gamma, self.step_size)

    def _decay_multistep(self, k: float, at_end: bool = False) -> float:
        return decays.multistep(k, self.gamma, self.milestones)

    def _with_cooldown(self, k: float, stable: float) -> float:
        m = self.end_factor
        stable = max(stable, m)
        if self._cooldown is None:
            return stable
        d = self._clock(k)
        start = self._span - self._cooldown
        if d <= start:
            return stable
        q = min((d - start) / self._cooldown, 1.0)
        return m + (stable - m) * decays.cooldown(q, self.cooldown_type, self.cooldown_power, self.cooldown_ratio)

    def _decay_inverse_sqrt(self, k: float, at_end: bool = False) -> float:
        return self._with_cooldown(k, decays.inverse_sqrt(self._clock(k), self.timescale))

    def _decay_wsd(self, k: float, at_end: bool = False) -> float:
        return self._with_cooldown(k, 1.0)

    def _factor_bound(self) -> float:
        """An upper bound of ``f`` over every ``k``: ``max(s, 1, m)`` times the highest restart peak."""
        peak = 1.0
        if self.cycle_steps is not None and self.cycle_decay > 1:  # peaks grow: the last cycle's is the highest
            clock = self.total_steps if self.cycle_warmup else self._decay_span()
            last = restarts.locate(clock, self.cycle_steps, self.cycle_mul)[0]
            peak = self.cycle_decay ** (last if self.cycle_limit is None else min(last, self.cycle_limit - 1))
        return max(self.start_factor, 1.0, self.end_factor or 0.0) * peak

    # ------------------------------------------------------------------ conversions
    @property
    def max_factor(self) -> float:
        """An upper bound of ``f(k)`` over all ``k`` (adapters check ``base * max_factor`` fits the value's type)."""
        return self._max_factor

    @property
    def final_factor(self) -> float:
        """``f(T)``, held for every ``k >= T`` (``nan`` for an endless schedule)."""
        return self._final

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
        """
        spe = _checks.integer("steps_per_epoch", steps_per_epoch, low=1)
        for epoch_name, step_name in EPOCH_LENGTHS.items():
            if step_name in kwargs:
                raise TypeError(f"from_epochs takes lengths in epochs: use {epoch_name} instead of {step_name}")
            if epoch_name in kwargs and kwargs[epoch_name] is not None:
                value = kwargs.pop(epoch_name)
                if step_name == "milestones":
                    kwargs[step_name] = [
                        epochs_to_steps(f"milestone_epochs[{i}]", v, spe) for i, v in enumerate(_as_list(value))
                    ]
                else:
                    kwargs[step_name] = epochs_to_steps(epoch_name, value, spe)
            else:
                kwargs.pop(epoch_name, None)
        return cls(**kwargs)


def _as_list(value: object) -> list[Any]:
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise TypeError(f"milestone_epochs must be a sequence of numbers, got {value!r}")
    return list(value)  # type: ignore[call-overload]


def epochs_to_steps(name: str, epochs: object, steps_per_epoch: int) -> int:
    """``round(epochs * steps_per_epoch)``, half up: the one place epochs become updates."""
    value = _checks.number(name, epochs, low=0)
    steps = value * steps_per_epoch + 0.5
    if not math.isfinite(steps):
        raise ValueError(f"{name} ({epochs!r}) times steps_per_epoch ({steps_per_epoch}) overflows a float")
    return math.floor(steps)


def is_epoch_argument(name: str) -> bool:
    """True for the epoch-length keywords that :meth:`WarmupSchedule.from_epochs` converts."""
    return name in EPOCH_LENGTHS or name == "steps_per_epoch"

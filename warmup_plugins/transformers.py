"""A drop-in for transformers' ``get_scheduler``: the same names and arguments, a :class:`WarmupLR` back.

``get_scheduler("cosine", optimizer, num_warmup_steps=100, num_training_steps=1000)`` gives the LRs
of ``transformers.get_scheduler`` with the same arguments (transformers 5.24) at every update up to
``num_training_steps``, including its LR 0 at update 0; ``start_factor=0.01`` asks for this
library's default start instead. Each ``get_*_schedule_with_warmup`` function has its drop-in too.
transformers itself is not needed: names are plain strings (a ``SchedulerType`` works as well).

What differs, on purpose (docs/migrate_transformers.md lists every case):

* after ``num_training_steps`` the LR holds its final value; transformers' cosines rise again;
* a request this library does not express (no update left to decay over; the ``_lr_rate`` form without a
  warmup; a WSD decay longer than the whole run after a warmup) raises ``ValueError`` naming the
  argument, never a silently different LR;
* with a Tensor LR, ``polynomial`` keeps transformers' formula for the LR at construction (transformers'
  own lambda divides by the Tensor ``LambdaLR`` fills in place, and drifts);
* ``"reduce_lr_on_plateau"`` returns torch's ``ReduceLROnPlateau``, as transformers does;
  ``"greedy"`` (transformers' own loss-driven ``GreedyLR``) is refused.
"""

from __future__ import annotations

import enum
import inspect
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch.optim import Optimizer
from torch.optim.lr_scheduler import ReduceLROnPlateau

from .core import _checks
from .core.request import ScheduleRequest
from .core.schedule import WarmupSchedule
from .extensions.adaptive import AdaptiveWarmup
from .extensions.peak import PeakFinder
from .torch import WarmupLR

__all__ = [
    "SCHEDULER_NAMES",
    "get_constant_schedule",
    "get_constant_schedule_with_warmup",
    "get_cosine_schedule_with_warmup",
    "get_cosine_with_hard_restarts_schedule_with_warmup",
    "get_cosine_with_min_lr_schedule_with_warmup",
    "get_cosine_with_min_lr_schedule_with_warmup_lr_rate",
    "get_inverse_sqrt_schedule",
    "get_linear_schedule_with_warmup",
    "get_polynomial_decay_schedule_with_warmup",
    "get_scheduler",
    "get_wsd_schedule",
    "transformers_schedule",
]


def _refused(argument: str, value: Any, why: str) -> ValueError:
    """A deliberate difference: the request is refused by name, never answered with other LRs."""
    return ValueError(f"{argument}={value!r} is not supported: {why} (see docs/migrate_transformers.md)")


def _warmup(num_warmup_steps: Any) -> int:
    return _checks.integer("num_warmup_steps", num_warmup_steps, low=0)


def _lengths(num_warmup_steps: Any, num_training_steps: Any) -> tuple[int, int]:
    """``W`` and ``T`` for a decaying schedule: ``T > W`` (transformers then divides by ``T - W``)."""
    w = _warmup(num_warmup_steps)
    t = _checks.integer("num_training_steps", num_training_steps, low=0)
    if t <= w:
        raise ValueError(
            f"num_training_steps ({t}) must be > num_warmup_steps ({w}): with no update left to decay over, "
            "transformers gives LR 0, an oscillating LR or a ZeroDivisionError after the warmup"
        )
    return w, t


def _start(start_factor: float | None, transformers_start: float) -> float:
    return transformers_start if start_factor is None else start_factor


def _cosine_decay(num_cycles: Any) -> dict[str, Any]:
    """``num_cycles`` 0.5 is the plain cosine; any other number of periods is ``cosine_wave`` (rising again)."""
    if _checks.number("num_cycles", num_cycles) == 0.5:
        return {"decay_type": "cosine"}
    return {"decay_type": "cosine_wave", "num_cycles": num_cycles}


def _base_lr(optimizer: Optimizer, argument: str) -> float:
    """``optimizer.defaults["lr"]``, which ``argument`` (an absolute LR) is divided by, as a float: a Tensor LR is
    read as its value (transformers divides by the Tensor)."""
    lr = optimizer.defaults["lr"]
    value = lr.item() if isinstance(lr, torch.Tensor) and lr.numel() == 1 else lr
    if not _checks.is_real(value) or not value > 0:
        raise ValueError(f"{argument} is relative to the optimizer's lr, which must be a number > 0, got {lr!r}")
    return float(value)


def _min_lr_rate(optimizer: Optimizer, min_lr: Any, min_lr_rate: Any) -> float:
    if min_lr is not None and min_lr_rate is not None:
        raise ValueError("Only one of min_lr or min_lr_rate should be set")
    if min_lr is not None:
        return _checks.number("min_lr", min_lr, low=0) / _base_lr(optimizer, "min_lr")
    if min_lr_rate is None:
        raise ValueError("One of min_lr or min_lr_rate should be set through the `lr_scheduler_kwargs`")
    return _checks.number("min_lr_rate", min_lr_rate, low=0)


def _linear(optimizer: Optimizer, w: Any, t: Any, start: float | None) -> WarmupSchedule:
    w, t = _lengths(w, t)
    return _schedule(w, t, _start(start, 0.0), decay_type="linear")


def _cosine(optimizer: Optimizer, w: Any, t: Any, start: float | None, num_cycles: float = 0.5) -> WarmupSchedule:
    decay = _cosine_decay(num_cycles)
    w, t = _lengths(w, t)
    return _schedule(w, t, _start(start, 0.0), **decay)


def _hard_restarts(optimizer: Optimizer, w: Any, t: Any, start: float | None, num_cycles: int = 1) -> WarmupSchedule:
    cycles = _checks.number("num_cycles", num_cycles, low=0)
    w, t = _lengths(w, t)
    return _schedule(w, t, _start(start, 0.0), decay_type="hard_restarts", num_cycles=cycles)


def _polynomial(
    optimizer: Optimizer, w: Any, t: Any, start: float | None, lr_end: float = 1e-7, power: float = 1.0
) -> WarmupSchedule:
    lr_init, lr_end = _base_lr(optimizer, "lr_end"), _checks.number("lr_end", lr_end, low=0)
    if not (lr_init > lr_end):
        raise ValueError(f"lr_end ({lr_end}) must be smaller than initial lr ({lr_init})")
    w, t = _lengths(w, t)
    m = lr_end / lr_init
    if _checks.number("power", power, low=0) == 0:  # (1 - p) ** 0 = 1 up to T included, then lr_end: a step at T + 1
        return _schedule(w, t + 1, _start(start, 0.0), decay_type="wsd", end_factor=m, cooldown_steps=0)
    return _schedule(w, t, _start(start, 0.0), decay_type="polynomial", end_factor=m, power=power)


def _constant(optimizer: Optimizer, w: Any, t: Any, start: float | None) -> WarmupSchedule:
    return _build(warmup_type="none", decay_type="constant")


def _constant_with_warmup(optimizer: Optimizer, w: Any, t: Any, start: float | None) -> WarmupSchedule:
    return _schedule(_warmup(w), None, _start(start, 0.0), decay_type="constant")


def _inverse_sqrt(optimizer: Optimizer, w: Any, t: Any, start: float | None, timescale: int | None = None):
    w = _warmup(w)
    timescale = (w or 10_000) if timescale is None else _checks.number("timescale", timescale, low=0, low_open=True)
    return _schedule(w, None, _start(start, 0.0), decay_type="inverse_sqrt", timescale=timescale)


def _cosine_with_min_lr(
    optimizer: Optimizer,
    w: Any,
    t: Any,
    start: float | None,
    num_cycles: float = 0.5,
    min_lr: float | None = None,
    min_lr_rate: float | None = None,
) -> WarmupSchedule:
    rate = _min_lr_rate(optimizer, min_lr, min_lr_rate)
    decay = _cosine_decay(num_cycles)
    w, t = _lengths(w, t)
    return _schedule(w, t, _start(start, 0.0), end_factor=rate, **decay)


def _cosine_warmup_with_min_lr(
    optimizer: Optimizer,
    w: Any,
    t: Any,
    start: float | None,
    num_cycles: float = 0.5,
    min_lr: float | None = None,
    min_lr_rate: float | None = None,
    warmup_lr_rate: float | None = None,
) -> WarmupSchedule:
    """transformers' ``_lr_rate`` form is the plain one a step earlier: its warmup reaches the peak at
    update ``W - 1`` and its cosine ends at ``T - 1``; so here ``W - 1`` warmup updates and ``T - 1`` in all."""
    rate = _min_lr_rate(optimizer, min_lr, min_lr_rate)
    decay = _cosine_decay(num_cycles)
    w, t = _lengths(w, t)
    if w == 0:
        raise _refused(
            "num_warmup_steps",
            w,
            "without a warmup this form starts its cosine one update in, past the peak; use cosine_with_min_lr",
        )
    if warmup_lr_rate is None:
        first = _start(start, 1.0 / w)
    else:
        first = _start(start, _checks.number("warmup_lr_rate", warmup_lr_rate, low=0))
        if w == 1:  # update 0 at the rate, then the cosine from update 1 on at its value for progress 1 / (T - 1)
            return _build(
                warmup_type="constant", warmup_steps=1, total_steps=t - 1, start_factor=first, warmup_prefix=False,
                end_factor=rate, **decay,
            )  # fmt: skip
    return _schedule(w - 1, t - 1, first, end_factor=rate, **decay)


def _wsd(
    optimizer: Optimizer,
    w: Any,
    t: Any,
    start: float | None,
    num_decay_steps: int | None = None,
    num_stable_steps: int | None = None,
    warmup_type: str = "linear",
    decay_type: str = "cosine",
    min_lr_ratio: float = 0,
    num_cycles: float = 0.5,
) -> WarmupSchedule:
    if num_decay_steps is None:
        raise TypeError("get_wsd_schedule() missing 1 required argument: 'num_decay_steps'")
    if t is None and num_stable_steps is None:
        raise ValueError("Either num_training_steps or num_stable_steps must be specified.")
    if t is not None and num_stable_steps is not None:
        warnings.warn(
            "Both num_training_steps and num_stable_steps are specified. num_stable_steps will be used.", stacklevel=4
        )
    for argument, value in (("warmup_type", warmup_type), ("decay_type", decay_type)):
        _checks.choice(argument, value, ("linear", "cosine", "1-sqrt"))
    cycles = {}  # transformers reads num_cycles in a cosine decay only
    if decay_type == "cosine":
        cycles["num_cycles"] = _checks.periods("num_cycles", num_cycles)
    w = _warmup(w)
    decay = _checks.integer("num_decay_steps", num_decay_steps, low=0)
    if num_stable_steps is None:
        total = _checks.integer("num_training_steps", t, low=0)
    else:  # transformers' stable phase may be negative: the decay then starts before the end of the warmup
        total = w + _checks.integer("num_stable_steps", num_stable_steps, low=-(2**62)) + decay
    ratio = _checks.number("min_lr_ratio", min_lr_ratio, low=0)
    warmup = "none" if w == 0 else warmup_type
    common = {"warmup_type": warmup, "warmup_steps": w, "start_factor": _start(start, ratio), "end_factor": ratio}
    if total <= w:  # no update after the warmup is before the end: min_lr_ratio from W on
        return _build(
            **common, total_steps=w, decay_type="wsd", cooldown_steps=0, warmup_prefix=False, cooldown_type=decay_type
        )
    if total - w < decay:  # the decay started before the end of the warmup: its clock from update 0
        if decay > total:
            given = f"num_training_steps={t}" if num_stable_steps is None else f"{total} updates in all"
            raise _refused(
                "num_decay_steps",
                decay,
                f"it is longer than the whole run ({given}): transformers' decay would begin before update 0",
            )
        return _build(
            **common, total_steps=total, decay_type="wsd", cooldown_steps=decay, cooldown_type=decay_type,
            warmup_prefix=False, **cycles,
        )  # fmt: skip
    return _build(
        **common, total_steps=total, decay_type="wsd", cooldown_steps=decay, cooldown_type=decay_type, **cycles
    )


def _schedule(w: int, t: int | None, start: float, **decay: Any) -> WarmupSchedule:
    """A linear warmup of ``w`` updates from ``start`` (none if ``w`` is 0), then the decay."""
    warmup = {"warmup_type": "linear" if w > 0 else "none", "warmup_steps": w}
    return _build(**warmup, total_steps=t, start_factor=start, **decay)


def _build(**arguments: Any) -> WarmupSchedule:
    """The schedule of these arguments, through the one :class:`~warmup_plugins.core.request.ScheduleRequest`."""
    return ScheduleRequest(arguments).resolve()


_FAMILIES: dict[str, Callable[..., WarmupSchedule]] = {
    "linear": _linear,
    "cosine": _cosine,
    "cosine_with_restarts": _hard_restarts,
    "polynomial": _polynomial,
    "constant": _constant,
    "constant_with_warmup": _constant_with_warmup,
    "inverse_sqrt": _inverse_sqrt,
    "cosine_with_min_lr": _cosine_with_min_lr,
    "cosine_warmup_with_min_lr": _cosine_warmup_with_min_lr,
    "warmup_stable_decay": _wsd,
}
_NO_TOTAL = ("constant", "constant_with_warmup", "inverse_sqrt", "warmup_stable_decay")
SCHEDULER_NAMES: tuple[str, ...] = (*_FAMILIES, "reduce_lr_on_plateau", "greedy")
"""transformers' ``SchedulerType`` values, in its order of definition here: all accepted names."""


def _name(name: Any) -> str:
    value = name.value if isinstance(name, enum.Enum) else name
    if not isinstance(value, str):
        raise ValueError(f"name must be one of {list(SCHEDULER_NAMES)}, got {name!r}")
    return _checks.choice("name", value, SCHEDULER_NAMES)  # with a close match: (did you mean 'cosine'?)


def transformers_schedule(
    name: Any,
    optimizer: Optimizer,
    num_warmup_steps: int | None = None,
    num_training_steps: int | None = None,
    scheduler_specific_kwargs: Mapping[str, Any] | None = None,
    *,
    start_factor: float | None = None,
) -> WarmupSchedule:
    """The :class:`WarmupSchedule` of transformers' scheduler ``name`` with these arguments (no scheduler
    built); ``optimizer`` is read only for ``optimizer.defaults["lr"]`` (``polynomial``'s ``lr_end`` and
    ``min_lr``). ``start_factor`` replaces transformers' first warmup factor (0, or ``min_lr_ratio``).

    >>> schedule = transformers_schedule("cosine", None, num_warmup_steps=10, num_training_steps=110)
    >>> schedule(0), schedule(5), schedule(10), schedule(60), schedule(110)
    (0.0, 0.5, 1.0, 0.5, 0.0)
    """
    name = _name(name)
    if name == "greedy":
        raise _refused("name", name, "transformers' GreedyLR follows the loss; use transformers.get_scheduler")
    if name == "reduce_lr_on_plateau":
        raise ValueError("reduce_lr_on_plateau has no schedule: get_scheduler returns torch's ReduceLROnPlateau")
    kwargs = dict(scheduler_specific_kwargs or {})
    if name in ("constant", "constant_with_warmup"):
        kwargs = {}  # transformers passes them no extra arguments
    if name != "constant" and num_warmup_steps is None:
        raise ValueError(f"{name} requires `num_warmup_steps`, please provide that argument.")
    if name not in _NO_TOTAL and num_training_steps is None:
        raise ValueError(f"{name} requires `num_training_steps`, please provide that argument.")
    family = _FAMILIES[name]
    try:
        return family(optimizer, num_warmup_steps, num_training_steps, start_factor, **kwargs)
    except TypeError as error:
        if "unexpected keyword argument" in str(error):  # as transformers' own functions refuse them
            raise TypeError(f"scheduler_specific_kwargs for {name!r}: {error}") from None
        raise


def get_scheduler(
    name: Any,
    optimizer: Optimizer,
    num_warmup_steps: int | None = None,
    num_training_steps: int | None = None,
    scheduler_specific_kwargs: Mapping[str, Any] | None = None,
    *,
    start_factor: float | None = None,
    adaptive: AdaptiveWarmup | PeakFinder | None = None,
) -> WarmupLR | ReduceLROnPlateau:
    """transformers' ``get_scheduler``, returning a :class:`~warmup_plugins.torch.WarmupLR` with its LRs.

    ``name`` is one of :data:`SCHEDULER_NAMES` (or a ``transformers.SchedulerType``); the other
    arguments mean what they mean there. ``start_factor`` (keyword only, default: transformers' own
    start, usually 0) sets ``f(0)``; ``start_factor=0.01`` is this library's default, which wastes no
    update at LR 0. ``adaptive`` (keyword only) takes an :class:`~warmup_plugins.AdaptiveWarmup` or a
    :class:`~warmup_plugins.PeakFinder` (with ``num_warmup_steps=0``: it ramps the warmup itself, the optimizer's
    LR as the bound); step the scheduler with the update's loss, ``scheduler.step(loss=...)``.
    ``"reduce_lr_on_plateau"`` returns ``ReduceLROnPlateau(optimizer, **kwargs)`` as transformers does.
    """
    if _name(name) == "reduce_lr_on_plateau":
        return ReduceLROnPlateau(optimizer, **dict(scheduler_specific_kwargs or {}))
    schedule = transformers_schedule(
        name, optimizer, num_warmup_steps, num_training_steps, scheduler_specific_kwargs, start_factor=start_factor
    )
    return WarmupLR(optimizer, schedule, adaptive=adaptive)


REQUIRED = inspect.Parameter.empty


def _function(public: str, name: str, *parameters: tuple[str, Any]) -> Callable[..., WarmupLR]:
    """transformers' ``public(optimizer, <parameters>)`` for scheduler ``name``, as a WarmupLR: the same parameters
    (``(name, default)``, ``REQUIRED`` for none) in the same order, so positional calls mean the same, ``last_epoch``
    included; plus the keyword-only ``start_factor`` and ``adaptive``."""
    plain, keyword = inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY
    signature = inspect.Signature(
        [
            inspect.Parameter("optimizer", plain),
            *(inspect.Parameter(parameter, plain, default=default) for parameter, default in parameters),
            inspect.Parameter("start_factor", keyword, default=None),
            inspect.Parameter("adaptive", keyword, default=None),
        ]
    )

    def build(*args: Any, **kwargs: Any) -> WarmupLR:
        try:
            given = signature.bind(*args, **kwargs)
        except TypeError as error:
            raise TypeError(f"{public}(): {error}") from None
        given.apply_defaults()
        options = dict(given.arguments)
        optimizer, last_epoch, start_factor, adaptive = (
            options.pop("optimizer"),
            options.pop("last_epoch"),
            options.pop("start_factor"),
            options.pop("adaptive"),
        )
        w, t = options.pop("num_warmup_steps", None), options.pop("num_training_steps", None)
        schedule = transformers_schedule(name, optimizer, w, t, options, start_factor=start_factor)
        return WarmupLR(optimizer, schedule, last_epoch=last_epoch, adaptive=adaptive)

    build.__name__ = build.__qualname__ = public
    build.__signature__ = signature  # type: ignore[attr-defined]
    build.__doc__ = f"transformers' ``{public}``, returning a WarmupLR with its LRs (see :func:`get_scheduler`)."
    return build


_W, _T, _LAST = ("num_warmup_steps", REQUIRED), ("num_training_steps", REQUIRED), ("last_epoch", -1)
_MIN_LR = (("num_cycles", 0.5), _LAST, ("min_lr", None), ("min_lr_rate", None))
get_constant_schedule = _function("get_constant_schedule", "constant", _LAST)
get_constant_schedule_with_warmup = _function("get_constant_schedule_with_warmup", "constant_with_warmup", _W, _LAST)
get_linear_schedule_with_warmup = _function("get_linear_schedule_with_warmup", "linear", _W, _T, _LAST)
get_cosine_schedule_with_warmup = _function(
    "get_cosine_schedule_with_warmup", "cosine", _W, _T, ("num_cycles", 0.5), _LAST
)
get_cosine_with_hard_restarts_schedule_with_warmup = _function(
    "get_cosine_with_hard_restarts_schedule_with_warmup", "cosine_with_restarts", _W, _T, ("num_cycles", 1), _LAST
)
get_polynomial_decay_schedule_with_warmup = _function(
    "get_polynomial_decay_schedule_with_warmup", "polynomial", _W, _T, ("lr_end", 1e-7), ("power", 1.0), _LAST
)
get_inverse_sqrt_schedule = _function("get_inverse_sqrt_schedule", "inverse_sqrt", _W, ("timescale", None), _LAST)
get_cosine_with_min_lr_schedule_with_warmup = _function(
    "get_cosine_with_min_lr_schedule_with_warmup", "cosine_with_min_lr", _W, _T, *_MIN_LR
)
get_cosine_with_min_lr_schedule_with_warmup_lr_rate = _function(
    "get_cosine_with_min_lr_schedule_with_warmup_lr_rate",
    "cosine_warmup_with_min_lr",
    _W,
    _T,
    *_MIN_LR,
    ("warmup_lr_rate", None),
)
get_wsd_schedule = _function(
    "get_wsd_schedule",
    "warmup_stable_decay",
    _W,
    ("num_decay_steps", REQUIRED),
    ("num_training_steps", None),
    ("num_stable_steps", None),
    ("warmup_type", "linear"),
    ("decay_type", "cosine"),
    ("min_lr_ratio", 0),
    ("num_cycles", 0.5),
    _LAST,
)

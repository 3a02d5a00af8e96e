"""timm adapter: a ``timm.scheduler.Scheduler`` driven by the core, and a drop-in factory.

``from warmup_plugins.timm import create_scheduler`` is a one-line swap in timm's ``train.py``:
with no new options every LR equals timm's own; ``warmup_type=`` adds the core's warmup shapes
and ``sched=`` the decays timm lacks. timm's loop calls ``step_update(num_updates)`` after every
optimizer update and ``step(epoch + 1)`` at each epoch end; with ``t_in_epochs`` only the
matching call moves the LR, exactly as in timm.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

try:
    from timm.scheduler.scheduler import Scheduler
except ImportError as error:  # pragma: no cover - exercised in a subprocess test
    raise ImportError("warmup_plugins.timm needs timm, which is not installed: pip install timm") from error

import torch
from torch.optim import Optimizer
from torch.optim.lr_scheduler import ReduceLROnPlateau

from . import _codec as codec
from ._errors import owned
from ._param_groups import GroupWriter, check_optimizer, largest_value, read_value, torch_scheduler
from ._repr import adapter_repr
from ._schedules import build_schedules
from ._seam import Driver
from .core import _checks, restarts
from .core._checks import scalar
from .core.choices import PLAIN_WARMUPS
from .core.request import ScheduleRequest
from .core.schedule import WarmupSchedule
from .extensions.adaptive import AdaptiveWarmup
from .extensions.peak import PeakFinder

__all__ = [
    "SCHED_NAMES",
    "PlateauWarmupScheduler",
    "WarmupScheduler",
    "add_scheduler_args",
    "create_scheduler",
    "create_scheduler_v2",
    "scheduler_kwargs",
]

TIMM_SCHEDS = ("cosine", "tanh", "step", "constant", "multistep", "plateau", "poly", "wsd", "rsqrt", "none")
NEW_SCHEDS = ("linear", "exponential")
SCHED_NAMES = TIMM_SCHEDS + NEW_SCHEDS
_CYCLIC = ("cosine", "tanh", "poly", "linear")
_CYCLE_LENGTH = (*_CYCLIC, "wsd", "rsqrt")  # the scheds whose timm scheduler has get_cycle_length()


class WarmupScheduler(Scheduler):
    """A timm ``Scheduler`` whose LR at time ``t`` is ``base * f(t)`` for a ``WarmupSchedule`` ``f``.

    ``t`` is the epoch (``t_in_epochs=True``, moved by ``step(epoch)``) or the update count
    (moved by ``step_update(num_updates)``); the schedule's lengths are in that unit. ``base`` is
    the group's ``initial_lr``. Groups with timm's ``lr_scale`` (layer-wise decay) get
    ``base * f(t) * lr_scale``. Noise options are timm's. Tensor LRs are filled in place. The state
    dict is plain data; ``load_state_dict`` writes the loaded ``t``'s LRs only if the groups still hold the
    LRs this scheduler wrote (it was built after the optimizer's state was loaded), else none (the
    optimizer's state holds them).
    """

    @owned
    def __init__(
        self,
        optimizer: Optimizer,
        schedule: WarmupSchedule | Sequence[WarmupSchedule] | None = None,
        *,
        t_in_epochs: bool = True,
        noise_range_t: float | Sequence[float] | None = None,
        noise_type: str = "normal",
        noise_pct: float = 0.67,
        noise_std: float = 1.0,
        noise_seed: int | None = None,
        initialize: bool = True,
        adaptive: AdaptiveWarmup | PeakFinder | None = None,
        record: bool = False,
        **schedule_kwargs: Any,
    ) -> None:
        groups = check_optimizer(optimizer).param_groups
        schedules = build_schedules(schedule, schedule_kwargs, groups)
        for i, group in enumerate(groups):
            read_value(group, "lr", i)
            if initialize and isinstance(group["lr"], torch.Tensor):
                group.setdefault("initial_lr", group["lr"].clone())  # never alias the LR we fill in place
            if "initial_lr" in group:  # timm writes it into the groups in its __init__: check it first
                initial, limit = read_value(group, "initial_lr", i), largest_value(group["lr"])
                if initial > limit:
                    raise ValueError(
                        f"param_groups[{i}]['initial_lr'] ({initial:g}) exceeds {limit:g}, the largest value the "
                        "group's 'lr' can hold"
                    )
        _checks.boolean("t_in_epochs", t_in_epochs)
        if adaptive is not None and t_in_epochs:
            raise ValueError("an adaptive warmup follows updates; use t_in_epochs=False")
        if adaptive is not None and noise_range_t is not None:
            raise ValueError(
                f"noise_range_t={noise_range_t!r} with an adaptive warmup: timm seeds its noise with a whole t, "
                "and the adaptive warmup's clock moves by fractions; use one or the other"
            )
        self._driver: Driver | None = None  # timm's __init__ writes the bases through update_groups
        super().__init__(
            optimizer,
            "lr",
            t_in_epochs=t_in_epochs,
            noise_range_t=noise_range_t,
            noise_type=noise_type,
            noise_pct=noise_pct,
            noise_std=noise_std,
            noise_seed=noise_seed,
            initialize=initialize,
        )
        bases = [read_value({"initial_lr": v}, "initial_lr", i) for i, v in enumerate(self.base_values)]
        writer = GroupWriter(optimizer, "lr", bases, schedules)
        keys = ("base_values", "schedule", "adaptive")
        driver = Driver(
            writer, adaptive=adaptive, record=record, param_groups=groups, owner=self, adapter="timm", keys=keys
        )
        self._driver, self.base_values = driver, bases
        self.adaptive, self.record = driver.adaptive, driver.record
        self.last_t: float = 0
        self.update_groups(self._get_lr(0))

    def __repr__(self) -> str:
        """``WarmupScheduler(WarmupSchedule(...), base_values=[...], t_in_epochs=..., last_t=t)``."""
        position = {"t_in_epochs": getattr(self, "t_in_epochs", None), "last_t": getattr(self, "last_t", None)}
        return adapter_repr(self, getattr(self, "_driver", None), "base_values", **position)

    @property
    def schedule(self) -> WarmupSchedule | tuple[WarmupSchedule, ...]:
        """The schedule (a tuple, one per group, if they differ); change it with :meth:`set_schedule`."""
        return self._driver.schedule

    def step_update(self, num_updates: int, metric: float | None = None) -> None:
        """timm's per-update call, after update ``num_updates - 1``; ``metric`` (its loss) feeds the
        record and the adaptive warmup, which then sets the schedule's clock instead of ``num_updates``."""
        driver, num_updates = self._driver, _plain_t("num_updates", num_updates)
        if driver.observing:
            update = None if self.t_in_epochs else num_updates - 1
            lr = float(self.optimizer.param_groups[0]["lr"])
            driver.observe(metric, update=update, lr=lr, name="metric")
            num_updates = driver.position(num_updates)[0]  # timm's noise draws at the schedule's position
        super().step_update(num_updates, metric)

    def step(self, epoch: int, metric: float | None = None) -> None:
        """timm's epoch-end call ``step(epoch + 1, metric)``; the record keeps ``metric`` per epoch."""
        epoch = _plain_t("epoch", epoch)
        if self.record is not None:
            self.record.log_epoch(max(0, epoch - 1), metric=scalar("metric", metric))
        super().step(epoch, metric)

    def _get_lr(self, t: float) -> list[float]:
        self.last_t = t
        return self._driver.values_for(t)

    def update_groups(self, values: float | list[float]) -> None:
        """timm's rule (``value * lr_scale`` where a group has one), writing Tensor LRs in place."""
        groups = self.optimizer.param_groups
        if not isinstance(values, (list, tuple)):
            values = [values] * len(groups)
        scaled = [value * group["lr_scale"] if "lr_scale" in group else value for group, value in zip(groups, values)]
        if self._driver is None:  # timm's own __init__: the bases, checked just after
            for group, value in zip(groups, scaled):
                group["lr"] = value if not isinstance(group["lr"], torch.Tensor) else group["lr"].fill_(value)
            return
        self._driver.write_values(scaled)

    def get_cycle_length(self, cycles: int = 0) -> float:
        """timm's ``get_cycle_length``: the first ``cycles`` cycles (default: the cycle limit), in whole
        ``t`` units when cycles grow, plus a prefix warmup; the whole schedule's length without restarts."""
        first = self._driver.writer.schedules[0]
        if first.cycle_steps is None:
            return first.total_steps if first.total_steps is not None else first.warmup_steps
        n = max(1, cycles or first.cycle_limit or 1)
        if first.cycle_mul == 1:
            length = first.cycle_steps * n
        else:
            length = math.floor(restarts.cycle_start(n, first.cycle_steps, first.cycle_mul))
        return length + (first.warmup_steps if first.warmup_prefix and not first.cycle_warmup else 0)

    def state_dict(self) -> dict[str, Any]:
        """Plain data: the format version, the schedule, the base LRs and the last ``t`` the LRs were set for."""
        return codec.versioned({**self._driver.state_dict(), "last_t": self.last_t})

    def _load(
        self,
        state_dict: object,
        extra: Mapping[str, codec.Decoder] = {},
        migrations: Mapping[int, codec.Migration] = {},
    ) -> dict[str, Any]:
        """Check a whole state (``last_t`` where timm's noise can be drawn) and apply the driver's part."""
        state = self._driver.load_state_dict(state_dict, {"last_t": self._saved_t, **extra}, migrations)
        self.base_values, self.last_t = self._driver.bases, state["last_t"]
        return state

    def _timm_noise(self, t: float) -> float | None:
        """timm's noise factor at ``t``, None where none applies: the one place that calls timm's private
        ``Scheduler._is_apply_noise`` and ``_calculate_noise`` (timm has no public noise API;
        ``tests/integration/test_host_private_api.py`` fails loudly if timm renames them)."""
        if not self._is_apply_noise(t):
            return None
        return self._calculate_noise(int(t) if float(t).is_integer() else t)

    def _noise(self, t: float) -> float:
        """timm's noise factor at ``t`` (0 where none applies); a ``t`` timm cannot seed it from is refused."""
        try:
            return self._timm_noise(t) or 0.0
        except (RuntimeError, OverflowError, TypeError) as error:
            raise ValueError(f"'last_t' in a state dict: timm's noise cannot be drawn at t={t!r} ({error})") from None

    def _saved_t(self, name: str, t: object) -> float:
        """A saved ``t``: a number >= 0 at which timm's noise can be drawn."""
        t = codec.number(low=0)(name, t)
        self._noise(t)
        return t

    def _values_at(self, t: float, noise: bool = True) -> list[float]:
        """The LRs timm sets for ``t``: ``base * f(t)``, timm's noise, then each group's ``lr_scale``."""
        values, drawn = self._driver.values_for(t), self._noise(t) if noise else 0.0
        values = [v + v * drawn for v in values] if drawn else values  # timm's _add_noise
        groups = self.optimizer.param_groups
        return [value * group["lr_scale"] if "lr_scale" in group else value for group, value in zip(groups, values)]

    @owned
    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the schedule, base LRs, ``t`` and adaptive state, all checked before any is applied."""
        self._load(state_dict)
        self._driver.resume(self._values_at(self.last_t))

    @owned
    def set_schedule(self, schedule: WarmupSchedule | Sequence[WarmupSchedule]) -> None:
        """Replace the schedule (one, or one per group) and write the LRs for the current ``t``, ``base * f_new(t)``.

        ``t`` and the base LRs stay, so the warmup is not repeated; an adaptive warmup is bound to the new
        ``W`` and ``T``. To extend a resumed run: ``load_state_dict``, then
        ``set_schedule(scheduler.schedule.replace(total_steps=new_total))``.
        """
        self._driver.set_schedule(schedule)
        self._rewrite()

    def _rewrite(self) -> None:
        """Write the LRs of the current ``t`` (after a new schedule)."""
        self.update_groups(self._get_lr(self.last_t))


class PlateauWarmupScheduler(WarmupScheduler):
    """timm's ``plateau`` schedule: a core warmup over epochs ``0..W``, then torch's
    ``ReduceLROnPlateau`` on the metric passed to ``step(epoch, metric)``.

    As in timm, epoch ``W`` still belongs to the warmup (the metric is ignored there) and
    ``step_update`` does nothing. Unlike timm, the plateau state (best metric, patience and
    cooldown counters) is in the state dict, so a resumed run continues it.
    """

    @owned
    def __init__(
        self,
        optimizer: Optimizer,
        schedule: WarmupSchedule | Sequence[WarmupSchedule],
        *,
        decay_rate: float = 0.1,
        patience_t: int = 10,
        threshold: float = 1e-4,
        cooldown_t: int = 0,
        lr_min: float = 0.0,
        mode: str = "max",
        **kwargs: Any,
    ) -> None:
        super().__init__(optimizer, schedule, t_in_epochs=True, **kwargs)
        self.plateau = ReduceLROnPlateau(
            optimizer,
            mode=mode,
            factor=decay_rate,
            patience=patience_t,
            threshold=threshold,
            cooldown=cooldown_t,
            min_lr=lr_min,
        )
        self.restore_lr: list[float] | None = None

    def _in_warmup(self, t: float) -> bool:
        return t <= self._driver.writer.schedules[0].warmup_steps

    def step(self, epoch: int, metric: float | None = None) -> None:
        self.metric, epoch = metric, _plain_t("epoch", epoch)
        if self._in_warmup(epoch):
            self.update_groups(self._get_lr(epoch))
            return
        self.last_t = epoch
        if self.restore_lr is not None:  # undo last epoch's noise before the plateau logic reads the LR
            self._driver.write_values(self.restore_lr)
            self.restore_lr = None
        if metric is not None:
            self.plateau.step(metric)
        noise = self._timm_noise(epoch)
        if noise is not None:
            self.restore_lr = [float(group["lr"]) for group in self.optimizer.param_groups]
            self._driver.write_values([v + v * noise for v in self.restore_lr])

    def step_update(self, num_updates: int, metric: float | None = None) -> None:
        return None

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state["plateau"] = self.plateau.state_dict()
        state["restore_lr"] = self.restore_lr
        return state

    @owned
    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the warmup and the plateau state (best metric, counters), all checked (the plateau state on
        a copy) before any of it is applied; the LRs the plateau had reached come from the optimizer's state."""
        n = len(self.optimizer.param_groups)
        extra = {"plateau": torch_scheduler(self.plateau), "restore_lr": codec.optional(codec.numbers(n))}
        state = self._load(state_dict, extra, {1: _drop_lrs})
        self.plateau.load_state_dict(state["plateau"])
        self.restore_lr = state["restore_lr"]
        self._driver.resume(self._resumed_lrs())

    def _resumed_lrs(self) -> list[float]:
        """The LRs at the loaded ``t``: the warmup's; past it, the plateau's last (with that epoch's noise), or
        the warmup's end if the plateau has not stepped."""
        t, warmup = self.last_t, self._driver.writer.schedules[0].warmup_steps
        if t <= warmup:
            return self._values_at(t, noise=False)
        if self.restore_lr is not None:
            noise = self._noise(t)
            return [v + v * noise for v in self.restore_lr]
        if self.plateau.last_epoch == 0:
            return self._values_at(warmup, noise=False)
        return [float(v) for v in self.plateau.get_last_lr()]

    def _rewrite(self) -> None:
        """In the warmup, the LRs of the current epoch; past it, the plateau's LRs stay as they are."""
        if self._in_warmup(self.last_t):
            super()._rewrite()


def _plain_t(name: str, t: object) -> float:
    """A ``t`` from the training loop as a plain int or float (a NumPy or Tensor counter converted at the boundary,
    so the state dict holds plain numbers for ``torch.load(weights_only=True)``)."""
    return t if t.__class__ is int or t.__class__ is float else _checks.number(name, _item(t), low=0)


def _item(value: object) -> object:
    return value.item() if isinstance(value, torch.Tensor) and value.numel() == 1 else value


def _drop_lrs(state: dict[str, Any]) -> dict[str, Any]:
    """Format 1 to 2: release 39dcdd3 also saved the group LRs (``'lrs'``), which the optimizer's state holds."""
    return {k: v for k, v in state.items() if k != "lrs"}


# ---------------------------------------------------------------------------- the drop-in factory
@dataclasses.dataclass(frozen=True)
class _FactoryArgs:
    """:func:`create_scheduler_v2`'s arguments as the caller passed them (``decay_epochs`` filled with timm's
    default), so the checks and the per-``sched`` option builders read them by name."""

    sched: str
    num_epochs: int
    decay_epochs: float | None
    decay_milestones: Sequence[int]
    cooldown_epochs: int
    patience_epochs: int
    decay_rate: float
    min_lr: float
    warmup_lr: float
    warmup_epochs: int
    warmup_prefix: bool
    noise: float | Sequence[float] | None
    noise_pct: float
    noise_std: float
    noise_seed: int
    cycle_mul: float
    cycle_decay: float
    cycle_limit: int
    k_decay: float
    decay_fn: str | None
    stable_timescale: float | None
    plateau_mode: str
    step_on_epochs: bool
    updates_per_epoch: int
    warmup_type: str
    decay_after_warmup: bool
    multistep_torch_milestones: bool


def _check_factory_args(a: _FactoryArgs) -> None:
    """timm's arguments, checked under the names the caller used, before anything is converted."""
    n, integer = _checks.number, _checks.integer
    _checks.choice("sched", a.sched, SCHED_NAMES)
    _checks.choice("warmup_type", a.warmup_type, PLAIN_WARMUPS)
    _checks.boolean("step_on_epochs", a.step_on_epochs)
    _checks.boolean("warmup_prefix", a.warmup_prefix)
    _checks.boolean("decay_after_warmup", a.decay_after_warmup)
    _checks.boolean("multistep_torch_milestones", a.multistep_torch_milestones)
    n("num_epochs", a.num_epochs, low=0, low_open=True)
    n("warmup_epochs", a.warmup_epochs, low=0)
    n("cooldown_epochs", a.cooldown_epochs, low=0)
    n("warmup_lr", a.warmup_lr, low=0)
    n("min_lr", a.min_lr, low=0)
    n("cycle_mul", a.cycle_mul, low=1)
    n("cycle_decay", a.cycle_decay, low=0, low_open=True)
    integer("cycle_limit", a.cycle_limit, low=1)
    n("k_decay", a.k_decay, low=0, low_open=True)
    if a.decay_epochs is not None:
        n("decay_epochs", a.decay_epochs, low=0, low_open=True)
    if a.stable_timescale is not None:
        n("stable_timescale", a.stable_timescale, low=0, low_open=True)
    if a.sched in ("step", "multistep", "plateau"):
        n("decay_rate", a.decay_rate, low=0, high=1, low_open=True)
    elif a.sched == "poly":
        n("decay_rate", a.decay_rate, low=0, low_open=True)
    if a.sched == "multistep":
        _checks.numbers_nondecreasing("decay_milestones", a.decay_milestones, low=0)
    if not a.step_on_epochs:
        integer("updates_per_epoch", a.updates_per_epoch, low=1)


def _check_warmup_fits(a: _FactoryArgs, arguments: dict[str, Any]) -> None:
    """A warmup longer than the run, refused under the caller's argument names and values."""
    total = arguments.get("total_steps")
    if total is None or arguments["warmup_steps"] <= total:
        return
    unit = "" if a.step_on_epochs else f" with updates_per_epoch={a.updates_per_epoch} and step_on_epochs=False"
    after = ", decay_after_warmup=True" if a.decay_after_warmup else ""
    units = "epochs" if a.step_on_epochs else "updates"
    raise ValueError(
        f"warmup_epochs={a.warmup_epochs} is longer than the run, num_epochs={a.num_epochs}{after}{unit} "
        f"({arguments['warmup_steps']:g} warmup {units} of {total:g}); use warmup_epochs <= num_epochs, or "
        "warmup_prefix=True to put the warmup in front of the num_epochs"
    )


def _in_t_units(value: float | None, a: _FactoryArgs) -> float | None:
    """A length in epochs as a length in ``t`` units: epochs, or updates when stepping per update."""
    return value if value is None or a.step_on_epochs else value * a.updates_per_epoch


def _noise_range(noise: float | Sequence[float] | None, t_initial: float) -> float | list[float] | None:
    """timm's noise range: fractions of ``t_initial`` (a pair, or a start)."""
    if noise is None:
        return None
    if isinstance(noise, (list, tuple)):
        bounds = [fraction * t_initial for fraction in noise]
        return bounds[0] if len(bounds) == 1 else bounds
    return noise * t_initial


# ---------------------------------------------------------------------------- timm's names onto one request
TIMM_NAMES: dict[str, str] = {
    "warmup_type": "warmup_type",
    "warmup_steps": "warmup_epochs",
    "start_factor": "warmup_lr",  # / each group's base LR
    "warmup_prefix": "warmup_prefix",  # or decay_after_warmup
    "warmup_end": "sched",  # tanh overlaps its warmup with the decay
    "decay_type": "sched",
    "total_steps": "num_epochs",
    "end_factor": "min_lr",  # / each group's base LR
    "k_decay": "k_decay",
    "power": "decay_rate",  # poly
    "gamma": "decay_rate",  # step, multistep
    "step_size": "decay_epochs",  # step
    "milestones": "decay_milestones",  # multistep
    "cooldown_steps": "decay_epochs",  # wsd, rsqrt
    "cooldown_type": "decay_fn",  # wsd, rsqrt
    "timescale": "stable_timescale",  # rsqrt
    "cycle_steps": "num_epochs",
    "cycle_mul": "cycle_mul",
    "cycle_decay": "cycle_decay",
    "cycle_limit": "cycle_limit",
}
"""Each :class:`~warmup_plugins.core.request.ScheduleRequest` argument the factory sets, and the
``create_scheduler_v2`` argument it comes from (lengths in ``t`` units: epochs, or updates when stepping per
update); an error about a request argument names the timm argument too."""


@dataclasses.dataclass(frozen=True)
class _Lengths:
    """The factory's lengths in its scheduler's unit ``t`` (epochs, or updates with ``step_on_epochs=False``)."""

    warmup: float  # warmup_epochs
    initial: float  # num_epochs: timm's t_initial
    decay: float  # decay_epochs
    prefix: bool  # warmup_prefix or decay_after_warmup: the decay starts after the warmup
    span: float  # the decay's length: num_epochs, or what the warmup leaves of it (decay_after_warmup)
    lead: float  # where the decay clock starts: at the warmup's end after a prefix, else at 0 (timm's overlap)
    stable: float  # wsd and rsqrt's stable + decay: num_epochs, less the warmup unless warmup_prefix

    @classmethod
    def of(cls, a: _FactoryArgs) -> _Lengths:
        warmup, initial = _in_t_units(a.warmup_epochs, a), _in_t_units(a.num_epochs, a)
        prefix = a.warmup_prefix or a.decay_after_warmup
        return cls(
            warmup=warmup,
            initial=initial,
            decay=_in_t_units(a.decay_epochs, a),
            prefix=prefix,
            span=initial - warmup if a.decay_after_warmup and not a.warmup_prefix else initial,
            lead=warmup if prefix else 0,
            stable=initial if a.warmup_prefix else initial - warmup,
        )


def _cyclic(a: _FactoryArgs, n: _Lengths) -> dict[str, Any]:
    """cosine, tanh, poly, linear: one decay over the span, or timm's restart cycles."""
    arguments: dict[str, Any] = {
        "decay_type": {"poly": "polynomial"}.get(a.sched, a.sched),
        "warmup_prefix": n.prefix,
        "warmup_end": "decay" if a.sched == "tanh" and not n.prefix else "peak",
        "total_steps": n.lead + restarts.cycle_start(a.cycle_limit, n.span, a.cycle_mul),
    }
    if a.cycle_limit != 1 or a.cycle_mul != 1:  # one plain cycle is the decay over the span
        arguments.update(
            cycle_steps=n.span, cycle_mul=a.cycle_mul, cycle_decay=a.cycle_decay, cycle_limit=a.cycle_limit
        )
    if a.sched in ("cosine", "poly"):
        arguments["k_decay"] = a.k_decay
    if a.sched == "poly":
        arguments["power"] = a.decay_rate
    return arguments


def _exponential(a: _FactoryArgs, n: _Lengths) -> dict[str, Any]:
    if not a.min_lr > 0:
        raise ValueError(f"sched='exponential' decays to min_lr, which must be > 0 (got {a.min_lr})")
    return {"decay_type": "exponential", "warmup_prefix": n.prefix, "total_steps": n.lead + n.span}


def _step(a: _FactoryArgs, n: _Lengths) -> dict[str, Any]:
    return {"decay_type": "step", "step_size": n.decay, "gamma": a.decay_rate, "warmup_prefix": n.prefix}


def _constant(a: _FactoryArgs, n: _Lengths) -> dict[str, Any]:
    return {"warmup_prefix": n.prefix}


def _multistep(a: _FactoryArgs, n: _Lengths) -> dict[str, Any]:
    """timm decays one step before each milestone (``bisect_right(milestones, t + 1)``), torch at it."""
    shift = (n.warmup if a.warmup_prefix else 0) - (0 if a.multistep_torch_milestones else 1)
    milestones = [_in_t_units(m, a) for m in a.decay_milestones]
    return {
        "decay_type": "multistep",
        "gamma": a.decay_rate,
        "warmup_prefix": False,  # milestones are absolute in the core: the shift above places them
        "milestones": [max(0, m + shift) for m in milestones],
    }


def _wsd(a: _FactoryArgs, n: _Lengths) -> dict[str, Any]:
    """wsd and rsqrt: always a prefix warmup; stable (+ decay) within ``num_epochs`` unless warmup_prefix."""
    decay = round(a.decay_epochs * n.stable if 0 < a.decay_epochs < 1 else n.decay)
    if not 0 < decay <= n.stable:
        raise ValueError(
            f"{a.sched} schedule requires 0 < decay_epochs <= epochs{'' if a.warmup_prefix else ' - warmup_epochs'}, "
            f"got decay {decay} and stable + decay length {n.stable}."
        )
    arguments = {
        "decay_type": "inverse_sqrt" if a.sched == "rsqrt" else "wsd",
        "total_steps": n.warmup + n.stable,
        "cooldown_steps": decay,
        "cooldown_type": a.decay_fn or ("linear" if a.sched == "rsqrt" else "1-sqrt"),
    }
    if a.sched == "rsqrt":
        arguments["timescale"] = _in_t_units(a.stable_timescale, a)
    return arguments


def _plateau(a: _FactoryArgs, n: _Lengths) -> dict[str, Any]:
    if not a.step_on_epochs:
        raise ValueError("sched='plateau' only supports stepping per epoch (step_on_epochs=True)")
    return {}


_SCHED_ARGUMENTS = {
    **dict.fromkeys(_CYCLIC, _cyclic),
    "exponential": _exponential,
    "step": _step,
    "constant": _constant,
    "multistep": _multistep,
    "wsd": _wsd,
    "rsqrt": _wsd,
    "plateau": _plateau,
}
_USES_MIN_LR = (*_CYCLIC, "exponential", "wsd", "rsqrt")


def _request_arguments(a: _FactoryArgs, n: _Lengths) -> dict[str, Any]:
    """The request arguments shared by every group: the warmup, then ``sched``'s decay (see :data:`TIMM_NAMES`)."""
    warmup = {"warmup_type": a.warmup_type if n.warmup else "none", "warmup_steps": n.warmup}
    return {**warmup, **_SCHED_ARGUMENTS[a.sched](a, n)}


def _group_schedules(bases: list[float], a: _FactoryArgs, arguments: dict[str, Any]) -> tuple[WarmupSchedule, ...]:
    """One schedule per group: timm's warmup_lr and min_lr are absolute LRs, the core's start and end
    factors are relative to each group's base LR (schedules are shared between groups of one base)."""
    warmup, min_lr = arguments["warmup_steps"] > 0, a.min_lr if a.sched in _USES_MIN_LR else None
    built: dict[float, WarmupSchedule] = {}
    for i, base in enumerate(bases):
        if base in built:
            continue
        if base == 0:  # a frozen group: timm gives it 0 unless it warms up from warmup_lr or decays to min_lr
            if (warmup and a.warmup_lr > 0) or (min_lr or 0) > 0:
                raise ValueError(
                    f"param_groups[{i}] has lr 0 (a frozen group), which timm would warm up from warmup_lr="
                    f"{a.warmup_lr} or decay to min_lr={a.min_lr}, LRs of no base * factor schedule; "
                    "give it lr > 0, or use warmup_lr=0 and min_lr=0"
                )
            factors = {} if min_lr is None else {"end_factor": 0.0}
        else:
            factors = {"start_factor": a.warmup_lr / base, **({} if min_lr is None else {"end_factor": min_lr / base})}
        request = {**arguments, **factors}
        named_as = {name: f"{TIMM_NAMES[name]}={getattr(a, TIMM_NAMES[name])!r}" for name in request}
        built[base] = ScheduleRequest(request, named_as=named_as).resolve()
    return tuple(built[b] for b in bases)


def create_scheduler_v2(
    optimizer: Optimizer,
    sched: str = "cosine",
    num_epochs: int = 300,
    decay_epochs: float | None = None,
    decay_milestones: Sequence[int] = (90, 180, 270),
    cooldown_epochs: int = 0,
    patience_epochs: int = 10,
    decay_rate: float = 0.1,
    min_lr: float = 0.0,
    warmup_lr: float = 1e-5,
    warmup_epochs: int = 0,
    warmup_prefix: bool = False,
    noise: float | Sequence[float] | None = None,
    noise_pct: float = 0.67,
    noise_std: float = 1.0,
    noise_seed: int = 42,
    cycle_mul: float = 1.0,
    cycle_decay: float = 0.1,
    cycle_limit: int = 1,
    k_decay: float = 1.0,
    decay_fn: str | None = None,
    stable_timescale: float | None = None,
    plateau_mode: str = "max",
    step_on_epochs: bool = True,
    updates_per_epoch: int = 0,
    *,
    warmup_type: str = "linear",
    decay_after_warmup: bool = False,
    multistep_torch_milestones: bool = False,
) -> tuple[WarmupScheduler | None, int]:
    """timm's ``create_scheduler_v2``, same arguments, defaults and ``(scheduler, num_epochs)``.

    New keyword-only options (the defaults reproduce timm to 1e-9 relative):

    * ``warmup_type``: ``'linear'`` (timm's) or another of the core's warmup shapes without options of
      their own (:data:`~warmup_plugins.core.choices.PLAIN_WARMUPS`: ``'exponential'``, ``'cosine'``, ...).
    * ``sched='linear'`` / ``'exponential'``: decays timm lacks (to ``min_lr``; exponential needs
      ``min_lr > 0``); ``'linear'`` takes the cycle options like cosine.
    * ``decay_after_warmup=True``: with ``warmup_prefix=False`` timm overlaps the warmup with the
      decay, so the peak LR is never used; this starts the decay after the warmup instead while
      keeping ``num_epochs`` the total (for cosine, tanh, poly, linear, exponential, step).
    * ``multistep_torch_milestones=True``: timm's multistep decays one step before each milestone
      (``bisect_right(milestones, t + 1)``); this decays at the milestone, as torch's MultiStepLR.

    The base LR of each group is its ``initial_lr`` when it has one (a resumed optimizer, as in
    timm's ``train.py --resume``), else its ``lr``. ``sched='none'`` returns ``(None, num_epochs)``
    as timm does, because timm's ``train.py`` checks for ``None`` and then leaves the optimizer's LR
    alone. Errors name the argument as passed here.
    """
    a = _FactoryArgs(
        sched=sched,
        num_epochs=num_epochs,
        decay_epochs=decay_epochs,
        decay_milestones=decay_milestones,
        cooldown_epochs=cooldown_epochs,
        patience_epochs=patience_epochs,
        decay_rate=decay_rate,
        min_lr=min_lr,
        warmup_lr=warmup_lr,
        warmup_epochs=warmup_epochs,
        warmup_prefix=warmup_prefix,
        noise=noise,
        noise_pct=noise_pct,
        noise_std=noise_std,
        noise_seed=noise_seed,
        cycle_mul=cycle_mul,
        cycle_decay=cycle_decay,
        cycle_limit=cycle_limit,
        k_decay=k_decay,
        decay_fn=decay_fn,
        stable_timescale=stable_timescale,
        plateau_mode=plateau_mode,
        step_on_epochs=step_on_epochs,
        updates_per_epoch=updates_per_epoch,
        warmup_type=warmup_type,
        decay_after_warmup=decay_after_warmup,
        multistep_torch_milestones=multistep_torch_milestones,
    )
    _check_factory_args(a)
    if decay_epochs is None:
        a = dataclasses.replace(a, decay_epochs=0.2 if sched in ("wsd", "rsqrt") else 90)
    if sched == "none":
        return None, num_epochs + (warmup_epochs if warmup_prefix else 0)
    lengths = _Lengths.of(a)
    arguments = _request_arguments(a, lengths)
    _check_warmup_fits(a, arguments)
    groups = optimizer.param_groups if isinstance(optimizer, Optimizer) else []
    bases = [read_value(g, "initial_lr" if "initial_lr" in g else "lr", i) for i, g in enumerate(groups)]
    schedules = _group_schedules(bases, a, arguments) if bases else None
    noise_range = _noise_range(noise, lengths.initial)
    noise_args = dict(noise_range_t=noise_range, noise_pct=noise_pct, noise_std=noise_std, noise_seed=noise_seed)
    if sched == "plateau":
        scheduler: WarmupScheduler = PlateauWarmupScheduler(
            optimizer,
            schedules,
            decay_rate=decay_rate,
            patience_t=patience_epochs,
            lr_min=min_lr,
            mode=plateau_mode,
            **noise_args,
        )
    else:
        scheduler = WarmupScheduler(optimizer, schedules, t_in_epochs=step_on_epochs, **noise_args)
    if not lengths.warmup:  # timm leaves the base LR in place until the first step call when there is no warmup
        scheduler.update_groups(scheduler.base_values)
    if sched in _CYCLE_LENGTH:  # timm: num_epochs = get_cycle_length() + cooldown
        total = scheduler.get_cycle_length() + _in_t_units(cooldown_epochs, a)
        num_epochs = total if step_on_epochs else total // updates_per_epoch
    elif warmup_prefix:
        num_epochs += warmup_epochs
    return scheduler, num_epochs


def scheduler_kwargs(cfg: Any, decreasing_metric: bool | None = None) -> dict[str, Any]:
    """timm's ``scheduler_kwargs`` plus the new options, read with ``getattr`` defaults."""
    from timm.scheduler.scheduler_factory import scheduler_kwargs as timm_scheduler_kwargs

    kwargs = timm_scheduler_kwargs(cfg, decreasing_metric=decreasing_metric)
    kwargs["warmup_type"] = getattr(cfg, "warmup_type", "linear")
    kwargs["decay_after_warmup"] = getattr(cfg, "decay_after_warmup", False)
    kwargs["multistep_torch_milestones"] = getattr(cfg, "multistep_torch_milestones", False)
    return kwargs


def create_scheduler(args: Any, optimizer: Optimizer, updates_per_epoch: int = 0) -> tuple[WarmupScheduler | None, int]:
    """timm's ``create_scheduler(args, optimizer, updates_per_epoch)``, with the new options read
    from ``args`` when present (see :func:`add_scheduler_args`)."""
    return create_scheduler_v2(optimizer=optimizer, **scheduler_kwargs(args), updates_per_epoch=updates_per_epoch)


def add_scheduler_args(parser: Any) -> Any:
    """Add ``--warmup-type``, ``--decay-after-warmup`` and ``--multistep-torch-milestones`` to an
    argparse parser (timm's ``train.py`` one, say) and return the group."""
    group = parser.add_argument_group("warmup_plugins")
    group.add_argument(
        "--warmup-type",
        default="linear",
        choices=PLAIN_WARMUPS,
        help="warmup shape (default: linear, timm's)",
    )
    group.add_argument(
        "--decay-after-warmup",
        action="store_true",
        help="start the decay after the warmup instead of overlapping it (warmup_prefix off)",
    )
    group.add_argument(
        "--multistep-torch-milestones",
        action="store_true",
        help="multistep decays at each milestone, as torch's MultiStepLR (timm: one step before)",
    )
    return group

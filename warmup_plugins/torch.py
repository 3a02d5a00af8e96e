"""Plain-PyTorch adapter: :class:`WarmupLR`, a real ``LRScheduler`` driven by the core.

Call ``scheduler.step()`` once after every ``optimizer.step()``. Update ``k`` (from 0) uses
``base_lr * f(k)`` in every parameter group, where ``base_lr`` is the group's LR when the
scheduler was created. Tensor LRs are filled in place, so ``torch.compile(optimizer.step)`` does
not recompile as the LR changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler, ReduceLROnPlateau

from . import _seam
from .core import _checks
from .core.schedule import WarmupSchedule
from .extensions.adaptive import AdaptiveWarmup, bind_adaptive, load_adaptive
from .monitoring.record import new_record, note_adaptive

__all__ = ["WarmupLR", "WarmupParam", "WithWarmup"]

_STATE_KEYS = frozenset({"last_epoch", "base_lrs", "schedule", "_step_count", "adaptive"})


def _check_optimizer(optimizer: object, owner: str) -> Optimizer:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{owner}: optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
    if not optimizer.param_groups:
        raise ValueError(f"{owner}: the optimizer has no param groups")
    return optimizer


def _check_state(state: object, required: frozenset[str], owner: str) -> dict[str, Any]:
    if not isinstance(state, dict):
        raise TypeError(f"{owner}.load_state_dict: expected a dict, got {type(state).__name__}")
    missing, extra = sorted(required - set(state)), sorted(set(state) - required)
    if missing or extra:
        raise KeyError(f"{owner}.load_state_dict: missing keys {missing}, unexpected keys {extra}")
    return state


def _check_bases(values: object, n_groups: int, owner: str) -> list[float]:
    if not isinstance(values, (list, tuple)) or len(values) != n_groups:
        raise ValueError(f"{owner}.load_state_dict: base values must be a list of {n_groups} numbers, got {values!r}")
    return [float(_checks.number(f"base value [{i}]", v, low=0)) for i, v in enumerate(values)]


class WarmupLR(LRScheduler):
    """Warmup then decay, from a :class:`~warmup_plugins.WarmupSchedule`.

    ``WarmupLR(optimizer, schedule)`` or ``WarmupLR(optimizer, warmup_steps=..., total_steps=...,
    decay_type=..., ...)`` with the schedule's fields; lengths in epochs work too
    (``warmup_epochs=5, total_epochs=90, steps_per_epoch=len(loader)``), and
    ``warmup_type='untuned_linear'`` reads the warmup length from Adam's ``beta2``. ``schedule``
    may be a list, one per parameter group. Step once per optimizer update; ``step(k)`` jumps to
    update ``k``. The state dict is plain data (``torch.load(weights_only=True)`` restores it).

    ``record=True`` keeps a :class:`~warmup_plugins.TrainingRecord` in ``.record``: pass the
    update's loss (and gradient norm) as ``step(loss=..., grad_norm=...)``. ``adaptive=`` takes an
    :class:`~warmup_plugins.AdaptiveWarmup`, which moves the schedule's clock from that feedback.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        schedule: WarmupSchedule | Sequence[WarmupSchedule] | None = None,
        *,
        last_epoch: int = -1,
        adaptive: AdaptiveWarmup | None = None,
        record: bool = False,
        **schedule_kwargs: Any,
    ) -> None:
        optimizer = _check_optimizer(optimizer, "WarmupLR")
        for i, group in enumerate(optimizer.param_groups):
            _seam.read_value(group, "lr", i, "WarmupLR")
        self.schedule = _seam.build_schedule(schedule, schedule_kwargs, "WarmupLR", optimizer.param_groups)
        self._factors = _seam.per_group(self.schedule, len(optimizer.param_groups), "WarmupLR")
        _checks.integer("last_epoch", last_epoch, low=-1)
        self.adaptive = bind_adaptive(adaptive, self.schedule, optimizer.param_groups)
        self.record = new_record(record, "torch", self.schedule)
        super().__init__(optimizer, last_epoch)
        if self.record is not None:
            self.record.meta["base_lrs"] = list(self._bases)

    @property
    def base_lrs(self) -> list[float | torch.Tensor]:
        return self._base_lrs

    @base_lrs.setter
    def base_lrs(self, values: Sequence[float | torch.Tensor]) -> None:
        # torch sets these from each group's 'initial_lr' (not yet checked when resuming with last_epoch >= 0)
        bases = [_seam.read_value({"initial_lr": v}, "initial_lr", i, "WarmupLR") for i, v in enumerate(values)]
        _seam.check_range(self.optimizer.param_groups, "lr", bases, self._factors, "WarmupLR")
        self._base_lrs, self._bases = list(values), bases

    def lrs_at(self, step: float) -> list[float]:
        """The LRs update ``step`` uses, one per group: ``base * f(step)``."""
        if isinstance(self.schedule, WarmupSchedule):
            factor = self.schedule(step)
            return [base * factor for base in self._bases]
        return [base * sched(step) for base, sched in zip(self._bases, self._factors)]

    def get_lr(self) -> list[float]:
        """The LRs for the current step (closed form; no side effects)."""
        return self.lrs_at(self.last_epoch)

    def step(  # type: ignore[override]
        self, epoch: float | None = None, *, loss: float | None = None, grad_norm: float | None = None
    ) -> None:
        """Advance to the next update, or jump to update ``epoch`` if given, and write the LRs.

        ``loss`` and ``grad_norm`` of the update just made feed the record and the adaptive warmup.
        """
        self._step_count += 1
        if self.record is not None and self.last_epoch >= 0:
            self.record.log_update(self.last_epoch, self._last_lr[0], loss, grad_norm)
        if epoch is None:
            self.last_epoch += 1
        elif self.adaptive is not None:
            raise TypeError("WarmupLR.step(epoch): an adaptive warmup cannot jump; restore its state_dict instead")
        else:
            self.last_epoch = _checks.number("epoch", epoch, low=0)
        if self.adaptive is not None and self.last_epoch > 0:
            self.adaptive.observe(loss, grad_norm)
            note_adaptive(self.record, self.adaptive)
        self._write()

    def _write(self) -> None:
        clock = self.last_epoch if self.adaptive is None else self.adaptive.clock
        schedule = self.schedule
        if schedule.__class__ is WarmupSchedule:  # the common case, inlined: this is the per-update hot path
            factor = schedule(clock)
            values = [base * factor for base in self._bases]
        else:
            values = self.lrs_at(clock)
        _seam.write_values(self.optimizer.param_groups, "lr", values)
        self._last_lr = values

    def get_last_lr(self) -> list[float | torch.Tensor]:
        """The LRs last written; copies of the group Tensors where the LR is a Tensor."""
        return [
            group["lr"].clone() if isinstance(group["lr"], torch.Tensor) else value
            for group, value in zip(self.optimizer.param_groups, self._last_lr)
        ]

    def state_dict(self) -> dict[str, Any]:
        """Plain data: the step, the base LRs as floats and the schedule's fields."""
        return {
            "last_epoch": self.last_epoch,
            "_step_count": self._step_count,
            "base_lrs": list(self._bases),
            "schedule": _seam.schedules_to_data(self.schedule),
            "adaptive": None if self.adaptive is None else self.adaptive.state_dict(),
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the step, base LRs, schedule and adaptive state, then write the LRs of that step."""
        state = _check_state(state_dict, _STATE_KEYS, "WarmupLR")
        groups = self.optimizer.param_groups
        bases = _check_bases(state["base_lrs"], len(groups), "WarmupLR")
        schedule = _seam.schedules_from_data(state["schedule"])
        factors = _seam.per_group(schedule, len(groups), "WarmupLR")
        last_epoch = _checks.number("last_epoch", state["last_epoch"], low=0)
        step_count = _checks.integer("_step_count", state["_step_count"], low=0)
        _seam.check_range(groups, "lr", bases, factors, "WarmupLR")
        load_adaptive(self.adaptive, state["adaptive"], schedule, "WarmupLR")
        self.schedule, self._factors, self.base_lrs = schedule, factors, bases
        self.last_epoch, self._step_count = last_epoch, step_count
        self._write()

    def set_schedule(self, schedule: WarmupSchedule | Sequence[WarmupSchedule]) -> None:
        """Replace the schedule (one, or one per group) and write the current update's LRs, ``base * f_new(k)``.

        The update index ``k`` and the base LRs stay, so the warmup is not repeated; an adaptive warmup is
        bound to the new ``W`` and ``T``. To extend a resumed run: ``load_state_dict`` (which restores the
        saved schedule), then ``set_schedule(scheduler.schedule.replace(total_steps=new_total))``. Assigning
        ``scheduler.schedule`` directly is not supported: the per-group factors and the current LRs would not follow.
        """
        groups = self.optimizer.param_groups
        schedule, factors = _seam.new_schedule(schedule, groups, "lr", self._bases, "WarmupLR.set_schedule")
        if self.adaptive is not None:
            self.adaptive.bind(schedule)  # type: ignore[arg-type]
        self.schedule, self._factors = schedule, factors
        self._write()


class WarmupParam:
    """Schedule any numeric hyper-parameter (``'momentum'``, ``'weight_decay'``, ``'beta1'`` ...).

    ``value(k) = base * f(k)`` with ``base`` the group's value at creation. A start or end factor
    above 1 lets a value fall during warmup, e.g. momentum 0.95 -> 0.85 with base 0.85 and
    ``start_factor=0.95/0.85``. Step once per optimizer update, like :class:`WarmupLR`.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        name: str,
        schedule: WarmupSchedule | Sequence[WarmupSchedule] | None = None,
        **schedule_kwargs: Any,
    ) -> None:
        self.optimizer = _check_optimizer(optimizer, "WarmupParam")
        if not isinstance(name, str):
            raise TypeError(f"WarmupParam: name must be a param-group key such as 'momentum', got {name!r}")
        self.name = name
        groups = self.optimizer.param_groups
        self.base_values = [_seam.read_value(g, name, i, "WarmupParam") for i, g in enumerate(groups)]
        self.schedule = _seam.build_schedule(schedule, schedule_kwargs, "WarmupParam")
        self._factors = _seam.per_group(self.schedule, len(groups), "WarmupParam")
        _seam.check_range(groups, name, self.base_values, self._factors, "WarmupParam")
        self.step_index = 0
        self._write()

    def values_at(self, step: float) -> list[float]:
        return [base * sched(step) for base, sched in zip(self.base_values, self._factors)]

    def _write(self) -> None:
        _seam.write_values(self.optimizer.param_groups, self.name, self.values_at(self.step_index))

    def step(self) -> None:
        self.step_index += 1
        self._write()

    def state_dict(self) -> dict[str, Any]:
        return {
            "step_index": self.step_index,
            "base_values": list(self.base_values),
            "schedule": _seam.schedules_to_data(self.schedule),
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state = _check_state(state_dict, frozenset({"step_index", "base_values", "schedule"}), "WarmupParam")
        groups = self.optimizer.param_groups
        bases = _check_bases(state["base_values"], len(groups), "WarmupParam")
        schedule = _seam.schedules_from_data(state["schedule"])
        factors = _seam.per_group(schedule, len(groups), "WarmupParam")
        step_index = _checks.number("step_index", state["step_index"], low=0)
        _seam.check_range(groups, self.name, bases, factors, "WarmupParam")
        self.schedule, self._factors, self.base_values = schedule, factors, bases  # all checked: nothing half-loaded
        self.step_index = step_index
        self._write()

    def set_schedule(self, schedule: WarmupSchedule | Sequence[WarmupSchedule]) -> None:
        """Replace the schedule (one, or one per group) and write the current step's values; see
        :meth:`WarmupLR.set_schedule`."""
        groups = self.optimizer.param_groups
        schedule, factors = _seam.new_schedule(
            schedule, groups, self.name, self.base_values, "WarmupParam.set_schedule"
        )
        self.schedule, self._factors = schedule, factors
        self._write()


class WithWarmup(LRScheduler):
    """Put a warmup in front of an existing torch scheduler, without ``SequentialLR``'s pitfalls.

    The wrapped scheduler is built first, as usual; the LRs it sets for its step 0 become the warmup
    targets. The first ``warmup_steps`` calls to :meth:`step` warm up towards them (the wrapped
    scheduler does not move); the next call restores them exactly and every later call goes to the
    wrapped scheduler, so its whole schedule runs after the warmup, unshifted and uncut.

    With ``ReduceLROnPlateau``, call ``step()`` after every update and ``step(metric)`` at each
    epoch end: metric reports during warmup are ignored, ticks after it do nothing.
    """

    def __init__(
        self,
        scheduler: LRScheduler | ReduceLROnPlateau,
        warmup_steps: int,
        *,
        warmup_type: str = "linear",
        start_factor: float = WarmupSchedule.start_factor,
    ) -> None:
        if not isinstance(scheduler, (LRScheduler, ReduceLROnPlateau)):
            raise TypeError(f"WithWarmup: scheduler must be a torch LR scheduler, got {type(scheduler).__name__}")
        self.scheduler = scheduler
        self.warmup = WarmupSchedule(warmup_type=warmup_type, warmup_steps=warmup_steps, start_factor=start_factor)
        optimizer = _check_optimizer(scheduler.optimizer, "WithWarmup")
        self.targets = [_seam.read_value(g, "lr", i, "WithWarmup") for i, g in enumerate(optimizer.param_groups)]
        _seam.check_range(optimizer.param_groups, "lr", self.targets, self.warmup, "WithWarmup")
        super().__init__(optimizer)

    @property
    def in_warmup(self) -> bool:
        """True while the next update is still a warmup update."""
        return self.last_epoch < self.warmup.warmup_steps

    def get_lr(self) -> list[float]:
        factor = self.warmup(min(self.last_epoch, self.warmup.warmup_steps))
        return [target * factor for target in self.targets]

    def step(self, metrics: float | None = None, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        """One update tick; after the warmup, forwards to the wrapped scheduler (see class docs)."""
        self._step_count += 1
        plateau = isinstance(self.scheduler, ReduceLROnPlateau)
        if self.last_epoch < self.warmup.warmup_steps:
            if plateau and metrics is not None:
                return
            self.last_epoch += 1
            values = self.get_lr()
            _seam.write_values(self.optimizer.param_groups, "lr", values)
            self._last_lr = values
            return
        if plateau:
            if metrics is not None:
                self.scheduler.step(metrics, *args, **kwargs)
        else:
            call = (metrics, *args) if metrics is not None else args
            self.scheduler.step(*call, **kwargs)
        self._last_lr = [float(g["lr"]) for g in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        return {
            "last_epoch": self.last_epoch,
            "_step_count": self._step_count,
            "targets": list(self.targets),
            "warmup": self.warmup.to_dict(),
            "scheduler": self.scheduler.state_dict(),
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        keys = frozenset({"last_epoch", "_step_count", "targets", "warmup", "scheduler"})
        state = _check_state(state_dict, keys, "WithWarmup")
        targets = _check_bases(state["targets"], len(self.optimizer.param_groups), "WithWarmup")
        warmup = _seam.schedules_from_data(state["warmup"])
        if not isinstance(warmup, WarmupSchedule) or not isinstance(state["scheduler"], dict):
            raise TypeError("WithWarmup.load_state_dict: 'warmup' and 'scheduler' must be dicts (state dicts)")
        last_epoch = _checks.integer("last_epoch", state["last_epoch"], low=0)
        step_count = _checks.integer("_step_count", state["_step_count"], low=0)
        _seam.check_range(self.optimizer.param_groups, "lr", targets, warmup, "WithWarmup")
        self.scheduler.load_state_dict(state["scheduler"])  # the wrapped torch scheduler checks its own state
        self.targets, self.warmup, self.last_epoch, self._step_count = targets, warmup, last_epoch, step_count
        if self.in_warmup or self.last_epoch == self.warmup.warmup_steps:
            values = self.get_lr()
            _seam.write_values(self.optimizer.param_groups, "lr", values)
            self._last_lr = values

"""Plain-PyTorch adapter: :class:`WarmupLR`, a real ``LRScheduler`` driven by the core.

Call ``scheduler.step()`` once after every ``optimizer.step()``. Update ``k`` (from 0) uses
``base_lr * f(k)`` in every parameter group, where ``base_lr`` is the group's ``initial_lr`` (its LR
when the first scheduler was created). Tensor LRs are filled in place, so ``torch.compile(optimizer.step)``
does not recompile as the LR changes.

Resume as with torch's own schedulers: ``load_state_dict`` restores the step, the bases and the
schedule; the LRs come from the optimizer's state dict, loaded before or after. A scheduler built after
``optimizer.load_state_dict`` (its LRs still those it wrote) also writes the loaded step's LRs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler, ReduceLROnPlateau

from . import _codec as codec
from ._errors import owned
from ._param_groups import GroupWriter, check_optimizer, read_value, torch_scheduler
from ._repr import adapter_repr
from ._schedules import build_schedules, per_group
from ._seam import Driver
from .core import _checks
from .core.request import ScheduleRequest
from .core.schedule import WarmupSchedule
from .extensions.adaptive import AdaptiveWarmup
from .extensions.peak import PeakFinder

__all__ = ["WarmupLR", "WarmupParam", "WithWarmup"]


class _DriverScheduler(LRScheduler):
    """A torch ``LRScheduler`` whose values come from a :class:`~warmup_plugins._seam.Driver` (``self._driver``).

    torch steps a scheduler once at construction, and ``SequentialLR`` restarts its first member, through the
    private ``LRScheduler._initial_step``, which calls ``step()``. No update happened there, so nothing may be
    recorded or observed: this class is the one place that overrides it (torch has no public hook for it;
    ``tests/integration/test_host_private_api.py`` fails loudly if torch renames or stops calling it).
    """

    _driver: Driver

    def _initial_step(self) -> None:
        """The values of ``last_epoch + 1``, written; no update happened, so nothing is recorded or observed."""
        self._step_count = 1
        self.last_epoch += 1
        self._last_lr = self._driver.write(self.last_epoch)  # the Driver applies an adaptive position


class WarmupLR(_DriverScheduler):
    """Warmup then decay, from a :class:`~warmup_plugins.WarmupSchedule`.

    ``WarmupLR(optimizer, schedule)`` or ``WarmupLR(optimizer, warmup_steps=..., total_steps=...,
    decay_type=..., ...)`` with the schedule's fields; lengths in epochs work too
    (``warmup_epochs=5, total_epochs=90, steps_per_epoch=len(loader)``), and
    ``warmup_type='untuned_linear'`` reads the warmup length from Adam's ``beta2``. ``schedule``
    may be a list, one per parameter group. Step once per optimizer update; ``step(k)`` jumps to
    update ``k``. The state dict is plain data (``torch.load(weights_only=True)`` restores it).

    ``record=True`` keeps a :class:`~warmup_plugins.TrainingRecord` in ``.record``: pass the
    update's loss (and gradient norm) as ``step(loss=..., grad_norm=...)``. ``adaptive=`` takes an
    :class:`~warmup_plugins.AdaptiveWarmup`, which moves the schedule's clock from that feedback, or a
    :class:`~warmup_plugins.PeakFinder`, which finds the peak LR during the warmup (the optimizer's LR is the bound).

    It works as a member of torch's ``SequentialLR`` (first or later). Like ``LambdaLR`` it computes
    the LR from its own step rather than from the current one, so in ``ChainedScheduler`` it
    overrides the schedulers before it instead of multiplying them. Two schedulers of the LR on one
    optimizer each write it: the last one to step wins.
    """

    @owned
    def __init__(
        self,
        optimizer: Optimizer,
        schedule: WarmupSchedule | Sequence[WarmupSchedule] | None = None,
        *,
        last_epoch: int = -1,
        adaptive: AdaptiveWarmup | PeakFinder | None = None,
        record: bool = False,
        **schedule_kwargs: Any,
    ) -> None:
        groups = check_optimizer(optimizer).param_groups
        lrs = [read_value(group, "lr", i) for i, group in enumerate(groups)]
        schedules = build_schedules(schedule, schedule_kwargs, groups)
        last_epoch = _checks.integer("last_epoch", last_epoch, low=-1)  # a plain int, whatever the caller's type
        if last_epoch != -1 and adaptive is not None:
            raise ValueError(
                f"an adaptive warmup cannot start at last_epoch={last_epoch}: its clock depends on the losses "
                "seen; resume it with load_state_dict"
            )
        writer = GroupWriter(optimizer, "lr", lrs, schedules)
        self._driver = Driver(
            writer, adaptive=adaptive, record=record, param_groups=groups, owner=self, adapter="torch"
        )
        self.adaptive, self.record = self._driver.adaptive, self._driver.record
        super().__init__(optimizer, last_epoch)  # sets base_lrs from 'initial_lr', then _initial_step

    def __repr__(self) -> str:
        """``WarmupLR(WarmupSchedule(...), base_lrs=[...], last_epoch=k)``: the schedule, the bases, the step."""
        return adapter_repr(self, getattr(self, "_driver", None), last_epoch=getattr(self, "last_epoch", None))

    @property
    def schedule(self) -> WarmupSchedule | tuple[WarmupSchedule, ...]:
        """The schedule (a tuple, one per group, if they differ); change it with :meth:`set_schedule`."""
        return self._driver.schedule

    @property
    def base_lrs(self) -> list[float]:  # type: ignore[override]
        """The groups' base LRs: update ``k`` uses ``base * f(k)``."""
        return self._driver.bases

    @base_lrs.setter
    def base_lrs(self, values: Sequence[float | torch.Tensor]) -> None:
        # torch sets these from each group's 'initial_lr', which a resumed optimizer brings unchecked
        self._driver.rebase([read_value({"initial_lr": v}, "initial_lr", i) for i, v in enumerate(values)])

    def lrs_at(self, step: float) -> list[float]:
        """The LRs update ``step`` uses, one per group: ``base * f(step)``."""
        return self._driver.values_at(step)

    def get_lr(self) -> list[float]:
        """The LRs for the current step (closed form; no side effects)."""
        return self._driver.values_for(self.last_epoch)

    def step(  # type: ignore[override]
        self, epoch: float | None = None, *, loss: float | None = None, grad_norm: float | None = None
    ) -> None:
        """Advance to the next update, or jump to update ``epoch`` if given, and write the LRs.

        ``loss`` and ``grad_norm`` of the update just made feed the record and the adaptive warmup.
        Everything is checked first: a failed call changes nothing.
        """
        driver = self._driver
        if epoch is None:
            step = self.last_epoch + 1
        elif driver.adaptive is not None:
            raise TypeError("WarmupLR.step(epoch): an adaptive warmup cannot jump; restore its state_dict instead")
        else:
            step = _checks.number("epoch", epoch, low=0)
        if driver.observing or loss is not None or grad_norm is not None:
            update = self.last_epoch if self.last_epoch >= 0 else None
            driver.observe(loss, grad_norm, update=update, lr=self._last_lr[0])
        self._last_lr = driver.write(step)
        self._step_count += 1
        self.last_epoch = step

    def get_last_lr(self) -> list[float | torch.Tensor]:
        """The LRs last written; copies of the group Tensors where the LR is a Tensor."""
        return [
            group["lr"].clone() if isinstance(group["lr"], torch.Tensor) else value
            for group, value in zip(self.optimizer.param_groups, self._last_lr)
        ]

    def state_dict(self) -> dict[str, Any]:
        """Plain data: the format version, the step, the base LRs as floats and the schedule's fields."""
        counters = {"last_epoch": self.last_epoch, "_step_count": self._step_count}
        return codec.versioned({**counters, **self._driver.state_dict()})

    @owned
    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the step, base LRs, schedule and adaptive state (all checked before any is applied).

        If the param groups still hold exactly the LRs this scheduler last wrote (it was built after
        ``optimizer.load_state_dict``), the loaded step's LRs are written; otherwise none are, as with torch's
        schedulers: the LRs come from the optimizer's state dict, loaded before or after.
        """
        driver = self._driver
        counters = {"last_epoch": codec.step_number, "_step_count": codec.integer(low=0)}
        state = driver.load_state_dict(state_dict, counters)
        self.last_epoch, self._step_count = state["last_epoch"], state["_step_count"]
        self._last_lr = driver.resume(driver.values_for(max(self.last_epoch, 0)))

    @owned
    def set_schedule(self, schedule: WarmupSchedule | Sequence[WarmupSchedule]) -> None:
        """Replace the schedule (one, or one per group) and write the current update's LRs, ``base * f_new(k)``.

        The update index ``k`` and the base LRs stay, so the warmup is not repeated; an adaptive warmup is
        bound to the new ``W`` and ``T``. To extend a resumed run: ``load_state_dict`` (which restores the
        saved schedule), then ``set_schedule(scheduler.schedule.replace(total_steps=new_total))``.
        """
        self._driver.set_schedule(schedule)
        self._last_lr = self._driver.write(self.last_epoch)


class WarmupParam:
    """Schedule any numeric hyper-parameter (``'momentum'``, ``'weight_decay'``, ``'beta1'`` ...).

    ``value(k) = base * f(k)`` with ``base`` the group's value at creation. A start or end factor
    above 1 lets a value fall during warmup, e.g. momentum 0.95 -> 0.85 with base 0.85 and
    ``start_factor=0.95/0.85``. Step once per optimizer update, like :class:`WarmupLR`.
    """

    @owned
    def __init__(
        self,
        optimizer: Optimizer,
        name: str,
        schedule: WarmupSchedule | Sequence[WarmupSchedule] | None = None,
        **schedule_kwargs: Any,
    ) -> None:
        self.optimizer = check_optimizer(optimizer)
        if not isinstance(name, str):
            raise TypeError(f"name must be a param-group key such as 'momentum', got {name!r}")
        self.name = name
        groups = self.optimizer.param_groups
        bases = [read_value(g, name, i) for i, g in enumerate(groups)]
        writer = GroupWriter(self.optimizer, name, bases, build_schedules(schedule, schedule_kwargs, groups))
        self._driver = Driver(writer, keys=("base_values", "schedule", None))
        self.step_index: float = 0
        self._driver.write(0)

    @property
    def schedule(self) -> WarmupSchedule | tuple[WarmupSchedule, ...]:
        return self._driver.schedule

    @property
    def base_values(self) -> list[float]:
        return self._driver.bases

    def values_at(self, step: float) -> list[float]:
        return self._driver.values_at(step)

    def step(self) -> None:
        self._driver.write(self.step_index + 1)
        self.step_index += 1

    def state_dict(self) -> dict[str, Any]:
        return codec.versioned({"step_index": self.step_index, **self._driver.state_dict()})

    @owned
    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the step, bases and schedule (all checked first) and write that step's values."""
        self.step_index = self._driver.load_state_dict(state_dict, {"step_index": codec.number(low=0)})["step_index"]
        self._driver.write(self.step_index)

    @owned
    def set_schedule(self, schedule: WarmupSchedule | Sequence[WarmupSchedule]) -> None:
        """Replace the schedule (one, or one per group) and write the current step's values; see
        :meth:`WarmupLR.set_schedule`."""
        self._driver.set_schedule(schedule)
        self._driver.write(self.step_index)


class WithWarmup(_DriverScheduler):
    """Put a warmup in front of an existing torch scheduler, without ``SequentialLR``'s pitfalls.

    The wrapped scheduler is built first, as usual; the LRs it sets for its step 0 become the warmup
    targets. The first ``warmup_steps`` calls to :meth:`step` warm up towards them (the wrapped
    scheduler does not move); the next call restores them exactly and every later call goes to the
    wrapped scheduler, so its whole schedule runs after the warmup, unshifted and uncut.

    With ``ReduceLROnPlateau``, call ``step()`` after every update and ``step(metric)`` at each
    epoch end: metric reports during warmup are ignored, ticks after it do nothing.
    """

    @owned
    def __init__(
        self,
        scheduler: LRScheduler | ReduceLROnPlateau,
        warmup_steps: int,
        *,
        warmup_type: str = "linear",
        start_factor: float = WarmupSchedule.start_factor,
    ) -> None:
        if not isinstance(scheduler, (LRScheduler, ReduceLROnPlateau)):
            raise TypeError(f"scheduler must be a torch LR scheduler, got {type(scheduler).__name__}")
        self.scheduler = scheduler
        warmup = {"warmup_type": warmup_type, "warmup_steps": warmup_steps, "start_factor": start_factor}
        self.warmup = ScheduleRequest(warmup).resolve()
        groups = check_optimizer(scheduler.optimizer).param_groups
        targets = [read_value(g, "lr", i) for i, g in enumerate(groups)]
        writer = GroupWriter(scheduler.optimizer, "lr", targets, per_group(self.warmup, len(groups)))
        self._driver = Driver(writer, keys=("targets", "warmup", None))
        super().__init__(scheduler.optimizer)

    @property
    def targets(self) -> list[float]:
        """The LRs the warmup rises to: the wrapped scheduler's at its step 0."""
        return self._driver.bases

    @property
    def in_warmup(self) -> bool:
        """True while the next update is still a warmup update."""
        return self.last_epoch < self.warmup.warmup_steps

    def get_lr(self) -> list[float]:
        return self._driver.values_at(min(self.last_epoch, self.warmup.warmup_steps))

    def step(self, metrics: float | None = None, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        """One update tick; after the warmup, forwards to the wrapped scheduler (see class docs)."""
        plateau = isinstance(self.scheduler, ReduceLROnPlateau)
        if self.in_warmup:
            if plateau and metrics is not None:
                return
            self._last_lr = self._driver.write(self.last_epoch + 1)
            self._step_count += 1
            self.last_epoch += 1
            return
        self._step_count += 1
        if plateau:
            if metrics is not None:
                self.scheduler.step(metrics, *args, **kwargs)
        else:
            call = (metrics, *args) if metrics is not None else args
            self.scheduler.step(*call, **kwargs)
        self._last_lr = [float(g["lr"]) for g in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        counters = {"last_epoch": self.last_epoch, "_step_count": self._step_count}
        return codec.versioned({**counters, **self._driver.state_dict(), "scheduler": self.scheduler.state_dict()})

    @owned
    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the warmup and the wrapped scheduler's state, all checked before any is applied.

        LRs are written as by :meth:`WarmupLR.load_state_dict`: only if this scheduler wrote them last.
        """
        fields = {
            "last_epoch": codec.integer(low=0),
            "_step_count": codec.integer(low=0),
            "scheduler": torch_scheduler(self.scheduler),
        }
        state = self._driver.load_state_dict(state_dict, fields)
        self.scheduler.load_state_dict(state["scheduler"])  # checked: it cannot fail half-way
        self.warmup = self._driver.writer.schedules[0]
        self.last_epoch, self._step_count = state["last_epoch"], state["_step_count"]
        # past the warmup, the LRs are those the wrapped scheduler last set (at W its step-0 LRs: the targets)
        lrs = self._driver.values_at(self.last_epoch) if self.in_warmup else self.scheduler.get_last_lr()
        self._driver.resume([float(v) for v in lrs])
        self._last_lr = [float(g["lr"]) for g in self.optimizer.param_groups]

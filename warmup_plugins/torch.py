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

from . import _seam
from ._seam import owned
from .core import _checks
from .core.schedule import WarmupSchedule
from .extensions.adaptive import AdaptiveWarmup, _bind_adaptive

__all__ = ["WarmupLR", "WarmupParam", "WithWarmup"]


def _check_optimizer(optimizer: object) -> Optimizer:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
    if not optimizer.param_groups:
        raise ValueError("the optimizer has no param groups")
    return optimizer


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
        adaptive: AdaptiveWarmup | None = None,
        record: bool = False,
        **schedule_kwargs: Any,
    ) -> None:
        groups = _check_optimizer(optimizer).param_groups
        for i, group in enumerate(groups):
            _seam.read_value(group, "lr", i)
        self._schedules = _seam.build_schedules(schedule, schedule_kwargs, groups)
        if _checks.integer("last_epoch", last_epoch, low=-1) != -1 and adaptive is not None:
            raise ValueError(
                f"an adaptive warmup cannot start at last_epoch={last_epoch}: its clock depends on the losses "
                "seen; resume it with load_state_dict"
            )
        self.adaptive = _bind_adaptive(adaptive, _seam.shared(self._schedules), groups, owner=self)
        self.record = _seam.new_record(record, "torch", self._schedules, [])
        super().__init__(optimizer, last_epoch)  # sets base_lrs from 'initial_lr', then _initial_step
        _seam.note_schedule(self.record, self._schedules, self.base_lrs)

    @property
    def schedule(self) -> WarmupSchedule | tuple[WarmupSchedule, ...]:
        """The schedule (a tuple, one per group, if they differ); change it with :meth:`set_schedule`."""
        return _seam.shared(self._writer.schedules)

    @property
    def base_lrs(self) -> list[float]:  # type: ignore[override]
        """The groups' base LRs: update ``k`` uses ``base * f(k)``."""
        return self._writer.bases

    @base_lrs.setter
    def base_lrs(self, values: Sequence[float | torch.Tensor]) -> None:
        # torch sets these from each group's 'initial_lr', which a resumed optimizer brings unchecked
        bases = [_seam.read_value({"initial_lr": v}, "initial_lr", i) for i, v in enumerate(values)]
        self._writer = _seam.GroupWriter(self.optimizer, "lr", bases, self._schedules)

    def lrs_at(self, step: float) -> list[float]:
        """The LRs update ``step`` uses, one per group: ``base * f(step)``."""
        return self._writer.values_at(step)

    def get_lr(self) -> list[float]:
        """The LRs for the current step (closed form; no side effects)."""
        return self._writer.values_at(self._clock())

    def _clock(self) -> float:
        return self.last_epoch if self.adaptive is None else self.adaptive.clock

    def _initial_step(self) -> None:
        """torch's step at construction (and ``SequentialLR``'s restart of its first member): the LRs of
        ``last_epoch + 1``; no update happened, so nothing is recorded or observed."""
        self._step_count = 1
        self.last_epoch += 1
        self._last_lr = self._writer.write(self._clock())

    def step(  # type: ignore[override]
        self, epoch: float | None = None, *, loss: float | None = None, grad_norm: float | None = None
    ) -> None:
        """Advance to the next update, or jump to update ``epoch`` if given, and write the LRs.

        ``loss`` and ``grad_norm`` of the update just made feed the record and the adaptive warmup.
        Everything is checked first: a failed call changes nothing.
        """
        loss, grad_norm = _seam.scalar("loss", loss), _seam.scalar("grad_norm", grad_norm)
        if epoch is None:
            step = self.last_epoch + 1
        elif self.adaptive is not None:
            raise TypeError("WarmupLR.step(epoch): an adaptive warmup cannot jump; restore its state_dict instead")
        else:
            step = _checks.number("epoch", epoch, low=0)
        writer = self._writer
        writer.check_groups()
        if self.record is not None and self.last_epoch >= 0:
            self.record.log_update(self.last_epoch, self._last_lr[0], loss, grad_norm)
        self._step_count += 1
        self.last_epoch = step
        if self.adaptive is not None:
            self.adaptive.observe(loss, grad_norm)
            _seam.note_adaptive(self.record, self.adaptive)
        self._last_lr = writer.write(self._clock())

    def get_last_lr(self) -> list[float | torch.Tensor]:
        """The LRs last written; copies of the group Tensors where the LR is a Tensor."""
        return [
            group["lr"].clone() if isinstance(group["lr"], torch.Tensor) else value
            for group, value in zip(self.optimizer.param_groups, self._last_lr)
        ]

    def state_dict(self) -> dict[str, Any]:
        """Plain data: the format version, the step, the base LRs as floats and the schedule's fields."""
        return _seam.versioned(
            {
                "last_epoch": self.last_epoch,
                "_step_count": self._step_count,
                "base_lrs": list(self.base_lrs),
                "schedule": _seam.schedules_data(self._writer.schedules),
                "adaptive": None if self.adaptive is None else self.adaptive.state_dict(),
            }
        )

    @owned
    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the step, base LRs, schedule and adaptive state (all checked before any is applied).

        If the param groups still hold exactly the LRs this scheduler last wrote (it was built after
        ``optimizer.load_state_dict``), the loaded step's LRs are written; otherwise none are, as with torch's
        schedulers: the LRs come from the optimizer's state dict, loaded before or after.
        """
        n = len(self.optimizer.param_groups)
        state = _seam.decode(
            state_dict,
            {
                "last_epoch": _seam.step_number,
                "_step_count": _seam.integer(low=0),
                "base_lrs": _seam.numbers(n),
                "schedule": _seam.schedules(n),
                "adaptive": _seam.as_is,
            },
        )
        writer = self._writer.with_schedules(state["schedule"], state["base_lrs"])
        _seam.adaptive_state(self.adaptive, writer.schedules, state[_seam.FORMAT_KEY])("adaptive", state["adaptive"])
        held = self._writer.holds_last()
        _seam.restore_adaptive(self.adaptive, state["adaptive"], writer.schedules)
        self._schedules, self._writer = writer.schedules, writer
        self.last_epoch, self._step_count = state["last_epoch"], state["_step_count"]
        self._last_lr = _seam.resume_values(held, writer, writer.values_at(max(self._clock(), 0)))
        _seam.note_schedule(self.record, writer.schedules, writer.bases)

    @owned
    def set_schedule(self, schedule: WarmupSchedule | Sequence[WarmupSchedule]) -> None:
        """Replace the schedule (one, or one per group) and write the current update's LRs, ``base * f_new(k)``.

        The update index ``k`` and the base LRs stay, so the warmup is not repeated; an adaptive warmup is
        bound to the new ``W`` and ``T``. To extend a resumed run: ``load_state_dict`` (which restores the
        saved schedule), then ``set_schedule(scheduler.schedule.replace(total_steps=new_total))``.
        """
        if schedule is None:
            raise TypeError("schedule must be a WarmupSchedule or a list of them, got None")
        writer = self._writer.with_schedules(_seam.per_group(schedule, len(self.optimizer.param_groups)))
        if self.adaptive is not None:
            self.adaptive.bind(_seam.shared(writer.schedules))
        self._schedules, self._writer = writer.schedules, writer
        self._last_lr = writer.write(self._clock())
        _seam.note_schedule(self.record, writer.schedules, writer.bases)


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
        self.optimizer = _check_optimizer(optimizer)
        if not isinstance(name, str):
            raise TypeError(f"name must be a param-group key such as 'momentum', got {name!r}")
        self.name = name
        groups = self.optimizer.param_groups
        bases = [_seam.read_value(g, name, i) for i, g in enumerate(groups)]
        schedules = _seam.build_schedules(schedule, schedule_kwargs, groups)
        self._writer = _seam.GroupWriter(self.optimizer, name, bases, schedules)
        self.step_index: float = 0
        self._writer.write(0)

    @property
    def schedule(self) -> WarmupSchedule | tuple[WarmupSchedule, ...]:
        return _seam.shared(self._writer.schedules)

    @property
    def base_values(self) -> list[float]:
        return self._writer.bases

    def values_at(self, step: float) -> list[float]:
        return self._writer.values_at(step)

    def step(self) -> None:
        self._writer.check_groups()
        self.step_index += 1
        self._writer.write(self.step_index)

    def state_dict(self) -> dict[str, Any]:
        return _seam.versioned(
            {
                "step_index": self.step_index,
                "base_values": list(self.base_values),
                "schedule": _seam.schedules_data(self._writer.schedules),
            }
        )

    @owned
    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the step, bases and schedule (all checked first) and write that step's values."""
        n = len(self.optimizer.param_groups)
        state = _seam.decode(
            state_dict,
            {"step_index": _seam.number(low=0), "base_values": _seam.numbers(n), "schedule": _seam.schedules(n)},
        )
        self._writer = self._writer.with_schedules(state["schedule"], state["base_values"])
        self.step_index = state["step_index"]
        self._writer.write(self.step_index)

    @owned
    def set_schedule(self, schedule: WarmupSchedule | Sequence[WarmupSchedule]) -> None:
        """Replace the schedule (one, or one per group) and write the current step's values; see
        :meth:`WarmupLR.set_schedule`."""
        if schedule is None:
            raise TypeError("schedule must be a WarmupSchedule or a list of them, got None")
        self._writer = self._writer.with_schedules(_seam.per_group(schedule, len(self.optimizer.param_groups)))
        self._writer.write(self.step_index)


class WithWarmup(LRScheduler):
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
        self.warmup = WarmupSchedule(warmup_type=warmup_type, warmup_steps=warmup_steps, start_factor=start_factor)
        groups = _check_optimizer(scheduler.optimizer).param_groups
        targets = [_seam.read_value(g, "lr", i) for i, g in enumerate(groups)]
        self._writer = _seam.GroupWriter(scheduler.optimizer, "lr", targets, _seam.per_group(self.warmup, len(groups)))
        super().__init__(scheduler.optimizer)

    @property
    def targets(self) -> list[float]:
        """The LRs the warmup rises to: the wrapped scheduler's at its step 0."""
        return self._writer.bases

    @property
    def in_warmup(self) -> bool:
        """True while the next update is still a warmup update."""
        return self.last_epoch < self.warmup.warmup_steps

    def get_lr(self) -> list[float]:
        return self._writer.values_at(min(self.last_epoch, self.warmup.warmup_steps))

    def _initial_step(self) -> None:
        self._step_count = 1
        self.last_epoch += 1
        self._last_lr = self._writer.write(self.last_epoch)

    def step(self, metrics: float | None = None, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        """One update tick; after the warmup, forwards to the wrapped scheduler (see class docs)."""
        plateau = isinstance(self.scheduler, ReduceLROnPlateau)
        if self.in_warmup:
            if plateau and metrics is not None:
                return
            self._writer.check_groups()
            self._step_count += 1
            self.last_epoch += 1
            self._last_lr = self._writer.write(self.last_epoch)
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
        return _seam.versioned(
            {
                "last_epoch": self.last_epoch,
                "_step_count": self._step_count,
                "targets": list(self.targets),
                "warmup": self.warmup.to_dict(),
                "scheduler": self.scheduler.state_dict(),
            }
        )

    @owned
    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the warmup and the wrapped scheduler's state, all checked before any is applied.

        LRs are written as by :meth:`WarmupLR.load_state_dict`: only if this scheduler wrote them last.
        """
        n = len(self.optimizer.param_groups)
        state = _seam.decode(
            state_dict,
            {
                "last_epoch": _seam.integer(low=0),
                "_step_count": _seam.integer(low=0),
                "targets": _seam.numbers(n),
                "warmup": _seam.schedules(1),
                "scheduler": _seam.torch_scheduler(self.scheduler),
            },
        )
        (warmup,) = state["warmup"]
        writer = self._writer.with_schedules(_seam.per_group(warmup, n), state["targets"])
        held = self._writer.holds_last()
        self.scheduler.load_state_dict(state["scheduler"])  # checked on a copy: it cannot fail half-way
        self.warmup, self._writer = warmup, writer
        self.last_epoch, self._step_count = state["last_epoch"], state["_step_count"]
        # past the warmup, the LRs are those the wrapped scheduler last set (at W its step-0 LRs: the targets)
        lrs = writer.values_at(self.last_epoch) if self.in_warmup else self.scheduler.get_last_lr()
        _seam.resume_values(held, writer, [float(v) for v in lrs])
        self._last_lr = [float(g["lr"]) for g in self.optimizer.param_groups]

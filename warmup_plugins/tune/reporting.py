"""Reporting to an Optuna trial from the :class:`~warmup_plugins.TrainingRecord` an adapter writes.

Per update, the record's new rows are checked: a non-finite loss prunes at once; the diagnosis
(:func:`~warmup_plugins.diagnose`) runs on every update of the early phase (the first
``2 W`` updates, or ``early_updates`` without a warmup) and every ``check_every`` updates after it,
and a finding of a kind in ``prune_on`` (spike, non-finite loss, divergence) prunes the trial:
``optuna.TrialPruned`` is raised with the finding's message, and the trial keeps it in
``user_attrs['pruned_by']``. Per epoch, the validation metric goes to ``trial.report(value, epoch)``
and Optuna's own pruner decides (``trial.should_prune()``; ``pruned_by`` then starts with
``'pruner:'``). The record is kept in the trial's ``user_attrs[record_key]`` (plain data) at every
epoch and when pruning, so any trial can be plotted and diagnosed later: :func:`trial_record`
rebuilds it.

One helper per loop shape: :class:`TorchReporter` wraps a ``WarmupLR``, :class:`TimmReporter` a timm
``WarmupScheduler``; ``warmup_plugins.tune.fastai.TrialCallback`` is the fastai one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import optuna

from .._errors import owned
from ..core import _checks
from ..monitoring.diagnosis import KINDS, diagnose
from ..monitoring.record import TrainingRecord

__all__ = ["PRUNE_ON", "TimmReporter", "TorchReporter", "TrialReporter", "trial_record"]

PRUNE_ON = ("nonfinite", "spike", "divergence")
RECORD_KEY = "record"


def trial_record(trial: optuna.trial.FrozenTrial, key: str = RECORD_KEY) -> TrainingRecord:
    """The :class:`TrainingRecord` a trial kept (``trial.user_attrs[key]``)."""
    data = trial.user_attrs.get(key)
    if data is None:
        raise KeyError(f"trial {trial.number} kept no record under user_attrs[{key!r}]")
    return TrainingRecord.from_dict(data)


class TrialReporter:
    """Prune ``trial`` from ``record`` as it grows, and report the per-epoch metric to it.

    Call :meth:`after_update` after each update has been logged and :meth:`report_epoch` after each
    validation. ``diagnose_kwargs`` go to :func:`diagnose` (thresholds, ``num_classes``).
    """

    @owned
    def __init__(
        self,
        trial: optuna.trial.BaseTrial,
        record: TrainingRecord,
        *,
        prune_on: Iterable[str] = PRUNE_ON,
        check_every: int = 25,
        early_updates: int = 100,
        record_key: str = RECORD_KEY,
        diagnose_kwargs: dict[str, Any] | None = None,
    ) -> None:
        if not isinstance(trial, optuna.trial.BaseTrial):
            raise TypeError(f"trial must be an optuna trial, got {type(trial).__name__}")
        if not isinstance(record, TrainingRecord):
            raise TypeError(
                f"record must be a TrainingRecord (build the scheduler with record=True), got {type(record).__name__}"
            )
        prune_on = tuple(prune_on)
        unknown = sorted(set(prune_on) - set(KINDS))
        if unknown:
            raise ValueError(f"prune_on: unknown kinds {unknown}; the diagnosis finds {list(KINDS)}")
        if not isinstance(record_key, str) or not record_key:
            raise TypeError(f"record_key must be a non-empty string, got {record_key!r}")
        self.trial, self.record, self.prune_on, self.record_key = trial, record, prune_on, record_key
        self.check_every = _checks.integer("check_every", check_every, low=1)
        self.early_updates = _checks.integer("early_updates", early_updates, low=1)
        self.diagnose_kwargs = dict(diagnose_kwargs or {})
        self._seen = 0

    def after_update(self) -> None:
        """Check the rows logged since the last call; raise ``optuna.TrialPruned`` on a finding in ``prune_on``."""
        losses = self.record.updates["loss"]
        new, self._seen = losses[self._seen :], len(losses)
        if "nonfinite" in self.prune_on:
            for offset, loss in enumerate(new):
                if loss is not None and not math.isfinite(loss):
                    step = self.record.updates["step"][self._seen - len(new) + offset]
                    self._prune(f"nonfinite: the loss is {loss} at update {step:g}")
        if not new or not any(v is not None for v in new):
            return
        warmup = self.record.warmup_steps or 0
        early = self._seen <= (2 * warmup if warmup else self.early_updates)
        if early or self._seen % self.check_every == 0:
            self.check()

    def check(self) -> None:
        """Diagnose the whole record now; prune on a finding in ``prune_on``."""
        if not self.record.finite_losses():
            return
        for finding in diagnose(self.record, **self.diagnose_kwargs):
            if finding.kind in self.prune_on:
                self._prune(f"{finding.kind} at update {finding.step:g}: {finding.message}")

    def report_epoch(self, epoch: int, value: float) -> None:
        """``trial.report(value, epoch)``, keep the record, and prune if Optuna's pruner says so."""
        epoch = _checks.integer("epoch", epoch, low=0)
        value = _checks.scalar("value", value)
        if _checks.is_real(value) and not math.isfinite(value):
            self._prune(f"nonfinite: the validation metric is {value} at epoch {epoch}")
        value = float(_checks.number("value", value))
        self.trial.report(value, epoch)
        self.keep()
        if self.trial.should_prune():
            self._prune(f"pruner: Optuna's pruner stopped the trial at epoch {epoch} (value {value:.4g})")

    def keep(self) -> None:
        """Store the record in the trial's ``user_attrs[record_key]``."""
        self.trial.set_user_attr(self.record_key, self.record.to_dict())

    def _prune(self, reason: str) -> None:
        self.trial.set_user_attr("pruned_by", reason)
        self.keep()
        raise optuna.TrialPruned(reason)


class TorchReporter(TrialReporter):
    """The plain-loop helper: replaces ``scheduler.step()`` of a ``WarmupLR(..., record=True)``.

    ``reporter.step(loss=..., grad_norm=...)`` after each ``optimizer.step()``; ``reporter.report_epoch(epoch, metric)``
    after each validation.
    """

    @owned
    def __init__(self, trial: optuna.trial.BaseTrial, scheduler: Any, **kwargs: Any) -> None:
        self.scheduler = scheduler
        super().__init__(trial, _record_of(scheduler, "WarmupLR"), **kwargs)

    def step(self, *, loss: Any = None, grad_norm: Any = None) -> None:
        """``scheduler.step(loss=..., grad_norm=...)``, then the per-update check."""
        self.scheduler.step(loss=_checks.scalar("loss", loss), grad_norm=_checks.scalar("grad_norm", grad_norm))
        self.after_update()


class TimmReporter(TrialReporter):
    """The timm-loop helper: stands in for the scheduler's calls in timm's ``train.py`` loop.

    ``reporter.step_update(num_updates, metric=loss)`` after each update (a ``WarmupScheduler`` built with
    ``t_in_epochs=False, record=True``), ``reporter.step(epoch + 1, metric=eval_metric)`` at each epoch end.
    """

    @owned
    def __init__(self, trial: optuna.trial.BaseTrial, scheduler: Any, **kwargs: Any) -> None:
        self.scheduler = scheduler
        super().__init__(trial, _record_of(scheduler, "WarmupScheduler"), **kwargs)
        if getattr(scheduler, "t_in_epochs", False):
            raise ValueError("the scheduler must count updates (t_in_epochs=False) to record them")

    def step_update(self, num_updates: int, metric: Any = None) -> None:
        self.scheduler.step_update(num_updates, _checks.scalar("metric", metric))
        self.after_update()

    def step(self, epoch: int, metric: Any = None) -> None:
        """timm's epoch-end ``step(epoch + 1, metric)``: ``metric`` is reported for epoch ``epoch - 1``."""
        self.scheduler.step(epoch, metric)
        if metric is not None:
            self.report_epoch(max(0, epoch - 1), metric)


def _record_of(scheduler: Any, kind: str) -> TrainingRecord:
    record = getattr(scheduler, "record", None)
    if record is None:
        raise ValueError(f"the scheduler keeps no record: build the {kind} with record=True")
    return record

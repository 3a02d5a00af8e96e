"""The fastai reporting hook: :class:`TrialCallback`, beside a ``WarmupCallback(..., record=True)``.

``Learner(dls, model, metrics=accuracy, cbs=[WarmupCallback(**s.scheduler_kwargs(), record=True),
TrialCallback(trial)])`` then ``learn.fit(n, s.peak_lr)``. After every optimizer update it checks the
warmup callback's record (pruning on a spike, a NaN or a divergence, see
:class:`~warmup_plugins.tune.TrialReporter`); after every epoch it reports the recorder's ``monitor``
value (``'accuracy'`` by default, or ``'valid_loss'`` ...) to the trial and asks Optuna's pruner.
A pruned fit ends with ``optuna.TrialPruned`` raised out of ``learn.fit``.
"""

from __future__ import annotations

try:
    import fastai  # noqa: F401
except ImportError as error:
    raise ImportError("warmup_plugins.tune.fastai needs fastai, which is not installed: pip install fastai") from error

from typing import Any

import optuna
from fastai.callback.core import Callback

from .._errors import owned
from ..fastai import WarmupCallback
from .reporting import TrialReporter

__all__ = ["TrialCallback"]


class TrialCallback(Callback):
    """Report a fit to an Optuna ``trial`` and prune it early; ``reporter_kwargs`` go to ``TrialReporter``."""

    order = WarmupCallback.order + 1  # after the warmup callback has logged the update and the epoch
    run_valid = False

    @owned
    def __init__(self, trial: optuna.trial.BaseTrial, *, monitor: str = "accuracy", **reporter_kwargs: Any) -> None:
        super().__init__()
        if not isinstance(trial, optuna.trial.BaseTrial):
            raise TypeError(f"trial must be an optuna trial, got {type(trial).__name__}")
        if not isinstance(monitor, str):
            raise TypeError(f"monitor must be a recorder column name, got {monitor!r}")
        self.trial, self.monitor, self.reporter_kwargs = trial, monitor, reporter_kwargs
        self.reporter: TrialReporter | None = None

    @owned(as_class=True)
    def before_fit(self) -> None:
        if getattr(self.learn, "lr_finder", None) is not None or self.learn.opt is None:
            self.run = False
            return
        warmups = [cb for cb in self.learn.cbs if isinstance(cb, WarmupCallback) and cb.record is not None]
        if len(warmups) != 1:
            raise ValueError(f"needs exactly one WarmupCallback(..., record=True) in the learner; found {len(warmups)}")
        self.reporter = TrialReporter(self.trial, warmups[0].record, **self.reporter_kwargs)

    def after_step(self) -> None:
        self.reporter.after_update()

    @owned(as_class=True)
    def after_epoch(self) -> None:
        recorder = self.learn.recorder
        row = dict(zip(recorder.metric_names[1:], recorder.values[-1]))
        if self.monitor not in row:
            raise ValueError(f"monitor {self.monitor!r} is not recorded; the recorder has {list(row)}")
        self.reporter.report_epoch(self.epoch, row[self.monitor])

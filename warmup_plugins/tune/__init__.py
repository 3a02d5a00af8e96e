"""Tuning the warmup with Optuna (``pip install ".[tune]"``): the search space, pruning from the
warmup diagnosis, lasting studies and their report.

* :class:`SearchSpace`, :func:`suggest_schedule` (a trial's warmup as a :class:`Suggestion` any
  adapter takes) and :func:`grid` (the same space for ``optuna.samplers.GridSampler``);
* :class:`TorchReporter` (plain loop), :class:`TimmReporter` (timm loop) and
  ``warmup_plugins.tune.fastai.TrialCallback`` (fastai): per-epoch reports to Optuna, and pruning as
  soon as the diagnosis sees a spike, a NaN or a divergence in the adapter's ``TrainingRecord``;
* :func:`create_study` / :func:`load_study` / :func:`optimize`: a SQLite file by default, any
  Optuna RDB URL to share a study between processes and machines; failed trials keep their error;
* :mod:`.report`: the best trials and the PNGs of ``warmup-plugins tune-report``.
"""

try:
    import optuna  # noqa: F401
except ImportError as error:
    raise ImportError("warmup_plugins.tune needs optuna, which is not installed: pip install optuna") from error

from .reporting import PRUNE_ON, TimmReporter, TorchReporter, TrialReporter, trial_record
from .space import DECAY_CHOICES, WARMUP_CHOICES, SearchSpace, Suggestion, grid, suggest_schedule
from .study import DEFAULT_STORAGE, create_study, load_study, open_storage, optimize

__all__ = [
    "DECAY_CHOICES",
    "DEFAULT_STORAGE",
    "PRUNE_ON",
    "WARMUP_CHOICES",
    "SearchSpace",
    "Suggestion",
    "TimmReporter",
    "TorchReporter",
    "TrialReporter",
    "create_study",
    "grid",
    "load_study",
    "open_storage",
    "optimize",
    "suggest_schedule",
    "trial_record",
]

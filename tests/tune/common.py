"""Shared pieces for the tuning tests (a helper module): a fixed space and trials with chosen parameters."""

from __future__ import annotations

import optuna
import torch

from warmup_plugins.tune import SearchSpace

optuna.logging.set_verbosity(optuna.logging.WARNING)

SPACE = SearchSpace(warmup_types=("none", "linear", "cosine"), peak_lr=(1e-3, 1e3))
LINEAR = {
    "warmup_type": "linear",
    "warmup_fraction": 0.25,
    "start_factor": 0.01,
    "decay_type": "cosine",
    "end_factor": 0.0,
    "peak_lr": 0.1,
}


def seeded(seed: int = 0) -> optuna.samplers.BaseSampler:
    """Every test's sampler: Optuna's random sampler with a fixed seed (a test's trials are the same every run)."""
    return optuna.samplers.RandomSampler(seed=seed)


def study_with(*params: dict, direction: str = "maximize", storage=None) -> optuna.Study:
    """An in-memory study (unless ``storage``) whose first trials use ``params``; it never prunes on its own."""
    study = optuna.create_study(
        direction=direction, storage=storage, sampler=seeded(), pruner=optuna.pruners.NopPruner()
    )
    for p in params:
        study.enqueue_trial(p)
    return study


def accuracy(model: torch.nn.Module, data) -> float:
    with torch.no_grad():
        right = sum(int((model(x).argmax(1) == y).sum()) for x, y in data)
    return right / sum(len(y) for _, y in data)

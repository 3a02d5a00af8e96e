"""A study with no complete trial (every trial pruned, or every trial failed) is reported, never a crash.

Issue 18: ``examples/tune_warmup.py --trials 2`` crashed with ``ValueError: Record does not exist.`` from
``study.best_trial`` when both trials were pruned."""

import math
import runpy
from pathlib import Path

import optuna
import pytest
import torch

from warmup_plugins.cli import main
from warmup_plugins.torch import WarmupLR
from warmup_plugins.tune import TorchReporter, create_study, optimize
from warmup_plugins.tune.report import best_or_outcome, best_trials_table, outcome, write_report

ROOT = Path(__file__).resolve().parents[2]


def pruned(trial):
    """Pruned by the reporter: the second update's loss is NaN."""
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    reporter = TorchReporter(trial, WarmupLR(opt, warmup_steps=2, total_steps=10, record=True))
    reporter.step(loss=1.0)
    reporter.step(loss=math.nan)
    return 0.0


def failed(trial):
    raise RuntimeError("out of memory in the first batch")


def study_of(objective, url, name="example"):
    study = create_study(name, storage=url, sampler=optuna.samplers.RandomSampler(seed=0))
    return optimize(study, objective, 2, fail_fast=None)  # a study of failed trials, to report


@pytest.mark.parametrize(
    ("objective", "state", "why"),
    [(pruned, "pruned", "nonfinite: the loss is nan at update 1"), (failed, "fail", "RuntimeError: out of memory")],
)
def test_reports_say_how_many_stopped_and_why(tmp_path, capsys, objective, state, why):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    study = study_of(objective, url)
    for text in (outcome(study), best_or_outcome(study)):
        lines = text.splitlines()
        assert lines[0] == f"study 'example': 2 trials, 0 complete, 2 {state}; no complete trial, so no best trial yet"
        assert len(lines) == 3 and all(f"{state}: {why}" in line for line in lines[1:])
    table = best_trials_table(study).splitlines()
    assert table[2] == "(no complete trial yet)" and why in table[3]
    assert [p.name for p in write_report(study, tmp_path / "png")] == ["metric_vs_warmup.png", "lr_warmup_heatmap.png"]
    assert main(["tune-report", "--storage", url, "--study", "example", "--out", str(tmp_path / "cli")]) == 0
    out = capsys.readouterr().out
    assert f"2 {state}" in out and why in out and "wrote" in out


def test_the_example_reports_a_study_whose_trials_were_all_pruned(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'example.db'}"
    study_of(pruned, url)
    example = runpy.run_path(str(ROOT / "examples" / "tune_warmup.py"), run_name="tune_warmup")
    example["main"](["--trials", "0", "--storage", url])
    out = capsys.readouterr().out
    assert "2 trials, 0 complete, 2 pruned; no complete trial" in out
    assert "trial 1 pruned: nonfinite: the loss is nan at update 1" in out


def test_outcome_lists_the_last_stopped_trials_only(tmp_path):
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0), study_name="s")
    study = optimize(study, failed, 4, fail_fast=None)
    lines = outcome(study, show=2).splitlines()
    assert lines[1] == "  (the last 2 of 4 stopped trials)"
    assert [line.split(":")[0] for line in lines[2:]] == ["  trial 2 fail", "  trial 3 fail"]

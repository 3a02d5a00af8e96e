"""``warmup-plugins tune-report``: the best trials printed, three PNGs written, clear errors."""

import optuna
import pytest
import torch

from warmup_plugins.cli import main
from warmup_plugins.torch import WarmupLR
from warmup_plugins.tune import SearchSpace, TorchReporter, create_study, optimize, suggest_schedule
from warmup_plugins.tune.report import best_trials_table

TOTAL = 200
SPACE = SearchSpace(warmup_types=("none", "linear", "untuned"), peak_lr=(1e-3, 1e3))
PNG = b"\x89PNG\r\n\x1a\n"


def objective(trial):
    """A few real WarmupLR updates (so the trial keeps a record) and a synthetic metric."""
    s = suggest_schedule(trial, total_steps=TOTAL, space=SPACE, beta2=0.98)  # the optimizer below
    opt = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=s.peak_lr, betas=(0.9, 0.98))
    reporter = TorchReporter(trial, WarmupLR(opt, record=True, **s.scheduler_kwargs()), prune_on=())
    for k in range(5):
        reporter.step(loss=2.0 - 0.1 * k)
    value = 1.0 - abs(reporter.record.warmup_steps - 20) / TOTAL - abs(s.peak_lr - 1.0) / 1e3
    reporter.report_epoch(0, value)
    return value


@pytest.fixture(scope="module")
def study_url(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('report') / 'study.db'}"
    study = create_study(
        "report", storage=url, sampler=optuna.samplers.RandomSampler(seed=0), pruner=optuna.pruners.NopPruner()
    )
    study.enqueue_trial(
        {
            "warmup_type": "untuned",
            "warmup_fraction": 0.1,
            "start_factor": 0.01,
            "decay_type": "cosine",
            "end_factor": 0.0,
            "peak_lr": 1.0,
        }
    )
    optimize(study, objective, 6)
    return url


def test_tune_report_prints_the_best_trials_and_writes_three_pngs(study_url, tmp_path, capsys):
    assert main(["tune-report", "--storage", study_url, "--study", "report", "--out", str(tmp_path), "--top", "3"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "study 'report' (maximize): 6 complete"
    assert out[1].split() == ["trial", "value", "warmup", "updates", "start", "peak", "LR"]
    assert len(out) == 2 + 3 + 3  # header, three trials, three 'wrote' lines
    for name in ("metric_vs_warmup.png", "lr_warmup_heatmap.png", "importances.png"):
        assert (tmp_path / name).read_bytes()[:8] == PNG
        assert f"wrote {tmp_path / name}" in out


def test_the_warmup_length_is_the_one_the_trial_used(study_url):
    study = optuna.load_study(study_name="report", storage=study_url)
    rows = best_trials_table(study, top=6).splitlines()[2:]
    untuned = [r.split() for r in rows if r.split()[2] == "untuned"]
    assert untuned and untuned[0][3] == "99"  # 2 / (1 - 0.98) = 100 updates: a linear warmup of 99, from the record


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--study", "nope"], "no study named 'nope' in the storage; it has ['report']"),
        (["--study", "report", "--top", "0"], "top must be an integer >= 1"),
    ],
)
def test_tune_report_errors_exit_2(study_url, tmp_path, capsys, args, message):
    with pytest.raises(SystemExit) as exit_info:
        main(["tune-report", "--storage", study_url, "--out", str(tmp_path), *args])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_tune_report_on_a_missing_file_or_bad_url(tmp_path, capsys):
    for storage, message in ((f"sqlite:///{tmp_path / 'no.db'}", "there is no file"), ("no.db", "not a database URL")):
        with pytest.raises(SystemExit):
            main(["tune-report", "--storage", storage, "--study", "x", "--out", str(tmp_path)])
        assert message in capsys.readouterr().err

"""The fastai hook: a real Learner.fit with WarmupCallback(record=True) and TrialCallback."""

import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("fastai")

import optuna
from fastai.basics import Learner, MSELossFlat, set_seed

from tests.fastai_adapter.common import make_dls, tiny_model
from tests.tune.common import LINEAR, SPACE, study_with
from warmup_plugins.fastai import WarmupCallback
from warmup_plugins.tune import suggest_schedule, trial_record
from warmup_plugins.tune.fastai import TrialCallback

EPOCHS = 2


def fastai_objective(learners: list, **reporter_kwargs):
    def objective(trial):
        set_seed(0)
        dls = make_dls()
        s = suggest_schedule(trial, total_steps=EPOCHS * len(dls.train), space=SPACE)
        warmup = WarmupCallback(**s.scheduler_kwargs(), record=True)
        learn = Learner(
            dls,
            tiny_model(),
            loss_func=MSELossFlat(),
            cbs=[warmup, TrialCallback(trial, monitor="valid_loss", **reporter_kwargs)],
        )
        learners.append(learn)
        with learn.no_bar(), learn.no_logging():
            learn.fit(EPOCHS, s.peak_lr)
        return float(learn.recorder.values[-1][1])

    return objective


def test_fit_reports_each_epoch_and_keeps_the_record():
    learners = []
    study = study_with({**LINEAR, "peak_lr": 0.01}, direction="minimize")
    # small-batch MSE losses jump by 2x from batch to batch: judge only NaNs and divergence here
    study.optimize(fastai_objective(learners, prune_on=("nonfinite", "divergence")), n_trials=1)
    trial, learn = study.trials[0], learners[0]
    assert trial.state == optuna.trial.TrialState.COMPLETE
    assert trial.intermediate_values == {e: float(learn.recorder.values[e][1]) for e in range(EPOCHS)}
    record = trial_record(trial)
    schedule = suggest_schedule(optuna.trial.FixedTrial(LINEAR), total_steps=16, space=SPACE).schedule
    assert record.updates["lr"] == [0.01 * schedule(k) for k in range(16)]
    assert len(record.epochs["valid_loss"]) == EPOCHS


def test_fit_is_pruned_inside_the_first_epoch():
    study = study_with({**LINEAR, "warmup_type": "none", "peak_lr": 1e3}, direction="minimize")
    study.optimize(fastai_objective([]), n_trials=1)
    trial = study.trials[0]
    assert trial.state == optuna.trial.TrialState.PRUNED
    assert trial.intermediate_values == {}
    assert len(trial_record(trial)) < 8


def test_needs_a_recording_warmup_callback_and_a_recorded_monitor():
    trial = optuna.trial.FixedTrial({})
    learn = Learner(
        make_dls(), tiny_model(), loss_func=MSELossFlat(), cbs=[WarmupCallback(warmup_steps=2), TrialCallback(trial)]
    )
    with (
        pytest.raises(ValueError, match=r"exactly one WarmupCallback\(..., record=True\)"),
        learn.no_bar(),
        learn.no_logging(),
    ):
        learn.fit(1, 0.01)
    # judge only NaNs, so that a spike in the tiny model's first updates cannot prune before the monitor is checked
    cbs = [
        WarmupCallback(warmup_steps=2, record=True),
        TrialCallback(trial, monitor="accuracy", prune_on=("nonfinite",)),
    ]
    learn = Learner(make_dls(), tiny_model(), loss_func=MSELossFlat(), cbs=cbs)
    with pytest.raises(ValueError, match="monitor 'accuracy' is not recorded"), learn.no_bar(), learn.no_logging():
        learn.fit(1, 0.01)


def test_without_fastai_or_optuna_the_errors_name_the_install():
    code = """
        import sys
        sys.modules["fastai"] = None
        import warmup_plugins.tune
        try:
            import warmup_plugins.tune.fastai
        except ImportError as error:
            print(error)
        sys.modules["optuna"] = None
        for name in [m for m in sys.modules if m.startswith("warmup_plugins.tune")]:
            del sys.modules[name]
        try:
            import warmup_plugins.tune
        except ImportError as error:
            print(error)
    """
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "pip install fastai" in lines[0]
    assert "pip install optuna" in lines[1]

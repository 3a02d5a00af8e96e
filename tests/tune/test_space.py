"""The search space: plain data, checked before any trial, and its suggest and grid forms."""

import optuna
import pytest
import torch

from warmup_plugins import AdaptiveWarmup, WarmupSchedule
from warmup_plugins.torch import WarmupLR
from warmup_plugins.tune import SearchSpace, grid, suggest_schedule

optuna.logging.set_verbosity(optuna.logging.WARNING)

FIXED = {
    "warmup_type": "linear",
    "warmup_fraction": 0.1,
    "start_factor": 0.01,
    "decay_type": "cosine",
    "end_factor": 0.0,
    "peak_lr": 3e-3,
}


def test_space_round_trips_as_plain_data():
    space = SearchSpace(warmup_types=("none", "cosine"), peak_lr=(1e-3, 1e-2), decay_types=("linear", "cosine"))
    data = space.to_dict()
    assert data == {
        "warmup_types": ["none", "cosine"],
        "warmup_fraction": [0.01, 0.3],
        "warmup_steps": None,
        "log_warmup": False,
        "start_factor": [0.001, 0.1],
        "decay_types": ["linear", "cosine"],
        "end_factor": [0.0, 0.0],
        "peak_lr": [1e-3, 1e-2],
    }
    assert SearchSpace.from_dict(data) == space


def test_suggestion_is_exact_and_kept_on_the_trial():
    trial = optuna.trial.FixedTrial(FIXED)
    s = suggest_schedule(trial, total_steps=200)
    assert s.schedule == WarmupSchedule(
        warmup_type="linear", warmup_steps=20, total_steps=200, start_factor=0.01, decay_type="cosine", end_factor=0.0
    )
    assert (s.peak_lr, s.adaptive, s.warmup_steps) == (3e-3, False, 20)
    assert trial.user_attrs["suggestion"] == s.to_dict()


def test_none_ignores_length_and_start_and_constant_decay_ignores_end():
    params = {**FIXED, "warmup_type": "none", "decay_type": "constant"}
    s = suggest_schedule(optuna.trial.FixedTrial(params), total_steps=50, decay_types=("constant",))
    assert s.schedule == WarmupSchedule(warmup_type="none", warmup_steps=0, total_steps=50)


def test_warmup_in_updates():
    params = {**FIXED, "warmup_steps": 7}
    del params["warmup_fraction"]
    s = suggest_schedule(optuna.trial.FixedTrial(params), total_steps=50, warmup_fraction=None, warmup_steps=(5, 10))
    assert s.schedule.warmup_steps == 7


def test_untuned_goes_to_the_adapter_which_reads_beta2():
    s = suggest_schedule(optuna.trial.FixedTrial({**FIXED, "warmup_type": "untuned"}), total_steps=1000, beta2=0.99)
    assert s.schedule_kwargs == {
        "warmup_type": "untuned_linear",
        "total_steps": 1000,
        "decay_type": "cosine",
        "end_factor": 0.0,
    }
    with pytest.raises(ValueError, match="beta2"):
        s.schedule  # noqa: B018
    opt = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=s.peak_lr, betas=(0.9, 0.99))
    scheduler = WarmupLR(opt, **s.scheduler_kwargs())
    assert scheduler.schedule == s.schedule_for(opt)
    assert (scheduler.schedule.warmup_steps, scheduler.schedule.start_factor) == (199, 1 / 200)


def test_adaptive_gives_a_fresh_adaptive_warmup_each_time():
    s = suggest_schedule(optuna.trial.FixedTrial({**FIXED, "warmup_type": "adaptive"}), total_steps=100)
    first, second = s.scheduler_kwargs()["adaptive"], s.scheduler_kwargs()["adaptive"]
    assert isinstance(first, AdaptiveWarmup) and first is not second
    assert s.schedule.warmup_type == "linear" and s.schedule.warmup_steps == 10


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"warmup_types": ("linear", "warmpu")}, ValueError, r"warmup_types: unknown \['warmpu'\]"),
        ({"warmup_types": ()}, ValueError, "warmup_types is empty"),
        ({"decay_types": ("step",)}, ValueError, "decay_types: unknown"),
        ({"warmup_fraction": (0.3, 0.1)}, ValueError, "warmup_fraction is an empty range"),
        ({"warmup_fraction": (0.1, 1.5)}, ValueError, r"warmup_fraction\[1\] must be in \[0, 1\]"),
        ({"start_factor": (0.0, 0.1)}, ValueError, "start_factor is searched on a log scale"),
        ({"end_factor": (-0.1, 0.0)}, ValueError, r"end_factor\[0\] must be in \[0, 1\]"),
        ({"peak_lr": (1e-3, float("nan"))}, ValueError, r"peak_lr\[1\] must be finite"),
        ({"peak_lr": 0.1}, TypeError, "peak_lr must be a .low, high. pair"),
        ({"warmup_steps": (1, 10)}, ValueError, "exactly one of warmup_fraction"),
        ({"decay_types": ("exponential",)}, ValueError, "end_factor must start above 0"),
        ({"warmup_span": (1, 2)}, TypeError, "unexpected keyword argument 'warmup_span'"),
    ],
)
def test_bad_spaces_are_clear_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        SearchSpace(**kwargs)


def test_unknown_keys_in_plain_data_and_total_too_short():
    with pytest.raises(TypeError, match=r"unknown search-space keys \['peak'\]"):
        SearchSpace.from_dict({"peak": [1, 2]})
    space = SearchSpace(warmup_fraction=None, warmup_steps=(10, 500))
    with pytest.raises(ValueError, match=r"warmup_steps reaches 500, beyond total_steps \(100\)"):
        space.check(100)


def test_a_bad_space_fails_before_any_trial_runs():
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    with pytest.raises(ValueError, match="empty range"):
        space = SearchSpace(peak_lr=(1e-2, 1e-3))
        study.optimize(lambda t: suggest_schedule(t, total_steps=10, space=space).peak_lr, n_trials=1)
    assert study.trials == []


def test_grid_defaults_and_chosen_values():
    space = SearchSpace(warmup_types=("none", "linear"), peak_lr=(1e-3, 1e-1))
    assert grid(space) == {
        "warmup_type": ["none", "linear"],
        "warmup_fraction": [0.01, 0.155, 0.3],
        "start_factor": [0.001, 0.01, 0.1],
        "decay_type": ["cosine"],
        "end_factor": [0.0],
        "peak_lr": [0.001, 0.01, 0.1],
    }
    chosen = grid(space, warmup_fraction=[0.1], start_factor=[0.01], peak_lr=[1e-3, 1e-2])
    assert chosen["peak_lr"] == [1e-3, 1e-2] and chosen["warmup_fraction"] == [0.1]
    with pytest.raises(ValueError, match=r"grid: peak_lr must be in \[0.001, 0.1\]"):
        grid(space, peak_lr=[1.0])
    with pytest.raises(TypeError, match=r"grid: unknown parameters \['warmup_steps'\]"):
        grid(space, warmup_steps=[5])
    with pytest.raises(ValueError, match="grid: warmup_type: unknown"):
        grid(space, warmup_type=["cosine"])


def test_grid_sampler_runs_the_whole_grid():
    space = SearchSpace(warmup_types=("none", "linear"), peak_lr=(1e-3, 1e-2))
    search = grid(space, warmup_fraction=[0.1, 0.2], start_factor=[0.01], peak_lr=[1e-3, 1e-2])
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.GridSampler(search, seed=0))

    def objective(trial):
        s = suggest_schedule(trial, total_steps=100, space=space)
        return s.peak_lr * (1 + s.schedule.warmup_steps)

    study.optimize(objective, n_trials=20)
    seen = {(t.params["warmup_type"], t.params["warmup_fraction"], t.params["peak_lr"]) for t in study.trials}
    assert len(study.trials) == 8 and len(seen) == 8
    assert study.best_value == pytest.approx(1e-2 * 21)


@pytest.mark.parametrize("bad", [7.9, 7.0, "7"])
def test_grid_refuses_warmup_steps_that_are_not_whole_updates(bad):
    """Issue 18: warmup_steps=[7.9] was accepted; the run used W=7 while the trial's params recorded 7.9."""
    space = SearchSpace(warmup_types=("linear",), warmup_fraction=None, warmup_steps=(1, 20))
    with pytest.raises(TypeError, match=r"grid: warmup_steps \(a whole number of updates\) must be an integer"):
        grid(space, warmup_steps=[5, bad])
    assert grid(space, warmup_steps=[5, 8])["warmup_steps"] == [5, 8]


def test_an_untuned_warmup_longer_than_the_run_is_skipped_in_one_line(caplog):
    """Issue 22: the default space's 'untuned' (1999 updates for Adam) failed every short run with a chained
    traceback; now the trial is pruned, with the reason on one line."""
    optuna.logging.set_verbosity(optuna.logging.INFO)
    optuna.logging.enable_propagation()  # Optuna's log lines, to caplog
    try:
        study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
        study.optimize(lambda t: suggest_schedule(t, total_steps=100, warmup_types=("untuned",)).peak_lr, n_trials=1)
        fits = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
        fits.optimize(lambda t: suggest_schedule(t, total_steps=100, beta2=0.98, warmup_types=("untuned",)).peak_lr, 1)
    finally:
        optuna.logging.disable_propagation()
        optuna.logging.set_verbosity(optuna.logging.WARNING)
    (trial,) = study.trials
    reason = "skipped: the untuned warmup (1999 updates, 2 / (1 - beta2) - 1 for beta2 0.999) is longer than the"
    assert trial.state == optuna.trial.TrialState.PRUNED and trial.user_attrs["pruned_by"] == f"{reason} 100-update run"
    assert len(trial.params) == 6  # every parameter was suggested, so samplers and importances see one flat space
    assert fits.trials[0].state == optuna.trial.TrialState.COMPLETE  # beta2 0.98: 99 updates fit
    assert f"Trial 0 pruned. {reason} 100-update run" in caplog.messages
    assert not any(r.exc_info for r in caplog.records)  # no traceback

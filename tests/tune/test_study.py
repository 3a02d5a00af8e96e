"""Studies: SQLite by default, shared by processes, failed trials recorded, bad storages refused."""

import dataclasses
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import optuna
import pytest

from tests.tune.common import SPACE, seeded
from warmup_plugins.tune import DEFAULT_STORAGE, create_study, load_study, open_storage, optimize, suggest_schedule

ROOT = Path(__file__).resolve().parents[2]


def synthetic(trial):
    """A tiny objective: best near a 10% warmup at peak LR 1."""
    s = suggest_schedule(trial, total_steps=100, space=SPACE)
    return -abs((s.warmup_steps or 0) - 10) - abs(s.peak_lr - 1.0)


def test_the_default_storage_is_a_sqlite_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    study = create_study("default", sampler=seeded())
    optimize(study, synthetic, 2)
    assert DEFAULT_STORAGE == "sqlite:///warmup_tune.db" and (tmp_path / "warmup_tune.db").is_file()


def test_a_sqlite_study_survives_and_resumes(tmp_path):
    url = f"sqlite:///{tmp_path / 'sub' / 'study.db'}"  # the folder is created
    optimize(create_study("resume", storage=url, space=SPACE, sampler=seeded()), synthetic, 3)
    again = create_study("resume", storage=url, sampler=seeded(1))  # a new process would do exactly this
    optimize(again, synthetic, 2)
    assert [t.number for t in load_study("resume", url).trials] == [0, 1, 2, 3, 4]
    assert again.user_attrs["space"] == SPACE.to_dict()


def test_joining_a_study_with_another_space_is_refused_before_any_trial(tmp_path):
    """Issue 18: the second space overwrote the stored one, then every trial failed on Optuna's dynamic value space."""
    url = f"sqlite:///{tmp_path / 'study.db'}"
    optimize(create_study("s", storage=url, space=SPACE, sampler=seeded()), synthetic, 1)
    other = dataclasses.replace(SPACE, peak_lr=(1e-4, 1e-1))
    with pytest.raises(
        ValueError,
        match=r"study 's' was created with another search space: peak_lr \[0.001, 1000.0\] in"
        r" the study, \[0.0001, 0.1\] given; pass the same space",
    ):
        create_study("s", storage=url, space=other)
    study = load_study("s", url)
    assert study.user_attrs["space"] == SPACE.to_dict() and len(study.trials) == 1
    assert create_study("s", storage=url, space=SPACE).user_attrs["space"] == SPACE.to_dict()  # the same space joins


def test_a_failing_trial_is_recorded_with_its_error_and_the_study_goes_on():
    study = create_study("fails", storage=optuna.storages.InMemoryStorage(), sampler=seeded())

    def objective(trial):
        value = synthetic(trial)
        if trial.number == 1:
            raise RuntimeError("CUDA out of memory (pretend)")
        return value

    optimize(study, objective, 3)
    states = [t.state for t in study.trials]
    assert states == [optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.FAIL, optuna.trial.TrialState.COMPLETE]
    assert study.trials[1].user_attrs["error"] == "RuntimeError: CUDA out of memory (pretend)"


def values(*results):
    """An objective returning ``results`` in turn (a number, or an exception to raise)."""

    def objective(trial):
        result = results[trial.number % len(results)]
        if isinstance(result, Exception):
            raise result
        return result

    return objective


def test_joining_a_study_of_the_other_direction_is_refused_naming_both(tmp_path):
    """Issue 28 case 3: direction='minimize' silently joined a maximize study, whose best trial was then the
    highest loss (0.9 of 0.9, 0.1 and 0.5) and towards which TPE sampled."""
    url = f"sqlite:///{tmp_path / 'study.db'}"
    optimize(create_study("s", storage=url, sampler=seeded()), values(0.9, 0.1, 0.5), 3)
    with pytest.raises(
        ValueError,
        match=r"study 's' was created to maximize, and direction='minimize' was given; pass direction='maximize'"
        r" to join it, or a new study name",
    ):
        create_study("s", storage=url, direction="minimize")
    study = load_study("s", url)
    assert study.direction == optuna.study.StudyDirection.MAXIMIZE and study.best_trial.value == 0.9
    assert len(study.trials) == 3  # nothing was added or changed
    assert create_study("s", storage=url, direction="maximize").best_trial.value == 0.9  # the same direction joins
    minimize = create_study("m", storage=url, direction="minimize")
    with pytest.raises(ValueError, match=r"study 'm' was created to minimize, and direction='maximize' was given"):
        create_study("m", storage=url)  # the default direction is named as well
    assert load_study("m", url).direction == minimize.direction


class Lines(logging.Handler):
    """Collects the messages of one logger (Optuna's loggers do not propagate to pytest's caplog)."""

    def __init__(self, name: str):
        super().__init__(logging.INFO)
        self.logger, self.messages = logging.getLogger(name), []

    def emit(self, record):
        self.messages.append(record.getMessage())

    def __enter__(self):
        self.logger_level = self.logger.level
        self.logger.addHandler(self)
        self.logger.setLevel(logging.INFO)
        return self.messages

    def __exit__(self, *exc):
        self.logger.removeHandler(self)
        self.logger.setLevel(self.logger_level)


def test_joining_an_existing_study_says_what_it_holds(tmp_path):
    """Issue 29 item 3: the corrected rerun joined a study of 20 failed trials without a word."""
    url = f"sqlite:///{tmp_path / 'study.db'}"
    with Lines("optuna") as messages:
        study = create_study("my-warmup", storage=url, sampler=seeded())
        assert not [m for m in messages if "joining" in m]  # a new study: nothing to say
        optimize(study, values(RuntimeError("a"), RuntimeError("b")), 20)  # two errors alternating: never stops
        create_study("my-warmup", storage=url)
        optimize(study, values(0.5), 2)
        optimize(study, values(optuna.TrialPruned("spike")), 1)
        create_study("my-warmup", storage=url)
    joined = [m for m in messages if m.startswith("joining")]
    assert joined == [
        "joining study 'my-warmup': 20 trials (0 complete, 20 failed)",
        "joining study 'my-warmup': 23 trials (2 complete, 1 pruned, 20 failed)",
    ]


def test_the_first_trials_failing_with_one_error_stop_the_search_and_raise_it(tmp_path):
    """Issue 29 item 3: the README's tuning block, copied alone, ran 20 trials that all failed with the same
    NameError, and exited 0."""
    url = f"sqlite:///{tmp_path / 'study.db'}"
    study = create_study("s", storage=url, sampler=seeded())
    bug = NameError("name 'loader' is not defined")
    with pytest.raises(NameError, match="name 'loader' is not defined") as raised:
        optimize(study, values(bug), 20)
    assert raised.value is bug
    trials = load_study("s", url).trials
    assert [t.state for t in trials] == [optuna.trial.TrialState.FAIL] * 3  # stopped after 3, each kept
    assert trials[0].user_attrs["error"] == "NameError: name 'loader' is not defined"
    if sys.version_info >= (3, 11):
        assert "the first 3 trials of this call (numbers 0, 1, 2, kept as failed in study 's')" in bug.__notes__[0]
    with pytest.raises(NameError):  # the next call counts its own first trials
        optimize(study, values(bug), 2, fail_fast=5)  # fewer trials than fail_fast: all of them failed alike
    assert len(study.trials) == 5


@pytest.mark.parametrize(
    ("results", "fail_fast"),
    [
        ((0.5, RuntimeError("x"), RuntimeError("x"), RuntimeError("x")), 3),  # the first trial completed
        ((RuntimeError("x"), RuntimeError("y")), 3),  # two different errors
        ((ValueError("x"), RuntimeError("x")), 3),  # the same message from two types
        ((RuntimeError("x"), optuna.TrialPruned("spike")), 3),  # a pruned trial among them
        ((RuntimeError("x"),), None),  # asked to keep going
    ],
)
def test_other_failures_keep_the_search_going(results, fail_fast):
    study = create_study("s", storage=optuna.storages.InMemoryStorage(), sampler=seeded())
    optimize(study, values(*results), 6, fail_fast=fail_fast)
    assert len(study.trials) == 6


def test_fail_fast_must_be_a_positive_integer():
    study = create_study("s", storage=optuna.storages.InMemoryStorage())
    with pytest.raises(ValueError, match="fail_fast"):
        optimize(study, values(0.5), 1, fail_fast=0)
    assert not study.trials


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("study.db", "not a database URL; for a SQLite file write 'sqlite:///study.db'"),
        ("nosuchdb://host/db", "cannot open the storage 'nosuchdb://host/db'"),
        ("sqlite:////proc/no/such/dir/x.db", "cannot open the storage"),
        (42, "storage must be a database URL string"),
    ],
)
def test_storages_that_cannot_be_opened_are_clear_errors(url, match):
    with pytest.raises((ValueError, TypeError), match=match):
        open_storage(url)


def test_loading_a_missing_study_or_file_is_a_clear_error(tmp_path):
    url = f"sqlite:///{tmp_path / 'a.db'}"
    create_study("there", storage=url)
    with pytest.raises(ValueError, match=r"no study named 'gone' in the storage; it has \['there'\]"):
        load_study("gone", url)
    with pytest.raises(ValueError, match="there is no file"):
        load_study("there", f"sqlite:///{tmp_path / 'typo.db'}")
    assert not (tmp_path / "typo.db").exists()
    with pytest.raises(ValueError, match="direction must be 'maximize' or 'minimize'"):
        create_study("x", storage=url, direction="max")


WORKER = """
import os, sys, time
from warmup_plugins.tune import create_study, optimize, suggest_schedule
from tests.tune.common import SPACE, seeded

def objective(trial):
    s = suggest_schedule(trial, total_steps=100, space=SPACE)
    trial.set_user_attr("pid", os.getpid())
    time.sleep(0.2)  # long enough for the two workers' trials to interleave
    return -abs((s.warmup_steps or 0) - 10)

study = create_study("shared", storage=sys.argv[1], sampler=seeded(int(sys.argv[2])))  # one seed per worker
optimize(study, objective, 4)
"""


def test_two_processes_share_one_study(tmp_path):
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    create_study("shared", storage=url)  # created once; both workers join it
    script = tmp_path / "worker.py"
    script.write_text(textwrap.dedent(WORKER))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    workers = [
        subprocess.Popen([sys.executable, str(script), url, str(i)], cwd=ROOT, env=env, stderr=subprocess.PIPE)
        for i in range(2)
    ]
    for w in workers:
        _, err = w.communicate(timeout=180)
        assert w.returncode == 0, err.decode()
    trials = load_study("shared", url).trials
    assert sorted(t.number for t in trials) == list(range(8))
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    pids = [t.user_attrs["pid"] for t in trials]
    assert len(set(pids)) == 2 and all(pids.count(p) == 4 for p in set(pids))

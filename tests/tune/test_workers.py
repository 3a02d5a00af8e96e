"""Many workers, one study (the scale-out recipe of docs/tuning.md), on SQLite and on a real PostgreSQL.

4 worker processes call ``create_study`` at the same moment and each runs its share of the trials: every
trial is recorded once, no worker dies, the total is exactly what was asked. A worker killed mid-trial
leaves that trial failed by Optuna's heartbeat and retried (``RetryFailedTrialCallback``), never RUNNING.

PostgreSQL runs when ``WARMUP_TUNE_PG_URL`` names a database (``.ci/run`` starts a throwaway cluster and
sets it); without it those cases skip.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from optuna.storages import RetryHeartbeatStaleTrialCallback

from tests.tune.workers import HEARTBEAT_S
from warmup_plugins.tune import create_study, load_study, optimize

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("workers.py")
PG_URL = os.environ.get("WARMUP_TUNE_PG_URL")
WORKERS, EACH = 4, 5


def _sqlite(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'new.db'}"  # a new file: the workers race to create its tables


def _postgres(tmp_path: Path) -> str:
    if not PG_URL:
        pytest.skip("no PostgreSQL: set WARMUP_TUNE_PG_URL=postgresql+psycopg://user@host:port/db (.ci/run does)")
    pytest.importorskip("psycopg", reason="the PostgreSQL driver psycopg is missing: pip install '.[tune]'")
    return PG_URL


STORAGES = [pytest.param(_sqlite, id="sqlite"), pytest.param(_postgres, id="postgresql")]


def start(url: str, name: str, gate: Path, n: int, trials: int, *extra: str) -> list[subprocess.Popen]:
    """``n`` workers, released together once all of them have imported and are waiting at the gate."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    workers = [
        subprocess.Popen(
            [sys.executable, str(WORKER), url, name, str(i), str(trials), str(gate), *extra],
            cwd=ROOT,
            env=env,
            stderr=subprocess.PIPE,
        )
        for i in range(n)
    ]
    deadline = time.monotonic() + 120
    while len(list(gate.glob("ready-*"))) < n:
        assert time.monotonic() < deadline, "the workers did not start within 120 s"
        assert all(w.poll() is None for w in workers), [w.stderr.read().decode() for w in workers if w.poll()]
        time.sleep(0.02)
    (gate / "go").touch()
    return workers


@pytest.mark.parametrize("storage", STORAGES)
def test_four_workers_started_together_record_every_trial_once(storage, tmp_path):
    url, name = storage(tmp_path), f"together-{tmp_path.name}"
    for w in start(url, name, tmp_path, WORKERS, EACH):
        _, err = w.communicate(timeout=180)
        assert w.returncode == 0, err.decode()  # no worker died, in create_study or later
    trials = load_study(name, url).trials
    assert sorted(t.number for t in trials) == list(range(WORKERS * EACH))  # exactly as asked, each once
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    workers = [t.user_attrs["worker"] for t in trials]
    assert all(workers.count(i) == EACH for i in range(WORKERS))


@pytest.mark.parametrize("storage", STORAGES)
def test_a_worker_killed_mid_trial_leaves_it_failed_and_retried(storage, tmp_path):
    url, name = storage(tmp_path), f"killed-{tmp_path.name}"
    (hung,) = start(url, name, tmp_path, 1, 1, "hang")
    deadline = time.monotonic() + 120
    while not (tmp_path / "running-0").exists():
        assert time.monotonic() < deadline and hung.poll() is None, hung.stderr.read().decode()
        time.sleep(0.02)
    hung.send_signal(signal.SIGKILL)
    hung.wait(timeout=30)
    time.sleep(2 * HEARTBEAT_S + 2)  # Optuna's grace period: 2 heartbeats, with a second to spare under load
    study = create_study(
        name, storage=url, sampler=optuna.samplers.RandomSampler(seed=0), heartbeat_interval=HEARTBEAT_S
    )
    optimize(study, lambda trial: trial.suggest_float("x", 0.0, 1.0), 1)  # a worker starting a trial fails stale ones
    first, retry = study.trials
    assert first.state == optuna.trial.TrialState.FAIL and first.user_attrs["worker"] == 0
    assert retry.state == optuna.trial.TrialState.COMPLETE and retry.params == first.params
    with pytest.warns(optuna.exceptions.ExperimentalWarning):
        assert RetryHeartbeatStaleTrialCallback.retried_trial_number(retry) == 0

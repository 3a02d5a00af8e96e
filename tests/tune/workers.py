"""A tuning worker process for the many-workers tests (a helper module, run as a script).

``python tests/tune/workers.py URL STUDY INDEX TRIALS GATE [hang]``: write ``GATE/ready-INDEX``, wait for
``GATE/go`` (so every worker calls ``create_study`` at the same moment), then join the study and run
``TRIALS`` tiny trials. With ``hang``, the first trial writes ``GATE/running-INDEX`` and sleeps until killed.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import optuna

from warmup_plugins.tune import create_study, optimize

HEARTBEAT_S = 1  # a killed worker's trial is failed (and retried) about 2 s after its last heartbeat


def main(url: str, study_name: str, index: int, trials: int, gate: Path, hang: bool) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    (gate / f"ready-{index}").touch()
    while not (gate / "go").exists():
        time.sleep(0.005)
    study = create_study(
        study_name, storage=url, sampler=optuna.samplers.RandomSampler(seed=index), heartbeat_interval=HEARTBEAT_S
    )

    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", 0.0, 1.0)
        trial.set_user_attr("worker", index)
        if hang:
            time.sleep(2 * HEARTBEAT_S)  # Optuna's heartbeat thread has stored at least one heartbeat by now
            (gate / f"running-{index}").touch()
            time.sleep(600)
        time.sleep(0.05)
        return x

    optimize(study, objective, trials)


if __name__ == "__main__":
    url, name, index, trials, gate = sys.argv[1:6]
    main(url, name, int(index), int(trials), Path(gate), sys.argv[6:] == ["hang"])

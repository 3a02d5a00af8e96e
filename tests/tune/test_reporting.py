"""Per-epoch reports and early pruning from the record, in a real plain-torch loop and a real timm loop."""

import math

import optuna
import pytest
import torch

from tests.helpers import batches, tiny_model
from tests.tune.common import LINEAR, SPACE, accuracy, study_with
from warmup_plugins import TrainingRecord, diagnose
from warmup_plugins.timm import WarmupScheduler
from warmup_plugins.torch import WarmupLR
from warmup_plugins.tune import TimmReporter, TorchReporter, TrialReporter, suggest_schedule, trial_record

EPOCHS, UPDATES = 2, 8


def torch_objective(accs: list):
    def objective(trial):
        s = suggest_schedule(trial, total_steps=EPOCHS * UPDATES, space=SPACE)
        model = tiny_model()
        opt = torch.optim.SGD(model.parameters(), lr=s.peak_lr)
        reporter = TorchReporter(trial, WarmupLR(opt, record=True, **s.scheduler_kwargs()))
        data = batches(UPDATES)
        for epoch in range(EPOCHS):
            for x, y in data:
                loss = torch.nn.functional.cross_entropy(model(x), y)
                opt.zero_grad()
                loss.backward()
                opt.step()
                reporter.step(loss=loss)
            accs.append(accuracy(model, data))
            reporter.report_epoch(epoch, accs[-1])
        return accs[-1]

    return objective


def test_torch_loop_reports_each_epoch_and_keeps_its_record():
    accs = []
    study = study_with(LINEAR)
    study.optimize(torch_objective(accs), n_trials=1)
    trial = study.trials[0]
    assert trial.state == optuna.trial.TrialState.COMPLETE
    assert trial.intermediate_values == {0: accs[0], 1: accs[1]} and trial.value == accs[1]
    record = trial_record(trial)
    schedule = suggest_schedule(optuna.trial.FixedTrial(LINEAR), total_steps=16, space=SPACE).schedule
    assert record.updates["step"] == list(range(16))
    assert record.updates["lr"] == [0.1 * schedule(k) for k in range(16)]
    assert all(math.isfinite(v) for v in record.updates["loss"])


def test_torch_loop_is_pruned_at_the_first_bad_update_not_at_the_epoch_end():
    study = study_with({**LINEAR, "warmup_type": "none", "peak_lr": 1e3})
    study.optimize(torch_objective([]), n_trials=1)
    trial = study.trials[0]
    assert trial.state == optuna.trial.TrialState.PRUNED
    assert trial.intermediate_values == {}  # pruned inside the first epoch
    record = trial_record(trial)
    assert len(record) < UPDATES
    kind = trial.user_attrs["pruned_by"].split(" ")[0].rstrip(":")
    assert kind in ("nonfinite", "spike", "divergence")


def record_with(warmup_steps=10):
    return TrainingRecord(meta={"schedule": {"warmup_steps": warmup_steps}})


def filled(losses):
    record = TrainingRecord()
    for k, loss in enumerate(losses):
        record.log_update(k, 0.1, loss)
    return record


def feed(reporter, record, losses):
    """Log the losses one update at a time; return the update at which the reporter pruned (or None)."""
    for k, loss in enumerate(losses):
        record.log_update(k, 0.1, loss)
        try:
            reporter.after_update()
        except optuna.TrialPruned:
            return k
    return None


def test_a_nan_prunes_at_its_own_update():
    record, trial = record_with(), optuna.trial.FixedTrial({})
    assert feed(TrialReporter(trial, record), record, [2.3, 2.2, float("nan"), 2.0]) == 2
    assert trial.user_attrs["pruned_by"] == "nonfinite: the loss is nan at update 2"
    assert TrainingRecord.from_dict(trial.user_attrs["record"]).updates["step"] == [0, 1, 2]


def test_a_spike_in_the_warmup_prunes_at_its_own_update():
    record, trial = record_with(), optuna.trial.FixedTrial({})
    assert feed(TrialReporter(trial, record), record, [2.3, 2.2, 2.1, 9.0, 2.0]) == 3
    assert trial.user_attrs["pruned_by"].startswith("spike at update 3: a loss spike during the warmup")


def test_a_divergence_prunes_and_a_clean_run_does_not():
    rising = [2.0 + 0.1 * k for k in range(40)]
    first = next(n for n in range(1, 41) if "divergence" in diagnose(filled(rising[:n]), warmup_steps=2).kinds())
    record, trial = record_with(warmup_steps=2), optuna.trial.FixedTrial({})
    assert feed(TrialReporter(trial, record, prune_on=("divergence",), check_every=1), record, rising) == first - 1
    assert trial.user_attrs["pruned_by"].startswith("divergence")
    record = record_with(warmup_steps=2)  # after the early phase (2 W updates) the diagnosis runs every 25 updates
    assert feed(TrialReporter(optuna.trial.FixedTrial({}), record, prune_on=("divergence",)), record, rising) == 24
    record = record_with(warmup_steps=2)
    falling = [2.0 / (1 + 0.05 * k) for k in range(40)]
    assert feed(TrialReporter(optuna.trial.FixedTrial({}), record), record, falling) is None


def test_reporter_input_is_checked():
    record = record_with()
    with pytest.raises(ValueError, match=r"prune_on: unknown kinds \['nan'\]"):
        TrialReporter(optuna.trial.FixedTrial({}), record, prune_on=("nan",))
    with pytest.raises(TypeError, match="build the scheduler with record=True"):
        TrialReporter(optuna.trial.FixedTrial({}), None)
    opt = torch.optim.SGD(tiny_model().parameters(), lr=0.1)
    with pytest.raises(ValueError, match="build the WarmupLR with record=True"):
        TorchReporter(optuna.trial.FixedTrial({}), WarmupLR(opt, warmup_steps=2, total_steps=10))
    with pytest.raises(ValueError, match="t_in_epochs=False"):
        TimmReporter(optuna.trial.FixedTrial({}), WarmupScheduler(opt, warmup_steps=2, total_steps=10, record=True))


def timm_objective(accs: list):
    """timm's train.py loop shape: step_update(num_updates, metric=loss) per update, step(epoch + 1, metric)."""

    def objective(trial):
        s = suggest_schedule(trial, total_steps=EPOCHS * UPDATES, space=SPACE)
        model = tiny_model()
        opt = torch.optim.SGD(model.parameters(), lr=s.peak_lr, momentum=0.9)
        scheduler = WarmupScheduler(opt, t_in_epochs=False, record=True, **s.scheduler_kwargs())
        reporter = TimmReporter(trial, scheduler)
        data, num_updates = batches(UPDATES), 0
        for epoch in range(EPOCHS):
            for x, y in data:
                loss = torch.nn.functional.cross_entropy(model(x), y)
                opt.zero_grad()
                loss.backward()
                opt.step()
                num_updates += 1
                reporter.step_update(num_updates=num_updates, metric=loss.item())
            accs.append(accuracy(model, data))
            reporter.step(epoch + 1, accs[-1])
        return accs[-1]

    return objective


def test_timm_loop_reports_each_epoch_and_keeps_its_record():
    accs = []
    study = study_with(LINEAR)
    study.optimize(timm_objective(accs), n_trials=1)
    trial = study.trials[0]
    assert trial.state == optuna.trial.TrialState.COMPLETE
    assert trial.intermediate_values == {0: accs[0], 1: accs[1]}
    record = trial_record(trial)
    schedule = suggest_schedule(optuna.trial.FixedTrial(LINEAR), total_steps=16, space=SPACE).schedule
    assert record.updates["lr"] == [0.1 * schedule(k) for k in range(16)]
    assert record.epochs["metric"] == accs


def test_timm_loop_is_pruned_early():
    study = study_with({**LINEAR, "warmup_type": "none", "peak_lr": 1e3})
    study.optimize(timm_objective([]), n_trials=1)
    assert study.trials[0].state == optuna.trial.TrialState.PRUNED
    assert study.trials[0].intermediate_values == {}
    assert len(trial_record(study.trials[0])) < UPDATES


def test_optunas_own_pruner_acts_on_the_epoch_reports():
    study = optuna.create_study(
        direction="maximize",
        sampler=optuna.samplers.RandomSampler(seed=0),
        pruner=optuna.pruners.ThresholdPruner(lower=1.01),
    )
    study.enqueue_trial(LINEAR)
    study.optimize(torch_objective([]), n_trials=1)
    trial = study.trials[0]
    assert trial.state == optuna.trial.TrialState.PRUNED and list(trial.intermediate_values) == [0]
    assert trial.user_attrs["pruned_by"].startswith("pruner: Optuna's pruner stopped the trial at epoch 0")

"""The timm adapter at its seams: train.py's resume order, edge cases of the parity with timm's factory,
errors under the caller's names, frozen groups, and plateau states checked before they are applied."""

import math
import re

import pytest
import torch

pytest.importorskip("timm")
from timm.scheduler import create_scheduler_v2 as timm_create_scheduler_v2

from tests.helpers import tiny_model
from warmup_plugins import WarmupSchedule
from warmup_plugins.timm import WarmupScheduler, create_scheduler_v2


def sgd(*lrs):
    model = tiny_model()
    groups = [{"params": [p], "lr": lr} for p, lr in zip(model.parameters(), lrs)]
    return torch.optim.SGD(groups, lr=lrs[0])


def epoch_lrs(factory, opt, start=0, end=12, **kwargs):
    """timm's train.py per epoch: build (after the optimizer state is loaded), step(start), then step(e + 1)."""
    scheduler, _ = factory(opt, **kwargs)
    scheduler.step(start)
    lrs = []
    for epoch in range(start, end):
        lrs.append([g["lr"] for g in opt.param_groups])
        scheduler.step(epoch + 1)
    return lrs


def flat(lrs):
    return [lr for row in lrs for lr in row]


RESUME = dict(sched="cosine", num_epochs=10, warmup_epochs=3, warmup_lr=1e-3, min_lr=0.01, cooldown_epochs=2)


@pytest.mark.parametrize("resume_epoch", [2, 6, 11])
def test_train_py_resume_loads_the_optimizer_first_and_keeps_every_lr(resume_epoch):
    """train.py --resume: the optimizer state (with each group's initial_lr) is loaded before the factory runs."""
    opt = sgd(0.1, 0.05)
    full = epoch_lrs(create_scheduler_v2, opt, **RESUME)
    assert flat(full) == pytest.approx(flat(epoch_lrs(timm_create_scheduler_v2, sgd(0.1, 0.05), **RESUME)), rel=1e-9)

    opt = sgd(0.1, 0.05)
    epoch_lrs(create_scheduler_v2, opt, end=resume_epoch, **RESUME)
    saved = opt.state_dict()
    again = sgd(0.1, 0.05)
    again.load_state_dict(saved)  # group['lr'] is now the saved LR, group['initial_lr'] the base
    resumed = epoch_lrs(create_scheduler_v2, again, start=resume_epoch, **RESUME)
    assert resumed == full[resume_epoch:]
    assert resumed[-1][0] == 0.01  # --min-lr 0.01 (was 0.0198: min_lr divided by the saved LR)


def test_tanh_overlapping_warmup_as_long_as_the_run_matches_timm():
    kwargs = dict(sched="tanh", num_epochs=5, warmup_epochs=5, warmup_lr=1e-4, min_lr=1e-5, warmup_prefix=False)
    ours = epoch_lrs(create_scheduler_v2, sgd(0.1), end=7, **kwargs)
    theirs = epoch_lrs(timm_create_scheduler_v2, sgd(0.1), end=7, **kwargs)
    assert flat(ours) == pytest.approx(flat(theirs), rel=1e-9)
    assert ours[5][0] == pytest.approx(1e-5, rel=1e-9)  # was 7.18e-5


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"warmup_lr": -0.001, "warmup_epochs": 2}, r"warmup_lr must be in \[0, inf\), got -0.001"),
        ({"sched": "multistep", "decay_milestones": (5, 2)}, r"decay_milestones must be sorted.*\[5, 2\]"),
        ({"min_lr": math.nan}, "min_lr must be finite"),
        ({"cycle_mul": 0.5}, r"cycle_mul must be in \[1, inf\), got 0.5"),
        ({"sched": "step", "decay_rate": 2.0}, r"decay_rate must be in \(0, 1\], got 2.0"),
        ({"step_on_epochs": False}, "updates_per_epoch"),
    ],
)
def test_factory_errors_name_the_argument_passed(kwargs, match):
    with pytest.raises((TypeError, ValueError), match=match):
        create_scheduler_v2(sgd(0.1), **kwargs)


def test_a_frozen_group_without_warmup_is_accepted_as_timm_does():
    kwargs = dict(sched="cosine", num_epochs=6)
    ours = epoch_lrs(create_scheduler_v2, sgd(0.1, 0.0), end=6, **kwargs)
    theirs = epoch_lrs(timm_create_scheduler_v2, sgd(0.1, 0.0), end=6, **kwargs)
    assert flat(ours) == pytest.approx(flat(theirs), rel=1e-9)
    assert all(lrs[1] == 0.0 for lrs in ours)


def test_a_frozen_group_that_timm_would_warm_up_is_refused_naming_it():
    with pytest.raises(ValueError, match=r"param_groups\[1\] has lr 0"):
        create_scheduler_v2(sgd(0.1, 0.0), sched="cosine", num_epochs=6, warmup_epochs=2, warmup_lr=1e-3)


def test_the_record_follows_load_and_set_schedule():
    sched = WarmupSchedule(warmup_steps=2, total_steps=10, decay_type="linear")
    longer = sched.replace(warmup_steps=4, total_steps=40)
    scheduler = WarmupScheduler(sgd(0.1), sched, t_in_epochs=False, record=True)
    scheduler.set_schedule(longer)
    assert scheduler.record.meta["schedule"] == longer.to_dict()
    scheduler.load_state_dict(WarmupScheduler(sgd(0.1), sched, t_in_epochs=False).state_dict())
    assert scheduler.record.meta["schedule"] == sched.to_dict()


def test_a_bad_plateau_state_is_refused_and_changes_nothing():
    opt = sgd(0.1)
    scheduler, _ = create_scheduler_v2(opt, sched="plateau", num_epochs=10, warmup_epochs=2)
    for epoch in range(5):
        scheduler.step(epoch + 1, metric=0.5)
    state = scheduler.state_dict()
    state["plateau"]["mode"] = "sideways"
    before = (scheduler.state_dict(), [g["lr"] for g in opt.param_groups])
    with pytest.raises(ValueError, match="mode"):
        scheduler.load_state_dict(state)
    assert (scheduler.state_dict(), [g["lr"] for g in opt.param_groups]) == before


@pytest.mark.parametrize("t_in_epochs", [False, True])
def test_a_bad_metric_is_named_on_the_first_update_with_a_record(t_in_epochs):
    """Issue 18: an empty TrainingRecord is falsy, so the first step_update skipped the check and failed with
    a bare "could not convert string to float"."""
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(2))], lr=0.1)
    scheduler = WarmupScheduler(opt, warmup_steps=3, total_steps=9, t_in_epochs=t_in_epochs, record=True)
    with pytest.raises(TypeError, match="metric must be a number or None, got str 'abc'"):
        scheduler.step_update(1, metric="abc")


@pytest.mark.parametrize(
    ("lr", "kwargs", "names"),
    [
        (
            0.1,
            {"num_epochs": 1, "warmup_epochs": 3, "step_on_epochs": False, "updates_per_epoch": 5},
            "warmup_epochs=3 is longer than the run, num_epochs=1 with updates_per_epoch=5 and step_on_epochs=False",
        ),
        (
            0.0,
            {"num_epochs": 1, "warmup_epochs": 3, "step_on_epochs": False, "updates_per_epoch": 5, "warmup_lr": 0},
            "warmup_epochs=3 is longer than the run, num_epochs=1 with updates_per_epoch=5",
        ),
        (0.1, {"num_epochs": 2, "warmup_epochs": 3}, "warmup_epochs=3 is longer than the run, num_epochs=2 "),
        (
            0.1,
            {"num_epochs": 2, "warmup_epochs": 3, "decay_after_warmup": True},
            "num_epochs=2, decay_after_warmup=True",
        ),
    ],
)
def test_a_warmup_longer_than_the_run_is_named_as_the_caller_passed_it(lr, kwargs, names):
    """Issue 18: the error named warmup_steps/total_steps/from_epochs, arguments the caller never passed."""
    with pytest.raises(ValueError, match=re.escape(names)) as error:
        create_scheduler_v2(sgd(lr), sched="cosine", min_lr=0.0, **kwargs)
    assert "warmup_steps" not in str(error.value) and "from_epochs" not in str(error.value)

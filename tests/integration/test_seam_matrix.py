"""The seam matrix: compositions resumed at every kind of point, in both load orders, against the uninterrupted run.

Each case trains a tiny model with a real loop, checkpoints (``torch.save`` / ``weights_only`` load) at a
resume point (in the warmup, at W, in the decay, after T), rebuilds everything fresh, loads the
optimizer's and the scheduler's states in one order or the other, and checks the LR of every later
update against the uninterrupted run, bit for bit.
"""

from __future__ import annotations

import io

import pytest
import torch
from torch.optim.lr_scheduler import (
    CosineAnnealingLR,
    ExponentialLR,
    LinearLR,
    MultiStepLR,
    OneCycleLR,
    SequentialLR,
    StepLR,
)

from tests.helpers import batches, tiny_model
from warmup_plugins import AdaptiveWarmup, WarmupSchedule
from warmup_plugins.timm import PlateauWarmupScheduler, WarmupScheduler
from warmup_plugins.torch import WarmupLR, WithWarmup

W, T, N = 5, 20, 26  # warmup, total, updates trained
RESUME_POINTS = {"in warmup": 3, "at W": W, "in decay": 12, "after T": 22}
# "optimizer first": scheduler built, optimizer state loaded, scheduler state loaded (torch's docs);
# "scheduler first": scheduler built, scheduler state loaded, optimizer state loaded;
# "scheduler built last": optimizer state loaded, scheduler built, scheduler state loaded (timm's train.py).
ORDERS = ["optimizer first", "scheduler first", "scheduler built last"]
SPIKY_LOSSES = [2.3, 2.2, 9.0, 2.1, 2.0, 30.0, 1.9, 1.8] + [1.7 - 0.01 * i for i in range(40)]


def _opt(model: torch.nn.Module) -> torch.optim.Optimizer:
    return torch.optim.SGD(
        [{"params": model[0].parameters(), "lr": 0.1}, {"params": model[2].parameters(), "lr": 0.03}], momentum=0.9
    )


WRAPPED = {
    "StepLR": lambda opt: StepLR(opt, 3, 0.5),
    "MultiStepLR": lambda opt: MultiStepLR(opt, [4, 9], 0.3),
    "ExponentialLR": lambda opt: ExponentialLR(opt, 0.9),
    "CosineAnnealingLR": lambda opt: CosineAnnealingLR(opt, T_max=T - W),
    "OneCycleLR": lambda opt: OneCycleLR(opt, max_lr=[0.1, 0.03], total_steps=N),
}
SCHEDULE = WarmupSchedule(warmup_steps=W, total_steps=T, decay_type="cosine", end_factor=0.05)
BUILDERS = {
    "WarmupLR": lambda opt: WarmupLR(opt, SCHEDULE),
    "WarmupLR adaptive": lambda opt: WarmupLR(opt, SCHEDULE, adaptive=AdaptiveWarmup()),
    **{f"WithWarmup({name})": (lambda opt, make=make: WithWarmup(make(opt), W)) for name, make in WRAPPED.items()},
    "SequentialLR[WarmupLR, CosineAnnealingLR]": lambda opt: SequentialLR(
        opt, [WarmupLR(opt, warmup_steps=W), CosineAnnealingLR(opt, T_max=T - W)], milestones=[W]
    ),
    "SequentialLR[LinearLR, WarmupLR]": lambda opt: SequentialLR(
        opt,
        [LinearLR(opt, 0.1, 1.0, total_iters=W), WarmupLR(opt, total_steps=T - W, decay_type="linear")],
        milestones=[W],
    ),
    "SequentialLR[WarmupLR, WarmupLR]": lambda opt: SequentialLR(
        opt,
        [WarmupLR(opt, warmup_steps=W), WarmupLR(opt, total_steps=T - W, decay_type="cosine")],
        milestones=[W],
    ),
    "timm WarmupScheduler": lambda opt: WarmupScheduler(opt, SCHEDULE, t_in_epochs=False),
    "timm WarmupScheduler adaptive": lambda opt: WarmupScheduler(
        opt, SCHEDULE, t_in_epochs=False, adaptive=AdaptiveWarmup(), record=True
    ),
    "timm WarmupScheduler noise": lambda opt: WarmupScheduler(
        opt, SCHEDULE, t_in_epochs=False, noise_range_t=(2, 18), noise_seed=3
    ),
    "timm PlateauWarmupScheduler noise": lambda opt: PlateauWarmupScheduler(
        opt, WarmupSchedule(warmup_steps=W), patience_t=1, decay_rate=0.5, mode="min", noise_range_t=(2, 18)
    ),
    "timm PlateauWarmupScheduler": lambda opt: PlateauWarmupScheduler(
        opt, WarmupSchedule(warmup_steps=W), patience_t=1, decay_rate=0.5, mode="min"
    ),
}
# torch's SequentialLR resets every group's LR to its initial_lr when built, so built after the optimizer's
# state was loaded it starts from there (its own members, e.g. LinearLR, are not exact in that order either)
EXACT_ORDERS = {name: ORDERS if "SequentialLR" not in name else ORDERS[:2] for name in BUILDERS}
PLATEAU_METRICS = [1.0] + [0.9] * 9  # improves once, then stalls: the plateau halves the LR


def _run(make, data, scheduler_step, *, resume_at=None, order=None):
    """LRs of every update; with ``resume_at``, everything is rebuilt from a checkpoint taken there."""
    model = tiny_model()
    opt = _opt(model)
    sched = make(opt)
    lrs = []
    for i, (x, y) in enumerate(data):
        if i == resume_at:
            buf = io.BytesIO()
            torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict()}, buf)
            buf.seek(0)
            ckpt = torch.load(buf, weights_only=True)
            model = tiny_model(seed=1)  # other weights and LRs: the checkpoint must win
            model.load_state_dict(ckpt["model"])
            opt = _opt(model)
            if order == "scheduler built last":
                opt.load_state_dict(ckpt["opt"])
                sched = make(opt)
                sched.load_state_dict(ckpt["sched"])
                lrs.append([g["lr"] for g in opt.param_groups])
                _train(model, opt, x, y)
                scheduler_step(sched, i)
                continue
            sched = make(opt)
            if order == "optimizer first":
                opt.load_state_dict(ckpt["opt"])
                sched.load_state_dict(ckpt["sched"])
            else:
                sched.load_state_dict(ckpt["sched"])
                opt.load_state_dict(ckpt["opt"])
        lrs.append([g["lr"] for g in opt.param_groups])
        _train(model, opt, x, y)
        scheduler_step(sched, i)
    return lrs


def _train(model, opt, x, y):
    loss = torch.nn.functional.cross_entropy(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()


def _step(sched, i):
    if isinstance(sched, PlateauWarmupScheduler):  # one update per epoch; a metric every 3 epochs
        sched.step(i + 1, PLATEAU_METRICS[(i + 1) // 3 - 1] if (i + 1) % 3 == 0 else None)
    elif isinstance(sched, WarmupScheduler):
        sched.step_update(i + 1, SPIKY_LOSSES[i] if sched.adaptive is not None else None)
    elif isinstance(sched, WarmupLR) and sched.adaptive is not None:
        sched.step(loss=SPIKY_LOSSES[i])
    else:
        sched.step()


@pytest.mark.parametrize(
    ("name", "point", "order"),
    [(name, point, order) for name in BUILDERS for point in RESUME_POINTS for order in EXACT_ORDERS[name]],
)
def test_resumed_composition_equals_the_uninterrupted_run(name, point, order):
    data = batches(N)
    full = _run(BUILDERS[name], data, _step)
    resumed = _run(BUILDERS[name], data, _step, resume_at=RESUME_POINTS[point], order=order)
    assert resumed == full


def test_with_warmup_step_lr_resumed_after_the_warmup_keeps_the_step_lr():
    """Issue case: StepLR(3, 0.5) behind a 5-update warmup, resumed at update 8, optimizer first."""
    data = batches(16)
    make = WRAPPED["StepLR"]
    full = _run(lambda opt: WithWarmup(make(opt), 5), data, _step)
    resumed = _run(lambda opt: WithWarmup(make(opt), 5), data, _step, resume_at=8, order="optimizer first")
    assert resumed[8:] == full[8:]
    assert full[9][0] == 0.1 * 0.5  # the wrapped StepLR's first decay, not the warmup target 0.1


def test_sequential_lr_resumed_past_the_milestone_keeps_the_active_schedulers_lr():
    """Issue case: SequentialLR([WarmupLR, CosineAnnealingLR]) resumed at update 10, optimizer first."""
    name = "SequentialLR[WarmupLR, CosineAnnealingLR]"
    data = batches(14)
    full = _run(BUILDERS[name], data, _step)
    resumed = _run(BUILDERS[name], data, _step, resume_at=10, order="optimizer first")
    assert resumed[10:] == full[10:]


def test_a_later_sequential_member_reloads_its_state_before_its_milestone():
    opt = _opt(tiny_model())
    later = WarmupLR(opt, total_steps=10, decay_type="linear")
    SequentialLR(opt, [LinearLR(opt, 0.1, 1.0, total_iters=3), later], milestones=[3])
    state = later.state_dict()
    assert state["last_epoch"] == -1
    later.load_state_dict(state)  # was: "last_epoch must be in [0, inf), got -1"
    assert later.last_epoch == -1

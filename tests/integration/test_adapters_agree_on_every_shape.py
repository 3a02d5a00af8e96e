"""Every warmup shape and every decay family gives the same LR at every update through the torch, timm and
fastai adapters, bit for bit (the shapes come from the core's registries, so a new entry is covered here)."""

import pytest

pytest.importorskip("timm")
pytest.importorskip("fastai")

import torch

from tests.fastai_adapter.common import make_learner, quiet_fit, warmup_lr_trace
from warmup_plugins import WarmupSchedule
from warmup_plugins.core.decays import FAMILIES
from warmup_plugins.core.warmups import WARMUP_SHAPES
from warmup_plugins.fastai import WarmupCallback
from warmup_plugins.timm import WarmupScheduler

N_EPOCH, N_ITER = 3, 8  # tests.fastai_adapter.common.make_dls(): 8 updates an epoch
N = N_EPOCH * N_ITER
LR = 0.1
DECAY_OPTIONS = {
    "step": {"step_size": 3},
    "multistep": {"milestones": [9, 15]},
    "cosine_wave": {"num_cycles": 1.5},
    "exponential": {"gamma": 0.9},
}
WARMUP_OPTIONS = {"exponential": {"start_factor": 0.01}, "1-exp": {"warmup_tau": 2.0}, "radam": {"warmup_beta2": 0.9}}


def schedules() -> list[WarmupSchedule]:
    """One schedule per decay family (linear warmup) and one per warmup shape (cosine decay)."""
    out = [
        WarmupSchedule(warmup_steps=5, total_steps=N, decay_type=name, **DECAY_OPTIONS.get(name, {}))
        for name in FAMILIES
    ]
    out += [
        WarmupSchedule(
            warmup_type=name, warmup_steps=5, total_steps=N, decay_type="cosine", **WARMUP_OPTIONS.get(name, {})
        )
        for name in WARMUP_SHAPES
    ]
    return out


def timm_trace(schedule: WarmupSchedule) -> list[list[float]]:
    """timm's train.py protocol: ``step_update(num_updates)`` after each update sets the next update's LR."""
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=LR)
    scheduler = WarmupScheduler(opt, schedule, t_in_epochs=False)
    trace = [[opt.param_groups[0]["lr"]]]
    for k in range(1, N):
        scheduler.step_update(k)
        trace.append([opt.param_groups[0]["lr"]])
    return trace


@pytest.mark.parametrize("schedule", schedules(), ids=lambda s: f"{s.warmup_type}-{s.decay_type}")
def test_torch_timm_and_fastai_give_the_same_lr_at_every_update(schedule):
    torch_lrs = warmup_lr_trace([LR], schedule, N)
    assert timm_trace(schedule) == torch_lrs
    assert quiet_fit(make_learner(cbs=[WarmupCallback(schedule)]), N_EPOCH, LR).lrs() == torch_lrs
    if schedule.decay_type != "tanh":  # timm's tanh starts just under the peak, (1 - tanh(-7)) / 2 = 1 - 8.3e-7
        assert torch_lrs[5] == [LR]  # the peak exactly at the end of the warmup

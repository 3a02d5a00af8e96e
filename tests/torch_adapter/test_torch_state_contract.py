"""torch's published state-dict contract (``test_lrscheduler.py``'s ``_check_scheduler_state_dict``): a scheduler
built fresh on the same optimizer, loaded with another's ``state_dict()``, equals it in every attribute."""

from __future__ import annotations

import pytest
import torch

from warmup_plugins import AdaptiveWarmup, WarmupSchedule
from warmup_plugins.torch import WarmupLR


def _optimizer() -> torch.optim.Optimizer:
    torch.manual_seed(0)
    weight, bias = torch.nn.Parameter(torch.randn(2, 3)), torch.nn.Parameter(torch.randn(2))
    return torch.optim.SGD([{"params": [weight]}, {"params": [bias], "lr": 0.5}], lr=0.05)


BUILDERS = {
    "linear-cosine": lambda opt: WarmupLR(opt, warmup_steps=4, total_steps=12, decay_type="cosine"),
    "per-group schedules": lambda opt: WarmupLR(
        opt, [WarmupSchedule(warmup_steps=3), WarmupSchedule(warmup_steps=5, total_steps=9, decay_type="linear")]
    ),
    "adaptive": lambda opt: WarmupLR(opt, warmup_steps=4, total_steps=12, adaptive=AdaptiveWarmup()),
}


@pytest.mark.parametrize("name", list(BUILDERS))
def test_a_loaded_copy_equals_the_scheduler_in_every_attribute(name):
    """torch's check, as written there: step 10 times, build a copy, load the state, compare ``__dict__``."""
    opt = _optimizer()
    scheduler = BUILDERS[name](opt)
    for _ in range(10):
        opt.step()
        scheduler.step()
    scheduler_copy = BUILDERS[name](opt)
    scheduler_copy.load_state_dict(scheduler.state_dict())
    for key, value in scheduler.__dict__.items():
        if key != "optimizer":
            assert value == scheduler_copy.__dict__[key], key
    assert scheduler.get_last_lr() == scheduler_copy.get_last_lr()


def test_writers_differ_when_their_values_do():
    opt = _optimizer()
    a, b = WarmupLR(opt, warmup_steps=4), WarmupLR(opt, warmup_steps=5)
    assert a._driver == a._driver and a._driver != b._driver

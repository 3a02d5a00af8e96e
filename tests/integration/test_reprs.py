"""Issue 29 item 8: the schedule objects and the adapters show the schedule they follow in their repr (WarmupLR's
was ``<warmup_plugins.torch.WarmupLR object at 0x...>``)."""

import pytest
import torch

from tests.integration.test_adapters_agree_on_every_shape import schedules
from warmup_plugins import AdaptiveWarmup, WarmupSchedule
from warmup_plugins.torch import WarmupLR

SCHEDULE = WarmupSchedule(warmup_steps=5, total_steps=100, decay_type="cosine")
SHOWN = "WarmupSchedule(warmup_type='linear', warmup_steps=5, total_steps=100, start_factor=0.01, decay_type='cosine')"


def optimizer(lr=0.1):
    return torch.optim.SGD(torch.nn.Linear(2, 2).parameters(), lr=lr)


@pytest.mark.parametrize("schedule", schedules(), ids=lambda s: f"{s.warmup_type}-{s.decay_type}")
def test_every_shape_and_family_repr_rebuilds_the_schedule_without_unset_options(schedule):
    assert eval(repr(schedule), {"WarmupSchedule": WarmupSchedule}) == schedule
    assert "=None" not in repr(schedule)


def test_a_schedule_shows_options_that_differ_from_its_decay_defaults():
    assert repr(SCHEDULE) == SHOWN
    assert repr(SCHEDULE.replace(end_factor=0.1)) == SHOWN[:-1] + ", end_factor=0.1)"


def test_warmup_lr_shows_its_schedule_bases_and_step():
    scheduler = WarmupLR(optimizer(), SCHEDULE)
    scheduler.step()
    assert repr(scheduler) == f"WarmupLR({SHOWN}, base_lrs=[0.1], last_epoch=1)"
    adaptive = WarmupLR(optimizer(), SCHEDULE, adaptive=AdaptiveWarmup(cap_peak=True), record=True)
    assert repr(adaptive) == (
        f"WarmupLR({SHOWN}, base_lrs=[0.1], adaptive=AdaptiveWarmup(cap_peak=True), record=True, last_epoch=0)"
    )


def test_timm_warmup_scheduler_shows_its_schedule_and_time():
    pytest.importorskip("timm")
    from warmup_plugins.timm import WarmupScheduler

    scheduler = WarmupScheduler(optimizer(0.5), SCHEDULE, t_in_epochs=False)
    scheduler.step_update(3)
    assert repr(scheduler) == f"WarmupScheduler({SHOWN}, base_values=[0.5], t_in_epochs=False, last_t=3)"


def test_fastai_callback_shows_its_schedules_as_given_then_as_resolved_by_the_fit():
    pytest.importorskip("fastai")
    from tests.fastai_adapter.common import make_learner, quiet_fit
    from warmup_plugins.fastai import WarmupCallback

    callback = WarmupCallback(warmup_pct=0.1, decay_type="cosine", mom={"warmup_pct": 0.1, "start_factor": 1.1})
    assert repr(callback) == (
        "WarmupCallback(warmup_pct=0.1, decay_type='cosine', mom={'warmup_pct': 0.1, 'start_factor': 1.1})"
    )
    learn = make_learner(cbs=[callback])
    assert repr(callback) in repr(learn.cbs)
    quiet_fit(learn, 2, 0.1)
    updates = 2 * len(learn.dls.train)
    assert repr(callback).startswith(
        f"WarmupCallback(WarmupSchedule(warmup_type='linear', warmup_steps={updates / 10!r}, total_steps={updates}, "
    )
    assert ", mom=WarmupSchedule(" in repr(callback)
    assert repr(WarmupCallback(SCHEDULE, adaptive=AdaptiveWarmup(), record=True)) == (
        f"WarmupCallback({SHOWN}, adaptive=AdaptiveWarmup(), record=True)"
    )

"""The five silent faults of issue 19 (DDP is in ``test_adaptive_ddp``): skipped updates, one warmup shared by
two schedulers, fastai resumed without the optimizer's state, weights in the state dict, and a zero-initialised
param group holding the warmup."""

import io
import warnings

import pytest
import torch

from tests.helpers import batches, tiny_model
from warmup_plugins import AdaptiveWarmup, WarmupSchedule
from warmup_plugins.torch import WarmupLR

SCHED = WarmupSchedule(warmup_steps=20, total_steps=100, start_factor=0.1, decay_type="cosine")


# ---------------------------------------------------------------------------- skipped and zero updates
def test_an_update_that_moved_no_weight_advances_the_clock_by_one_at_most():
    w = torch.ones(100, dtype=torch.float64, requires_grad=True)
    ctl = AdaptiveWarmup(update_target=0.1, max_rate=4).bind(SCHED, [[w]])
    with torch.no_grad():
        w.mul_(1 / (1 - 0.05))
    first = ctl.observe(1.0)
    clocks = [ctl.observe(1.0) for _ in range(5)]  # five GradScaler skips: the weights did not move
    assert clocks == [first + i for i in range(1, 6)]  # the nominal pace, not max_rate (4) each
    assert ctl.skips == 5 and ctl.report()["skips"] == 5 and ctl.size_holds == 0


def test_skips_through_the_torch_adapter_and_a_step_without_a_loss():
    model = tiny_model()
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    sched = WarmupLR(opt, SCHED, adaptive=AdaptiveWarmup(), record=True)
    for x, y in batches(3, bs=8):
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step(loss=loss.item())
    before = sched.adaptive.clock
    for _ in range(5):  # the scaler skipped opt.step(); and one scheduler.step() with no loss at all
        sched.step(loss=1.0)
    sched.step()
    assert sched.adaptive.clock == before + 6 and sched.adaptive.skips == 6
    assert sched.record.meta["adaptive"]["skips"] == 6


# ---------------------------------------------------------------------------- one warmup, two schedulers
def test_a_second_scheduler_is_refused_at_construction_before_either_stepped():
    ada = AdaptiveWarmup()
    WarmupLR(torch.optim.SGD(tiny_model().parameters(), lr=0.1), SCHED, adaptive=ada)
    with pytest.raises(ValueError, match="another scheduler.*new AdaptiveWarmup"):
        WarmupLR(torch.optim.SGD(tiny_model().parameters(), lr=0.1), SCHED, adaptive=ada)


def test_a_second_timm_scheduler_or_fastai_callback_is_refused():
    pytest.importorskip("timm")
    pytest.importorskip("fastai")
    from warmup_plugins.fastai import WarmupCallback
    from warmup_plugins.timm import WarmupScheduler

    ada = AdaptiveWarmup()
    WarmupScheduler(torch.optim.SGD(tiny_model().parameters(), lr=0.1), SCHED, t_in_epochs=False, adaptive=ada)
    with pytest.raises(ValueError, match="another scheduler"):
        WarmupLR(torch.optim.SGD(tiny_model().parameters(), lr=0.1), SCHED, adaptive=ada)
    other = AdaptiveWarmup()
    WarmupCallback(SCHED, adaptive=other)
    with pytest.raises(ValueError, match="another scheduler"):
        WarmupCallback(SCHED, adaptive=other)


# ---------------------------------------------------------------------------- fastai resumed without optimizer state
def test_fastai_resume_from_a_checkpoint_without_the_optimizer_state_raises(tmp_path):
    pytest.importorskip("fastai")
    from tests.fastai_adapter.common import make_dls, make_learner
    from warmup_plugins.fastai import WarmupCallback

    def learner():
        cb = WarmupCallback(warmup_pct=0.5, decay_type="linear", adaptive=AdaptiveWarmup(update_target=None))
        return make_learner(cbs=[cb], dls=make_dls(n_train=32), seed=0, path=tmp_path)

    learn = learner()
    with learn.no_bar(), learn.no_logging(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        learn.fit(1, 0.1)
        learn.save("checkpoint", with_opt=False)  # SaveModelCallback's default
        fresh = learner()
        fresh.load("checkpoint", with_opt=False)
        with pytest.raises(ValueError, match=r"with_opt=True"):
            fresh.fit(4, 0.1, start_epoch=1)


# ---------------------------------------------------------------------------- plain numbers in the state dict
def test_the_state_dict_is_a_few_plain_numbers_whatever_the_model_size():
    model = torch.nn.Linear(1000, 1000)  # 4 MB of weights
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    sched = WarmupLR(opt, SCHED, adaptive=AdaptiveWarmup())
    x = torch.randn(4, 1000)
    for _ in range(3):
        loss = model(x).square().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step(loss=loss.item())
    assert sched.adaptive.in_warmup
    state = sched.adaptive.state_dict()
    assert state["version"] == 3
    assert all(v is None or isinstance(v, (int, float, bool, list)) for v in state.values())
    buf = io.BytesIO()
    torch.save(sched.state_dict(), buf)
    assert buf.tell() < 4096


def test_one_weight_copy_only_during_the_warmup():
    model = tiny_model()
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    sched = WarmupLR(opt, SCHED, adaptive=AdaptiveWarmup())
    copies = []
    for x, y in batches(40, bs=8):
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step(loss=loss.item())
        snapshot = sched.adaptive._probe.sizes.snapshot
        copies.append(0 if snapshot is None else sum(t.numel() for g in snapshot for t in g))
    n = sum(p.numel() for p in model.parameters())
    done = sched.adaptive.warmup_done_at
    assert done is not None and copies[: done - 1] == [n] * (done - 1) and set(copies[done - 1 :]) == {0}


# ---------------------------------------------------------------------------- a zero-initialised group
def test_a_zero_initialised_group_does_not_hold_the_warmup():
    weights = torch.ones(1000, dtype=torch.float64, requires_grad=True)
    bias = torch.zeros(10, dtype=torch.float64, requires_grad=True)
    ctl = AdaptiveWarmup(update_target=0.05).bind(SCHED, [[weights], [bias]])
    for _ in range(10):
        with torch.no_grad():
            weights.mul_(1.01)  # 1% of its norm: well under the target
            bias.add_(0.01)  # the same per-element step, but a huge fraction of its own (near zero) norm
        ctl.observe(1.0)
    assert ctl.size_holds == 0 and ctl.clock > 10

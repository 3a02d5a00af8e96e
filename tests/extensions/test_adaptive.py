"""AdaptiveWarmup on planted feedback, and through all three adapters."""

import io
import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from tests.helpers import batches, tiny_model
from warmup_plugins import AdaptiveWarmup, WarmupSchedule
from warmup_plugins.torch import WarmupLR

SCHED = WarmupSchedule(warmup_steps=20, total_steps=100, decay_type="cosine")


def clocks(losses, grads=None, **kw):
    ctl = AdaptiveWarmup(**kw).bind(SCHED)
    grads = grads or [None] * len(losses)
    return [ctl.observe(loss, g) for loss, g in zip(losses, grads)], ctl


def test_stable_feedback_advances_one_per_update():
    out, ctl = clocks([1.0] * 25)
    assert out[:20] == list(range(1, 21))
    assert ctl.warmup_done_at == 20 and ctl.holds == ctl.rollbacks == 0


def test_a_spike_holds_and_a_severe_one_rolls_back():
    losses = [1.0] * 12 + [1.8] + [1.0] * 3 + [5.0] + [1.0] * 10
    out, ctl = clocks(losses, burn_in=10)
    assert out[12] == out[11] == 12  # spike at update 12: held
    assert out[16] == out[15] - 2  # severe at update 16: back by max(1, round(0.1 * 20)) = 2
    assert (ctl.holds, ctl.rollbacks) == (1, 1)


def test_nan_and_exploding_gradient():
    out, ctl = clocks([1.0] * 11 + [math.nan, 1.0], grads=[1.0] * 11 + [1.0, 50.0], burn_in=10)
    assert out[11] == out[10] - 2  # NaN loss: rolled back
    assert out[12] == out[11]  # gradient norm 50 > 5 x its average: held
    assert (ctl.holds, ctl.rollbacks) == (1, 1)


def test_cap_forces_the_warmup_to_finish():
    out, ctl = clocks([1.0] * 11 + [1e6] * 80, burn_in=10, max_warmup_factor=2.0)
    assert ctl.warmup_done_at <= 40  # W = 20, cap = 2 W
    assert out[39] == 20


def test_after_warmup_the_decay_still_ends_at_total():
    losses = [1.0] * 11 + [2.0] * 10 + [1.0] * 200
    out, ctl = clocks(losses, burn_in=10)
    done = ctl.warmup_done_at
    assert done > 20
    assert out[99] == pytest.approx(100.0)  # update 100 is at T on the clock: the end factor
    assert out[done] > 20 and all(b > a for a, b in zip(out[done:99], out[done + 1 : 100]))


@given(st.lists(st.one_of(st.floats(0.01, 100), st.just(math.nan), st.just(math.inf)), min_size=1, max_size=150))
def test_deterministic_bounded_and_capped(losses):
    a, ctl = clocks(losses)
    b, _ = clocks(losses)
    assert a == b
    assert all(s >= 0 for s in a)
    warm = [s for s in a[: ctl.warmup_done_at or len(a)]]
    assert all(s <= 20 for s in warm)
    if len(losses) >= 60:
        assert ctl.warmup_done_at is not None and ctl.warmup_done_at <= 60


def test_state_dict_resumes_exactly():
    losses = [1.0] * 12 + [2.0, 1.0, 9.0] + [1.0] * 20
    full, _ = clocks(losses, burn_in=10)
    ctl = AdaptiveWarmup(burn_in=10).bind(SCHED)
    first = [ctl.observe(x) for x in losses[:14]]
    buf = io.BytesIO()
    torch.save(ctl.state_dict(), buf)
    buf.seek(0)
    again = AdaptiveWarmup().bind(SCHED)
    again.load_state_dict(torch.load(buf, weights_only=True))
    assert first + [again.observe(x) for x in losses[14:]] == full


def test_bad_settings_and_state():
    with pytest.raises(ValueError, match="spike_factor"):
        AdaptiveWarmup(spike_factor=0.5)
    with pytest.raises(ValueError, match="severe_factor"):
        AdaptiveWarmup(spike_factor=2.0, severe_factor=1.5)
    with pytest.raises(KeyError, match="missing keys"):
        AdaptiveWarmup().load_state_dict({"updates": 3})
    with pytest.raises(TypeError, match="one WarmupSchedule"):
        AdaptiveWarmup().bind([SCHED])
    with pytest.raises(TypeError, match="loss and grad_norm must be numbers"):
        AdaptiveWarmup().bind(SCHED).observe("high")


def torch_trace(losses, **kw):
    opt = torch.optim.SGD(tiny_model().parameters(), lr=0.1)
    sched = WarmupLR(opt, SCHED, adaptive=AdaptiveWarmup(burn_in=5), **kw)
    trace = []
    for loss in losses:
        trace.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step(loss=loss)
    return trace, sched


SPIKY = [1.0] * 8 + [4.0, 1.0, 1.0, 2.0] + [1.0] * 60


def test_torch_adapter_follows_the_clock():
    trace, sched = torch_trace(SPIKY)
    ctl = AdaptiveWarmup(burn_in=5).bind(SCHED)
    expected = [0.1 * SCHED(0)] + [0.1 * SCHED(ctl.observe(x)) for x in SPIKY[:-1]]
    assert trace == expected
    with pytest.raises(TypeError, match="cannot jump"):
        sched.step(5)


def test_torch_resume_with_adaptive_state():
    full, _ = torch_trace(SPIKY)
    first, sched = torch_trace(SPIKY[:10])
    state = sched.state_dict()
    opt = torch.optim.SGD(tiny_model().parameters(), lr=0.1)
    again = WarmupLR(opt, SCHED, adaptive=AdaptiveWarmup(burn_in=5))
    again.load_state_dict(state)
    opt.load_state_dict(sched.optimizer.state_dict())  # the LR comes from the optimizer's state, as in torch
    rest = []
    for loss in SPIKY[10:]:
        rest.append(opt.param_groups[0]["lr"])
        opt.step()
        again.step(loss=loss)
    assert first + rest == full
    with pytest.raises(ValueError, match="adaptive warmup"):
        WarmupLR(torch.optim.SGD(tiny_model().parameters(), lr=0.1), SCHED).load_state_dict(state)


def test_timm_adapter_matches_torch_bit_for_bit():
    pytest.importorskip("timm")
    from warmup_plugins.timm import WarmupScheduler

    opt = torch.optim.SGD(tiny_model().parameters(), lr=0.1)
    sched = WarmupScheduler(opt, SCHED, t_in_epochs=False, adaptive=AdaptiveWarmup(burn_in=5))
    trace = []
    for n, loss in enumerate(SPIKY, start=1):
        trace.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step_update(n, metric=loss)
    assert trace == torch_trace(SPIKY)[0]
    with pytest.raises(ValueError, match="t_in_epochs=False"):
        WarmupScheduler(opt, SCHED, adaptive=AdaptiveWarmup())


def test_fastai_adapter_matches_torch_on_its_own_losses():
    pytest.importorskip("fastai")
    from fastai.data.core import DataLoaders
    from fastai.learner import Learner
    from fastai.optimizer import OptimWrapper

    from warmup_plugins.fastai import WarmupCallback

    data = batches(40, bs=8)
    dls = DataLoaders(data[:36], data[36:], device=torch.device("cpu"))
    sched = WarmupSchedule(warmup_steps=12, total_steps=36, decay_type="linear")
    cb = WarmupCallback(sched, adaptive=AdaptiveWarmup(burn_in=3, spike_factor=1.05, severe_factor=1.3), record=True)
    model = tiny_model()
    learn = Learner(
        dls,
        model,
        loss_func=torch.nn.functional.cross_entropy,
        cbs=cb,
        opt_func=lambda params, lr: OptimWrapper(opt=torch.optim.SGD(model.parameters(), lr=lr)),
    )
    with learn.no_bar(), learn.no_logging():
        learn.fit(1, 0.5)
    record = cb.record
    assert len(record) == 36 and record.meta["adapter"] == "fastai"
    opt = torch.optim.SGD(tiny_model().parameters(), lr=0.5)
    ref = WarmupLR(opt, sched, adaptive=AdaptiveWarmup(burn_in=3, spike_factor=1.05, severe_factor=1.3))
    expected = []
    for loss in record.updates["loss"]:
        expected.append(opt.param_groups[0]["lr"])
        ref.step(loss=loss)
    assert record.updates["lr"] == expected  # the LRs fastai used, bit for bit
    assert cb.adaptive.updates == 36
    assert cb.adaptive.holds + cb.adaptive.rollbacks > 0  # the feedback really moved the clock


def test_record_keeps_the_warmup_the_run_really_took():
    _, sched = torch_trace(SPIKY, record=True)
    done = sched.adaptive.warmup_done_at
    assert done > SCHED.warmup_steps  # the spikes stretched it
    assert sched.record.meta["warmup_updates"] == done == sched.record.warmup_steps

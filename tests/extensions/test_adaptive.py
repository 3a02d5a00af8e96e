"""AdaptiveWarmup's loss rules on planted feedback, the cap, resume, and reuse; through all three adapters."""

import io
import math
import pickle

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from tests.helpers import batches, tiny_model
from warmup_plugins import AdaptiveWarmup, WarmupSchedule
from warmup_plugins.torch import WarmupLR

SCHED = WarmupSchedule(warmup_steps=20, total_steps=100, decay_type="cosine")


def clocks(losses, grads=None, schedule=SCHED, **kw):
    kw.setdefault("max_warmup_factor", 3.0)  # room to stretch W = 20 (the default 1 allows max(W, T / 4) = 25)
    ctl = AdaptiveWarmup(**kw).bind(schedule)
    grads = grads or [None] * len(losses)
    return [ctl.observe(loss, g) for loss, g in zip(losses, grads)], ctl


def test_stable_feedback_advances_one_per_update():
    out, ctl = clocks([1.0] * 25)
    assert out[:20] == list(range(1, 21))
    assert ctl.warmup_done_at == 20 and ctl.holds == ctl.rollbacks == 0


def test_judged_from_the_first_update_against_the_first_loss():
    # the second update's loss already counts: 2.3 -> 13 is severe (> 3 x 2.3), no burn-in hides it
    out, ctl = clocks([2.3, 13.0, 4.0, 2.2, 2.3])
    assert out == [1, 0, 0, 1, 2]  # severe rolls back max(1, round(0.1 * 20)) = 2 (not below 0), 4.0 > 1.5 x 2.3 holds
    assert (ctl.holds, ctl.rollbacks, ctl.loss_ref) == (1, 1, 2.3)


def test_spikes_never_enter_the_reference():
    # a run of spikes stays spikes: the average only takes stable losses, and the first loss caps the reference
    out, ctl = clocks([1.0, 1.0] + [1.8] * 10 + [1.0])
    assert out[1:12] == [2] * 11 and out[12] == 3
    assert ctl.holds == 10 and ctl.loss_ema == 1.0


def test_a_spike_holds_and_a_severe_one_rolls_back():
    losses = [1.0] * 12 + [1.8] + [1.0] * 3 + [5.0] + [1.0] * 10
    out, ctl = clocks(losses)
    assert out[12] == out[11] == 12  # spike at update 12: held
    assert out[16] == out[15] - 2  # severe at update 16: back by max(1, round(0.1 * 20)) = 2
    assert (ctl.holds, ctl.rollbacks) == (1, 1)


def test_nan_and_exploding_gradient():
    out, ctl = clocks([1.0] * 11 + [math.nan, 1.0], grads=[1.0] * 11 + [1.0, 50.0])
    assert out[11] == out[10] - 2  # NaN loss: rolled back
    assert out[12] == out[11]  # gradient norm 50 > 5 x its average: held
    assert (ctl.holds, ctl.rollbacks) == (1, 1)


def test_cap_forces_the_warmup_to_finish_gradually():
    out, ctl = clocks([1.0] + [1e6] * 80, max_warmup_factor=2.0, max_warmup_fraction=0.0)
    # cap = 2 W = 40; the floor W - (40 - k) * W / 20 is the nominal warmup run from update 20 to 40
    assert ctl.warmup_done_at == 40
    assert out[29] == pytest.approx(10.0) and out[39] == 20


def test_cap_is_bounded_by_the_total():
    """Issue 10, case 7: max_warmup_factor * W beyond T: the warmup ends by T and the schedule at T."""
    sched = WarmupSchedule(warmup_steps=20, total_steps=30, decay_type="cosine")
    out, ctl = clocks([1.0] + [1e6] * 40, schedule=sched, max_warmup_factor=3.0)
    assert ctl.cap == 20 and ctl.warmup_done_at == 20  # at most max(W, T / 2): here the nominal warmup
    assert out[19] == 20 and out[29] == 30 and sched(out[29]) == sched(30)  # update 30 is at T: the end factor
    assert out[35] == 36
    longer = WarmupSchedule(warmup_steps=10, total_steps=100, decay_type="cosine")
    assert AdaptiveWarmup(max_warmup_factor=8.0).bind(longer).cap == 50  # 80 > T / 2: half the run


def test_after_warmup_the_decay_still_ends_at_total():
    losses = [1.0] * 11 + [2.0] * 10 + [1.0] * 200
    out, ctl = clocks(losses)
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
    warm = a[: ctl.warmup_done_at or len(a)]
    assert all(s <= 20 for s in warm)
    if len(losses) >= 60:
        assert ctl.warmup_done_at is not None and ctl.warmup_done_at <= 60


def test_peak_too_high_is_reported_then_without_capping_the_cap_forces_the_peak():
    # stable while the clock is low, spiking once the LR passes 0.6 of the peak
    ctl = AdaptiveWarmup(stall_patience=5, cap_peak=False).bind(SCHED)
    for _ in range(60):
        ctl.observe(2.0 if SCHED(ctl.clock) > 0.6 else 1.0)
    assert ctl.peak_too_high and ctl.peak_too_high_at == 17  # 12 stable updates, then 5 stalls
    assert ctl.suggested_peak_factor == pytest.approx(SCHED(12) / SCHED(20))
    assert ctl.warmup_done_at == 25 and ctl.peak_factor is None  # without cap_peak the cap max(W, T / 4) forces it


@pytest.mark.parametrize("cap_peak", [True, None])  # None, the default: cap when the schedule has total_steps
def test_cap_peak_lowers_the_effective_peak(cap_peak):
    ctl = AdaptiveWarmup(stall_patience=5, cap_peak=cap_peak).bind(SCHED)
    factors = []
    for _ in range(100):
        factors.append(SCHED(ctl.clock))
        ctl.observe(2.0 if factors[-1] > 0.6 else 1.0)
    assert ctl.warmup_done_at == ctl.peak_too_high_at == 17
    peak = SCHED(12)
    assert ctl.peak_factor == pytest.approx(peak) and max(factors) == pytest.approx(peak, rel=1e-9)
    assert SCHED(ctl.decay_start) == pytest.approx(peak) and ctl.clock == pytest.approx(100.0)
    with pytest.raises(ValueError, match="total_steps"):
        AdaptiveWarmup(cap_peak=True).bind(WarmupSchedule(warmup_steps=5, decay_type="constant"))


def test_the_default_goes_on_to_the_given_peak_when_the_schedule_has_no_total():
    endless = WarmupSchedule(warmup_steps=20, decay_type="constant")
    ctl = AdaptiveWarmup(stall_patience=5, max_warmup_factor=3).bind(endless)
    for _ in range(60):
        ctl.observe(2.0 if endless(ctl.clock) > 0.6 else 1.0)
    assert ctl.peak_too_high_at == 17 and ctl.peak_factor is None and ctl.warmup_done_at > 17  # reported, not capped


def test_probe_doubles_the_start_then_steps_back():
    sched = WarmupSchedule(warmup_steps=100, total_steps=200, start_factor=0.01, decay_type="linear")
    ctl = AdaptiveWarmup(probe=True).bind(sched)
    seen = []
    for loss in [1.0, 1.0, 1.0, 1.0, 5.0, 1.0]:
        seen.append(sched(ctl.clock))
        ctl.observe(loss)
    assert seen[:5] == pytest.approx([0.01, 0.02, 0.04, 0.08, 0.16])
    # the loss of update 4 shows the LR of update 3 (0.08): back to the last safe one, 0.04
    assert ctl.start_factor == pytest.approx(0.04) and not ctl.probing
    assert AdaptiveWarmup().bind(sched).start_factor == 0.01


def test_state_dict_resumes_exactly():
    losses = [1.0] * 12 + [2.0, 1.0, 9.0] + [1.0] * 20
    full, _ = clocks(losses)
    ctl = AdaptiveWarmup().bind(SCHED)
    first = [ctl.observe(x) for x in losses[:14]]
    buf = io.BytesIO()
    torch.save(ctl.state_dict(), buf)
    buf.seek(0)
    again = AdaptiveWarmup().bind(SCHED)
    again.load_state_dict(torch.load(buf, weights_only=True))
    assert first + [again.observe(x) for x in losses[14:]] == full


def test_checking_and_loading_a_state_build_no_throwaway_instance(monkeypatch):
    """Issue 20 §3: check_state and load_state_dict check the saved values as data (no AdaptiveWarmup built);
    a failed load still changes nothing."""
    ctl = AdaptiveWarmup(spike_factor=2.0).bind(SCHED)
    for loss in [1.0] * 5:
        ctl.observe(loss)
    state = ctl.state_dict()
    again = AdaptiveWarmup().bind(SCHED)
    built = []
    monkeypatch.setattr(AdaptiveWarmup, "__post_init__", lambda self: built.append(self))
    again.check_state(state, SCHED)
    again.load_state_dict(state)
    assert built == [] and again.state_dict() == state
    before = again.state_dict()
    with pytest.raises(ValueError, match="severe_factor"):
        again.load_state_dict({**state, "spike_factor": 2.5, "severe_factor": 2.0, "updates": 99})
    assert again.state_dict() == before


def test_bad_settings_and_state():
    with pytest.raises(ValueError, match="spike_factor"):
        AdaptiveWarmup(spike_factor=0.5)
    with pytest.raises(ValueError, match="severe_factor"):
        AdaptiveWarmup(spike_factor=2.0, severe_factor=1.5)
    with pytest.raises(ValueError, match="update_target"):
        AdaptiveWarmup(update_target=0)
    with pytest.raises(ValueError, match="measure_every"):
        AdaptiveWarmup(measure_every=0)
    with pytest.raises(TypeError, match="cap_peak"):
        AdaptiveWarmup(cap_peak=1)
    with pytest.raises(KeyError, match="missing keys"):
        AdaptiveWarmup().load_state_dict({"updates": 3})
    with pytest.raises(TypeError, match="one WarmupSchedule"):
        AdaptiveWarmup().bind([SCHED])
    with pytest.raises(TypeError, match="loss must be a number or None, got str"):
        AdaptiveWarmup().bind(SCHED).observe("high")
    with pytest.raises(TypeError, match="param_groups"):
        AdaptiveWarmup().bind(SCHED, param_groups=torch.zeros(3))


def loss_only_trace(losses, **kw):
    opt = torch.optim.SGD(tiny_model().parameters(), lr=0.1)
    sched = WarmupLR(opt, SCHED, adaptive=AdaptiveWarmup(update_target=None), **kw)
    trace = []
    for loss in losses:
        trace.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step(loss=loss)
    return trace, sched


SPIKY = [1.0] * 8 + [4.0, 1.0, 1.0, 2.0] + [1.0] * 60


def test_torch_adapter_follows_the_clock():
    trace, sched = loss_only_trace(SPIKY)
    ctl = AdaptiveWarmup(update_target=None).bind(SCHED)
    expected = [0.1 * SCHED(0)] + [0.1 * SCHED(ctl.observe(x)) for x in SPIKY[:-1]]
    assert trace == expected
    with pytest.raises(TypeError, match="cannot jump"):
        sched.step(5)


def test_timm_adapter_matches_torch_bit_for_bit():
    pytest.importorskip("timm")
    from warmup_plugins.timm import WarmupScheduler

    opt = torch.optim.SGD(tiny_model().parameters(), lr=0.1)
    sched = WarmupScheduler(opt, SCHED, t_in_epochs=False, adaptive=AdaptiveWarmup(update_target=None))
    trace = []
    for n, loss in enumerate(SPIKY, start=1):
        trace.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step_update(n, metric=loss)
    assert trace == loss_only_trace(SPIKY)[0]
    with pytest.raises(ValueError, match="t_in_epochs=False"):
        WarmupScheduler(opt, SCHED, adaptive=AdaptiveWarmup())


def test_timm_noise_with_an_adaptive_warmup_is_refused_at_construction():
    """Found by the state-dict fuzz (issue 28 case 6): timm seeds its noise with an integer t, and the adaptive clock
    is a float; with noise_range_t the first update in the noise range raised a RuntimeError from timm."""
    pytest.importorskip("timm")
    from warmup_plugins.timm import WarmupScheduler

    opt = torch.optim.SGD(tiny_model().parameters(), lr=0.1)
    with pytest.raises(ValueError, match=r"noise_range_t=10 .* adaptive warmup"):
        sched = WarmupScheduler(opt, SCHED, t_in_epochs=False, adaptive=AdaptiveWarmup(), noise_range_t=10)
        for n in range(1, 3 * SCHED.total_steps):
            sched.step_update(n, metric=1.0)


def test_fastai_adapter_matches_torch_on_its_own_losses():
    pytest.importorskip("fastai")
    from fastai.data.core import DataLoaders
    from fastai.learner import Learner
    from fastai.optimizer import OptimWrapper

    from warmup_plugins.fastai import WarmupCallback

    data = batches(40, bs=8)
    dls = DataLoaders(data[:36], data[36:], device=torch.device("cpu"))
    sched = WarmupSchedule(warmup_steps=12, total_steps=36, decay_type="linear")
    settings = {"spike_factor": 1.05, "severe_factor": 1.3, "update_target": None}
    cb = WarmupCallback(sched, adaptive=AdaptiveWarmup(**settings), record=True)
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
    ref = WarmupLR(opt, sched, adaptive=AdaptiveWarmup(**settings))
    expected = []
    for loss in record.updates["loss"]:
        expected.append(opt.param_groups[0]["lr"])
        ref.step(loss=loss)
    assert record.updates["lr"] == expected  # the LRs fastai used, bit for bit
    assert cb.adaptive.updates == 36
    assert cb.adaptive.holds + cb.adaptive.rollbacks > 0  # the feedback really moved the clock


def test_record_keeps_the_warmup_the_run_really_took():
    _, sched = loss_only_trace(SPIKY, record=True)
    done = sched.adaptive.warmup_done_at
    assert done > SCHED.warmup_steps  # the spikes stretched it
    assert sched.record.meta["warmup_updates"] == done == sched.record.warmup_steps
    assert sched.record.meta["adaptive"] == sched.adaptive.report()


def test_reusing_one_adaptive_warmup_in_a_second_scheduler_is_refused():
    ada = AdaptiveWarmup()
    opt = torch.optim.SGD(tiny_model().parameters(), lr=0.1)
    sched = WarmupLR(opt, SCHED, adaptive=ada)
    opt.step()
    sched.step(loss=1.0)
    with pytest.raises(ValueError, match="new AdaptiveWarmup"):
        WarmupLR(torch.optim.SGD(tiny_model().parameters(), lr=0.1), SCHED, adaptive=ada)
    fresh = AdaptiveWarmup()
    WarmupLR(torch.optim.SGD(tiny_model().parameters(), lr=0.1), SCHED, adaptive=fresh)
    with pytest.raises(ValueError, match="another scheduler"):  # unused yet: still one clock for two (issue 19)
        WarmupLR(torch.optim.SGD(tiny_model().parameters(), lr=0.1), SCHED, adaptive=fresh)


def test_everything_pickles():
    opt = torch.optim.Adam(tiny_model().parameters(), lr=0.1)
    sched = WarmupLR(opt, SCHED, adaptive=AdaptiveWarmup())
    opt.step()
    sched.step(loss=1.0)
    copy = pickle.loads(pickle.dumps(sched))
    assert copy.adaptive.state_dict()["clock"] == sched.adaptive.clock

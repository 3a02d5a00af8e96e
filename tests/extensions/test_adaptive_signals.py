"""The update-size signal (exact values, the clock rule, resume re-taking its snapshot) through all three
adapters, and the too-high peak as the record and ``diagnose`` report it."""

import io
import math

import pytest
import torch

from tests.helpers import batches, tiny_model
from warmup_plugins import AdaptiveWarmup, WarmupSchedule, diagnose
from warmup_plugins.extensions.update_size import UpdateSize, param_lists
from warmup_plugins.torch import WarmupLR

SCHED = WarmupSchedule(warmup_steps=20, total_steps=100, start_factor=0.1, decay_type="cosine")


def test_update_size_is_the_largest_relative_update_over_the_groups():
    a, b = torch.ones(4, requires_grad=True), torch.tensor([0.0, 0.0, 3.0], requires_grad=True)
    frozen = torch.ones(2)  # no gradient: not measured
    sizes = UpdateSize([{"params": [a, frozen]}, [b]])
    assert [len(g) for g in sizes.groups] == [1, 1]
    assert sizes.measure() is None  # the first call only takes the snapshot
    with torch.no_grad():
        a.mul_(1.5)  # |dw| = 1, |w| = 3: 1/3
        b[1] = 4.0  # |dw| = 4, |w| = 5: 0.8
    assert sizes.measure() == pytest.approx(0.8)
    with torch.no_grad():
        a.mul_(2.0)  # |dw| = 3, |w| = 6: 0.5; b unchanged
    assert sizes.measure() == pytest.approx(0.5)
    with pytest.raises(ValueError, match="no trainable tensors"):
        param_lists([[frozen]])


def planted(sizes_wanted, **kw):
    """Clocks when each update scales a weight vector so that its relative update is the planted size."""
    w = torch.ones(100, dtype=torch.float64, requires_grad=True)
    ctl = AdaptiveWarmup(**kw).bind(SCHED, [[w]])
    out = []
    for r in sizes_wanted:
        with torch.no_grad():
            w.mul_(1 / (1 - r))  # |w' - w| / |w'| = r
        out.append(ctl.observe(1.0))
    return out, ctl


def f_inverse(factor):
    return (factor - 0.1) / 0.9 * 20


def test_the_clock_keeps_the_next_update_under_the_target():
    out, ctl = planted([0.05, 0.2, 0.01], update_target=0.1, max_rate=4)
    assert out[0] == pytest.approx(f_inverse(2 * 0.1), abs=1e-9)  # r at half the target: the LR may double
    assert out[1] == out[0] and ctl.size_holds == 1  # r over the target: held
    assert out[2] == out[0] + 4  # far under it: at most max_rate
    assert ctl.last_update_size == pytest.approx(0.01)


def test_measure_every_reuses_the_last_rate():
    out, ctl = planted([0.05, 0.9, 0.01, 0.01], update_target=0.1, measure_every=2)
    # update 1: not measured (rate 1), snapshot; 2: measured, 0.9 holds; 3: that rate again; 4: 0.01, max_rate 4
    assert out == [1, 1, 1, 5] and ctl.size_holds == 1


def test_without_a_target_the_signal_is_off():
    out, ctl = planted([0.5] * 5, update_target=None)
    assert out == [1, 2, 3, 4, 5] and ctl.last_update_size is None


def train(sched_factory, n, *, state=None, model_state=None, opt_state=None):
    """Adam on the tiny model; returns the LR trace, and the states after ``n`` updates."""
    model = tiny_model()
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    sched = sched_factory(opt)
    data = batches(80, bs=8)
    if state is not None:
        model.load_state_dict(model_state)
        opt.load_state_dict(opt_state)
        sched.load_state_dict(state)
    trace = []
    start = 0 if state is None else sched.adaptive.updates
    for x, y in data[start:n]:
        trace.append(opt.param_groups[0]["lr"])
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step(loss=loss.item())
    return trace, sched, model, opt


def torch_factory(opt):
    return WarmupLR(opt, SCHED, adaptive=AdaptiveWarmup(update_target=0.02))


def test_torch_resume_mid_warmup_is_exact_with_the_snapshot_retaken_from_the_loaded_model():
    full, sched, *_ = train(torch_factory, 80)
    assert sched.adaptive.size_holds > 0 and sched.adaptive.last_update_size is not None  # the signal acted
    first, sched, model, opt = train(torch_factory, 10)
    assert sched.adaptive.in_warmup
    buf = io.BytesIO()
    torch.save({"s": sched.state_dict(), "m": model.state_dict(), "o": opt.state_dict()}, buf)
    buf.seek(0)
    saved = torch.load(buf, weights_only=True)
    assert "snapshot" not in saved["s"]["adaptive"]  # plain numbers; the snapshot is re-taken from the loaded model
    rest, again, *_ = train(torch_factory, 80, state=saved["s"], model_state=saved["m"], opt_state=saved["o"])
    assert first + rest == full
    assert again.adaptive.warmup_done_at <= 60 and again.adaptive._probe.sizes.snapshot is None  # none kept


def test_timm_runs_the_size_signal_like_torch():
    pytest.importorskip("timm")
    from warmup_plugins.timm import WarmupScheduler

    class Timm:
        """timm's per-update call, ``step_update(num_updates, metric=loss)``."""

        def __init__(self, opt):
            self.inner = WarmupScheduler(opt, SCHED, t_in_epochs=False, adaptive=AdaptiveWarmup(update_target=0.02))
            self.adaptive, self.n = self.inner.adaptive, 0

        def step(self, loss):
            self.n += 1
            self.inner.step_update(self.n, metric=loss)

    assert train(Timm, 40)[0] == train(torch_factory, 40)[0]


def test_fastai_measures_its_own_param_groups():
    pytest.importorskip("fastai")
    from fastai.data.core import DataLoaders
    from fastai.learner import Learner
    from fastai.optimizer import SGD

    from warmup_plugins.fastai import WarmupCallback

    data = batches(40, bs=8)
    dls = DataLoaders(data[:36], data[36:], device=torch.device("cpu"))
    sched = WarmupSchedule(warmup_steps=12, total_steps=36, decay_type="linear")
    cb = WarmupCallback(sched, adaptive=AdaptiveWarmup(update_target=1e9, max_rate=4))  # far under it: rate 4
    learn = Learner(dls, tiny_model(), loss_func=torch.nn.functional.cross_entropy, cbs=cb, opt_func=SGD)
    with learn.no_bar(), learn.no_logging():
        learn.fit(1, 0.1)
    assert cb.adaptive.warmup_done_at == 3 and cb.adaptive.last_update_size > 0  # 12 nominal updates in 3


def test_peak_too_high_in_the_record_and_diagnose():
    opt = torch.optim.SGD(tiny_model().parameters(), lr=0.1)
    ada = AdaptiveWarmup(update_target=None, stall_patience=5)
    sched = WarmupLR(opt, SCHED, adaptive=ada, record=True)
    for _ in range(60):
        opt.step()
        sched.step(loss=2.0 if SCHED(ada.clock) > 0.6 else 1.0)
    report = sched.record.meta["adaptive"]
    factor = SCHED(12) / SCHED(20)  # 12 stable updates reach f(12) = 0.64; then 5 held ones
    assert report["peak_too_high_at"] == 17 and report["suggested_peak_factor"] == pytest.approx(factor)
    (finding,) = [f for f in diagnose(sched.record) if f.kind == "peak_too_high"]
    assert finding.step == 17 and "peak LR is too high" in finding.message
    (suggestion,) = finding.suggestions
    assert suggestion.action == "lower_peak_lr" and suggestion.value == float(f"{0.1 * factor:.2g}")


def test_without_capping_after_a_too_high_peak_is_reported_the_size_no_longer_holds():
    w = torch.ones(100, dtype=torch.float64, requires_grad=True)
    ctl = AdaptiveWarmup(update_target=0.1, stall_patience=3, cap_peak=False).bind(SCHED, [[w]])
    out = []
    for _ in range(40):
        r = 0.9 if SCHED(ctl.clock) >= 0.6 else 0.01  # updates grow too large near the peak
        with torch.no_grad():
            w.mul_(1 / (1 - r))
        out.append(ctl.observe(1.0))
    flagged = ctl.peak_too_high_at
    assert flagged is not None and ctl.size_holds == 3 and ctl.peak_factor is None
    held = out[flagged - 1]
    assert out[flagged - 4 : flagged] == [held] * 4  # three stalls near the peak
    steps = [b - a for a, b in zip(out[flagged - 1 : ctl.warmup_done_at - 1], out[flagged : ctl.warmup_done_at - 1])]
    assert steps and all(s == 1 for s in steps)  # then the nominal pace up to the peak
    assert ctl.warmup_done_at == flagged + math.ceil(20 - held)

"""``Learner.fit_warmup``: fit_one_cycle's conventions, parity with it, and the momentum mirror."""

import numpy as np
import pytest

pytest.importorskip("fastai")

import fastai.callback.schedule as fastai_schedule
import torch
from fastai.basics import OptimWrapper
from fastai.callback.core import Callback
from fastcore.basics import partialler

from tests.fastai_adapter.common import make_learner, quiet_fit, warmup_lr_trace
from warmup_plugins import WarmupSchedule
from warmup_plugins.fastai import WarmupCallback, mirror_moms

N_ITER = 8
ONE_CYCLE = {
    "warmup_type": "cosine",
    "warmup_pct": 0.25,
    "start_factor": 1 / 25,  # fit_one_cycle's div=25
    "decay_type": "cosine",
    "end_factor": 1e-5,  # fit_one_cycle's div_final=1e5: it ends at lr_max / 1e5 (not lr_max / (25 * 1e5))
}


def lr_mom(learn):
    """Per-step LRs and momenta of a trained learner, as arrays (steps x groups)."""
    steps = learn.trace.steps
    return np.array([s["lr"] for s in steps]), np.array([s["mom"] for s in steps])


def combine_scheds_float64(pcts, scheds):
    """fastai's ``combine_scheds`` with its phase boundaries in float64 instead of float32 (same code otherwise)."""
    assert sum(pcts) == 1.0
    pcts = torch.cumsum(torch.tensor([0.0, *pcts], dtype=torch.float64), 0)
    pct_lim = len(pcts) - 2

    def _inner(pos):
        idx = min((pos >= pcts).nonzero().max(), pct_lim)
        actual_pos = (pos - pcts[idx]) / (pcts[idx + 1] - pcts[idx])
        return scheds[idx](actual_pos.item())

    return _inner


@pytest.mark.parametrize(("n_epoch", "lr_max"), [(1, 0.1), (3, slice(1e-3, 1e-1)), (5, [0.01, 0.02, 0.05])])
def test_parity_with_fit_one_cycle(monkeypatch, n_epoch, lr_max):
    """To 1e-9 relative once fastai's float32 phase arithmetic is made float64; with it, the LR to 1e-5 and the
    momentum to 1e-8 (the numbers docs/fastai.md and docs/migrate_fastai.md give)."""
    fastai_runs = []
    for combine in (fastai_schedule.combine_scheds, combine_scheds_float64):
        monkeypatch.setattr(fastai_schedule, "combine_scheds", combine)
        one_cycle = make_learner(3)
        quiet_fit(one_cycle, n_epoch, lr_max, method="fit_one_cycle")
        fastai_runs.append(one_cycle)
    warmup = make_learner(3)
    quiet_fit(warmup, n_epoch, lr_max, method="fit_warmup", **ONE_CYCLE)

    (lr32, mom32), (lr64, mom64) = (lr_mom(run) for run in fastai_runs)
    lr, mom = lr_mom(warmup)
    assert lr.shape == (n_epoch * N_ITER, 3)
    np.testing.assert_allclose(lr, lr64, rtol=1e-9, atol=0)
    np.testing.assert_allclose(mom, mom64, rtol=1e-9, atol=0)
    # fastai's combine_scheds computes positions in float32 (pcts is a float32 tensor): ~3e-6 at the tail
    np.testing.assert_allclose(lr, lr32, rtol=1e-5, atol=0)
    np.testing.assert_allclose(mom, mom32, rtol=1e-8, atol=0)  # measured 2.9e-9, 6.1e-9, 8.1e-9: docs/migrate_fastai.md


def test_defaults_follow_the_learner_and_the_core():
    learn = make_learner(3, lr=0.03)
    trace = quiet_fit(learn, 2, method="fit_warmup")
    n = 2 * N_ITER
    lr_schedule = WarmupSchedule(warmup_steps=0.1 * n, total_steps=n, decay_type="cosine")
    assert trace.bases["lr"] == [0.03] * 3
    assert trace.lrs() == warmup_lr_trace([0.03] * 3, lr_schedule, n)
    mom_schedule = lr_schedule.replace(start_factor=0.95 / 0.85, end_factor=0.95 / 0.85)  # learn.moms
    assert [s["mom"] for s in trace.steps] == warmup_lr_trace([0.85] * 3, mom_schedule, n)
    assert not hasattr(learn, "warmup")  # the callback was only added for that fit


def test_lengths_and_options_pass_through():
    learn = make_learner()
    trace = quiet_fit(
        learn, 3, 0.2, method="fit_warmup", warmup_epochs=1, decay_type="polynomial", power=2.0, moms=(0.9, 0.8, 0.85)
    )
    n = 3 * N_ITER
    lr_schedule = WarmupSchedule(warmup_steps=N_ITER, total_steps=n, decay_type="polynomial", power=2.0)
    assert trace.lrs() == warmup_lr_trace([0.2], lr_schedule, n)
    mom_schedule = lr_schedule.replace(start_factor=0.9 / 0.8, end_factor=0.85 / 0.8)
    assert [s["mom"] for s in trace.steps] == warmup_lr_trace([0.8], mom_schedule, n)


def test_momentum_after_a_decay_without_end_factor_stays_at_the_middle_value():
    spec = mirror_moms({"warmup_pct": 0.25, "decay_type": "step", "step_size": 4}, (0.95, 0.85, 0.9))
    assert spec == {"warmup_pct": 0.25, "start_factor": 0.95 / 0.85}
    learn = make_learner()
    trace = quiet_fit(learn, 2, method="fit_warmup", warmup_pct=0.25, decay_type="step", step_size=4)
    assert [s["mom"][0] for s in trace.steps][4:] == [0.85] * 12


def test_momentum_of_a_wsd_fit_stays_at_the_peak_value_through_the_stable_phase():
    """Issue 28 case 2: fit_warmup(decay_type='wsd') ran momentum at 0.95 instead of 0.85 for every stable update."""
    trace = quiet_fit(make_learner(), 2, 0.1, method="fit_warmup", decay_type="wsd", cooldown_steps=4)
    mom = [s["mom"][0] for s in trace.steps]
    # the default warmup_pct=0.1 of 16 updates is W = 1.6: updates 0 and 1 warm up, 2 to 12 are stable
    assert mom[2:13] == [0.85] * 11
    assert mom[0] == pytest.approx(0.95) and max(mom) <= 0.95 + 1e-12
    assert mom[15] == pytest.approx(0.95 - 0.1 * (1 - 0.75**0.5))  # the 1-sqrt cooldown at q = 3/4, up to 0.95


def test_resume_with_start_epoch():
    full = quiet_fit(make_learner(), 3, 0.1, method="fit_warmup")
    resumed = quiet_fit(make_learner(), 3, 0.1, method="fit_warmup", start_epoch=2)
    assert resumed.steps == full.steps[2 * N_ITER :]


class CountSteps(Callback):
    def before_fit(self):
        self.n = 0

    def after_step(self):
        self.n += 1


def test_wd_cbs_and_reset_opt():
    learn = make_learner()
    quiet_fit(learn, 1)
    opt = learn.opt
    counter = CountSteps()
    trace = quiet_fit(learn, 2, method="fit_warmup", wd=0.2, cbs=counter, reset_opt=True)
    assert learn.opt is not opt
    assert counter.n == 2 * N_ITER
    assert {s["wd"][0] for s in trace.steps} == {0.2}


def test_optimizer_without_momentum():
    adagrad = partialler(OptimWrapper, opt=torch.optim.Adagrad)
    trace = quiet_fit(make_learner(opt_func=adagrad), 2, method="fit_warmup")
    assert len(trace.steps) == 2 * N_ITER and "mom" not in trace.steps[0]
    with pytest.raises(ValueError, match="moms given, but the OptimWrapper has no 'mom'"):
        quiet_fit(make_learner(opt_func=adagrad), 2, method="fit_warmup", moms=(0.9, 0.8, 0.9))


@pytest.mark.parametrize(
    ("moms", "error", "match"),
    [((0.9, 0.8), TypeError, "three numbers"), ((0.9, 0.0, 0.9), ValueError, r"moms\[1\] must be > 0")],
)
def test_bad_moms(moms, error, match):
    with pytest.raises(error, match=match):
        quiet_fit(make_learner(), 1, method="fit_warmup", moms=moms)


def test_a_second_lr_scheduler_is_refused():
    learn = make_learner(cbs=[WarmupCallback()])
    with pytest.raises(ValueError, match=r"WarmupCallback also schedules \['lr'"):
        quiet_fit(learn, 1, method="fit_warmup")


@pytest.mark.parametrize("cycle_warmup", [False, True])
def test_momentum_mirror_of_restarts_stays_between_the_moms(cycle_warmup):
    """Issue 28 case 1: the LR's cycle_decay lowers each restart's LR peak; the momentum mirror copied it, so
    beta1 went 0.85, 0.425, 0.2125 at the cycle peaks. Every cycle's momentum goes from moms[1] at its LR peak
    back to moms[2], within the moms whatever the LR's peaks."""
    moms = (0.95, 0.85, 0.95)
    spec = {"warmup_pct": 0.125, "decay_type": "cosine", "cycle_epochs": 1, "cycle_decay": 0.5}
    if cycle_warmup:
        spec["cycle_warmup"] = True
    trace = quiet_fit(make_learner(), 4, 0.1, method="fit_warmup", moms=moms, **spec)
    mom, lr = (np.array([s[key][0] for s in trace.steps]) for key in ("mom", "lr"))
    assert len(mom) == 4 * N_ITER
    peaks = [4 + i * N_ITER for i in range(4)]  # W = 4 updates; cycles of 8 updates
    assert np.all(np.diff(lr[peaks]) < 0)  # the LR's restart peaks do decay: 0.1, 0.05, 0.025, 0.0125
    assert mom[peaks] == pytest.approx([0.85] * 4)
    assert mom.min() >= 0.85 - 1e-12 and mom.max() <= 0.95 + 1e-12
    assert "cycle_decay" not in mirror_moms(spec, moms)

"""ParamScheduler-ready annealers: the core's shapes as fastai ``pos -> value`` functions."""

import itertools
import math
import pickle

import numpy as np
import pytest

pytest.importorskip("fastai")

from fastai.basics import load_learner
from fastai.callback.schedule import ParamScheduler, combine_scheds, combined_cos
from hypothesis import given
from hypothesis import strategies as st

from tests.fastai_adapter.common import make_learner, quiet_fit
from warmup_plugins import WarmupSchedule
from warmup_plugins.fastai import SchedDecay, SchedWarmup, SchedWarmupDecay, WarmupCallback

positions = st.floats(0, 1)
factors = st.floats(0.001, 1)
values = st.floats(1e-4, 10)
SCHED = WarmupSchedule(warmup_steps=4, total_steps=16, decay_type="cosine", end_factor=0.1)


@given(pos=positions, start=factors, peak=values, kind=st.sampled_from(["linear", "exponential", "cosine", "constant"]))
def test_warmup_shape_is_the_cores(pos, start, peak, kind):
    expected = peak * WarmupSchedule(warmup_type=kind, warmup_steps=1, start_factor=start)(pos)
    assert SchedWarmup(start * peak, peak, kind)(pos) == pytest.approx(expected, rel=1e-12)


@given(pos=positions, end=factors, peak=values, kind=st.sampled_from(["cosine", "linear", "polynomial", "tanh"]))
def test_decay_shape_is_the_cores(pos, end, peak, kind):
    options = {"power": 2.0} if kind == "polynomial" else {}
    core = WarmupSchedule(warmup_type="none", total_steps=1, decay_type=kind, end_factor=end, **options)
    assert SchedDecay(peak, end * peak, kind, **options)(pos) == pytest.approx(peak * core(pos), rel=1e-12)


@given(pos=positions, base=values)
def test_a_whole_schedule_maps_pos_to_pos_times_total(pos, base):
    assert SchedWarmupDecay(SCHED, base)(pos) == base * SCHED(pos * 16)
    assert SchedWarmupDecay(SCHED, base, total=8)(pos) == base * SCHED(pos * 8)


def test_per_group_values_and_the_end_points():
    lo, hi = np.array([0.01, 0.1]), np.array([0.1, 1.0])
    np.testing.assert_allclose(SchedWarmup(lo, hi, "cosine")(0.5), (lo + hi) / 2, rtol=1e-15)
    np.testing.assert_array_equal(SchedWarmup(lo, hi, "constant")(1.0), hi)
    np.testing.assert_array_equal(SchedDecay(hi, lo)(1.5), lo)
    np.testing.assert_array_equal(SchedWarmupDecay(SCHED, [1.0, 2.0])(0.25), [1.0, 2.0])


def test_they_pickle():
    for annealer in (SchedWarmup(0.01, 0.1, "exponential"), SchedDecay(0.1, 0.0, "tanh"), SchedWarmupDecay(SCHED)):
        copy = pickle.loads(pickle.dumps(annealer))
        assert [copy(p) for p in (0.0, 0.3, 0.99, 1.0)] == [annealer(p) for p in (0.0, 0.3, 0.99, 1.0)]


def test_inside_combine_scheds_they_rebuild_fit_one_cycle():
    ours = combine_scheds([0.25, 0.75], [SchedWarmup(0.004, 0.1, "cosine"), SchedDecay(0.1, 1e-6, "cosine")])
    fastais = combined_cos(0.25, 0.004, 0.1, 1e-6)
    for pos in np.linspace(0, 1, 41)[:-1]:
        assert ours(pos) == pytest.approx(fastais(pos), rel=1e-12)


def test_in_param_scheduler_they_follow_the_callback():
    """fastai's position drifts from k / N in the last bits; the values agree to 1e-12, not bit for bit."""
    scheds = {"lr": SchedWarmupDecay(SCHED, 0.1), "mom": SchedWarmup(0.95, 0.85, "cosine")}
    via_positions = quiet_fit(make_learner(cbs=[ParamScheduler(scheds)]), 2)
    via_index = quiet_fit(make_learner(cbs=[WarmupCallback(SCHED)]), 2)
    np.testing.assert_allclose(via_positions.lrs(), via_index.lrs(), rtol=1e-12)
    moms = [s["mom"][0] for s in via_positions.steps]
    assert moms[0] == 0.95 and all(a > b for a, b in itertools.pairwise(moms))


@pytest.mark.filterwarnings("ignore:load_learner:UserWarning")
def test_a_learner_with_them_exports(tmp_path):
    scheds = {"lr": SchedWarmupDecay(SCHED, 0.1), "mom": SchedDecay(0.95, 0.85, "polynomial", power=2.0)}
    learn = make_learner(cbs=[ParamScheduler(scheds)], path=tmp_path)
    quiet_fit(learn, 2)
    learn.export("export.pkl")
    loaded = load_learner(tmp_path / "export.pkl", pickle_module=pickle)
    for name, annealer in scheds.items():
        assert loaded.param_scheduler.scheds[name](0.3) == annealer(0.3)


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: SchedWarmup(0.0, 0.1, "exponential"), ValueError, "needs start > 0"),
        (lambda: SchedWarmup(0.1, 1.0, "cos"), ValueError, "did you mean 'cosine'"),
        (lambda: SchedWarmup("a", 1.0), TypeError, "start must be a finite number"),
        (lambda: SchedWarmup([0.1, math.nan], 1.0), TypeError, "start must be a finite number"),
        (lambda: SchedDecay(1.0, 0.0, "step"), ValueError, "decay_type must be one of"),
        (lambda: SchedDecay(1.0, 0.0, "tanh", tanh_lb=3, tanh_ub=3), ValueError, "tanh_lb must be < tanh_ub"),
        (lambda: SchedDecay(1.0, 0.0, "polynomial", power=0), ValueError, "power must be in"),
        (lambda: SchedWarmupDecay({"warmup_steps": 3}), TypeError, "must be a WarmupSchedule"),
        (lambda: SchedWarmupDecay(WarmupSchedule(warmup_steps=3)), ValueError, "total is required"),
        (lambda: SchedWarmupDecay(SCHED, total=0), ValueError, "total must be in"),
        (lambda: SchedWarmup(0.1, 1.0)(-0.1), ValueError, "pos must be a training position >= 0"),
        (lambda: SchedWarmupDecay(SCHED)(math.nan), ValueError, "pos must be"),
    ],
)
def test_bad_input(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_a_position_past_the_float_range_holds_the_final_value():
    """Found by the fuzzer: pos * total overflowed to inf, which the schedule refuses as a step."""
    schedule = WarmupSchedule(total_steps=2, decay_type="linear", end_factor=0.25)
    assert SchedWarmupDecay(schedule, 2.0, total=1.7976931348623157e308)(2.0) == 2.0 * 0.25


def test_the_old_annealer_name_still_imports_with_a_deprecation_warning():
    import warmup_plugins.fastai as module

    with pytest.warns(DeprecationWarning, match="use SchedWarmupDecay"):
        assert module.SchedWarmupSchedule is SchedWarmupDecay

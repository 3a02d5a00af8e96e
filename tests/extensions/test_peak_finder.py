"""PeakFinder: the ramp, the hold, the decision and the decay after it, exact values, errors and state."""

from __future__ import annotations

import io
import math
import pickle

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers import tiny_model
from warmup_plugins import PeakFinder, WarmupSchedule
from warmup_plugins.torch import WarmupLR

T = 400  # total updates; search R = 0.25 * T = 100, smoothing window 10, patience 20
BOUND = 0.5


def falling(n: int, start: float = 2.3, rate: float = 0.004) -> list[float]:
    """A loss that keeps falling: no edge anywhere."""
    return [start - rate * k for k in range(n)]


def rises_after(k_rise: int, n: int = T) -> list[float]:
    """Falls until update ``k_rise``, then climbs steeply (the LR went past the edge) and stays high."""
    return [2.3 - 0.004 * k if k < k_rise else 2.3 - 0.004 * k_rise + 0.05 * (k - k_rise) for k in range(n)]


def drive(
    finder: PeakFinder, losses: list[float], bound: float = BOUND, total: int = T
) -> tuple[list[float], WarmupLR]:
    """Step a WarmupLR over ``losses`` (one per update); return the LR each update used."""
    opt = torch.optim.SGD(tiny_model().parameters(), lr=bound)
    sched = WarmupLR(opt, total_steps=total, decay_type="cosine", adaptive=finder)
    lrs = []
    for loss in losses:
        lrs.append(opt.param_groups[0]["lr"])
        sched.step(loss=loss)
    return lrs, sched


def test_a_falling_loss_ramps_geometrically_to_the_bound_which_becomes_the_peak():
    finder = PeakFinder()
    lrs, _ = drive(finder, falling(T + 5))
    assert finder.search_updates == 100 and finder.window == 10
    assert lrs[:100] == [BOUND * 1e-3 ** (1 - k / 100) for k in range(100)]  # the same expression, bit for bit
    assert lrs[0] == BOUND * 1e-3
    assert (finder.decided_at, finder.reason, finder.peak_factor, finder.holds) == (100, "bound", 1.0, 0)
    schedule = WarmupSchedule(total_steps=T, decay_type="cosine")
    assert lrs[100] == BOUND  # the peak, exactly, at the first update after the decision
    assert lrs[100:T] == [BOUND * schedule((k - 100) * T / (T - 100)) for k in range(100, T)]
    assert lrs[T:] == [BOUND * schedule.final_factor] * 5  # after T: the final value


def test_a_rise_holds_the_ramp_then_makes_its_lr_the_edge():
    finder = PeakFinder()
    lrs, _ = drive(finder, rises_after(60))
    assert finder.reason == "rise" and finder.holds == 1
    held = [k for k in range(1, finder.decided_at) if lrs[k] == lrs[k - 1]]
    assert len(held) == finder.wait  # the LR held, unchanged, for `patience` updates
    edge = lrs[held[0]]
    assert finder.edge_factor * BOUND == edge
    assert finder.peak_factor == 0.3 * finder.edge_factor  # safety 0.3
    assert lrs[finder.decided_at] == BOUND * finder.peak_factor  # the found peak, exactly, right after
    assert max(lrs[finder.decided_at :]) == lrs[finder.decided_at]  # then only the decay


def test_a_bump_that_recovers_does_not_end_the_search():
    losses = falling(T)
    for k in range(40, 48):
        losses[k] += 0.6  # a transient bump: the loss comes back at once
    finder = PeakFinder()
    drive(finder, losses)
    assert finder.holds >= 1 and finder.reason == "bound"


def test_a_non_finite_loss_ends_the_search_at_once():
    losses = falling(T)
    losses[30] = math.nan
    finder = PeakFinder()
    lrs, _ = drive(finder, losses)
    assert (finder.decided_at, finder.reason) == (31, "nonfinite")
    assert finder.edge_factor * BOUND == lrs[30]
    assert lrs[31] == BOUND * finder.peak_factor


def test_param_groups_keep_their_ratios():
    model = tiny_model()
    opt = torch.optim.SGD([{"params": model[0].parameters(), "lr": 0.3}, {"params": model[2].parameters(), "lr": 0.03}])
    sched = WarmupLR(opt, total_steps=T, decay_type="linear", adaptive=PeakFinder())
    for loss in rises_after(70):
        a, b = (g["lr"] for g in opt.param_groups)
        assert a == 0.3 * (b / 0.03) or math.isclose(a / b, 10.0, rel_tol=1e-15)
        sched.step(loss=loss)


def test_summary_line_and_report():
    finder = PeakFinder()
    drive(finder, rises_after(60))
    line = finder.summary(BOUND)
    assert line.startswith(f"peak found at update {finder.decided_at}: LR ")
    assert f"({finder.peak_factor:.3g}x the bound)" in line
    report = finder.report()
    assert report["decided_at"] == report["warmup_updates"] == finder.decided_at
    assert report["reason"] == "rise"


# ---------------------------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"low": 0}, ValueError, "low must be in"),
        ({"low": 1}, ValueError, "low must be in"),
        ({"low": "0.1"}, TypeError, "low must be a real number"),
        ({"search_fraction": 0.6}, ValueError, "search_fraction must be in"),
        ({"safety": 0}, ValueError, "safety must be in"),
        ({"safety": 1.5}, ValueError, "safety must be in"),
        ({"smoothing": 1}, ValueError, "smoothing must be in"),
        ({"margin": -0.1}, ValueError, "margin must be in"),
        ({"z": math.inf}, ValueError, "z must be finite"),
        ({"patience": 0}, ValueError, "patience must be an integer >= 1"),
        ({"patience": 2.5}, TypeError, "patience must be an integer"),
    ],
)
def test_bad_settings_name_the_argument(kwargs, error, match):
    with pytest.raises(error, match=match):
        PeakFinder(**kwargs)


def test_a_run_too_short_to_search_names_total_steps_and_search_fraction():
    opt = torch.optim.SGD(tiny_model().parameters(), lr=0.1)
    message = r"total_steps=100 is too short .*\(search_fraction=0.25 x total_steps = 25 updates\) needs at least 50"
    with pytest.raises(ValueError, match=message + "; raise total_steps or search_fraction"):
        WarmupLR(opt, total_steps=100, adaptive=PeakFinder())


def test_a_schedule_with_its_own_warmup_or_without_a_total_is_refused():
    opt = torch.optim.SGD(tiny_model().parameters(), lr=0.1)
    with pytest.raises(ValueError, match="PeakFinder ramps the warmup itself.*warmup_steps=0, got 10"):
        WarmupLR(opt, warmup_steps=10, total_steps=1000, adaptive=PeakFinder())
    with pytest.raises(ValueError, match="PeakFinder needs total_steps"):
        WarmupLR(opt, adaptive=PeakFinder())


def test_a_step_without_a_loss_during_the_search_is_refused_and_changes_nothing():
    finder = PeakFinder()
    _, sched = drive(finder, falling(20))
    before = finder.state_dict()
    with pytest.raises(ValueError, match=r"PeakFinder needs the loss of every update.*step\(loss=\.\.\.\)"):
        sched.step()
    assert finder.state_dict() == before


def test_one_finder_serves_one_scheduler():
    finder = PeakFinder()
    opt = torch.optim.SGD(tiny_model().parameters(), lr=0.1)
    WarmupLR(opt, total_steps=T, adaptive=finder)
    with pytest.raises(ValueError, match="already serves another scheduler"):
        WarmupLR(torch.optim.SGD(tiny_model().parameters(), lr=0.1), total_steps=T, adaptive=finder)


# ---------------------------------------------------------------------------------------------- state
def _roundtrip(state: dict) -> dict:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


@pytest.mark.parametrize(
    "at", [5, 30, 64, 75, 81, 90, 200, T + 2]
)  # burn-in, ramp, in the hold, decision, decay, after T
def test_resume_anywhere_gives_the_uninterrupted_lrs(at):
    losses = rises_after(60, T + 10)
    whole, _ = drive(PeakFinder(), losses)
    first, sched = drive(PeakFinder(), losses[:at])
    state = _roundtrip({"sched": sched.state_dict(), "opt": sched.optimizer.state_dict()})
    opt = torch.optim.SGD(tiny_model(seed=1).parameters(), lr=BOUND)
    resumed = WarmupLR(opt, total_steps=T, decay_type="cosine", adaptive=PeakFinder(safety=0.9))
    opt.load_state_dict(state["opt"])
    resumed.load_state_dict(state["sched"])
    rest = []
    for loss in losses[at:]:
        rest.append(opt.param_groups[0]["lr"])
        resumed.step(loss=loss)
    assert first + rest == whole
    assert resumed.adaptive.safety == 0.3  # the saved settings win


def test_state_is_plain_and_pickles():
    finder = PeakFinder()
    drive(finder, rises_after(60)[:70])
    state = finder.state_dict()
    assert all(v is None or type(v) in (int, float, str, bool) for v in state.values())
    assert pickle.loads(pickle.dumps(finder)).state_dict() == state


@pytest.mark.parametrize(
    ("key", "value", "match"),
    [
        ("version", 9, "unknown state version 9"),
        ("updates", -1, "updates must be an integer >= 0"),
        ("moving", math.nan, "moving must be finite"),
        ("reason", "guess", "reason must be one of"),
        ("peak_factor", 2.0, r"peak_factor must be in \(0, 1\]"),
        ("decided_at", 10**6, "decided_at .* is after updates"),
        ("low", 0.0, "low must be in"),
        ("hold_start", "x", "hold_start must be an integer"),
    ],
)
def test_a_garbled_state_is_refused_and_changes_nothing(key, value, match):
    _, sched = drive(PeakFinder(), rises_after(60)[:90])
    good = sched.state_dict()
    bad = {**good, "adaptive": {**good["adaptive"], key: value}}
    with pytest.raises((ValueError, TypeError, KeyError), match=match):
        sched.load_state_dict(bad)
    assert sched.state_dict() == good


def test_a_state_missing_a_key_is_refused():
    finder = PeakFinder()
    state = finder.state_dict()
    del state["best"]
    with pytest.raises(KeyError, match=r"missing keys \['best'\]"):
        PeakFinder().load_state_dict(state)


# ---------------------------------------------------------------------------------------------- properties
LOSS = st.one_of(st.floats(min_value=0, max_value=1e6), st.sampled_from([math.nan, math.inf]))


@st.composite
def loss_runs(draw: st.DrawFn) -> list[float]:
    """``T + 3`` losses in runs of equal values, each run a drawn value (extremes and non-finite included)."""
    runs = draw(st.lists(st.tuples(LOSS, st.integers(min_value=1, max_value=120)), min_size=1, max_size=12))
    losses = [value for value, length in runs for _ in range(length)][: T + 3]
    return losses + [losses[-1]] * (T + 3 - len(losses))


@settings(max_examples=60, deadline=None)
@given(loss_runs(), st.integers(min_value=1, max_value=T + 2))
def test_any_losses_give_finite_lrs_up_to_the_bound_a_decision_by_twice_the_search_and_exact_resume(losses, cut):
    whole, sched = drive(PeakFinder(), losses)
    assert all(math.isfinite(lr) and 0 < lr <= BOUND for lr in whole[: sched.adaptive.decided_at or T])
    assert all(math.isfinite(lr) and 0 <= lr <= BOUND for lr in whole)
    assert sched.adaptive.decided_at is not None and sched.adaptive.decided_at <= 2 * sched.adaptive.search_updates
    first, part = drive(PeakFinder(), losses[:cut])
    resumed = WarmupLR(torch.optim.SGD(tiny_model().parameters(), lr=BOUND), total_steps=T, adaptive=PeakFinder())
    resumed.load_state_dict(_roundtrip(part.state_dict()))
    rest = []
    for loss in losses[cut:]:
        rest.append(resumed.optimizer.param_groups[0]["lr"])
        resumed.step(loss=loss)
    assert first + rest == whole

"""Exact values at the boundaries k = 0, W-1, W, T-1, T, T+10 for every warmup and decay,
against formulas written out independently here."""

import math

import numpy as np
import pytest

from warmup_plugins import WarmupSchedule
from warmup_plugins.core import DECAY_TYPES, WARMUP_TYPES
from warmup_plugins.core.warmups import radam_factor

W, T, S, M = 10, 110, 0.05, 0.02


def warm_reference(kind, k, s=S, w=W):
    p = k / w
    return {
        "linear": s + (1 - s) * p,
        "exponential": s * (1 / s) ** p,
        "cosine": s + (1 - s) * (1 - math.cos(math.pi * p)) / 2,
        "constant": s,
        "1-sqrt": s + (1 - s) * (1 - math.sqrt(1 - p)),
        "1-exp": s + (1 - s) * (1 - math.exp(-k / 4)),
        "radam": s + (1 - s) * (radam_factor(k, 0.99) - radam_factor(0, 0.99)) / (1 - radam_factor(0, 0.99)),
    }[kind]


WARMUP_OPTIONS = {"1-exp": {"warmup_tau": 4}, "radam": {"warmup_beta2": 0.99}}


@pytest.mark.parametrize("kind", [w for w in WARMUP_TYPES if w != "none"])
def test_warmup_boundaries(kind):
    f = WarmupSchedule(warmup_type=kind, warmup_steps=W, start_factor=S, **WARMUP_OPTIONS.get(kind, {}))
    assert f(0) == S
    assert f(W - 1) == pytest.approx(warm_reference(kind, W - 1), rel=1e-14)
    assert f(W / 2) == pytest.approx(warm_reference(kind, W / 2), rel=1e-14)
    assert f(W) == 1.0
    assert f(W + 10) == 1.0


def test_warmup_none_is_constant_from_the_start():
    f = WarmupSchedule(warmup_type="none")
    assert [f(k) for k in (0, 1, 1000)] == [1.0, 1.0, 1.0]


@pytest.mark.parametrize("kind", ["linear", "cosine", "constant"])
def test_start_factor_zero_is_allowed_and_never_divides(kind):
    f = WarmupSchedule(warmup_type=kind, warmup_steps=4, start_factor=0.0)
    assert f(0) == 0.0
    assert f(4) == 1.0


def test_default_start_factor_is_not_zero():
    f = WarmupSchedule(warmup_steps=100)
    assert f(0) == 0.01


def decay_reference(kind, k):
    d, span = k - W, T - W
    p = min(d, span) / span
    return {
        "constant": 1.0,
        "cosine": M + (1 - M) * (1 + math.cos(math.pi * p)) / 2,
        "linear": M + (1 - M) * (1 - p),
        "polynomial": M + (1 - M) * (1 - p) ** 2,
        "tanh": M if k >= T else M + (1 - M) * (1 - math.tanh(-7 * (1 - p) + 3 * p)) / 2,
        "exponential": 0.97 ** min(d, span),
        "step": 0.5 ** (min(d, span) // 25),
        "multistep": 0.1 ** sum(min(k, T) >= m for m in (40, 80)),
        "inverse_sqrt": math.sqrt(W / min(k, T)),
        "wsd": M + (1 - M) * (1 - math.sqrt(max(0, min(d, span) - 80) / 20)),
        "cosine_wave": M + (1 - M) * (1 + math.cos(2 * math.pi * 1.25 * p)) / 2,  # held at p = 1 after T
        "hard_restarts": M if k >= T else M + (1 - M) * (1 + math.cos(math.pi * ((2.5 * p) % 1))) / 2,
    }[kind]


DECAY_OPTIONS = {
    "constant": {},
    "cosine": {"end_factor": M},
    "linear": {"end_factor": M},
    "polynomial": {"end_factor": M, "power": 2},
    "tanh": {"end_factor": M},
    "exponential": {"gamma": 0.97},
    "step": {"step_size": 25, "gamma": 0.5},
    "multistep": {"milestones": [40, 80]},
    "inverse_sqrt": {},
    "wsd": {"end_factor": M, "cooldown_steps": 20},
    "cosine_wave": {"end_factor": M, "num_cycles": 1.25},
    "hard_restarts": {"end_factor": M, "num_cycles": 2.5},
}


def test_every_decay_is_covered():
    assert set(DECAY_OPTIONS) == set(DECAY_TYPES)


@pytest.mark.parametrize("kind", DECAY_TYPES)
def test_decay_boundaries(kind):
    f = WarmupSchedule(warmup_steps=W, total_steps=T, start_factor=S, decay_type=kind, **DECAY_OPTIONS[kind])
    assert f(0) == S
    assert f(W - 1) == pytest.approx(warm_reference("linear", W - 1), rel=1e-14)
    if kind == "tanh":  # timm's tanh starts at (1 - tanh(-7)) / 2, a hair under the peak
        assert f(W) == pytest.approx(decay_reference(kind, W), rel=1e-14)
        assert 1 - 1e-6 < f(W) < 1.0
    else:
        assert f(W) == 1.0
    for k in (W + 1, (W + T) // 2, T - 1, T, T + 10):
        assert f(k) == pytest.approx(decay_reference(kind, k), rel=1e-12), k
    assert f(T + 10) == f(T) == f.final_factor
    assert f(10**9) == f(T)


@pytest.mark.parametrize("kind", ["cosine", "linear", "polynomial", "wsd"])
def test_annealing_ends_exactly_at_end_factor(kind):
    f = WarmupSchedule(warmup_steps=W, total_steps=T, decay_type=kind, end_factor=M)
    assert f(T) == M
    assert f(T + 10) == M


def test_cosine_does_not_climb_back_after_total():
    f = WarmupSchedule(warmup_steps=5, total_steps=50, decay_type="cosine")
    tail = [f(k) for k in range(50, 200)]
    assert tail == [0.0] * len(tail)


def test_multistep_uses_torch_milestone_rule():
    f = WarmupSchedule(warmup_steps=5, decay_type="multistep", milestones=[10, 20], gamma=0.5)
    assert [f(k) for k in (9, 10, 19, 20, 21)] == [1.0, 0.5, 0.5, 0.25, 0.25]


def test_exponential_to_end_factor_hits_it_exactly():
    f = WarmupSchedule(warmup_steps=5, total_steps=25, decay_type="exponential", end_factor=0.01)
    assert f(5) == 1.0
    assert f(25) == pytest.approx(0.01, rel=1e-15)
    assert f(15) == pytest.approx(0.1, rel=1e-14)


def test_inverse_sqrt_is_sqrt_w_over_k():
    f = WarmupSchedule(warmup_steps=100, decay_type="inverse_sqrt")
    for k in (100, 400, 2500, 10**6):
        assert f(k) == pytest.approx(math.sqrt(100 / k), rel=1e-14)


def test_wsd_holds_the_peak_then_cools_down():
    f = WarmupSchedule(
        warmup_steps=10, total_steps=110, decay_type="wsd", cooldown_fraction=0.5, cooldown_type="linear"
    )
    assert [f(k) for k in (10, 30, 60)] == [1.0, 1.0, 1.0]
    assert f(85) == pytest.approx(0.5, rel=1e-14)
    assert f(110) == 0.0


def test_warmup_equal_to_total_ends_at_the_peak():
    f = WarmupSchedule(warmup_steps=10, total_steps=10, decay_type="cosine")
    assert f(10) == 1.0
    assert f(50) == 1.0


def test_fractional_steps_for_epoch_stepping():
    f = WarmupSchedule(warmup_steps=2.5, total_steps=10, decay_type="linear")
    assert f(1.25) == pytest.approx(0.01 + 0.99 * 0.5, rel=1e-15)
    assert f(2.5) == 1.0
    assert f(6.25) == pytest.approx(0.5, rel=1e-15)


class TestRestarts:
    def test_cycles_with_mul_and_decay(self):
        f = WarmupSchedule(
            warmup_steps=5,
            total_steps=5 + 20 + 40 + 80,
            decay_type="cosine",
            cycle_steps=20,
            cycle_mul=2,
            cycle_decay=0.5,
        )
        assert f(5) == 1.0  # cycle 0 starts after the warmup
        assert f(25) == 0.5  # cycle 1 starts at its peak exactly on the boundary
        assert f(65) == 0.25
        assert f(24) == pytest.approx((1 + math.cos(math.pi * 19 / 20)) / 2, rel=1e-14)
        assert f(145) == 0.0  # the end of the last cycle, not the start of another
        assert f(1000) == 0.0

    def test_cycle_limit_then_end_factor(self):
        f = WarmupSchedule(total_steps=100, decay_type="linear", end_factor=0.1, cycle_steps=30, cycle_limit=2)
        assert f(30) == 1.0
        assert f(59) == pytest.approx(0.1 + 0.9 / 30, rel=1e-14)
        assert f(60) == 0.1
        assert f(99) == 0.1

    def test_cycle_warmup_repeats_each_cycle(self):
        f = WarmupSchedule(
            warmup_steps=4, total_steps=40, decay_type="cosine", cycle_steps=20, cycle_decay=0.5, cycle_warmup=True
        )
        assert f(0) == 0.01
        assert f(4) == 1.0
        assert f(20) == 0.5 * 0.01  # the second cycle warms up again, to its own peak
        assert f(22) == pytest.approx(0.5 * (0.01 + 0.99 * 0.5), rel=1e-14)
        assert f(24) == 0.5
        assert f(40) == 0.0

    def test_many_boundaries_open_their_cycle(self):
        for mul in (1, 1.5, 2, 3, 10):
            f = WarmupSchedule(total_steps=10**6, decay_type="linear", cycle_steps=7, cycle_mul=mul)
            start, length = 0.0, 7.0
            for i in range(8):
                if start >= 10**6:
                    break
                assert f(start) == 1.0, (mul, i, start)
                start, length = start + length, length * mul


def test_overlapping_warmup_matches_timm_semantics():
    f = WarmupSchedule(warmup_steps=10, total_steps=100, decay_type="cosine", warmup_prefix=False, start_factor=0.0)
    assert f(9) == pytest.approx(0.9, rel=1e-15)  # rises to the peak ...
    assert f(10) == pytest.approx((1 + math.cos(math.pi * 0.1)) / 2, rel=1e-14)  # ... then jumps to the decay
    g = WarmupSchedule(
        warmup_steps=10, total_steps=100, decay_type="cosine", warmup_prefix=False, warmup_end="decay", start_factor=0.0
    )
    assert g(5) == pytest.approx(0.5 * f(10), rel=1e-14)  # rises to where the decay is at W


def test_arrays_equal_scalars_bit_for_bit():
    f = WarmupSchedule(warmup_type="cosine", warmup_steps=37, total_steps=500, decay_type="cosine", end_factor=0.1)
    ks = np.arange(0, 520)
    assert f(ks).tolist() == [f(int(k)) for k in ks]
    assert f(ks.reshape(26, 20)).shape == (26, 20)
    assert f(np.int64(5)) == f(5)


class TestFromEpochs:
    def test_converts_once_rounding_to_the_nearest_update(self):
        f = WarmupSchedule.from_epochs(warmup_epochs=0.5, total_epochs=3, steps_per_epoch=391, decay_type="cosine")
        assert (f.warmup_steps, f.total_steps) == (196, 1173)

    def test_milestones_and_step_size(self):
        f = WarmupSchedule.from_epochs(
            warmup_epochs=5, steps_per_epoch=100, decay_type="multistep", milestone_epochs=[30, 60]
        )
        assert f.milestones == (3000, 6000)
        g = WarmupSchedule.from_epochs(warmup_epochs=1, steps_per_epoch=10, decay_type="step", step_size_epochs=2)
        assert g.step_size == 20

    def test_rejects_update_lengths(self):
        with pytest.raises(TypeError, match="warmup_epochs"):
            WarmupSchedule.from_epochs(warmup_steps=5, steps_per_epoch=10)


@pytest.mark.parametrize("decay_type", ["linear", "polynomial", "cosine"])
@pytest.mark.parametrize(("cycle_mul", "length"), [(1.000000001, 1), (1.01, 3), (1.0000001, 7)])
def test_restarts_with_a_cycle_mul_close_to_one_never_go_below_the_end_factor(decay_type, cycle_mul, length):
    """Float error in the cycle starts could put a step past its cycle's end: 1 - p < 0, a negative factor."""
    from warmup_plugins.core import restarts

    f = WarmupSchedule(total_steps=1e6, decay_type=decay_type, cycle_steps=length, cycle_mul=cycle_mul)
    starts = [restarts.cycle_start(i, length, cycle_mul) for i in range(1, 3000)]
    near_ends = [k for b in starts for k in (math.nextafter(b, 0), b - 1e-9 * b, b - 0.5)]
    assert min(f(k) for k in near_ends) >= 0.0  # was -2.19e-7 for (1.000000001, 1)


def test_an_overlapping_warmup_as_long_as_the_run_rises_to_the_final_value():
    """timm tanh, warmup_prefix=False, warmup_epochs == num_epochs: the warmup target is _get_lr(W) = lr_min."""
    f = WarmupSchedule(
        warmup_steps=10, total_steps=10, decay_type="tanh", end_factor=0.01, warmup_prefix=False, warmup_end="decay"
    )
    assert f(10) == 0.01
    assert f(5) == 0.01 + (0.01 - 0.01) * 0.5  # from start 0.01 to the target 0.01: flat


def test_tanh_starts_just_below_the_peak_as_documented():
    f = WarmupSchedule(warmup_steps=5, total_steps=50, decay_type="tanh")
    assert f(5) == (1 - math.tanh(-7.0)) / 2 < 1  # timm's formula, 1 - 8.3e-7; every other decay gives 1.0
    assert all(WarmupSchedule(warmup_steps=5, total_steps=50, decay_type=d)(5) == 1.0 for d in ("cosine", "linear"))

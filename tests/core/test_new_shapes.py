"""The shapes added for transformers' schedules (issue 21): exact boundary values, held after T, never 0 by default.

``cosine_wave`` (a cosine of ``num_cycles`` periods, rising again), ``hard_restarts`` (fractional cycles, the
end factor at T), the ``1-sqrt`` warmup, a WSD cooldown of 0 updates and a cosine cooldown of several cycles.
"""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from warmup_plugins import WarmupSchedule
from warmup_plugins.core.warmups import radam_factor

lengths = st.tuples(st.integers(0, 60), st.integers(1, 600))
cycles = st.floats(0.05, 20, allow_nan=False)
ends = st.floats(0, 0.5)


@given(lengths, cycles, ends, st.sampled_from(["linear", "cosine", "1-sqrt"]))
def test_cosine_wave_peaks_at_w_holds_its_value_at_t_and_never_goes_below_the_end(wt, n, m, warmup):
    w, extra = wt
    t = w + extra
    s = WarmupSchedule(
        warmup_type=warmup if w else "none", warmup_steps=w, total_steps=t, decay_type="cosine_wave", num_cycles=n,
        end_factor=m,
    )  # fmt: skip
    assert s(w) == 1.0
    expected = m + (1 - m) * (1 + math.cos(2 * math.pi * n)) / 2
    assert s(t) == s(t + 1) == s(100 * t) == s.final_factor == pytest.approx(expected, abs=1e-12)
    values = [s(k) for k in range(t + 1)]
    assert min(values[w:]) >= m - 1e-15 and max(values) <= 1.0
    if m > 0 or w > 0:
        assert values[0] > 0  # the default start, 0.01: no update at LR 0


@given(lengths, st.floats(0, 20), ends)
def test_hard_restarts_peak_at_each_cycle_start_and_end_at_the_end_factor(wt, n, m):
    w, extra = wt
    t = w + extra
    s = WarmupSchedule(warmup_steps=w, total_steps=t, decay_type="hard_restarts", num_cycles=n, end_factor=m)
    assert s(w) == 1.0
    assert s(t) == s(t + 1) == s(10 * t) == s.final_factor == m
    for k in range(w, t):
        assert m <= s(k) <= 1.0
    if m > 0:
        assert all(s(k) > 0 for k in range(t + 2))


@given(st.integers(1, 200), st.floats(0, 0.99))
def test_one_minus_sqrt_warmup_rises_from_s_to_the_peak_exactly_at_w(w, start):
    s = WarmupSchedule(warmup_type="1-sqrt", warmup_steps=w, start_factor=start)
    assert s(0) == start and s(w) == 1.0
    values = [s(k) for k in range(w + 1)]
    assert values == sorted(values)
    assert s(w / 4 * 3) == pytest.approx(start + (1 - start) * 0.5, rel=1e-12)


@given(st.integers(0, 50), st.integers(1, 200), ends)
def test_a_wsd_cooldown_of_0_updates_drops_to_the_end_factor_at_t(w, stable, m):
    t = w + stable
    s = WarmupSchedule(warmup_steps=w, total_steps=t, decay_type="wsd", cooldown_steps=0, end_factor=m)
    assert [s(k) for k in range(w, t)] == [1.0] * stable
    assert s(t) == s(t + 5) == s.final_factor == m


@given(st.integers(1, 100), cycles, ends)
def test_a_cosine_cooldown_of_several_cycles_ends_at_the_end_factor(d, n, m):
    s = WarmupSchedule(
        warmup_steps=3, total_steps=13 + d, decay_type="wsd", cooldown_steps=d, cooldown_type="cosine", num_cycles=n,
        end_factor=m,
    )  # fmt: skip
    assert s(13) == 1.0 and s(13 + d) == s(10**6) == m
    assert all(m - 1e-15 <= s(k) <= 1.0 for k in range(13, 13 + d))


def test_num_cycles_is_refused_where_nothing_reads_it():
    with pytest.raises(ValueError, match="num_cycles is not used by decay_type='cosine'"):
        WarmupSchedule(total_steps=10, decay_type="cosine", num_cycles=1.5)
    with pytest.raises(ValueError, match="num_cycles is only used by cooldown_type='cosine'"):
        WarmupSchedule(total_steps=10, decay_type="wsd", cooldown_steps=2, num_cycles=1.5)
    with pytest.raises(ValueError, match="num_cycles must be in"):
        WarmupSchedule(total_steps=10, decay_type="cosine_wave", num_cycles=-0.5)


@pytest.mark.parametrize("decay", [{"decay_type": "cosine_wave"}, {"decay_type": "wsd", "cooldown_type": "cosine"}])
def test_a_cosine_of_0_cycles_holds_the_peak_to_t(decay):
    """transformers' num_cycles=0 (issue 28 case 8): cos(0) = 1 throughout; a WSD cooldown of it drops to m at T."""
    s = WarmupSchedule(warmup_steps=2, total_steps=12, end_factor=0.1, num_cycles=0, **decay)
    assert [s(k) for k in range(2, 12)] == [1.0] * 10
    assert s(12) == s(100) == (1.0 if decay["decay_type"] == "cosine_wave" else 0.1)


@given(st.integers(1, 300), st.floats(0.5, 500), st.floats(0, 0.99))
def test_one_minus_exp_warmup_starts_at_s_rises_and_takes_the_peak_exactly_at_w(w, tau, start):
    s = WarmupSchedule(warmup_type="1-exp", warmup_steps=w, warmup_tau=tau, start_factor=start)
    assert s(0) == start and s(w) == s(w + 100) == 1.0
    values = [s(k) for k in range(w)]
    assert values == sorted(values) and values[-1] <= 1.0
    k = w - 1
    assert s(k) == pytest.approx(start + (1 - start) * (1 - math.exp(-k / tau)), rel=1e-12, abs=1e-15)


def test_warmup_tau_is_refused_without_its_shape_and_required_with_it():
    with pytest.raises(ValueError, match=r"warmup_tau is not used by warmup_type='linear'; it applies to \['1-exp'\]"):
        WarmupSchedule(warmup_steps=5, warmup_tau=3)
    with pytest.raises(ValueError, match="warmup_type='1-exp' needs warmup_tau"):
        WarmupSchedule(warmup_type="1-exp", warmup_steps=5)
    with pytest.raises(ValueError, match="warmup_tau must be in"):
        WarmupSchedule(warmup_type="1-exp", warmup_steps=5, warmup_tau=0)


@given(st.integers(1, 3000), st.floats(0.61, 0.9999), st.floats(0, 0.99))
def test_radam_warmup_starts_at_s_rises_and_takes_the_peak_exactly_at_w(w, beta2, start):
    s = WarmupSchedule(warmup_type="radam", warmup_steps=w, warmup_beta2=beta2, start_factor=start)
    assert s(0) == start and s(w) == s(w + 100) == 1.0
    values = [s(k) for k in range(0, w, max(1, w // 50))]
    assert values == sorted(values) and max(values) <= 1.0


def test_radam_warmup_with_its_own_start_is_radam_factor():
    s = WarmupSchedule(warmup_type="radam", warmup_steps=5000, warmup_beta2=0.999, start_factor=radam_factor(0, 0.999))
    assert all(s(k) == pytest.approx(radam_factor(k, 0.999), rel=1e-13) for k in range(0, 5000, 37))
    with pytest.raises(ValueError, match="warmup_beta2 must be in"):
        WarmupSchedule(warmup_type="radam", warmup_steps=5, warmup_beta2=0.5)

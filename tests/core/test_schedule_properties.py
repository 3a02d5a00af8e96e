"""Property tests (hypothesis) for the schedule math."""

import itertools
import math
import pickle

from hypothesis import assume, given
from hypothesis import strategies as st

from warmup_plugins import WarmupSchedule

factors = st.floats(0.0, 1.0, allow_nan=False)
positive_factors = st.floats(1e-6, 1.0)
lengths = st.integers(1, 10_000)
warm_types = st.sampled_from(["linear", "exponential", "cosine", "constant"])
anneal_types = st.sampled_from(["cosine", "linear", "polynomial", "wsd", "constant"])


@st.composite
def schedules(draw):
    warmup_type = draw(warm_types)
    start = draw(positive_factors if warmup_type == "exponential" else factors)
    w = draw(st.integers(0, 5_000))
    t = w + draw(lengths)
    decay = draw(anneal_types)
    kwargs = {}
    if decay != "constant":
        kwargs["end_factor"] = draw(factors)
    if decay == "polynomial":
        kwargs["power"] = draw(st.floats(0.1, 5))
    return WarmupSchedule(
        warmup_type=warmup_type, warmup_steps=w, total_steps=t, start_factor=start, decay_type=decay, **kwargs
    )


@given(schedules())
def test_peak_exactly_at_end_of_warmup(f):
    assert f(f.warmup_steps) == 1.0


@given(schedules(), st.floats(0, 1e6))
def test_bounded_by_start_peak_and_end(f, k):
    lo = min(f.start_factor, f.end_factor if f.end_factor is not None else 1.0)
    assert lo - 1e-12 <= f(k) <= 1.0 + 1e-12


@given(schedules())
def test_warmup_is_monotonic_and_decay_non_increasing(f):
    w, t = int(f.warmup_steps), int(f.total_steps)
    warm = [f(k) for k in range(0, w + 1, max(1, w // 200))]
    assert all(b >= a for a, b in itertools.pairwise(warm))
    dec = [f(k) for k in range(w, t + 2, max(1, (t - w) // 200))]
    assert all(b <= a + 1e-15 for a, b in itertools.pairwise(dec))


@given(schedules())
def test_continuous_at_end_of_warmup(f):
    assume(f.warmup_steps > 0 and f.warmup_type != "constant")
    just_before = f(math.nextafter(float(f.warmup_steps), 0))
    assert abs(just_before - 1.0) < 1e-9


@given(schedules(), st.integers(0, 100))
def test_holds_final_value_after_total(f, extra):
    assert f(f.total_steps + extra) == f(f.total_steps) == f.final_factor


@given(schedules())
def test_round_trips_through_pickle_and_dict(f):
    g = pickle.loads(pickle.dumps(f))
    h = WarmupSchedule.from_dict(f.to_dict())
    assert g == f == h
    assert hash(g) == hash(f)
    for k in (0, f.warmup_steps / 3, f.warmup_steps, f.total_steps - 1, f.total_steps):
        assert g(k) == f(k) == h(k)


@given(schedules())
def test_the_repr_rebuilds_the_schedule_and_shows_its_shape(f):
    text = repr(f)
    assert eval(text, {"WarmupSchedule": WarmupSchedule}) == f
    assert text.startswith(f"WarmupSchedule(warmup_type={f.warmup_type!r}, warmup_steps={f.warmup_steps!r}, ")
    assert f"decay_type={f.decay_type!r}" in text and "=None" not in text


@given(st.floats(1e-6, 1), st.integers(1, 1000), st.integers(0, 999))
def test_exponential_warmup_straight_on_log_scale(s, w, k):
    assume(k < w)
    f = WarmupSchedule(warmup_type="exponential", warmup_steps=w, start_factor=s)
    assert math.log(f(k)) == __import__("pytest").approx(math.log(s) * (1 - k / w), abs=1e-9)


@given(st.integers(1, 50), st.floats(1.0, 4.0), st.floats(0.1, 1.0), st.floats(0, 5000))
def test_restarts_stay_within_cycle_peak(length, mul, decay, k):
    f = WarmupSchedule(total_steps=10_000, decay_type="cosine", cycle_steps=length, cycle_mul=mul, cycle_decay=decay)
    assert 0.0 <= f(k) <= 1.0

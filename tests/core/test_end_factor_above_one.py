"""Every decay family with an end factor above 1 (issue 28 case 2), as fastai's momentum mirror and ``WarmupParam``
use it (momentum 0.95 -> 0.85 -> 0.95 is ``0.85 * f`` with ``m = 0.95 / 0.85``): the decay goes from the peak
*up* to ``m``; no family may assume ``m <= 1``.

``wsd`` held ``m`` through its stable phase (``level = max(stable, m)``, a floor meant for ``inverse_sqrt``).
The families whose decay is ``m + (1 - m) g(k)`` must give the same ``g`` for an ``m`` above 1 as below it.
"""

import math

import pytest

from warmup_plugins import WarmupSchedule
from warmup_plugins.core import decays
from warmup_plugins.core.cooldowns import COOLDOWN_TYPES

W, T = 10, 110
MIRROR = 0.95 / 0.85
OPTIONS: dict[str, list[dict]] = {  # the options each family needs, and variants that reach other code paths
    "cosine": [{}, {"k_decay": 2.0}, {"cycle_steps": 25}, {"cycle_steps": 20, "cycle_mul": 4.0}],
    "linear": [{}, {"cycle_steps": 25, "cycle_limit": 2}, {"cycle_steps": 55, "cycle_warmup": True, "start_factor": 1}],
    "polynomial": [{"power": 2.0}, {"power": 0.5, "cycle_steps": 50}],
    "tanh": [{}],
    "cosine_wave": [{"num_cycles": 0.5}, {"num_cycles": 1.5}],
    "hard_restarts": [{"num_cycles": 1}, {"num_cycles": 2.5}],
    "exponential": [{}],
    "wsd": [{"cooldown_type": shape} for shape in COOLDOWN_TYPES] + [{"cooldown_steps": 0}, {"cooldown_fraction": 1}],
}
# (T lies on a cycle boundary in every restart variant, so the restarts end at m too)
AFFINE = {"cosine", "linear", "polynomial", "tanh", "cosine_wave", "hard_restarts", "wsd"}  # m + (1 - m) g(k)


def test_every_family_reading_end_factor_is_covered():
    assert set(OPTIONS) | {"inverse_sqrt"} == set(decays.decays_reading("end_factor"))


def _schedule(name: str, m: float, options: dict) -> WarmupSchedule:
    return WarmupSchedule(warmup_steps=W, total_steps=T, decay_type=name, end_factor=m, **options)


@pytest.mark.parametrize("m", [MIRROR, 1.5, 40.0])
@pytest.mark.parametrize(("name", "options"), [(n, o) for n, variants in OPTIONS.items() for o in variants])
def test_a_decay_to_an_end_factor_above_1_rises_from_the_peak_to_it(name, options, m):
    s = _schedule(name, m, options)
    values = [s(k) for k in range(W, T)]
    assert values[0] == pytest.approx(1.0, abs=1e-6 * m)  # tanh's formula starts 8.3e-7 (m - 1) off the peak
    assert all(1.0 - 1e-12 <= v <= m * (1 + 1e-12) for v in values), (name, options)
    if decays.FAMILIES[name].ends_at_end_factor({"decay_type": name, **options}):
        assert s(T) == s(10 * T) == s.final_factor == m
    if name in AFFINE:  # the same shape g as below 1: (f - m) / (1 - m) does not depend on m
        below = _schedule(name, 0.25, options)
        for k in range(W, T + 1):
            g_above, g_below = (s(k) - m) / (1 - m), (below(k) - 0.25) / 0.75
            assert g_above == pytest.approx(g_below, abs=1e-12), (name, options, k)
    else:  # exponential: m ** (d / D), log-linear
        for k in range(W, T + 1):
            assert math.log(s(k)) == pytest.approx(math.log(m) * (k - W) / (T - W), rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("m", [MIRROR, 1.5])
def test_wsd_holds_the_peak_through_its_stable_phase_whatever_the_end_factor(m):
    s = WarmupSchedule(warmup_steps=W, total_steps=T, decay_type="wsd", end_factor=m, cooldown_steps=20)
    assert [s(k) for k in range(W, T - 20 + 1)] == [1.0] * (T - 20 - W + 1)
    assert s(T) == m


def test_inverse_sqrt_refuses_a_floor_above_the_peak():
    """inverse_sqrt's end_factor is a floor under a decay from the peak: above 1 it would replace the whole decay."""
    with pytest.raises(ValueError, match=r"end_factor must be in \[0, 1\] for decay_type='inverse_sqrt'.*got 1\.5"):
        WarmupSchedule(warmup_steps=W, decay_type="inverse_sqrt", end_factor=1.5)
    s = WarmupSchedule(warmup_steps=W, decay_type="inverse_sqrt", end_factor=1.0)  # the edge: the peak held
    assert [s(k) for k in (W, 2 * W, 100 * W)] == [1.0] * 3

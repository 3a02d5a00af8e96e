"""Every value the core returns is finite, over the extreme ends of every option's documented range (issue 28
cases 4 and 7): a schedule either is built and gives a finite factor >= 0 at every step, or its construction
raises naming the argument and its working range. Never a NaN LR, nor a bare math error at some later step.

Found this way: a ``1-exp`` warmup with ``warmup_tau=1e-320`` gave ``f(0) = 0 * inf = nan``; ``radam`` with
``warmup_beta2=0.6000000000000001`` divided by 0 at ``f(0)`` and ``0.9999999999999`` failed a square root;
``cosine_wave`` and a cosine cooldown with ``num_cycles=1e308`` took ``cos(inf)``.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import re
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from warmup_plugins import WarmupSchedule
from warmup_plugins.core import decays, warmups
from warmup_plugins.core.choices import CHOICES

MAX = sys.float_info.max
INF = math.inf
# Each numeric option's documented range: (low, high, low_open, high_open); a length's is [0, MAX].
RANGES: dict[str, tuple[float, float, bool, bool]] = {
    "warmup_steps": (0, MAX, False, False),
    "total_steps": (0, MAX, False, False),
    "start_factor": (0, MAX, False, False),
    "end_factor": (0, MAX, False, False),
    "power": (0, MAX, True, False),
    "k_decay": (0, MAX, True, False),
    "tanh_lb": (-MAX, MAX, False, False),
    "tanh_ub": (-MAX, MAX, False, False),
    "gamma": (0, 1, True, False),
    "step_size": (0, MAX, True, False),
    "timescale": (0, MAX, True, False),
    "cooldown_steps": (0, MAX, False, False),
    "cooldown_fraction": (0, 1, True, False),
    "cooldown_power": (0, MAX, True, False),
    "cooldown_ratio": (0, 1, True, True),
    "num_cycles": (0, MAX, False, False),
    "warmup_tau": (0, MAX, True, False),
    "warmup_beta2": (0.6, 1, True, True),
    "cycle_steps": (0, MAX, True, False),
    "cycle_mul": (1, MAX, False, False),
    "cycle_decay": (0, MAX, True, False),
}
OTHER = {"warmup_type", "decay_type", "cooldown_type", "warmup_end", "warmup_prefix", "milestones", "cycle_limit"}
OTHER |= {"cycle_warmup"}


def test_the_table_covers_every_field():
    assert set(RANGES) | OTHER == {f.name for f in dataclasses.fields(WarmupSchedule)}


def edges(low: float, high: float, low_open: bool, high_open: bool) -> list[float]:
    """The ends of a range and the float extremes inside it: the bounds (or the next float inside an open
    one), the smallest subnormal and normal numbers, 1e300 and the largest float, and a middle value."""
    candidates = [
        low if not low_open else math.nextafter(low, INF),
        high if not high_open else math.nextafter(high, -INF),
        math.nextafter(low, INF),
        math.nextafter(high, -INF),
        low + (high - low) * 1e-13,
        high - (high - low) * 1e-13,
        5e-324,
        2.2250738585072014e-308,
        1e-300,
        1e300,
        MAX,
        -MAX,
        -1e300,
        0.5,
        1.0,
        3.0,
    ]
    inside = (low < v if low_open else low <= v for v in candidates)
    return sorted({v for v, ok in zip(candidates, inside) if ok and (v < high if high_open else v <= high)})


WORKING = {"warmup_beta2": [*warmups.BETA2_RANGE, 0.9]}  # the working range inside the documented one, and its ends


def value(name: str) -> st.SearchStrategy[float]:
    low, high, low_open, high_open = RANGES[name]
    return st.sampled_from(edges(low, high, low_open, high_open) + WORKING.get(name, []))


@st.composite
def schedule_kwargs(draw: st.DrawFn) -> dict:
    warmup_type = draw(st.sampled_from(warmups.WARMUP_TYPES))
    decay_type = draw(st.sampled_from(decays.DECAY_TYPES))
    family = decays.FAMILIES[decay_type]
    w = 0 if warmup_type == "none" else draw(value("warmup_steps"))
    kwargs: dict = {"warmup_type": warmup_type, "warmup_steps": w, "decay_type": decay_type}
    if family.needs_total or draw(st.booleans()):
        kwargs["total_steps"] = draw(st.sampled_from([t for t in edges(w, MAX, False, False) if t >= w]))
    kwargs["start_factor"] = draw(value("start_factor"))
    kwargs["warmup_prefix"] = draw(st.booleans())
    if not kwargs["warmup_prefix"]:
        kwargs["warmup_end"] = draw(st.sampled_from(CHOICES["warmup_end"]))
    shape = warmups.WARMUP_SHAPES.get(warmup_type)
    for name in shape.options if shape is not None else ():
        kwargs[name] = draw(value(name))
    for name in family.options:
        if not draw(st.booleans()):
            continue  # left to its default
        if name in RANGES:
            kwargs[name] = draw(value(name))
        elif name == "cooldown_type":
            kwargs[name] = draw(st.sampled_from(CHOICES["cooldown_type"]))
        elif name == "milestones":
            kwargs[name] = sorted(draw(st.lists(value("warmup_steps"), min_size=1, max_size=3)))
        elif name == "cycle_limit":
            kwargs[name] = draw(st.sampled_from([1, 2, 2**60]))
        elif name == "cycle_warmup":
            kwargs[name] = draw(st.booleans())
    return _consistent(kwargs, draw)


def _consistent(kwargs: dict, draw: st.DrawFn) -> dict:
    """The options drawn, made to go together (most draws should build a schedule): one cooldown length, restart
    options only with cycle_steps, the option each shape or family requires."""
    decay = kwargs["decay_type"]
    if "cooldown_fraction" in kwargs:
        kwargs.pop("cooldown_steps", None)
    if "cycle_steps" not in kwargs:
        for name in ("cycle_mul", "cycle_decay", "cycle_limit", "cycle_warmup"):
            kwargs.pop(name, None)
    if kwargs.get("cycle_warmup"):
        kwargs["warmup_prefix"] = True
        kwargs.pop("warmup_end", None)
    if decay in ("wsd", "inverse_sqrt"):  # one cooldown shape's own option, and its shape
        shaped = [o for o in ("cooldown_power", "cooldown_ratio", "num_cycles") if o in kwargs]
        for option in shaped[1:]:
            kwargs.pop(option)
        if shaped:
            kwargs["cooldown_type"] = {"cooldown_power": "power", "cooldown_ratio": "exp"}.get(shaped[0], "cosine")
    if decay == "inverse_sqrt" and "cooldown_type" in kwargs and "cooldown_steps" not in kwargs:
        kwargs.setdefault("cooldown_fraction", draw(value("cooldown_fraction")))
    if decay in ("inverse_sqrt", "exponential") and {"cooldown_fraction", "cooldown_steps", "end_factor"} & set(kwargs):
        kwargs.setdefault("total_steps", kwargs["warmup_steps"] * 2)
    if decay == "step":
        kwargs.setdefault("step_size", draw(value("step_size")))
    if decay == "multistep":
        kwargs.setdefault("milestones", [kwargs["warmup_steps"] * 2 + 1])
    if decay == "exponential":
        if "end_factor" in kwargs:
            kwargs.pop("gamma", None)
        else:
            kwargs.setdefault("gamma", draw(value("gamma")))
    return kwargs


def steps(s: WarmupSchedule) -> list[float]:
    """0, the ends of the warmup and of the decay (and a float either side), fractional steps, and far past T."""
    w, t = s.warmup_steps, s.total_steps
    points = [0, 5e-324, 1e-300, 0.5, 1, 2, w / 3, w / 2, math.nextafter(w, 0), w, math.nextafter(w, INF), w + 1]
    if t is not None:
        points += [w + (t - w) / 3, w + (t - w) / 2, math.nextafter(t, 0), t, math.nextafter(t, INF), t + 1]
    points += [1e10, 1e300, MAX]
    return [k for k in points if 0 <= k <= MAX]


FIELD = re.compile(r"\b(" + "|".join(f.name for f in dataclasses.fields(WarmupSchedule)) + r")\b")


@settings(max_examples=800)
@given(schedule_kwargs())
def test_every_value_is_finite_or_the_construction_names_the_argument(kwargs):
    try:
        s = WarmupSchedule(**kwargs)
    except (ValueError, TypeError) as error:
        assert FIELD.search(str(error)), f"{error} names no argument ({kwargs})"
        return
    assert math.isfinite(s.max_factor), kwargs
    assert math.isfinite(s.final_factor) or s.total_steps is None, kwargs
    for k in steps(s):
        factor = s(k)
        assert math.isfinite(factor) and factor >= 0, (kwargs, k, factor)


@pytest.mark.parametrize("tau", [5e-324, 1e-320, 1e-300])
def test_a_tiny_warmup_tau_rises_at_once(tau):
    """``f(0) = s`` and ``f(k > 0) = 1``: the time constant is far below one update (it gave f(0) = nan)."""
    s = WarmupSchedule(warmup_type="1-exp", warmup_steps=10, warmup_tau=tau, start_factor=0.01)
    assert [s(k) for k in (0, 0.5, 1, 9, 10)] == [0.01, 1.0, 1.0, 1.0, 1.0]


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"warmup_type": "radam", "warmup_steps": 10, "warmup_beta2": 0.6000000000000001}, "warmup_beta2"),
        ({"warmup_type": "radam", "warmup_steps": 10, "warmup_beta2": 0.9999999999999}, "warmup_beta2"),
        ({"decay_type": "cosine_wave", "total_steps": 100, "num_cycles": 1e308}, "num_cycles"),
        ({"decay_type": "wsd", "total_steps": 100, "cooldown_type": "cosine", "num_cycles": 1e308}, "num_cycles"),
    ],
)
def test_edge_values_raise_naming_the_argument_and_its_working_range(kwargs, named):
    """They raised ZeroDivisionError at f(0) and 'math domain error' at fractional steps or at construction."""
    with pytest.raises(ValueError, match=rf"{named} must be in [\[(][\d.e+]+, [\d.e+]+\]") as error:
        WarmupSchedule(**kwargs)
    assert str(kwargs[named]) in str(error.value)


@pytest.mark.parametrize("beta2", [0.600001, 0.61, 0.9, 0.999, 0.9999, 0.99999])
def test_the_radam_working_range_is_usable_to_its_ends(beta2):
    s = WarmupSchedule(warmup_type="radam", warmup_steps=50, warmup_beta2=beta2, start_factor=0.0)
    values = [s(k / 4) for k in range(201)]
    assert values[0] == 0.0 and values[-1] == 1.0
    assert all(0.0 <= v <= 1.0 for v in values) and all(b >= a - 1e-15 for a, b in itertools.pairwise(values))

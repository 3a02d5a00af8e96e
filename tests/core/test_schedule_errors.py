"""Bad input: a clear ValueError/TypeError naming the argument and what is allowed."""

import math

import numpy as np
import pytest

from warmup_plugins import WarmupSchedule


@pytest.mark.parametrize("bad", [-1, math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("name", ["warmup_steps", "total_steps", "start_factor"])
def test_lengths_and_factors_must_be_finite_and_non_negative(name, bad):
    kwargs = {"warmup_steps": 1, "total_steps": 10, name: bad}
    with pytest.raises(ValueError, match=name):
        WarmupSchedule(**kwargs)


@pytest.mark.parametrize("bad", [math.nan, -0.5, math.inf])
def test_end_factor_checked(bad):
    with pytest.raises(ValueError, match="end_factor"):
        WarmupSchedule(total_steps=10, decay_type="cosine", end_factor=bad)


@pytest.mark.parametrize("bad", ["10", None, True, [1]])
def test_wrong_types_name_the_argument(bad):
    with pytest.raises(TypeError, match="warmup_steps"):
        WarmupSchedule(warmup_steps=bad)


def test_warmup_longer_than_total():
    with pytest.raises(ValueError, match=r"warmup_steps \(20\) is longer than total_steps \(10\)"):
        WarmupSchedule(warmup_steps=20, total_steps=10)


def test_unknown_names_list_the_valid_ones():
    with pytest.raises(ValueError, match="warmup_type must be one of 'linear'.*did you mean 'linear'"):
        WarmupSchedule(warmup_type="liner")
    with pytest.raises(ValueError, match="decay_type must be one of .*'cosine'"):
        WarmupSchedule(decay_type="cosin", total_steps=10)
    with pytest.raises(ValueError, match="cooldown_type must be one of"):
        WarmupSchedule(total_steps=10, decay_type="wsd", cooldown_type="sqrt")


def test_exponential_warmup_from_zero():
    with pytest.raises(ValueError, match="start_factor must be > 0 for warmup_type='exponential'"):
        WarmupSchedule(warmup_type="exponential", warmup_steps=5, start_factor=0)


def test_none_warmup_with_a_length():
    with pytest.raises(ValueError, match="warmup_steps must be 0 with warmup_type='none'"):
        WarmupSchedule(warmup_type="none", warmup_steps=5)


def test_epochs_without_steps_per_epoch():
    with pytest.raises(TypeError, match="steps_per_epoch"):
        WarmupSchedule.from_epochs(warmup_epochs=5)
    with pytest.raises(ValueError, match="steps_per_epoch must be an integer >= 1"):
        WarmupSchedule.from_epochs(warmup_epochs=5, steps_per_epoch=0)


def test_decays_that_need_a_horizon():
    for decay in ("cosine", "linear", "polynomial", "tanh", "wsd"):
        with pytest.raises(ValueError, match=f"total_steps is required for decay_type='{decay}'"):
            WarmupSchedule(decay_type=decay)


def test_options_of_another_decay_are_refused():
    with pytest.raises(ValueError, match="gamma is not used by decay_type='cosine'"):
        WarmupSchedule(total_steps=10, decay_type="cosine", gamma=0.1)
    with pytest.raises(ValueError, match="end_factor is not used by decay_type='constant'"):
        WarmupSchedule(end_factor=0.1)


def test_required_decay_options():
    with pytest.raises(ValueError, match="step_size is required"):
        WarmupSchedule(decay_type="step")
    with pytest.raises(ValueError, match="milestones is required"):
        WarmupSchedule(decay_type="multistep")
    with pytest.raises(ValueError, match="exactly one of gamma"):
        WarmupSchedule(decay_type="exponential", total_steps=5)
    with pytest.raises(ValueError, match="needs a timescale"):
        WarmupSchedule(decay_type="inverse_sqrt")


def test_milestones_inside_the_warmup_are_a_unit_mistake():
    with pytest.raises(ValueError, match="milestones must lie after the warmup"):
        WarmupSchedule(warmup_steps=1955, decay_type="multistep", milestones=[30, 60])
    with pytest.raises(ValueError, match="non-decreasing"):
        WarmupSchedule(decay_type="multistep", milestones=[60, 30])


def test_gamma_range():
    with pytest.raises(ValueError, match=r"gamma must be in \(0, 1\]"):
        WarmupSchedule(decay_type="step", step_size=3, gamma=1.5)


def test_cycle_options_need_cycle_steps():
    with pytest.raises(ValueError, match="cycle_mul needs cycle_steps"):
        WarmupSchedule(total_steps=10, decay_type="cosine", cycle_mul=2)
    with pytest.raises(ValueError, match="cycle_mul must be in"):
        WarmupSchedule(total_steps=10, decay_type="cosine", cycle_steps=3, cycle_mul=0.5)


@pytest.mark.parametrize("bad", [-1, math.nan, math.inf])
def test_bad_steps(bad):
    f = WarmupSchedule(warmup_steps=3)
    with pytest.raises(ValueError, match="step must be a finite number >= 0"):
        f(bad)


def test_string_step():
    with pytest.raises(TypeError, match="step must be a real number"):
        WarmupSchedule()("3")


def test_from_dict_unknown_keys():
    data = WarmupSchedule().to_dict() | {"warmup_epochs": 3}
    with pytest.raises(KeyError, match="warmup_epochs"):
        WarmupSchedule.from_dict(data)


def test_immutable():
    f = WarmupSchedule()
    with pytest.raises(AttributeError):
        f.warmup_steps = 3


@pytest.mark.parametrize(
    "steps",
    [
        ["1", "2"],
        [True, False],
        np.array([1 + 2j]),
        np.array(["2020-01-01"], dtype="datetime64[D]"),
        np.ma.masked_array([1.0, 2.0], mask=[0, 1]),
        [1, None],
        np.array([1.0, np.nan]),
        [1.0, -1.0],
    ],
    ids=["str", "bool", "complex", "datetime64", "masked", "None", "nan", "negative"],
)
def test_an_array_of_steps_is_checked_like_a_single_step(steps):
    with pytest.raises((TypeError, ValueError), match="step"):
        WarmupSchedule(warmup_steps=2)(steps)


def test_an_empty_array_gives_an_empty_array():
    assert WarmupSchedule(warmup_steps=2)(np.array([])).shape == (0,)

"""ScheduleRequest: the user's schedule keyword arguments, checked once and resolved once (issue 30, part 1)."""

from __future__ import annotations

import pickle

import pytest
import torch

from warmup_plugins import WarmupSchedule
from warmup_plugins.core import request as request_module
from warmup_plugins.core.request import ScheduleRequest
from warmup_plugins.torch import WarmupLR, WarmupParam


def adam(beta2: float = 0.99) -> torch.optim.Optimizer:
    return torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=0.1, betas=(0.9, beta2))


def test_epochs_fractions_and_untuned_resolve_to_the_same_schedule_as_updates():
    in_updates = WarmupSchedule(warmup_steps=782, total_steps=3910, decay_type="cosine")
    in_epochs = {"warmup_epochs": 2, "total_epochs": 10, "decay_type": "cosine"}
    assert ScheduleRequest(in_epochs).resolve(steps_per_epoch=391) == in_updates
    assert ScheduleRequest({**in_epochs, "steps_per_epoch": 391}).resolve() == in_updates
    assert WarmupSchedule.from_epochs(steps_per_epoch=391, **in_epochs) == in_updates
    in_fit = ScheduleRequest({"warmup_pct": 0.2, "decay_type": "cosine"}, within_fit=True)
    assert in_fit.resolve(fit_updates=3910) == in_updates.replace(warmup_steps=0.2 * 3910)
    untuned = ScheduleRequest({"warmup_type": "untuned_linear", "total_steps": 1000})
    assert untuned.resolve(beta2=0.99) == WarmupSchedule(warmup_steps=199, start_factor=1 / 200, total_steps=1000)


def test_every_adapter_and_the_cli_build_through_the_one_request(monkeypatch, capsys):
    """One request per schedule, built once and resolved once, whatever the entry point."""
    from warmup_plugins.cli import main

    built, resolved = [], []
    init, resolve = ScheduleRequest.__post_init__, ScheduleRequest.resolve
    monkeypatch.setattr(ScheduleRequest, "__post_init__", lambda self: built.append(self) or init(self))
    monkeypatch.setattr(ScheduleRequest, "resolve", lambda self, **run: resolved.append(self) or resolve(self, **run))
    kwargs = {"warmup_epochs": 1, "total_epochs": 4, "steps_per_epoch": 5, "decay_type": "linear"}
    schedules = [
        WarmupLR(adam(), **kwargs).schedule,
        WarmupParam(adam(), "weight_decay", **kwargs).schedule,
        WarmupSchedule.from_epochs(**kwargs),
    ]
    assert main(["show", "--warmup-epochs", "1", "--total-epochs", "4", "--steps-per-epoch", "5"]) == 0
    capsys.readouterr()
    assert len(built) == len(resolved) == 4 and all(a is b for a, b in zip(built, resolved))
    assert schedules == [WarmupSchedule(warmup_steps=5, total_steps=20, decay_type="linear")] * 3


def test_the_length_forms_are_checked_once_per_request(monkeypatch):
    calls = []
    check = request_module.check_forms
    monkeypatch.setattr(request_module, "check_forms", lambda kwargs: calls.append(1) or check(kwargs))
    request = ScheduleRequest({"warmup_pct": 0.1, "total_pct": 1.0}, within_fit=True)
    for fit in (10, 100, 1000):  # one request, resolved for three fits: checked once
        assert request.resolve(fit_updates=fit).warmup_steps == 0.1 * fit
    assert calls == [1]


@pytest.mark.parametrize(
    ("arguments", "run", "error", "message"),
    [
        (
            {"warmup_epochs": 5, "total_epochs": 2},
            {"steps_per_epoch": 391},
            ValueError,
            "warmup_epochs=5 (1955 updates) is longer than total_epochs=2 (782 updates)",
        ),
        (
            {"warmup_steps": 2000, "total_epochs": 2},
            {"steps_per_epoch": 391},
            ValueError,
            "warmup_steps (2000) is longer than total_epochs=2 (782 updates)",
        ),
        (
            {"warmup_type": "untuned_linear", "total_steps": 1000},
            {"beta2": 0.999},
            ValueError,
            "warmup_type='untuned_linear' with beta2=0.999 (1999 updates) is longer than total_steps (1000)",
        ),
        (
            {"decay_type": "step", "step_size_epochs": 0.01},
            {"steps_per_epoch": 10},
            ValueError,
            "step_size must be in (0, inf), got 0; step_size (0) comes from step_size_epochs=0.01",
        ),
        (
            {"warmup_epochs": 1},
            {},
            ValueError,
            "warmup_epochs needs steps_per_epoch (optimizer updates per epoch)",
        ),
        (
            {"warmup_type": "untuned_exponential"},
            {},
            ValueError,
            "warmup_type='untuned_exponential' needs Adam's beta2 (W = 2 / (1 - beta2))",
        ),
    ],
)
def test_a_resolve_error_names_the_argument_the_user_passed(arguments, run, error, message):
    with pytest.raises(error) as caught:
        ScheduleRequest(arguments).resolve(**run)
    assert str(caught.value) == message


def test_a_length_beyond_a_floats_range_is_named_as_it_is():
    """An int too large for ``:g`` (found by the hostile-input fuzz in a fastai fit) is shown whole, not an
    OverflowError from formatting the message."""
    huge = 10**400
    with pytest.raises(ValueError, match=rf"^warmup_steps \({huge}\) is longer than the fit"):
        ScheduleRequest({"warmup_steps": huge}, within_fit=True).resolve(steps_per_epoch=8, fit_updates=24)
    with pytest.raises(ValueError, match=rf"^warmup_steps \({huge}\) is longer than the fit"):
        request_module.check_fits_the_fit({"warmup_steps": huge}, 24)


def test_within_a_fit_a_length_longer_than_the_fit_is_named_as_given():
    request = ScheduleRequest({"warmup_epochs": 4}, within_fit=True)
    with pytest.raises(ValueError, match=r"^warmup_epochs=4 \(32 updates\) is longer than the fit; the index restarts"):
        request.resolve(steps_per_epoch=8, fit_updates=24)


@pytest.mark.parametrize(
    ("arguments", "within_fit", "error", "message"),
    [
        ({"warmup": 3}, False, TypeError, r"^unknown schedule arguments \['warmup'\]; valid ones are \["),
        ({"warmup_pct": 0.1}, False, TypeError, r"^warmup_pct is a fraction of a fit, which only fastai's"),
        ({"steps_per_epoch": 10}, True, TypeError, r"^do not pass steps_per_epoch; it is derived from the fit"),
        ({"warmup_pct": 1.5}, True, ValueError, r"^warmup_pct must be in \[0, 1\], got 1.5$"),
        ({"warmup_epochs": -1}, False, ValueError, r"^warmup_epochs must be in \[0, inf\), got -1$"),
        (
            {"warmup_steps": 3, "warmup_epochs": 1},
            False,
            TypeError,
            r"^give one of \['warmup_steps', 'warmup_epochs'\]",
        ),
        ({"warmup_type": "cosin"}, False, ValueError, r"did you mean 'cosine'"),
        ({"warmup_type": "untuned_linear", "warmup_pct": 0.1}, True, TypeError, r"do not pass \['warmup_pct'\]$"),
        ({"warmup_type": "untuned_linear", "start_factor": 0.1}, False, TypeError, r"starts at 1 / W; do not pass"),
        ("warmup_steps=3", False, TypeError, r"^schedule arguments must be a mapping, got str$"),
    ],
)
def test_the_arguments_are_checked_when_the_request_is_built(arguments, within_fit, error, message):
    with pytest.raises(error, match=message):
        ScheduleRequest(arguments, within_fit=within_fit)


def test_a_request_is_plain_data():
    request = ScheduleRequest({"warmup_pct": 0.1, "milestone_pcts": [0.5], "decay_type": "multistep"}, within_fit=True)
    assert pickle.loads(pickle.dumps(request)) == request
    assert repr(request) == (
        "ScheduleRequest({'warmup_pct': 0.1, 'milestone_pcts': [0.5], 'decay_type': 'multistep'}, within_fit=True)"
    )

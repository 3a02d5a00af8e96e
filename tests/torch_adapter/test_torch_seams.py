"""WarmupLR and WithWarmup at their seams: construction at a step, failed steps and loads that change nothing,
values torch would silently mangle, and the record following the schedule in force."""

import copy
import math

import pytest
import torch
from torch.optim.lr_scheduler import ReduceLROnPlateau, StepLR

from tests.helpers import tiny_model
from warmup_plugins import AdaptiveWarmup, WarmupSchedule
from warmup_plugins.torch import WarmupLR, WithWarmup

SCHED = WarmupSchedule(warmup_steps=5, total_steps=20, decay_type="cosine")


def sgd(lr=0.1):
    return torch.optim.SGD(tiny_model().parameters(), lr=lr)


def plain(value):
    """A state with its Tensors (an adaptive warmup's weight snapshot) as nested lists, to compare with ==."""
    if isinstance(value, torch.Tensor):
        return value.tolist()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def snapshot(sched):
    """Everything a failed call must leave as it was."""
    opt = sched.optimizer
    record = None if getattr(sched, "record", None) is None else copy.deepcopy(sched.record.to_dict())
    return plain(sched.state_dict()), [float(g["lr"]) for g in opt.param_groups], record, sched._step_count


def test_built_at_a_step_with_a_record():
    opt = sgd()
    first = WarmupLR(opt, SCHED)
    for _ in range(5):
        first.step()
    again = WarmupLR(opt, SCHED, last_epoch=5, record=True)  # was AttributeError: _last_lr
    assert again.last_epoch == 6  # torch's rule: the construction step moves from last_epoch to the next
    assert opt.param_groups[0]["lr"] == 0.1 * SCHED(6)
    assert len(again.record) == 0  # no update happened


def test_an_adaptive_warmup_cannot_start_at_a_step():
    opt = sgd()
    WarmupLR(opt, SCHED)
    with pytest.raises(ValueError, match="last_epoch=5"):
        WarmupLR(opt, SCHED, last_epoch=5, adaptive=AdaptiveWarmup())


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda s: s.step(float("nan")), (TypeError, ValueError), "epoch"),
        (lambda s: s.step(loss="x"), TypeError, "loss"),
        (lambda s: s.step(loss=torch.ones(2)), TypeError, "loss must be a number or None, got a Tensor of 2"),
        (lambda s: s.step(grad_norm=[1.0]), TypeError, "grad_norm"),
    ],
)
@pytest.mark.parametrize("adaptive", [False, True])
def test_a_failed_step_changes_nothing(call, error, match, adaptive):
    sched = WarmupLR(sgd(), SCHED, record=True, adaptive=AdaptiveWarmup() if adaptive else None)
    sched.step(loss=2.0)
    before = snapshot(sched)
    with pytest.raises(error, match=match):
        call(sched)
    assert snapshot(sched) == before


def test_an_integer_tensor_lr_is_refused():
    opt = torch.optim.SGD(tiny_model().parameters(), lr=torch.tensor(1))
    with pytest.raises(TypeError, match=r"torch.int64 Tensor.*truncated.*torch.tensor\(1.0\)"):
        WarmupLR(opt, SCHED)


def test_a_group_added_after_the_scheduler_is_refused_at_the_next_step():
    model = tiny_model()
    opt = torch.optim.SGD(model[0].parameters(), lr=0.1)
    sched = WarmupLR(opt, SCHED)
    opt.add_param_group({"params": model[2].parameters(), "lr": 0.5})
    before = sched.state_dict()
    with pytest.raises(ValueError, match="add_param_group"):
        sched.step()
    assert sched.state_dict() == before
    assert opt.param_groups[1]["lr"] == 0.5


@pytest.mark.parametrize("how", ["load_state_dict", "set_schedule"])
def test_the_record_follows_the_schedule_in_force(how):
    longer = SCHED.replace(warmup_steps=50, total_steps=200)
    sched = WarmupLR(sgd(), SCHED, record=True)
    if how == "set_schedule":
        sched.set_schedule(longer)
    else:
        donor = WarmupLR(sgd(), longer)
        sched.load_state_dict(donor.state_dict())
    assert sched.record.meta["schedule"] == longer.to_dict()
    assert sched.record.warmup_steps == 50


def test_two_schedulers_of_one_optimizer_the_last_to_step_wins():
    """Documented, like torch's own schedulers: each writes the LR of its own step."""
    opt = sgd()
    a, b = WarmupLR(opt, SCHED), WarmupLR(opt, SCHED.replace(start_factor=0.5))
    a.step()
    b.step()
    assert opt.param_groups[0]["lr"] == 0.1 * b.schedule(1)


def _with_warmup(make):
    opt = sgd()
    wrapped = WithWarmup(make(opt), 3)
    for _ in range(6):
        opt.step()  # an update before each scheduler step, as in training (else torch warns)
        wrapped.step()
    return wrapped


@pytest.mark.parametrize(
    ("make", "change", "error", "match"),
    [
        (lambda o: StepLR(o, 3, 0.5), lambda s: s.update(gamma=math.nan), ValueError, "NaN in"),
        (lambda o: StepLR(o, 3, 0.5), lambda s: s.update(gamma=-1.0), ValueError, "finite number >= 0"),
        (lambda o: StepLR(o, 3, 0.5), lambda s: s.update(step_size=0), ValueError, "ZeroDivisionError"),
        (lambda o: StepLR(o, 3, 0.5), lambda s: s.pop("gamma"), KeyError, "not a state of the wrapped StepLR"),
        (lambda o: ReduceLROnPlateau(o), lambda s: s.update(mode="sideways"), ValueError, "mode"),
        (lambda o: ReduceLROnPlateau(o), lambda s: s.update(factor=math.nan), ValueError, "NaN in"),
    ],
)
def test_a_bad_wrapped_state_is_refused_and_changes_nothing(make, change, error, match):
    wrapped = _with_warmup(make)
    state = wrapped.state_dict()
    change(state["scheduler"])
    before = (wrapped.state_dict(), [g["lr"] for g in wrapped.optimizer.param_groups])
    with pytest.raises(error, match=match):
        wrapped.load_state_dict(state)
    assert (wrapped.state_dict(), [g["lr"] for g in wrapped.optimizer.param_groups]) == before


def test_a_foreign_wrapped_state_is_refused():
    wrapped = _with_warmup(lambda o: StepLR(o, 3, 0.5))
    other = _with_warmup(lambda o: ReduceLROnPlateau(o))
    with pytest.raises(KeyError, match="not a state of the wrapped StepLR"):
        wrapped.load_state_dict(other.state_dict())

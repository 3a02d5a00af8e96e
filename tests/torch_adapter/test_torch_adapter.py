"""warmup_plugins.torch.WarmupLR in real torch loops."""

import io
import warnings

import pytest
import torch
from torch.optim.lr_scheduler import LRScheduler

from tests.helpers import batches, tiny_model, train_steps
from warmup_plugins import WarmupSchedule
from warmup_plugins.torch import WarmupLR

SCHED = WarmupSchedule(warmup_type="cosine", warmup_steps=7, total_steps=30, decay_type="cosine", end_factor=0.05)


def make(lr=0.1, groups=1, tensor=False, opt_cls=torch.optim.SGD, **kw):
    model = tiny_model()
    params = list(model.parameters())
    value = (lambda v: torch.tensor(v)) if tensor else (lambda v: v)
    param_groups = [{"params": params[i::groups], "lr": value(lr * (i + 1))} for i in range(groups)]
    return model, opt_cls(param_groups, **kw)


def test_is_a_real_lr_scheduler_and_trace_is_base_times_factor():
    model, opt = make(groups=2)
    sched = WarmupLR(opt, SCHED)
    assert isinstance(sched, LRScheduler)
    trace = train_steps(model, opt, sched, batches(40))
    for k, lrs in enumerate(trace):
        assert lrs == [0.1 * SCHED(k), 0.2 * SCHED(k)]  # bit for bit
    assert sched.get_last_lr() == [0.1 * SCHED(40), 0.2 * SCHED(40)]
    assert sched.last_epoch == 40


def test_keyword_arguments_and_epoch_forms():
    _, opt = make()
    a = WarmupLR(opt, warmup_steps=20, total_steps=100, decay_type="linear")
    assert a.schedule == WarmupSchedule(warmup_steps=20, total_steps=100, decay_type="linear")
    _, opt = make()
    b = WarmupLR(opt, warmup_epochs=2, total_epochs=10, steps_per_epoch=10, decay_type="linear")
    assert b.schedule == a.schedule


def test_per_group_schedules():
    _, opt = make(groups=2)
    fast = WarmupSchedule(warmup_steps=2)
    slow = WarmupSchedule(warmup_steps=8, warmup_type="exponential")
    sched = WarmupLR(opt, [fast, slow])
    for k in range(1, 10):
        sched.step()
        assert [g["lr"] for g in opt.param_groups] == [0.1 * fast(k), 0.2 * slow(k)]


def test_no_update_at_lr_zero_by_default():
    _, opt = make()
    WarmupLR(opt, warmup_steps=500)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.001)


def test_tensor_lrs_are_filled_in_place():
    model, opt = make(groups=2, tensor=True)
    originals = [g["lr"] for g in opt.param_groups]
    sched = WarmupLR(opt, SCHED)
    trace = train_steps(model, opt, sched, batches(35))
    assert all(g["lr"] is t for g, t in zip(opt.param_groups, originals))
    base = [float(torch.tensor(0.1)), float(torch.tensor(0.2))]
    for k, lrs in enumerate(trace):
        assert lrs == [float(torch.tensor(b * SCHED(k))) for b in base]
    last = sched.get_last_lr()
    assert isinstance(last[0], torch.Tensor) and last[0] is not originals[0]


def test_float_lrs_stay_floats():
    _, opt = make()
    sched = WarmupLR(opt, SCHED)
    sched.step()
    assert type(opt.param_groups[0]["lr"]) is float
    assert type(sched.get_last_lr()[0]) is float


@pytest.mark.parametrize("resume_at", [0, 3, 7, 15, 30, 33])
def test_resume_at_any_update_gives_the_same_trace(resume_at):
    model, opt = make(groups=2)
    sched = WarmupLR(opt, SCHED)
    full = train_steps(model, opt, sched, batches(40))

    model, opt = make(groups=2)
    sched = WarmupLR(opt, SCHED)
    data = batches(40)
    first = train_steps(model, opt, sched, data[:resume_at])
    buf = io.BytesIO()
    torch.save({"opt": opt.state_dict(), "sched": sched.state_dict(), "model": model.state_dict()}, buf)

    buf.seek(0)
    ckpt = torch.load(buf, weights_only=True)
    model2, opt2 = make(groups=2, lr=7.0)  # a different LR: the checkpoint must win
    model2.load_state_dict(ckpt["model"])
    sched2 = WarmupLR(opt2, WarmupSchedule(warmup_steps=1))  # a different schedule too
    opt2.load_state_dict(ckpt["opt"])
    sched2.load_state_dict(ckpt["sched"])
    assert sched2.schedule == SCHED
    rest = train_steps(model2, opt2, sched2, data[resume_at:])
    assert first + rest == full
    assert [p.tolist() for p in model.parameters()] != []  # the loop really trained


def test_state_dict_is_plain_data():
    _, opt = make(groups=2, tensor=True)
    sched = WarmupLR(opt, [SCHED, SCHED.replace(warmup_steps=3)])
    sd = sched.state_dict()
    buf = io.BytesIO()
    torch.save(sd, buf)
    buf.seek(0)
    assert torch.load(buf, weights_only=True) == sd


def test_no_warnings_on_the_normal_path():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model, opt = make()
        sched = WarmupLR(opt, SCHED)
        train_steps(model, opt, sched, batches(5))
        sched.get_last_lr()
        sched.get_lr()
        sched.state_dict()


def test_scheduler_and_schedule_pickle():
    import pickle

    _, opt = make()
    sched = WarmupLR(opt, SCHED)
    sched.step()
    clone = pickle.loads(pickle.dumps(sched.state_dict()))
    assert clone == sched.state_dict()


def test_step_with_an_index_jumps_there():
    _, opt = make()
    sched = WarmupLR(opt, SCHED)
    sched.step(20)
    assert opt.param_groups[0]["lr"] == 0.1 * SCHED(20)
    sched.step()
    assert opt.param_groups[0]["lr"] == 0.1 * SCHED(21)


class TestBadInput:
    def test_not_an_optimizer(self):
        with pytest.raises(TypeError, match="optimizer must be a torch.optim.Optimizer, got list"):
            WarmupLR([torch.nn.Parameter(torch.zeros(1))], SCHED)

    def test_schedule_and_kwargs_together(self):
        _, opt = make()
        with pytest.raises(TypeError, match="not both"):
            WarmupLR(opt, SCHED, warmup_steps=3)

    def test_unknown_kwarg(self):
        _, opt = make()
        with pytest.raises(TypeError, match=r"unknown schedule arguments \['warmup'\]"):
            WarmupLR(opt, warmup=3)

    def test_epochs_without_steps_per_epoch(self):
        _, opt = make()
        with pytest.raises(ValueError, match="steps_per_epoch"):
            WarmupLR(opt, warmup_epochs=5, total_epochs=20)

    def test_wrong_number_of_group_schedules(self):
        _, opt = make(groups=2)
        with pytest.raises(ValueError, match="got 3 schedules for 2 param groups"):
            WarmupLR(opt, [SCHED] * 3)

    def test_group_without_lr(self):
        _, opt = make()
        del opt.param_groups[0]["lr"]
        with pytest.raises(KeyError, match=r"param_groups\[0\] has no 'lr'"):
            WarmupLR(opt, SCHED)

    def test_nan_lr(self):
        _, opt = make(lr=float("nan"))
        with pytest.raises(ValueError, match=r"param_groups\[0\]\['lr'\] must be finite"):
            WarmupLR(opt, SCHED)

    @pytest.mark.parametrize(
        "change, error, match",
        [
            (lambda sd: sd.pop("schedule"), KeyError, r"missing keys \['schedule'\]"),
            (lambda sd: sd.update(extra=1), KeyError, r"unexpected keys \['extra'\]"),
            (lambda sd: sd.update(base_lrs=[0.1, 0.2]), ValueError, "list of 1 numbers"),
            (lambda sd: sd.update(last_epoch=-3), ValueError, "last_epoch"),
            (lambda sd: sd.update(schedule="cosine"), TypeError, "'schedule' in a state dict"),
        ],
    )
    def test_malformed_state_dicts(self, change, error, match):
        _, opt = make()
        sched = WarmupLR(opt, SCHED)
        sd = sched.state_dict()
        change(sd)
        with pytest.raises(error, match=match):
            sched.load_state_dict(sd)

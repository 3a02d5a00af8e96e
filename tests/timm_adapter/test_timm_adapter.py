"""warmup_plugins.timm.WarmupScheduler in a timm-style training loop."""

import argparse
import dataclasses
import inspect
import io
import math
import subprocess
import sys

import pytest
import torch

pytest.importorskip("timm")

from tests.helpers import batches, tiny_model
from warmup_plugins import WarmupSchedule
from warmup_plugins.core.choices import PLAIN_WARMUPS
from warmup_plugins.timm import (
    SCHED_NAMES,
    WarmupScheduler,
    _FactoryArgs,
    add_scheduler_args,
    create_scheduler,
    create_scheduler_v2,
)
from warmup_plugins.torch import WarmupLR

SCHED = WarmupSchedule(warmup_type="exponential", warmup_steps=9, total_steps=40, decay_type="cosine", end_factor=0.01)


def sgd(lrs=(0.1,), tensor=False):
    params = list(tiny_model().parameters())
    value = torch.tensor if tensor else float
    return torch.optim.SGD([{"params": params[i :: len(lrs)], "lr": value(lr)} for i, lr in enumerate(lrs)], lr=0.1)


def timm_style_loop(model, opt, scheduler, data, epochs, accum=1):
    """timm's train.py: step_update(num_updates) after each optimizer update (with gradient
    accumulation), step(epoch + 1) at the end of each epoch. Returns the LR used by every update."""
    used, num_updates = [], 0
    per_epoch = len(data) // epochs
    for epoch in range(epochs):
        for i, (x, y) in enumerate(data[epoch * per_epoch : (epoch + 1) * per_epoch]):
            loss = torch.nn.functional.cross_entropy(model(x), y) / accum
            loss.backward()
            if (i + 1) % accum:
                continue
            used.append([g["lr"] for g in opt.param_groups])
            opt.step()
            opt.zero_grad()
            num_updates += 1
            scheduler.step_update(num_updates=num_updates, metric=loss.item())
        scheduler.step(epoch + 1, metric=0.0)
    return used


@pytest.mark.parametrize("accum", [1, 3])
def test_bit_for_bit_with_warmup_lr(accum):
    model = tiny_model()
    opt = sgd((0.1, 0.03))
    ours = timm_style_loop(model, opt, WarmupScheduler(opt, SCHED, t_in_epochs=False), batches(60 * accum), 4, accum)
    assert len(ours) == 60

    ref_opt = sgd((0.1, 0.03))
    ref = WarmupLR(ref_opt, SCHED)
    expected = []
    for _ in range(60):
        expected.append([g["lr"] for g in ref_opt.param_groups])
        ref_opt.step()
        ref.step()
    assert ours == expected  # exact equality, every update


def test_epoch_stepping_matches_the_core_at_epoch_granularity():
    per_epoch = WarmupSchedule(warmup_steps=3, total_steps=10, decay_type="linear")
    opt = sgd()
    scheduler = WarmupScheduler(opt, per_epoch, t_in_epochs=True)
    lrs = [opt.param_groups[0]["lr"]]
    for epoch in range(12):
        scheduler.step_update(num_updates=epoch * 7 + 3)  # ignored: t is in epochs
        assert opt.param_groups[0]["lr"] == lrs[-1]
        scheduler.step(epoch + 1)
        lrs.append(opt.param_groups[0]["lr"])
    assert lrs == [0.1 * per_epoch(e) for e in range(13)]


def test_lr_scale_is_honoured():
    opt = sgd((0.1, 0.1))
    opt.param_groups[1]["lr_scale"] = 0.25
    scheduler = WarmupScheduler(opt, SCHED, t_in_epochs=False)
    scheduler.step_update(20)
    assert [g["lr"] for g in opt.param_groups] == [0.1 * SCHED(20), 0.1 * SCHED(20) * 0.25]


def test_tensor_lrs_filled_in_place_and_initial_lr_not_aliased():
    opt = sgd((0.1,), tensor=True)
    lr = opt.param_groups[0]["lr"]
    scheduler = WarmupScheduler(opt, SCHED, t_in_epochs=False)
    scheduler.step_update(5)
    assert opt.param_groups[0]["lr"] is lr
    assert float(lr) == float(torch.tensor(float(torch.tensor(0.1)) * SCHED(5)))
    assert float(opt.param_groups[0]["initial_lr"]) == float(torch.tensor(0.1))


@pytest.mark.parametrize("resume_epoch", [1, 2, 3])
def test_resume_through_weights_only_load(resume_epoch):
    def make():
        opt = sgd((0.1, 0.05))
        scheduler, _n = create_scheduler_v2(
            opt,
            sched="cosine",
            num_epochs=5,
            warmup_epochs=2,
            warmup_type="cosine",
            step_on_epochs=False,
            updates_per_epoch=4,
            min_lr=1e-3,
        )
        return opt, scheduler

    opt, scheduler = make()
    full = timm_style_loop(tiny_model(), opt, scheduler, batches(20), 5)

    opt, scheduler = make()
    first = timm_style_loop(tiny_model(), opt, scheduler, batches(4 * resume_epoch), resume_epoch)
    buf = io.BytesIO()
    torch.save({"opt": opt.state_dict(), "sched": scheduler.state_dict()}, buf)
    buf.seek(0)
    opt2, again = make()
    ckpt = torch.load(buf, weights_only=True)
    opt2.load_state_dict(ckpt["opt"])  # the LRs come from the optimizer's state, as with torch's schedulers
    again.load_state_dict(ckpt["sched"])
    # timm's train.py resumes with step_update(start_epoch * updates_per_epoch); load already set it
    rest, num_updates = [], 4 * resume_epoch
    for _ in range(4 * (5 - resume_epoch)):
        rest.append([g["lr"] for g in opt2.param_groups])
        num_updates += 1
        again.step_update(num_updates)
    assert first + rest == full


def test_get_cycle_length():
    opt = sgd()
    scheduler, n = create_scheduler_v2(
        opt,
        sched="cosine",
        num_epochs=10,
        warmup_epochs=2,
        warmup_prefix=True,
        cycle_limit=3,
        cycle_mul=2.0,
        cooldown_epochs=1,
    )
    assert scheduler.get_cycle_length() == 2 + 10 + 20 + 40
    assert scheduler.get_cycle_length(1) == 12
    assert n == 2 + 70 + 1
    plain = WarmupScheduler(sgd(), SCHED)
    assert plain.get_cycle_length() == 40


@pytest.mark.parametrize("warmup_type", ["linear", "exponential", "cosine", "constant"])
def test_new_warmup_shapes_through_the_factory(warmup_type):
    opt = sgd()
    scheduler, _ = create_scheduler_v2(
        opt, sched="cosine", num_epochs=10, warmup_epochs=4, warmup_lr=1e-3, warmup_type=warmup_type, warmup_prefix=True
    )
    warm = WarmupSchedule(warmup_type=warmup_type, warmup_steps=4, start_factor=1e-3 / 0.1)
    lrs = []
    for epoch in range(1, 5):
        scheduler.step(epoch)
        lrs.append(opt.param_groups[0]["lr"])
    assert lrs[:3] == pytest.approx([0.1 * warm(e) for e in (1, 2, 3)], rel=1e-12)
    assert lrs[3] == 0.1  # the peak, exactly, at the end of warmup


def test_decay_after_warmup_reaches_the_peak_and_keeps_num_epochs():
    opt = sgd()
    scheduler, n = create_scheduler_v2(opt, sched="cosine", num_epochs=10, warmup_epochs=2, decay_after_warmup=True)
    assert n == 10
    scheduler.step(2)
    assert opt.param_groups[0]["lr"] == 0.1
    scheduler.step(6)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.05, rel=1e-12)
    scheduler.step(10)
    assert opt.param_groups[0]["lr"] == 0.0


def test_timms_overlap_stops_below_the_peak_and_decay_after_warmup_reaches_it():
    """The number the README quotes: timm's cosine with a 5-epoch warmup in 20 epochs (its other defaults,
    warmup_prefix=False) never goes above 0.0854 of a 0.1 peak, its own drop-in here the same; with
    decay_after_warmup=True the LR is 0.1 exactly at epoch 5."""
    from timm.scheduler import create_scheduler_v2 as timms

    def lrs(create, **extra):
        opt = sgd()
        scheduler, epochs = create(opt, sched="cosine", num_epochs=20, warmup_epochs=5, **extra)
        out = []
        for epoch in range(epochs + 1):
            scheduler.step(epoch)
            out.append(opt.param_groups[0]["lr"])
        return out

    theirs = lrs(timms)
    assert round(max(theirs), 4) == 0.0854 and max(theirs) == theirs[5]  # the decay already 15% down at epoch 5
    assert lrs(create_scheduler_v2) == pytest.approx(theirs, rel=1e-12, abs=1e-15)  # the drop-in: timm's LRs
    ours = lrs(create_scheduler_v2, decay_after_warmup=True)
    assert max(ours) == ours[5] == 0.1


def test_multistep_torch_milestones():
    def lr_at(epoch, **kw):
        opt = sgd()
        scheduler, _ = create_scheduler_v2(opt, sched="multistep", decay_milestones=[3, 6], num_epochs=8, **kw)
        scheduler.step(epoch)
        return opt.param_groups[0]["lr"]

    assert [lr_at(e) for e in (1, 2, 3)] == pytest.approx([0.1, 0.01, 0.01])  # timm: one epoch early
    assert [lr_at(e, multistep_torch_milestones=True) for e in (2, 3, 5, 6)] == pytest.approx([0.1, 0.01, 0.01, 0.001])


def test_new_decays_linear_and_exponential():
    opt = sgd()
    scheduler, _ = create_scheduler_v2(opt, sched="linear", num_epochs=10, warmup_epochs=0, min_lr=0.0)
    scheduler.step(5)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.05, rel=1e-12)
    opt = sgd()
    scheduler, _n = create_scheduler_v2(opt, sched="exponential", num_epochs=10, min_lr=1e-3)
    scheduler.step(5)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1 * math.sqrt(1e-2), rel=1e-12)
    with pytest.raises(ValueError, match="min_lr, which must be > 0"):
        create_scheduler_v2(sgd(), sched="exponential", min_lr=0.0)


def test_create_scheduler_reads_new_options_from_args():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sched", default="cosine")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--warmup-epochs", type=int, default=3)
    add_scheduler_args(parser)
    args = parser.parse_args(["--warmup-type", "cosine", "--decay-after-warmup"])
    opt = sgd()
    scheduler, n = create_scheduler(args, opt)
    assert n == 10
    assert scheduler.schedule.warmup_type == "cosine"
    scheduler.step(3)
    assert opt.param_groups[0]["lr"] == 0.1
    # without the new attributes (timm's own argparse), the defaults reproduce timm
    plain = argparse.Namespace(sched="cosine", epochs=10, warmup_epochs=3)
    scheduler, _ = create_scheduler(plain, sgd())
    assert scheduler.schedule.warmup_type == "linear" and not scheduler.schedule.warmup_prefix


def test_warmup_types_come_from_the_core_table():
    """Issue 20 part 3: the option and the factory accept the core's option-free shapes (1-sqrt too, which the
    hand-kept list left out), and the factory refuses the rest naming warmup_type, not an option timm lacks."""
    parser = argparse.ArgumentParser()
    group = add_scheduler_args(parser)
    (option,) = [action for action in group._group_actions if action.dest == "warmup_type"]
    assert option.choices == PLAIN_WARMUPS and "1-sqrt" in PLAIN_WARMUPS
    assert parser.parse_args(["--warmup-type", "1-sqrt"]).warmup_type == "1-sqrt"
    scheduler, _ = create_scheduler_v2(sgd(), num_epochs=10, warmup_epochs=3, warmup_type="1-sqrt")
    assert scheduler.schedule.warmup_type == "1-sqrt"
    for bad, epochs in (("radam", 3), ("none", 3), ("cosin", 0)):
        with pytest.raises(ValueError, match=f"warmup_type must be one of 'linear'.*; got {bad!r}") as info:
            create_scheduler_v2(sgd(), num_epochs=10, warmup_epochs=epochs, warmup_type=bad)
        assert "radam'," not in str(info.value) and "warmup_beta2" not in str(info.value)


def test_the_factory_reads_its_arguments_from_one_frozen_record():
    """Issue 20 part 3: a named, frozen record (was a ``dict(locals())`` bag): every argument but the optimizer,
    with the signature's names, types and order, so a new argument cannot be left out of the checks' view."""
    fields = dataclasses.fields(_FactoryArgs)
    parameters = list(inspect.signature(create_scheduler_v2).parameters.values())[1:]
    assert [(f.name, f.type) for f in fields] == [(p.name, p.annotation) for p in parameters]
    assert _FactoryArgs.__dataclass_params__.frozen


def test_unknown_sched_lists_the_valid_names():
    with pytest.raises(ValueError, match="sched must be one of 'cosine'.*did you mean 'cosine'") as info:
        create_scheduler_v2(sgd(), sched="cosin")
    for name in SCHED_NAMES:
        assert repr(name) in str(info.value)


def test_state_dict_errors():
    scheduler = WarmupScheduler(sgd(), SCHED)
    with pytest.raises(KeyError, match=r"missing keys \['last_t'\]"):
        scheduler.load_state_dict({"schedule": SCHED.to_dict(), "base_values": [0.1], "adaptive": None})
    with pytest.raises(TypeError, match="optimizer must be a torch.optim.Optimizer"):
        WarmupScheduler("sgd", SCHED)


def test_import_error_names_the_extra():
    code = "import sys; sys.modules['timm'] = None; import warmup_plugins; import warmup_plugins.timm"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode != 0
    assert "pip install timm" in result.stderr
    ok = subprocess.run([sys.executable, "-c", "import sys; sys.modules['timm'] = None; import warmup_plugins.torch"])
    assert ok.returncode == 0


def test_the_factory_maps_timm_names_onto_one_request(monkeypatch):
    """Issue 30 part 2: warmup_epochs reaches the schedule through one request, named in TIMM_NAMES."""
    from warmup_plugins.core.request import ScheduleRequest
    from warmup_plugins.timm import TIMM_NAMES

    seen, resolve = [], ScheduleRequest.resolve
    monkeypatch.setattr(ScheduleRequest, "resolve", lambda self, **run: seen.append(self) or resolve(self, **run))
    opt = sgd((0.1, 0.1))
    scheduler, _ = create_scheduler_v2(
        opt, num_epochs=10, warmup_epochs=2, warmup_lr=0.01, min_lr=0.001, step_on_epochs=False, updates_per_epoch=5
    )
    (request,) = seen  # one request for the two groups of one base LR
    assert request.arguments["warmup_steps"] == 10 and request.named_as["warmup_steps"] == "warmup_epochs=2"
    assert request.named_as["start_factor"] == "warmup_lr=0.01" and request.named_as["end_factor"] == "min_lr=0.001"
    assert set(request.arguments) <= set(TIMM_NAMES)
    assert scheduler.schedule.warmup_steps == 10 and scheduler.schedule.start_factor == 0.01 / 0.1


def test_a_factory_error_names_the_timm_argument():
    with pytest.raises(ValueError, match=r"got 'cosin' \(did you mean 'cosine'\?\); .* comes from decay_fn='cosin'$"):
        create_scheduler_v2(sgd(), sched="wsd", num_epochs=10, decay_fn="cosin")


def test_an_initial_lr_that_a_tensor_lr_cannot_hold_is_refused_before_anything_is_written():
    """timm's ``__init__`` copies ``initial_lr`` into the groups: a float32 Tensor LR cannot hold 1e300, so the
    check comes first and names the group's value (found by the hostile-input fuzz), not torch's overflow."""
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(2))], lr=torch.tensor(0.5), momentum=0.9)
    opt.param_groups[0]["initial_lr"] = 1e300
    with pytest.raises(ValueError, match=r"param_groups\[0\]\['initial_lr'\] \(1e\+300\) exceeds 3\.40282e\+38"):
        WarmupScheduler(opt, WarmupSchedule(warmup_steps=0, decay_type="constant"), t_in_epochs=False)
    assert opt.param_groups[0]["lr"].item() == 0.5

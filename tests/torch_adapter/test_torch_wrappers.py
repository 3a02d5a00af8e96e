"""WithWarmup in front of torch's own schedulers, and WarmupParam for other hyper-parameters."""

import io
import warnings

import pytest
import torch
from torch.optim.lr_scheduler import CosineAnnealingLR, OneCycleLR, ReduceLROnPlateau

from tests.helpers import batches, tiny_model, train_steps
from warmup_plugins import WarmupSchedule
from warmup_plugins.torch import WarmupParam, WithWarmup


def sgd(lr=0.1, **kw):
    return torch.optim.SGD(tiny_model().parameters(), lr=lr, **kw)


def reference_trace(make_inner, n):
    opt = sgd()
    inner = make_inner(opt)
    trace = []
    for _ in range(n):
        trace.append(opt.param_groups[0]["lr"])
        opt.step()
        inner.step()
    return trace


@pytest.mark.parametrize(
    "make_inner",
    [
        lambda opt: CosineAnnealingLR(opt, T_max=20, eta_min=0.001),
        lambda opt: OneCycleLR(opt, max_lr=0.5, total_steps=40),
    ],
    ids=["CosineAnnealingLR", "OneCycleLR"],
)
def test_warmup_then_the_whole_inner_schedule_unshifted(make_inner):
    w = 6
    expected = reference_trace(make_inner, 30)
    opt = sgd()
    sched = WithWarmup(make_inner(opt), warmup_steps=w, warmup_type="cosine")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trace = train_steps(tiny_model(), opt, sched, batches(w + 30))
    warm = WarmupSchedule(warmup_type="cosine", warmup_steps=w)
    for k in range(w):
        assert trace[k][0] == expected[0] * warm(k)
    assert [t[0] for t in trace[w:]] == pytest.approx(expected, rel=1e-12)
    assert trace[w][0] == expected[0]  # the inner scheduler's first LR, restored exactly


def test_reduce_on_plateau_after_warmup():
    opt = sgd(lr=0.2)
    sched = WithWarmup(ReduceLROnPlateau(opt, patience=0, factor=0.5), warmup_steps=4)
    lrs = []
    for _epoch in range(4):
        for _ in range(3):
            lrs.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
        sched.step(1.0)  # a flat validation loss: halves after the warmup only
    assert lrs[:4] == [0.2 * WarmupSchedule(warmup_steps=4)(k) for k in range(4)]
    assert lrs[4:6] == [0.2, 0.2]
    assert opt.param_groups[0]["lr"] == pytest.approx(0.2 * 0.5**2)


def test_with_warmup_state_round_trip():
    opt = sgd()
    sched = WithWarmup(CosineAnnealingLR(opt, T_max=10), warmup_steps=3)
    for _ in range(2):
        opt.step()
        sched.step()
    buf = io.BytesIO()
    torch.save({"opt": opt.state_dict(), "sched": sched.state_dict()}, buf)
    buf.seek(0)
    opt2 = sgd()
    again = WithWarmup(CosineAnnealingLR(opt2, T_max=10), warmup_steps=3)
    ckpt = torch.load(buf, weights_only=True)
    again.load_state_dict(ckpt["sched"])
    opt2.load_state_dict(ckpt["opt"])
    assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    for _ in range(5):
        opt.step()
        sched.step()
        opt2.step()
        again.step()
        assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"]


def test_with_warmup_rejects_non_schedulers():
    with pytest.raises(TypeError, match="scheduler must be a torch LR scheduler"):
        WithWarmup(sgd(), warmup_steps=3)


def test_momentum_falls_during_warmup_and_rises_back():
    opt = sgd(momentum=0.85)
    mom = WarmupParam(
        opt,
        "momentum",
        warmup_type="cosine",
        warmup_steps=4,
        total_steps=12,
        start_factor=0.95 / 0.85,
        decay_type="cosine",
        end_factor=0.95 / 0.85,
    )
    values = []
    for _ in range(13):
        values.append(opt.param_groups[0]["momentum"])
        mom.step()
    assert values[0] == pytest.approx(0.95)
    assert values[4] == 0.85
    assert values[12] == pytest.approx(0.95)
    assert min(values) == 0.85


@pytest.mark.parametrize("decay_type", ["wsd", "cosine", "linear", "hard_restarts"])
def test_momentum_rises_back_after_the_peak_with_every_decay_ending_at_its_end_factor(decay_type):
    """Issue 28 case 2: with wsd, WarmupParam held the end factor (momentum 0.95) through the stable phase."""
    opt = sgd(momentum=0.85)
    options = {"cooldown_steps": 4} if decay_type == "wsd" else {}
    mom = WarmupParam(
        opt, "momentum", warmup_steps=4, total_steps=16, start_factor=0.95 / 0.85, decay_type=decay_type,
        end_factor=0.95 / 0.85, **options,
    )  # fmt: skip
    values = []
    for _ in range(17):
        values.append(opt.param_groups[0]["momentum"])
        mom.step()
    assert values[4] == 0.85 and values[16] == pytest.approx(0.95)
    assert min(values) == 0.85 and max(values) <= 0.95 + 1e-12
    if decay_type == "wsd":
        assert values[4:13] == [0.85] * 9  # the stable phase, then 4 updates of cooldown


def test_beta1_of_adam_and_state():
    opt = torch.optim.Adam(tiny_model().parameters(), betas=(0.9, 0.999))
    sched = WarmupParam(opt, "beta1", warmup_steps=2, start_factor=0.5)
    assert opt.param_groups[0]["betas"] == (0.45, 0.999)
    sched.step()
    sched.step()
    assert opt.param_groups[0]["betas"] == (0.9, 0.999)
    sd = sched.state_dict()
    sched2 = WarmupParam(opt, "beta1", warmup_steps=2, start_factor=0.5)
    sched2.load_state_dict(sd)
    assert sched2.step_index == 2 and sched2.base_values == [0.9]


def test_warmup_param_missing_key():
    with pytest.raises(KeyError, match=r"param_groups\[0\] has no 'momentum_x'"):
        WarmupParam(sgd(), "momentum_x", warmup_steps=2)

"""warmup_plugins.timm.create_scheduler_v2 against timm's own factory, driven like timm's train.py:
``step_update(num_updates)`` after every optimizer update, ``step(epoch + 1)`` at each epoch end.
Without new options every LR after every call equals timm's to 1e-9 relative."""

import itertools
import warnings

import pytest
import torch

timm_factory = pytest.importorskip("timm.scheduler.scheduler_factory")

from warmup_plugins.timm import create_scheduler_v2  # noqa: E402

UPDATES_PER_EPOCH = 5


def optimizer(lrs):
    return torch.optim.SGD([{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in lrs], lr=0.1)


def drive(create, kwargs, lrs, metric=None):
    """Run create(...) the way timm's train.py does; return num_epochs and the LRs after every call."""
    opt = optimizer(lrs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # timm's plateau deprecation
        scheduler, num_epochs = create(opt, **kwargs, updates_per_epoch=UPDATES_PER_EPOCH)
    trace = []
    if scheduler is None:
        return num_epochs, trace
    num_updates = 0
    for epoch in range(num_epochs + 2):
        for _ in range(UPDATES_PER_EPOCH):
            num_updates += 1
            scheduler.step_update(num_updates=num_updates)
            trace.append([g["lr"] for g in opt.param_groups])
        scheduler.step(epoch + 1, metric)
        trace.append([g["lr"] for g in opt.param_groups])
    return num_epochs, trace


def assert_same(timm_trace, ours):
    assert len(timm_trace) == len(ours)
    for i, (a_row, b_row) in enumerate(zip(timm_trace, ours)):
        for a, b in zip(a_row, b_row):
            assert abs(a - b) <= 1e-9 * max(abs(a), abs(b)), (i, a, b)


def grid():
    scheds = ["cosine", "tanh", "step", "constant", "multistep", "poly", "wsd", "rsqrt", "plateau", "none"]
    for sched, prefix, on_epochs, warmup, limit, mul, k, cooldown in itertools.product(
        scheds, [False, True], [True, False], [0, 3], [1, 3], [1.0, 1.5], [1.0, 2.0], [0, 2]
    ):
        if sched == "plateau" and not on_epochs:
            continue
        if sched not in ("cosine", "tanh", "poly") and (limit != 1 or mul != 1.0):
            continue
        if sched not in ("cosine", "poly") and k != 1.0:
            continue
        if sched == "rsqrt" and warmup == 0:
            continue  # timm (and we) refuse: the rsqrt timescale defaults to the zero warmup
        kwargs = dict(
            sched=sched,
            warmup_prefix=prefix,
            step_on_epochs=on_epochs,
            warmup_epochs=warmup,
            cycle_limit=limit,
            cycle_mul=mul,
            k_decay=k,
            cooldown_epochs=cooldown,
            num_epochs=12,
            decay_epochs=4 if sched == "step" else (0.25 if sched in ("wsd", "rsqrt") else None),
            decay_milestones=[2, 5, 8],
            min_lr=1e-4,
            warmup_lr=1e-3,
        )
        yield pytest.param(kwargs, id="-".join(f"{v}" for v in kwargs.values() if not isinstance(v, list))[:90])


@pytest.mark.parametrize("lrs", [(0.1,), (0.1, 0.05)], ids=["1group", "2groups"])
@pytest.mark.parametrize("kwargs", list(grid()))
def test_parity_with_timm(kwargs, lrs):
    metric = 1.0 if kwargs["sched"] == "plateau" else None
    n_timm, timm_trace = drive(timm_factory.create_scheduler_v2, kwargs, lrs, metric)
    n_ours, ours = drive(create_scheduler_v2, kwargs, lrs, metric)
    assert n_ours == n_timm
    assert_same(timm_trace, ours)


@pytest.mark.parametrize("noise", [0.3, [0.2, 0.8]])
@pytest.mark.parametrize("on_epochs", [True, False])
def test_parity_with_noise(noise, on_epochs):
    kwargs = dict(
        sched="cosine",
        num_epochs=10,
        warmup_epochs=2,
        noise=noise,
        noise_pct=0.5,
        noise_seed=7,
        step_on_epochs=on_epochs,
    )
    assert_same(
        drive(timm_factory.create_scheduler_v2, kwargs, (0.1,))[1], drive(create_scheduler_v2, kwargs, (0.1,))[1]
    )


def test_parity_plateau_with_an_improving_then_flat_metric():
    metrics = iter([5.0, 4.0, 3.0] + [3.0] * 40)

    kwargs = dict(
        sched="plateau", num_epochs=20, warmup_epochs=2, patience_epochs=1, plateau_mode="min", decay_rate=0.5
    )

    def run(create):
        opt = optimizer((0.1,))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            scheduler, n = create(opt, **kwargs)
        out = []
        for epoch in range(n):
            scheduler.step(epoch + 1, next(metrics))
            out.append([opt.param_groups[0]["lr"]])
        return out

    timm_trace = run(timm_factory.create_scheduler_v2)
    metrics = iter([5.0, 4.0, 3.0] + [3.0] * 40)
    assert_same(timm_trace, run(create_scheduler_v2))
    assert timm_trace[-1][0] < 0.1 * 0.5**3  # the plateau really reduced it


def test_returns_none_for_sched_none_like_timm():
    assert create_scheduler_v2(optimizer((0.1,)), sched="none", num_epochs=7) == (None, 7)

"""Every adapter's counters and state values are plain Python types (issue 28 case 5), whatever the loop feeds it.

timm's ``step_update`` in a loop over ``np.arange`` stored a ``numpy.int64`` as ``last_t``, and
``torch.load(weights_only=True)``, torch's default, then refused the checkpoint. Each adapter is driven here
with NumPy (and Tensor) counters, metrics and losses; then every counter, every value of its state dict (nested
ones included) and of its training record must be an ``int``, ``float``, ``bool``, ``str`` or ``None`` (exactly
those types: ``numpy.float64`` is a ``float`` subclass and is refused too), and the state dict must round-trip
through ``torch.save`` and ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import io
import json
import warnings
from typing import Any

import numpy as np
import pytest
import torch

from warmup_plugins import AdaptiveWarmup, WarmupSchedule
from warmup_plugins.torch import WarmupLR, WarmupParam, WithWarmup

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")
SCHED = WarmupSchedule(warmup_steps=4, total_steps=20, decay_type="cosine", end_factor=0.1)
PLAIN = (int, float, bool, str, type(None))


def not_plain(value: Any, where: str = "state") -> list[str]:
    """The places in ``value`` holding something other than plain data (dicts with str keys, lists, tuples)."""
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in ([f"{where} key {k!r}"] if type(k) is not str else [])
                + not_plain(v, f"{where}[{k!r}]")]  # fmt: skip
    if isinstance(value, (list, tuple)):
        return [p for i, v in enumerate(value) for p in not_plain(v, f"{where}[{i}]")]
    return [] if type(value) in PLAIN else [f"{where}: {type(value).__module__}.{type(value).__name__} {value!r}"]


def check_plain(state: dict, counters: dict[str, Any], record: Any = None) -> None:
    assert not_plain(state) == []
    assert not_plain(counters, "counter") == []
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    assert torch.load(buffer, weights_only=True) == state
    if record is not None:
        assert not_plain(record.to_dict(), "record") == []
        json.dumps(record.to_dict())


def sgd() -> torch.optim.Optimizer:
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(2))], lr=0.1, momentum=0.9)


@pytest.mark.parametrize("adaptive", [False, True])
def test_warmup_lr(adaptive):
    opt = sgd()
    scheduler = WarmupLR(opt, SCHED, adaptive=AdaptiveWarmup() if adaptive else None, record=True)
    for loss in np.linspace(2.0, 1.0, 8, dtype=np.float32):
        scheduler.step(loss=loss, grad_norm=torch.tensor(0.5))
    if not adaptive:
        scheduler.step(np.int64(12))
        scheduler.step(np.float64(13.5))
    counters = {"last_epoch": scheduler.last_epoch, "_step_count": scheduler._step_count, "lrs": scheduler._last_lr}
    check_plain(scheduler.state_dict(), counters, scheduler.record)


def test_warmup_lr_started_at_a_numpy_last_epoch():
    opt = sgd()
    opt.param_groups[0]["initial_lr"] = 0.1
    scheduler = WarmupLR(opt, SCHED, last_epoch=np.int64(5))
    scheduler.step()
    check_plain(scheduler.state_dict(), {"last_epoch": scheduler.last_epoch, "_step_count": scheduler._step_count})


def test_warmup_param_and_with_warmup():
    opt = sgd()
    param = WarmupParam(opt, "momentum", SCHED)
    for _ in range(5):
        param.step()
    check_plain(param.state_dict(), {"step_index": param.step_index})
    for wrapped in (torch.optim.lr_scheduler.StepLR(opt, 3), torch.optim.lr_scheduler.ReduceLROnPlateau(opt)):
        scheduler = WithWarmup(wrapped, warmup_steps=np.int64(2))
        for metric in np.linspace(1.0, 2.0, 6):
            scheduler.step()
            if isinstance(wrapped, torch.optim.lr_scheduler.ReduceLROnPlateau):
                scheduler.step(metric)
        check_plain(scheduler.state_dict(), {"last_epoch": scheduler.last_epoch, "_step_count": scheduler._step_count})


@pytest.mark.parametrize("adaptive", [False, True])
def test_timm_scheduler_stepped_from_numpy(adaptive):
    pytest.importorskip("timm")
    from warmup_plugins.timm import WarmupScheduler

    opt = sgd()
    scheduler = WarmupScheduler(
        opt, SCHED, t_in_epochs=False, adaptive=AdaptiveWarmup() if adaptive else None, record=True
    )
    for n in np.arange(1, 9):  # timm's loop: step_update(num_updates) after each update
        scheduler.step_update(n, metric=np.float32(1.0))
    scheduler.step(np.int64(1), metric=np.float64(0.5))
    check_plain(scheduler.state_dict(), {"last_t": scheduler.last_t}, scheduler.record)


def test_timm_epoch_stepping_and_the_plateau_scheduler_from_numpy():
    pytest.importorskip("timm")
    from warmup_plugins.timm import WarmupScheduler, create_scheduler_v2

    opt = sgd()
    scheduler = WarmupScheduler(opt, SCHED, noise_range_t=2, noise_seed=1)
    for epoch in np.arange(1, 6):
        scheduler.step(epoch, metric=np.float64(0.1))
    check_plain(scheduler.state_dict(), {"last_t": scheduler.last_t})
    plateau, _ = create_scheduler_v2(sgd(), sched="plateau", num_epochs=np.int64(10), warmup_epochs=np.int64(2))
    for epoch in np.arange(1, 6):
        plateau.step(epoch, metric=np.float32(epoch))
    check_plain(plateau.state_dict(), {"last_t": plateau.last_t})


def test_fastai_callback_state_and_record():
    pytest.importorskip("fastai")
    from tests.fastai_adapter.common import make_dls, make_learner, quiet_fit
    from warmup_plugins.fastai import _ADAPTIVE_KEY, WarmupCallback

    callback = WarmupCallback(warmup_pct=0.25, decay_type="cosine", adaptive=AdaptiveWarmup(), record=True)
    learn = make_learner(cbs=[callback], dls=make_dls(n_train=32, n_valid=8))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        quiet_fit(learn, 2, 0.1)
    check_plain(learn.opt.hypers[0][_ADAPTIVE_KEY], {}, callback.record)

"""The hosts' private API this package still uses, each name in one place, checked so that a rename fails loudly.

Where a host offers no public way, the private name is used in exactly one place:

============================================  ==================================================  ===========
host's private name                            its one home                                        why
============================================  ==================================================  ===========
torch ``LRScheduler._initial_step``             ``warmup_plugins.torch._DriverScheduler``           (1)
timm ``Scheduler._is_apply_noise``,             ``warmup_plugins.timm.WarmupScheduler._timm_noise``  (2)
``Scheduler._calculate_noise``
fastai ``SkipToEpoch._skip_to``                 ``warmup_plugins.fastai._start_epoch``              (3)
torch ``_foreach_sub_``, ``_foreach_copy_``,    ``warmup_plugins.extensions.update_size``           (4)
``_foreach_norm``
============================================  ==================================================  ===========

(1) torch steps a scheduler at construction, and ``SequentialLR`` restarts its first member, through it; no
update happened there, so the driver writes the values without observing anything. (2) timm's noise is drawn
only inside its private methods; the resumed LRs of a noisy schedule need it without writing. (3) fastai keeps
``fit(start_epoch=e)`` only there, and an adaptive warmup resumes from the state saved at the end of ``e - 1``.
(4) the update-size probe measures every tensor of the model once per warmup update, batched (one kernel per op
and device); the public ``torch.nn.utils.get_total_norm`` combines the per-tensor norms in the tensors' own dtype
(a half-precision model's total norm overflows at 65504, where the probe combines them in float32), and torch has
no public batched copy or subtraction.

If one of these tests fails, the host renamed or changed the name: update its one home, then this test.
"""

from __future__ import annotations

import inspect

import pytest
import torch
from torch.optim.lr_scheduler import LinearLR, LRScheduler, SequentialLR

from warmup_plugins import WarmupSchedule
from warmup_plugins.torch import WarmupLR, WithWarmup

SCHED = WarmupSchedule(warmup_steps=4, total_steps=20, decay_type="cosine")


def sgd() -> torch.optim.Optimizer:
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)


def parameters(method: object) -> list[str] | None:
    """The parameter names of a host's method; None when the host has no such name."""
    return None if method is None else list(inspect.signature(method).parameters)


def test_torch_still_steps_a_scheduler_through_initial_step():
    assert parameters(getattr(LRScheduler, "_initial_step", None)) == ["self"], (
        "torch changed LRScheduler._initial_step: update warmup_plugins.torch._DriverScheduler"
    )
    calls = []

    class Spy(WarmupLR):
        def _initial_step(self) -> None:
            calls.append(self.last_epoch)
            super()._initial_step()

    opt = sgd()
    first = Spy(opt, SCHED)
    assert calls == [-1], "torch's LRScheduler.__init__ no longer calls _initial_step: update _DriverScheduler"
    SequentialLR(opt, [first, LinearLR(opt, total_iters=2)], milestones=[10])
    assert calls == [-1, -1], "torch's SequentialLR no longer restarts its first member through _initial_step"
    assert first.last_epoch == 0 and opt.param_groups[0]["lr"] == 0.1 * SCHED(0)
    opt = sgd()
    WithWarmup(LinearLR(opt, start_factor=1.0, total_iters=2), warmup_steps=3)  # the override's other user
    assert opt.param_groups[0]["lr"] == 0.1 * 0.01


def test_timm_still_draws_noise_through_its_two_private_methods():
    pytest.importorskip("timm")
    from timm.scheduler import CosineLRScheduler
    from timm.scheduler.scheduler import Scheduler

    from warmup_plugins.timm import WarmupScheduler

    for name in ("_is_apply_noise", "_calculate_noise"):
        assert parameters(getattr(Scheduler, name, None)) == ["self", "t"], (
            f"timm changed Scheduler.{name}: update warmup_plugins.timm.WarmupScheduler._timm_noise"
        )
    noise = {"noise_range_t": (3, 7), "noise_pct": 0.5, "noise_seed": 5}
    ours = WarmupScheduler(sgd(), SCHED.replace(warmup_steps=0, warmup_type="none"), **noise)
    timm = CosineLRScheduler(sgd(), t_initial=20, **noise)
    for t in range(10):
        drawn = ours._timm_noise(t)
        assert (drawn is None) == (not 3 <= t < 7)
        if drawn is not None:  # timm's own cosine scheduler, stepped to t, applies the same factor
            timm.step(t)
            assert timm.optimizer.param_groups[0]["lr"] == pytest.approx(timm._get_lr(t)[0] * (1 + drawn), rel=1e-12)


def test_fastai_still_keeps_the_start_epoch_in_skip_to_epoch():
    pytest.importorskip("fastai")
    from fastai.callback.core import Callback
    from fastai.learner import SkipToEpoch

    from tests.fastai_adapter.common import make_learner, quiet_fit
    from warmup_plugins.fastai import _start_epoch

    assert SkipToEpoch(3)._skip_to == 3, (
        "fastai renamed SkipToEpoch._skip_to: update warmup_plugins.fastai._start_epoch"
    )
    seen = []

    class Probe(Callback):
        def before_fit(self) -> None:
            seen.append(_start_epoch(self.learn))

    learn = make_learner(cbs=[Probe()])
    quiet_fit(learn, 3, start_epoch=2)
    quiet_fit(learn, 1)
    assert seen == [2, 0], "fastai's fit(start_epoch=) no longer reaches SkipToEpoch._skip_to by before_fit"


def test_torch_still_has_the_batched_ops_the_update_size_probe_uses():
    tensors = [torch.arange(6.0).reshape(2, 3), torch.full((4,), -2.0)]
    for name in ("_foreach_sub_", "_foreach_copy_", "_foreach_norm"):
        assert callable(getattr(torch, name, None)), (
            f"torch removed {name}: update warmup_plugins.extensions.update_size"
        )
    norms = torch._foreach_norm(tensors)
    assert [n.item() for n in norms] == [torch.linalg.vector_norm(t).item() for t in tensors]
    copies = [torch.zeros_like(t) for t in tensors]
    torch._foreach_copy_(copies, tensors)
    torch._foreach_sub_(copies, [torch.ones_like(t) for t in tensors])
    assert all(torch.equal(c, t - 1) for c, t in zip(copies, tensors)), "torch changed _foreach_copy_/_foreach_sub_"

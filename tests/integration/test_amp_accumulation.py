"""Gradient accumulation and AMP in every adapter: the schedule counts optimizer updates, not micro-batches.

The policy for updates that ``torch.amp.GradScaler`` skips (inf/NaN gradients) is the same in every
adapter: **a skipped update still advances the schedule**. Update ``k`` is the ``k``-th time the
loop reaches its optimizer step, taken or skipped: torch's natural loop ``scaler.step(opt);
scaler.update(); scheduler.step()``, timm's ``train.py`` (``num_updates`` counts every update, skipped
or not) and fastai (``k`` follows the batch counters). No torch warning fires on that path, even when
the very first update is skipped. The grad scaler here is the real CPU one (``GradScaler('cpu')``);
a skip is forced by writing an inf into a gradient.
"""

import math
import warnings

import pytest
import torch
from torch.optim.lr_scheduler import LambdaLR

from tests.helpers import batches, tiny_model
from warmup_plugins import WarmupSchedule
from warmup_plugins.torch import WarmupLR

SCHED = WarmupSchedule(warmup_type="linear", warmup_steps=6, total_steps=16, decay_type="cosine", end_factor=0.1)
SKIPPED = (0, 3, 9)  # updates whose gradients get an inf: the very first one included


def poison(model: torch.nn.Module) -> None:
    """An inf gradient, as an fp16 overflow gives: the grad scaler skips this update."""
    next(model.parameters()).grad.view(-1)[0] = math.inf


def amp_loop(scheduler_factory, n_updates: int, accumulation: int, skipped=SKIPPED):
    """torch's AMP recipe with gradient accumulation; returns the LR every micro-batch saw, per update,
    the updates the scaler really skipped and the scheduler."""
    model = tiny_model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = scheduler_factory(opt)
    scaler = torch.amp.GradScaler("cpu")
    data = iter(batches(n_updates * accumulation))
    seen, really_skipped = [], []
    for k in range(n_updates):
        micro = []
        for _ in range(accumulation):
            x, y = next(data)
            micro.append(float(opt.param_groups[0]["lr"]))  # a Tensor LR is filled in place: copy its value
            with torch.autocast("cpu", dtype=torch.bfloat16):
                loss = torch.nn.functional.cross_entropy(model(x), y) / accumulation
            scaler.scale(loss).backward()
        if k in skipped:
            poison(model)
        before = [p.detach().clone() for p in model.parameters()]
        scale = scaler.get_scale()
        scaler.step(opt)
        scaler.update()
        scheduler.step()  # once per update, taken or skipped
        opt.zero_grad()
        if all(torch.equal(a, p) for a, p in zip(before, model.parameters())):
            assert scaler.get_scale() < scale  # a real skip: the scaler backed off
            really_skipped.append(k)
        seen.append(micro)
    return seen, really_skipped, scheduler


# ---------------------------------------------------------------------------- plain torch
@pytest.mark.parametrize("accumulation", [1, 4])
def test_torch_schedule_advances_per_update_and_on_skipped_updates(accumulation):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no torch warning on the AMP path, even with update 0 skipped
        seen, skipped, scheduler = amp_loop(lambda opt: WarmupLR(opt, SCHED), 16, accumulation)
    assert skipped == list(SKIPPED)
    assert seen == [[0.1 * SCHED(k)] * accumulation for k in range(16)]  # every micro-batch of update k sees f(k)
    assert scheduler.last_epoch == 16


def test_stock_torch_scheduler_warns_on_the_same_path():
    """Why it matters: torch's own schedulers warn when the first update is skipped (the wrapped
    ``optimizer.step`` never ran); ``WarmupLR`` overrides ``step`` and does not."""
    with pytest.warns(UserWarning, match=r"lr_scheduler.step\(\)` before `optimizer.step\(\)"):
        amp_loop(lambda opt: LambdaLR(opt, SCHED), 3, 1)


def test_torch_tensor_lrs_with_the_grad_scaler():
    def factory(opt):
        for group in opt.param_groups:
            group["lr"] = torch.tensor(group["lr"])
        return WarmupLR(opt, SCHED)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        seen, skipped, _ = amp_loop(factory, 16, 2)
    assert skipped == list(SKIPPED)
    assert seen == [[float(torch.tensor(float(torch.tensor(0.1)) * SCHED(k)))] * 2 for k in range(16)]


# ---------------------------------------------------------------------------- timm
def test_timm_train_py_loop_with_native_scaler_and_accumulation():
    """timm's ``train.py``: ``NativeScaler`` with ``need_update``, ``num_updates += 1`` after every update
    (skipped or not), ``step_update(num_updates)``, ``step(epoch + 1)`` at each epoch end."""
    pytest.importorskip("timm")
    from timm.utils import NativeScaler

    from warmup_plugins.timm import WarmupScheduler

    accumulation, epochs, updates_per_epoch = 3, 2, 8
    model = tiny_model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = WarmupScheduler(opt, SCHED, t_in_epochs=False)
    loss_scaler = NativeScaler(device="cpu")  # backward, then (need_update) scaler.step and update in one call
    overflow = [False]
    next(model.parameters()).register_hook(lambda grad: torch.full_like(grad, math.inf) if overflow[0] else grad)
    data = batches(epochs * updates_per_epoch * accumulation)
    used, skipped, num_updates = [], [], 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for epoch in range(epochs):
            for batch_idx in range(updates_per_epoch * accumulation):
                x, y = data[epoch * updates_per_epoch * accumulation + batch_idx]
                need_update = (batch_idx + 1) % accumulation == 0
                if need_update:
                    used.append(opt.param_groups[0]["lr"])
                with torch.autocast("cpu", dtype=torch.bfloat16):
                    loss = torch.nn.functional.cross_entropy(model(x), y) / accumulation
                overflow[0] = need_update and num_updates in SKIPPED
                scale = loss_scaler._scaler.get_scale()
                loss_scaler(loss, opt, need_update=need_update)
                if not need_update:
                    continue
                if loss_scaler._scaler.get_scale() < scale:
                    skipped.append(num_updates)
                num_updates += 1
                opt.zero_grad()
                scheduler.step_update(num_updates=num_updates)
            scheduler.step(epoch + 1)
    assert skipped == list(SKIPPED)
    assert used == [0.1 * SCHED(k) for k in range(16)]


# ---------------------------------------------------------------------------- fastai
def fastai_pieces():
    pytest.importorskip("fastai")
    from fastai.callback.core import Callback
    from fastai.callback.fp16 import MixedPrecision

    class CPUMixedPrecision(MixedPrecision):
        """fastai's ``MixedPrecision`` (its ``before_step`` skips via ``CancelStepException``) with the CPU
        grad scaler and bf16 autocast: fastai's own builds a CUDA scaler, disabled without a GPU."""

        def before_fit(self):
            self.autocast = torch.autocast("cpu", dtype=torch.bfloat16)
            self.learn.scaler, self.scales = torch.amp.GradScaler("cpu"), []

    class Overflow(Callback):
        """An inf gradient on some batches; records which real optimizer steps were skipped."""

        order = 5  # before MixedPrecision's before_step

        def __init__(self, at):
            self.at, self.skipped = at, []

        def after_backward(self):
            n_iter = len(self.learn.dls.train)
            if self.learn.epoch * n_iter + self.learn.iter in self.at:
                poison(self.learn.model)
                self.skipped.append(self.learn.epoch * n_iter + self.learn.iter)

    return CPUMixedPrecision, Overflow


def test_fastai_grad_scaler_skips_still_advance_the_schedule():
    CPUMixedPrecision, Overflow = fastai_pieces()
    from tests.fastai_adapter.common import make_learner, quiet_fit
    from warmup_plugins.fastai import WarmupCallback

    plain = quiet_fit(make_learner(cbs=[WarmupCallback(SCHED)]), 2, 0.1)
    overflow = Overflow(SKIPPED)
    learn = make_learner(cbs=[WarmupCallback(SCHED), CPUMixedPrecision(), overflow])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with learn.no_bar(), learn.no_logging():
            learn.fit(2, 0.1)
    trace = learn.trace
    assert overflow.skipped == list(SKIPPED)
    assert len(trace.steps) == 16 - len(SKIPPED)  # fastai's MixedPrecision cancelled those steps
    assert trace.lrs("batches") == plain.lrs("batches") == [[0.1 * SCHED(k)] for k in range(16)]


def test_fastai_gradient_accumulation_is_covered():
    """fastai's ``GradientAccumulation`` is handled by the callback's update index ``k = (epoch * n_iter +
    iter) // a``; its tests live in test_fastai_callback.py (kept there, checked to exist here)."""
    pytest.importorskip("fastai")
    from tests.fastai_adapter import test_fastai_callback as callback_tests

    for name in (
        "test_gradient_accumulation_follows_optimizer_updates",
        "test_gradient_accumulation_with_epoch_lengths",
        "test_random_fits_match_warmup_lr_bit_for_bit",
        "test_a_skipped_step_still_advances_the_schedule",
    ):
        assert callable(getattr(callback_tests, name))

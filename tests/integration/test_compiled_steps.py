"""``torch.compile(optimizer.step)`` with Tensor LRs compiles at most twice over a whole schedule, in every adapter.

Each adapter fills the Tensor LR in place (same object, new value), so the compiled step reads it
as an input instead of baking a constant in: dynamo compiles once (twice at most, when it first
sees the value change), whatever the schedule does. The schedule here covers the warmup, the whole
decay and updates past ``T``. The CUDA-graph counterpart needs a GPU: ``benchmarks/cuda_graph_check.py``.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch.optim.lr_scheduler import LambdaLR

from tests.helpers import batches, tiny_model
from warmup_plugins import WarmupSchedule
from warmup_plugins.torch import WarmupLR

ROOT = Path(__file__).resolve().parents[2]
SCHED = WarmupSchedule(warmup_type="cosine", warmup_steps=6, total_steps=20, decay_type="cosine", end_factor=0.05)
UPDATES = 24  # past T


def counter():
    from torch._dynamo.testing import CompileCounterWithBackend

    torch._dynamo.reset()
    return CompileCounterWithBackend("inductor")


def sgd_with_tensor_lrs(model):
    params = list(model.parameters())
    groups = [{"params": params[:2], "lr": torch.tensor(0.1)}, {"params": params[2:], "lr": torch.tensor(0.05)}]
    return torch.optim.SGD(groups, momentum=0.9)


def compiled_loop(after_update) -> tuple[int, list[list[float]]]:
    """A torch loop with a compiled optimizer step; returns the compile count and the LRs each update used."""
    model = tiny_model()
    opt = sgd_with_tensor_lrs(model)
    lr_tensors = [g["lr"] for g in opt.param_groups]
    scheduler = after_update(opt)
    compiles = counter()
    step = torch.compile(opt.step, backend=compiles)
    used = []
    for n, (x, y) in enumerate(batches(UPDATES), start=1):
        used.append([float(g["lr"]) for g in opt.param_groups])
        torch.nn.functional.cross_entropy(model(x), y).backward()
        step()
        opt.zero_grad()
        scheduler(n)
    assert all(g["lr"] is t for g, t in zip(opt.param_groups, lr_tensors))  # filled in place, never replaced
    return compiles.frame_count, used


def expected(bases=(0.1, 0.05)) -> list[list[float]]:
    bases = [float(torch.tensor(b)) for b in bases]
    return [[float(torch.tensor(b * SCHED(k))) for b in bases] for k in range(UPDATES)]


def test_torch_warmup_lr():
    def make(opt):
        scheduler = WarmupLR(opt, SCHED)
        return lambda n: scheduler.step()

    frames, used = compiled_loop(make)
    assert 1 <= frames <= 2
    assert used == expected()


def test_timm_warmup_scheduler():
    pytest.importorskip("timm")
    from warmup_plugins.timm import WarmupScheduler

    def make(opt):
        scheduler = WarmupScheduler(opt, SCHED, t_in_epochs=False)

        def after_update(n):
            scheduler.step_update(num_updates=n)
            if n % 8 == 0:
                scheduler.step(n // 8)

        return after_update

    frames, used = compiled_loop(make)
    assert 1 <= frames <= 2
    assert used == expected()


def test_fastai_warmup_callback_in_a_fit():
    """A real ``Learner.fit``: an ``OptimWrapper`` around torch's SGD, Tensor LRs put in after ``fit`` set its
    floats, and the wrapped optimizer's ``step`` replaced by a compiled one."""
    pytest.importorskip("fastai")
    from fastai.callback.core import Callback
    from fastai.optimizer import OptimWrapper
    from fastcore.basics import partialler

    from tests.fastai_adapter.common import make_learner, quiet_fit
    from warmup_plugins.fastai import WarmupCallback

    class CompiledTensorStep(Callback):
        order = 0  # before WarmupCallback (60) reads its bases

        def before_fit(self):
            torch_opt = self.learn.opt.opt
            self.tensors = []
            for group in torch_opt.param_groups:
                group["lr"] = torch.tensor(float(group["lr"]))
                self.tensors.append(group["lr"])
            self.compiles = counter()
            torch_opt.step = torch.compile(torch_opt.step, backend=self.compiles)

        def before_step(self):
            assert all(g["lr"] is t for g, t in zip(self.learn.opt.opt.param_groups, self.tensors))

    learn = make_learner(
        cbs=[WarmupCallback(SCHED), CompiledTensorStep()],
        opt_func=partialler(OptimWrapper, opt=torch.optim.SGD, momentum=0.9),
    )
    trace = quiet_fit(learn, 3, 0.1)  # 3 epochs x 8 batches = 24 updates, past T = 20
    assert len(trace.steps) == UPDATES
    assert 1 <= learn.compiled_tensor_step.compiles.frame_count <= 2
    assert learn.warmup.hps["lr"] == [float(torch.tensor(0.1)) * SCHED(k) for k in range(UPDATES)]


@pytest.mark.skipif(torch.cuda.is_available(), reason="on a GPU, run the check itself")
def test_cuda_graph_check_says_it_needs_a_gpu():
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "cuda_graph_check.py")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, "CUDA_VISIBLE_DEVICES": ""},
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "needs a CUDA GPU" in result.stderr and "nothing was checked" in result.stderr


def _count_compiles(scheduler_factory, steps):
    """Compiles of a compiled SGD step with a Tensor LR over ``steps`` updates, stepping the scheduler each."""
    model = tiny_model()
    opt = torch.optim.SGD(model.parameters(), lr=torch.tensor(0.1), momentum=0.9)
    sched = scheduler_factory(opt)
    compiles = counter()
    compiled_step = torch.compile(opt.step, backend=compiles)
    for x, y in batches(steps):
        torch.nn.functional.cross_entropy(model(x), y).backward()
        compiled_step()
        opt.zero_grad()
        sched.step()
    return compiles.frame_count


def test_compiled_optimizer_step_compiles_at_most_twice_over_a_schedule():
    frames = _count_compiles(lambda opt: WarmupLR(opt, SCHED), 32)
    assert 1 <= frames <= 2


def test_writing_floats_recompiles_the_step():
    """The failure WarmupLR avoids: a float LR is baked into the compiled SGD step, so every new
    value recompiles (until torch's recompile limit of 8 makes it fall back to eager)."""

    class FloatWriter(LambdaLR):
        def step(self, epoch=None):
            super().step(epoch)
            for g, lr in zip(self.optimizer.param_groups, self._last_lr):
                g["lr"] = float(lr)

    frames = _count_compiles(lambda opt: FloatWriter(opt, lambda k: SCHED(k)), 12)
    assert frames > 4

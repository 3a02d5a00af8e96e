"""PeakFinder through every adapter: the same losses give the same LR at every update, bit for bit, in torch's
WarmupLR, timm's WarmupScheduler, fastai's WarmupCallback and fit_warmup, and the transformers drop-in; it resumes
exactly in every load order; two gloo ranks with different local losses take the same decision."""

from __future__ import annotations

import functools
import io
import math

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from tests.helpers import tiny_model
from warmup_plugins import PeakFinder, TrainingRecord, diagnose
from warmup_plugins.monitoring.plotting import plot_peak_search
from warmup_plugins.timm import WarmupScheduler
from warmup_plugins.torch import WarmupLR

N_ITER, EPOCHS = 32, 8
T = N_ITER * EPOCHS  # 256 updates; search 64
BOUNDS = [0.4, 0.04]  # two param groups: their ratio is kept


def scripted(n: int = T + 4) -> list[float]:
    """Falls, a bump that recovers, then a rise at update 45 that does not: one hold that passes, one decision."""
    losses = [2.3 - 0.01 * k for k in range(n)]
    for k in range(20, 24):
        losses[k] += 0.5
    for k in range(45, n):
        losses[k] = losses[44] + 0.04 * (k - 44)
    return losses


LOSSES = scripted()


def _opt(model: torch.nn.Module) -> torch.optim.Optimizer:
    return torch.optim.SGD(
        [{"params": model[0].parameters(), "lr": BOUNDS[0]}, {"params": model[2].parameters(), "lr": BOUNDS[1]}],
        momentum=0.9,
    )


def _train(model: torch.nn.Module, opt: torch.optim.Optimizer, seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    x, y = torch.randn(4, 6, generator=g), torch.randint(0, 3, (4,), generator=g)
    loss = torch.nn.functional.cross_entropy(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()


@functools.cache
def _torch_trace(n: int) -> tuple[tuple[float, ...], ...]:
    return tuple(map(tuple, _run_torch(n)))


def torch_trace(n: int = T) -> list[list[float]]:
    """The LRs of the uninterrupted run (computed once per length)."""
    return [list(lrs) for lrs in _torch_trace(n)]


def _run_torch(n: int) -> list[list[float]]:
    model = tiny_model()
    opt = _opt(model)
    sched = WarmupLR(opt, total_steps=T, decay_type="cosine", adaptive=PeakFinder())
    out = []
    for k in range(n):
        out.append([g["lr"] for g in opt.param_groups])
        _train(model, opt, k)
        sched.step(loss=LOSSES[k])
    return out


def test_timm_gives_the_same_lrs():
    model = tiny_model()
    opt = _opt(model)
    sched = WarmupScheduler(opt, total_steps=T, decay_type="cosine", t_in_epochs=False, adaptive=PeakFinder())
    out = []
    for k in range(T):
        out.append([g["lr"] for g in opt.param_groups])
        _train(model, opt, k)
        sched.step_update(num_updates=k + 1, metric=LOSSES[k])
    whole = torch_trace()
    assert out == whole
    assert sched.adaptive.reason == "rise" and sched.adaptive.holds == 2
    assert whole[0] == [b * 1e-3 for b in BOUNDS]


def test_the_transformers_drop_in_gives_the_same_lrs():
    from warmup_plugins.transformers import get_cosine_schedule_with_warmup, get_scheduler

    for make in (
        lambda opt: get_scheduler("cosine", opt, num_warmup_steps=0, num_training_steps=T, adaptive=PeakFinder()),
        lambda opt: get_cosine_schedule_with_warmup(opt, 0, T, adaptive=PeakFinder()),
    ):
        model = tiny_model()
        opt = _opt(model)
        sched = make(opt)
        out = []
        for k in range(T):
            out.append([g["lr"] for g in opt.param_groups])
            _train(model, opt, k)
            sched.step(loss=LOSSES[k])
        assert out == torch_trace()


fastai = pytest.importorskip("fastai")


def _fastai_learner(cbs=()):
    from fastai.callback.core import Callback

    from tests.fastai_adapter.common import make_dls, make_learner

    class ScriptedLoss(Callback):
        """Replaces each training batch's loss by the script's value (what WarmupCallback reads as learn.loss)."""

        order, run_valid = 0, False

        def after_loss(self):  # the fit's update index, so a resumed fit (start_epoch) goes on with the script
            self.learn.loss = torch.tensor(LOSSES[self.learn.epoch * N_ITER + self.learn.iter])

    dls = make_dls(n_train=N_ITER * 8, n_valid=8, bs=8)
    return make_learner(groups=3, cbs=[ScriptedLoss(), *cbs], dls=dls, lr=0.4)


def test_fastai_callback_and_fit_warmup_give_the_same_lrs():
    from tests.fastai_adapter.common import quiet_fit
    from warmup_plugins.fastai import WarmupCallback

    learn = _fastai_learner([WarmupCallback(decay_type="cosine", adaptive=PeakFinder())])
    bases = [0.4, 0.04, 0.004]
    lrs = quiet_fit(learn, EPOCHS, bases).lrs("batches")
    expected = _three_group_trace(bases)
    assert lrs == expected
    learn = _fastai_learner()
    finder = PeakFinder()
    lrs = quiet_fit(learn, EPOCHS, bases, method="fit_warmup", adaptive=finder).lrs("batches")
    assert lrs == expected
    assert finder.reason == "rise"


def _three_group_trace(bases: list[float]) -> list[list[float]]:
    params = [torch.nn.Parameter(torch.zeros(1)) for _ in bases]
    opt = torch.optim.SGD([{"params": [p], "lr": b} for p, b in zip(params, bases)])
    sched = WarmupLR(opt, total_steps=T, decay_type="cosine", adaptive=PeakFinder())
    out = []
    for k in range(T):
        out.append([g["lr"] for g in opt.param_groups])
        opt.step()
        sched.step(loss=LOSSES[k])
    return out


# ---------------------------------------------------------------------------------------------- resume
ORDERS = ["optimizer first", "scheduler first", "scheduler built last"]
POINTS = {"in the ramp": 15, "in a hold": 50, "just decided": 66, "in the decay": 150, "after T": T + 2}


def _checkpoint(objects: dict) -> dict:
    buffer = io.BytesIO()
    torch.save(objects, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


BUILDERS = {
    "WarmupLR": lambda opt: WarmupLR(opt, total_steps=T, decay_type="cosine", adaptive=PeakFinder()),
    "timm": lambda opt: WarmupScheduler(
        opt, total_steps=T, decay_type="cosine", t_in_epochs=False, adaptive=PeakFinder()
    ),
}


def _step(sched: object, k: int) -> None:
    if isinstance(sched, WarmupScheduler):
        sched.step_update(num_updates=k + 1, metric=LOSSES[k])
    else:
        sched.step(loss=LOSSES[k])


@pytest.mark.parametrize("builder", BUILDERS)
@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("point", POINTS)
def test_resume_in_every_order_gives_the_uninterrupted_lrs(builder, order, point):
    make, at = BUILDERS[builder], POINTS[point]
    n = T + 4
    model = tiny_model()
    opt = _opt(model)
    sched = make(opt)
    lrs = []
    for k in range(n):
        if k == at:
            ckpt = _checkpoint({"model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict()})
            model = tiny_model(seed=1)
            model.load_state_dict(ckpt["model"])
            opt = _opt(model)
            if order == "scheduler built last":
                opt.load_state_dict(ckpt["opt"])
                sched = make(opt)
                sched.load_state_dict(ckpt["sched"])
            else:
                sched = make(opt)
                first, second = (ckpt["opt"], ckpt["sched"]) if order == "optimizer first" else (ckpt["sched"], None)
                if order == "optimizer first":
                    opt.load_state_dict(first)
                    sched.load_state_dict(second)
                else:
                    sched.load_state_dict(ckpt["sched"])
                    opt.load_state_dict(ckpt["opt"])
        lrs.append([g["lr"] for g in opt.param_groups])
        _train(model, opt, k)
        _step(sched, k)
    assert lrs == torch_trace(n)


def test_fastai_resumes_from_learn_save_mid_search(tmp_path):
    from fastai.callback.tracker import SaveModelCallback

    from tests.fastai_adapter.common import quiet_fit
    from warmup_plugins.fastai import WarmupCallback

    bases = [0.4, 0.04, 0.004]
    learn = _fastai_learner([first := WarmupCallback(decay_type="cosine", adaptive=PeakFinder())])
    learn.path = tmp_path
    full = quiet_fit(learn, EPOCHS, bases, cbs=[SaveModelCallback(every_epoch=True, fname="m", with_opt=True)])
    full = full.lrs("batches")
    again = _fastai_learner([cb := WarmupCallback(decay_type="cosine", adaptive=PeakFinder())])
    again.path = tmp_path
    again.load("m_0")  # after epoch 0: update 32, in the search
    resumed = quiet_fit(again, EPOCHS, bases, start_epoch=1).lrs("batches")
    assert cb.adaptive.reason == "rise" and cb.adaptive.decided_at > N_ITER  # decided after the resume
    assert cb.adaptive.report() == first.adaptive.report()
    assert resumed == full[N_ITER:]


# ---------------------------------------------------------------------------------------------- record and report
def _recorded_run() -> WarmupLR:
    """A whole recorded run of the fixed losses through WarmupLR with a PeakFinder."""
    model = tiny_model()
    opt = _opt(model)
    sched = WarmupLR(opt, total_steps=T, decay_type="cosine", adaptive=PeakFinder(), record=True)
    for k in range(T):
        _train(model, opt, k)
        sched.step(loss=LOSSES[k])
    return sched


def test_the_record_diagnose_and_the_plot_show_the_search(tmp_path):
    sched = _recorded_run()
    report = sched.record.meta["peak_finder"]
    assert report["decided_at"] == sched.adaptive.decided_at == sched.record.meta["warmup_updates"]
    line = sched.adaptive.summary(BOUNDS[0])
    assert line == f"peak found at update {report['decided_at']}: LR {BOUNDS[0] * report['peak_factor']:.3g} " + (
        f"({report['peak_factor']:.3g}x the bound)"
    )
    loaded = TrainingRecord.from_dict(sched.record.to_dict())
    assert f"note: {line}" in str(diagnose(loaded))
    path = plot_peak_search(loaded, tmp_path / "search")
    assert path.name == "search.png" and path.stat().st_size > 10_000


# ---------------------------------------------------------------------------------------------- DDP
def _rank_worker(rank: int, store: str, out: str) -> None:
    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=2)
    try:
        torch.manual_seed(0)
        model = torch.nn.parallel.DistributedDataParallel(tiny_model())
        opt = torch.optim.SGD(model.parameters(), lr=0.4)
        sched = WarmupLR(opt, total_steps=T, decay_type="cosine", adaptive=PeakFinder())
        lrs = []
        for k in range(T):
            lrs.append(opt.param_groups[0]["lr"])
            _train(model, opt, 10 * k + rank)  # each rank its own shard
            # each rank's own local loss: rank 1 sees the rise, rank 0 does not; their mean does
            local = LOSSES[k] if rank == 1 else 2.3 - 0.01 * k
            sched.step(loss=local)
        torch.save({"lrs": lrs, "report": sched.adaptive.report()}, f"{out}.{rank}")
    finally:
        dist.destroy_process_group()


@pytest.mark.skipif(not dist.is_available(), reason="torch.distributed is not available")
def test_two_ranks_with_different_losses_take_the_same_decision(tmp_path):
    out = str(tmp_path / "rank")
    mp.spawn(_rank_worker, args=(str(tmp_path / "store"), out), nprocs=2, join=True)
    first, second = (torch.load(f"{out}.{rank}", weights_only=True) for rank in (0, 1))
    assert first["lrs"] == second["lrs"]
    assert first["report"] == second["report"]
    assert first["report"]["reason"] == "rise"  # the mean of the two ranks' losses rose
    assert all(math.isfinite(v) for v in first["lrs"])


def test_the_cli_draws_the_search_and_prints_the_verdict(tmp_path, capsys):
    from warmup_plugins.cli import main

    sched = _recorded_run()
    saved = sched.record.save(tmp_path / "run.json")
    assert main(["plot-search", str(saved), "-o", str(tmp_path / "search.png")]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == sched.adaptive.summary(BOUNDS[0])
    assert (tmp_path / "search.png").stat().st_size > 10_000
    plain = WarmupLR(torch.optim.SGD(tiny_model().parameters(), lr=0.1), warmup_steps=2, record=True)
    plain.step(loss=1.0)
    other = plain.record.save(tmp_path / "plain.json")
    with pytest.raises(SystemExit) as error:
        main(["plot-search", str(other), "-o", str(tmp_path / "x.png")])
    assert error.value.code == 2
    assert "has no 'peak_finder' report" in capsys.readouterr().err

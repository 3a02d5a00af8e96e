"""``WarmupLR`` inside the hosts users plug a torch scheduler into, checked at every optimizer update.

Every case trains a toy model for a few updates (CPU, no downloads, a temporary folder) and compares
the LR each optimizer update used with the uninterrupted schedule's ``base * f(k)``, computed from
the ``WarmupSchedule`` itself; resumed runs must give exactly the uninterrupted run's LRs.

- torch's own composites, resumed as the hosts below resume them (a fresh optimizer and scheduler
  built as in the first run, then the optimizer's state loaded, then the scheduler's):
  ``SequentialLR`` with ``WarmupLR`` as its first or a later member, ``WithWarmup(StepLR)``, and
  what ``ChainedScheduler`` does with ``WarmupLR`` (pinned below).
- Lightning: ``"interval": "step"``, ``LearningRateMonitor``, ``fit(ckpt_path=...)``.
- HF ``Trainer``: ``optimizers=(opt, WarmupLR(...))``, gradient accumulation 2,
  ``train(resume_from_checkpoint=...)``.
- Accelerate: ``prepare(..., WarmupLR(...))`` gives an ``AcceleratedScheduler``; gradient
  accumulation 2, ``save_state``/``load_state``.

A host whose package is not installed (``pip install -e ".[integration]"``) is skipped.
"""

from __future__ import annotations

import io
import math
import warnings
from collections.abc import Callable

import pytest
import torch
from torch.optim.lr_scheduler import (
    ChainedScheduler,
    CosineAnnealingLR,
    ExponentialLR,
    LinearLR,
    LRScheduler,
    SequentialLR,
    StepLR,
)

from tests.helpers import batches, tiny_model
from warmup_plugins import WarmupSchedule
from warmup_plugins.torch import WarmupLR, WithWarmup

BASE = 0.1


def roundtrip(checkpoint: dict) -> dict:
    """``torch.save`` to a buffer and back with ``weights_only=True``, as the hosts load checkpoints."""
    buffer = io.BytesIO()
    torch.save(checkpoint, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


def expected_lrs(schedule: WarmupSchedule, n: int, base: float = BASE) -> list[float]:
    """The uninterrupted schedule: update ``k`` uses ``base * f(k)``."""
    return [base * schedule(k) for k in range(n)]


# ---------------------------------------------------------------------------- torch's composites, resumed
Build = Callable[[torch.optim.Optimizer], LRScheduler]


def fresh_from(ckpt: dict, build: Build, opt_first: bool):
    """A fresh model, optimizer and scheduler built as in the first run, then the checkpoint loaded into them:
    the model, then the optimizer's state and the scheduler's (``opt_first``) or the reverse."""
    model = tiny_model(seed=1)
    opt = torch.optim.SGD(model.parameters(), lr=BASE, momentum=0.9)
    scheduler = build(opt)
    model.load_state_dict(ckpt["model"])
    loads = [lambda: opt.load_state_dict(ckpt["opt"]), lambda: scheduler.load_state_dict(ckpt["sched"])]
    for load in loads if opt_first else loads[::-1]:
        load()
    return model, opt, scheduler


def composite_run(build: Build, n: int, resume_at: int | None = None, opt_first: bool = True) -> list[float]:
    """Train ``n`` updates; with ``resume_at``, checkpoint there and continue in fresh objects (:func:`fresh_from`).
    Returns the LR each update used."""
    model = tiny_model()
    opt = torch.optim.SGD(model.parameters(), lr=BASE, momentum=0.9)
    scheduler = build(opt)
    trace = []
    for i, (x, y) in enumerate(batches(n)):
        if i == resume_at:
            ckpt = roundtrip({"model": model.state_dict(), "opt": opt.state_dict(), "sched": scheduler.state_dict()})
            model, opt, scheduler = fresh_from(ckpt, build, opt_first)
        trace.append(opt.param_groups[0]["lr"])
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
        opt.zero_grad()
        scheduler.step()
    return trace


def assert_same_trace(resumed: list[float], full: list[float], resume_at: int) -> None:
    """Equal at every update; on failure, name the first update that differs and both LRs."""
    wrong = [k for k, (a, b) in enumerate(zip(resumed, full)) if a != b]
    assert not wrong, (
        f"resumed at {resume_at}: update {wrong[0]} used {resumed[wrong[0]]:.6g} instead of {full[wrong[0]]:.6g} "
        f"({len(wrong)} of {len(full) - resume_at} updates after the resume differ)"
    )


LOAD_ORDERS = [pytest.param(True, id="optimizer-first"), pytest.param(False, id="scheduler-first")]

# SequentialLR([WarmupLR, CosineAnnealingLR]): W = 5 warmup updates, then a cosine over T_MAX updates.
SEQ_W, SEQ_T_MAX = 5, 20
SEQ_N = SEQ_W + SEQ_T_MAX + 6  # past the cosine's end (where CosineAnnealingLR climbs back up)
SEQ_POINTS = {"in_warmup": 3, "at_W": SEQ_W, "in_decay": 10, "after_T": SEQ_W + SEQ_T_MAX + 2}
WARMUP = WarmupSchedule(warmup_steps=SEQ_W, total_steps=SEQ_W, start_factor=0.1)


def warmup_then_cosine(opt: torch.optim.Optimizer) -> SequentialLR:
    warmup = WarmupLR(opt, WARMUP)
    return SequentialLR(opt, [warmup, CosineAnnealingLR(opt, T_max=SEQ_T_MAX)], milestones=[SEQ_W])


def linear_then_cosine(opt: torch.optim.Optimizer) -> SequentialLR:
    """The same LRs with torch's ``LinearLR`` as the warmup: the reference that resumes exactly today."""
    warmup = LinearLR(opt, start_factor=0.1, total_iters=SEQ_W)
    return SequentialLR(opt, [warmup, CosineAnnealingLR(opt, T_max=SEQ_T_MAX)], milestones=[SEQ_W])


def test_sequential_lr_with_warmup_lr_first_runs_the_schedule_uninterrupted():
    """Uninterrupted, the warmup is ``base * f(k)`` and the cosine follows it; the same as with ``LinearLR``."""
    full = composite_run(warmup_then_cosine, SEQ_N)
    assert full[:SEQ_W] == expected_lrs(WARMUP, SEQ_W)
    assert full == pytest.approx(composite_run(linear_then_cosine, SEQ_N), rel=1e-12, abs=0)


@pytest.mark.parametrize("opt_first", LOAD_ORDERS)
@pytest.mark.parametrize("resume_at", SEQ_POINTS.values(), ids=SEQ_POINTS.keys())
def test_sequential_lr_with_linear_lr_first_resumes_exactly(resume_at, opt_first):
    """The reference: torch's ``LinearLR`` in ``WarmupLR``'s place resumes exactly in either load order."""
    full = composite_run(linear_then_cosine, SEQ_N)
    assert_same_trace(composite_run(linear_then_cosine, SEQ_N, resume_at, opt_first), full, resume_at)


@pytest.mark.parametrize("opt_first", LOAD_ORDERS)
@pytest.mark.parametrize("resume_at", SEQ_POINTS.values(), ids=SEQ_POINTS.keys())
def test_sequential_lr_with_warmup_lr_first_resumes_exactly(resume_at, opt_first):
    """Issue 10 case 3: past the milestone the inactive ``WarmupLR`` must not overwrite the cosine's LR
    when its state is loaded (after the optimizer's, as Lightning, HF ``Trainer`` and Accelerate load)."""
    full = composite_run(warmup_then_cosine, SEQ_N)
    assert_same_trace(composite_run(warmup_then_cosine, SEQ_N, resume_at, opt_first), full, resume_at)


# SequentialLR([LinearLR, WarmupLR]): torch's warmup over the first 5 updates, then WarmupLR's cosine decay.
LATER_DECAY = WarmupSchedule(warmup_type="none", total_steps=SEQ_T_MAX, decay_type="cosine", end_factor=0.0)


def linear_then_warmup_lr(opt: torch.optim.Optimizer) -> SequentialLR:
    warmup = LinearLR(opt, start_factor=0.1, total_iters=SEQ_W)
    return SequentialLR(opt, [warmup, WarmupLR(opt, LATER_DECAY)], milestones=[SEQ_W])


def test_sequential_lr_with_warmup_lr_later_runs_the_schedule_uninterrupted():
    """From the milestone on, update ``W + d`` uses ``base * f(d)`` of the later ``WarmupLR``."""
    full = composite_run(linear_then_warmup_lr, SEQ_N)
    assert full[SEQ_W:] == expected_lrs(LATER_DECAY, SEQ_N - SEQ_W)


@pytest.mark.parametrize("opt_first", LOAD_ORDERS)
@pytest.mark.parametrize("resume_at", SEQ_POINTS.values(), ids=SEQ_POINTS.keys())
def test_sequential_lr_with_warmup_lr_later_resumes_exactly(resume_at, opt_first):
    """Issue 10 case 3: before its milestone the later ``WarmupLR`` has ``last_epoch = -1`` (``SequentialLR``
    undid its first step); its saved state must load back."""
    full = composite_run(linear_then_warmup_lr, SEQ_N)
    assert_same_trace(composite_run(linear_then_warmup_lr, SEQ_N, resume_at, opt_first), full, resume_at)


# WithWarmup(StepLR(step_size=3, gamma=0.5), 5): the README promises either load order.
WITH_W = 5
WITH_N = 20
WITH_POINTS = {"in_warmup": 3, "at_W": WITH_W, "in_decay": 8, "late": 14}


def warmup_then_step(opt: torch.optim.Optimizer) -> WithWarmup:
    return WithWarmup(StepLR(opt, step_size=3, gamma=0.5), warmup_steps=WITH_W)


def test_with_warmup_step_lr_runs_the_schedule_uninterrupted():
    """Update ``k`` uses ``base * f(k)`` for ``k < W``, then StepLR's ``base * 0.5 ** ((k - W) // 3)``."""
    warmup = WarmupSchedule(warmup_steps=WITH_W, total_steps=WITH_W)
    decay = [BASE * 0.5 ** ((k - WITH_W) // 3) for k in range(WITH_W, WITH_N)]
    assert composite_run(warmup_then_step, WITH_N) == expected_lrs(warmup, WITH_W) + decay


@pytest.mark.parametrize("opt_first", LOAD_ORDERS)
@pytest.mark.parametrize("resume_at", WITH_POINTS.values(), ids=WITH_POINTS.keys())
def test_with_warmup_step_lr_resumes_exactly(resume_at, opt_first):
    """Issue 10 case 1: resumed after the warmup, optimizer first, the LR must stay StepLR's, not the
    warmup's target."""
    full = composite_run(warmup_then_step, WITH_N)
    assert_same_trace(composite_run(warmup_then_step, WITH_N, resume_at, opt_first), full, resume_at)


# ChainedScheduler: WarmupLR writes absolute LRs (base * f(k)), as LambdaLR does, so it does not chain.
CHAIN = WarmupSchedule(warmup_steps=4, total_steps=12, decay_type="linear", end_factor=0.0)
GAMMA = 0.9


def test_chained_scheduler_warmup_lr_then_exponential_lr_is_not_a_product():
    """Pinned behaviour: in ``ChainedScheduler([WarmupLR, ExponentialLR(0.9)])`` each step ``WarmupLR``
    rewrites ``base * f(k)`` and ``ExponentialLR`` multiplies that once, so update ``k >= 1`` uses
    ``0.9 * base * f(k)``, not ``0.9 ** k * base * f(k)``: the chain does not compound."""

    def build(opt):
        return ChainedScheduler([WarmupLR(opt, CHAIN), ExponentialLR(opt, gamma=GAMMA)])

    trace = composite_run(build, 14)
    assert trace[0] == BASE * CHAIN(0)
    assert trace[1:] == [BASE * CHAIN(k) * GAMMA for k in range(1, 14)]


def test_chained_scheduler_exponential_lr_then_warmup_lr_is_warmup_lr_alone():
    """Pinned behaviour: ``WarmupLR`` last in the chain overwrites what the earlier scheduler wrote, so the
    LRs are ``WarmupLR``'s alone: ``base * f(k)``."""

    def build(opt):
        return ChainedScheduler([ExponentialLR(opt, gamma=GAMMA), WarmupLR(opt, CHAIN)])

    assert composite_run(build, 14) == expected_lrs(CHAIN, 14)


# ---------------------------------------------------------------------------- the hosts' toy runs
HOST_SCHEDULE = WarmupSchedule(warmup_steps=8, total_steps=16, start_factor=0.1, decay_type="cosine", end_factor=0.05)
HOST_N = 20  # optimizer updates: past T, so the flat end of the schedule is checked too
RESUME_POINTS = {"mid_warmup": 4, "after_warmup": 12}  # checkpoints every 4 updates, in and after the warmup


def toy_data(n_samples: int) -> torch.utils.data.TensorDataset:
    g = torch.Generator().manual_seed(3)
    return torch.utils.data.TensorDataset(
        torch.randn(n_samples, 6, generator=g), torch.randint(0, 3, (n_samples,), generator=g)
    )


def sgd(model: torch.nn.Module) -> torch.optim.SGD:
    return torch.optim.SGD(model.parameters(), lr=BASE, momentum=0.9)


def host_warmup_lr(opt: torch.optim.Optimizer) -> WarmupLR:
    return WarmupLR(opt, HOST_SCHEDULE)


HOST_WARMUP = WarmupSchedule(warmup_steps=8, total_steps=8, start_factor=0.1)
HOST_T_MAX = 12


def host_sequential_lr(opt: torch.optim.Optimizer) -> SequentialLR:
    """``SequentialLR([WarmupLR, CosineAnnealingLR])``: 8 warmup updates, then a cosine over 12."""
    schedulers = [WarmupLR(opt, HOST_WARMUP), CosineAnnealingLR(opt, T_max=HOST_T_MAX)]
    return SequentialLR(opt, schedulers, milestones=[HOST_WARMUP.warmup_steps])


def host_with_warmup(opt: torch.optim.Optimizer) -> WithWarmup:
    """``WithWarmup(StepLR(step_size=3, gamma=0.5), 8, start_factor=0.1)``: HOST_WARMUP, then StepLR."""
    warmup = HOST_WARMUP
    return WithWarmup(StepLR(opt, step_size=3, gamma=0.5), warmup.warmup_steps, start_factor=warmup.start_factor)


HOST_CASES: dict[str, Build] = {
    "WarmupLR": host_warmup_lr,
    "SequentialLR": host_sequential_lr,
    "WithWarmup": host_with_warmup,
}


def check_uninterrupted(name: str, lrs: dict[int, float]) -> None:
    """One LR per update ``0 .. HOST_N - 1``: ``base * f(k)``, then (SequentialLR) torch's closed-form cosine
    ``base * (1 + cos(pi d / T_max)) / 2`` or (WithWarmup) StepLR's ``base * 0.5 ** (d // 3)``, ``d = k - W``."""
    assert list(lrs) == list(range(HOST_N))
    if name == "WarmupLR":
        assert list(lrs.values()) == expected_lrs(HOST_SCHEDULE, HOST_N)
        return
    w = HOST_WARMUP.warmup_steps
    assert list(lrs.values())[:w] == expected_lrs(HOST_WARMUP, w)
    if name == "SequentialLR":
        cosine = [BASE * (1 + math.cos(math.pi * (k - w) / HOST_T_MAX)) / 2 for k in range(w, HOST_N)]
        assert list(lrs.values())[w:] == pytest.approx(cosine, rel=1e-12, abs=0)
    else:
        assert list(lrs.values())[w:] == [BASE * 0.5 ** ((k - w) // 3) for k in range(w, HOST_N)]


# ---------------------------------------------------------------------------- Lightning
LIGHTNING_EPOCH = 4  # updates (batches of 4) per epoch; a checkpoint every epoch


def lightning_classes():
    pl = pytest.importorskip("lightning.pytorch")
    from lightning.pytorch.loggers import Logger

    class ToyModule(pl.LightningModule):
        def __init__(self, build: Build) -> None:
            super().__init__()
            self.net = tiny_model()
            self.build = build

        def training_step(self, batch, batch_idx):
            x, y = batch
            return torch.nn.functional.cross_entropy(self.net(x), y)

        def configure_optimizers(self):
            opt = sgd(self)
            return {"optimizer": opt, "lr_scheduler": {"scheduler": self.build(opt), "interval": "step"}}

    class LRTrace(pl.Callback):
        """The LR of every optimizer update, read just before the optimizer steps: ``{update: lr}``."""

        def __init__(self) -> None:
            self.lrs: dict[int, float] = {}

        def on_before_optimizer_step(self, trainer, pl_module, optimizer) -> None:
            self.lrs[trainer.global_step] = optimizer.param_groups[0]["lr"]

    class MemoryLogger(Logger):
        """Keeps what is logged: ``{step: {name: value}}``."""

        def __init__(self) -> None:
            super().__init__()
            self.metrics: dict[int, dict[str, float]] = {}

        @property
        def name(self) -> str:
            return "memory"

        @property
        def version(self) -> int:
            return 0

        def log_hyperparams(self, params, *args, **kwargs) -> None:
            pass

        def log_metrics(self, metrics, step=None) -> None:
            self.metrics.setdefault(step, {}).update(metrics)

    return pl, ToyModule, LRTrace, MemoryLogger


def lightning_fit(tmp_path, build: Build, ckpt_path=None):
    """Fit HOST_N updates (4 an epoch) from scratch or from ``ckpt_path``, checkpointing every epoch."""
    pl, ToyModule, LRTrace, MemoryLogger = lightning_classes()
    from lightning.pytorch.callbacks import LearningRateMonitor, ModelCheckpoint

    trace, logger = LRTrace(), MemoryLogger()
    checkpoints = ModelCheckpoint(
        dirpath=tmp_path / "ckpt", filename="{step}", every_n_train_steps=LIGHTNING_EPOCH, save_top_k=-1
    )
    trainer = pl.Trainer(
        accelerator="cpu",
        devices=1,
        max_steps=HOST_N,
        logger=logger,
        callbacks=[trace, LearningRateMonitor(logging_interval="step"), checkpoints],
        log_every_n_steps=1,
        limit_val_batches=0,
        num_sanity_val_steps=0,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=tmp_path,
    )
    loader = torch.utils.data.DataLoader(toy_data(4 * LIGHTNING_EPOCH), batch_size=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Lightning's advice on num_workers and the like
        trainer.fit(ToyModule(build), loader, ckpt_path=ckpt_path)
    return trace.lrs, logger.metrics


@pytest.fixture(scope="module", params=HOST_CASES)
def lightning_run(request, tmp_path_factory):
    """The uninterrupted run (and its checkpoints) of each scheduler."""
    tmp_path = tmp_path_factory.mktemp("lightning")
    lrs, logged = lightning_fit(tmp_path, HOST_CASES[request.param])
    return request.param, tmp_path, lrs, logged


def monitored(logged: dict[int, dict[str, float]]) -> dict[int, float]:
    """What ``LearningRateMonitor`` logged, by step. It names the SGD optimizer's LR ``lr-SGD``."""
    return {step: row["lr-SGD"] for step, row in logged.items() if "lr-SGD" in row}


def test_lightning_interval_step_gives_every_update_its_lr(lightning_run):
    name, _, lrs, _ = lightning_run
    check_uninterrupted(name, lrs)


def test_lightning_lr_monitor_logs_the_lr_of_every_update(lightning_run):
    """``LearningRateMonitor(logging_interval='step')`` logs, at step ``k``, the LR update ``k`` uses."""
    _, _, lrs, logged = lightning_run
    assert monitored(logged) == lrs


@pytest.mark.parametrize("resume_at", RESUME_POINTS.values(), ids=RESUME_POINTS.keys())
def test_lightning_ckpt_path_resume_continues_the_schedule(lightning_run, resume_at, tmp_path):
    """``fit(ckpt_path=...)`` (Lightning loads the optimizer's state, then the scheduler's) continues at
    update ``resume_at`` with the uninterrupted run's LRs, and the monitor logs them."""
    name, run_dir, full, _ = lightning_run
    lrs, logged = lightning_fit(tmp_path, HOST_CASES[name], ckpt_path=run_dir / "ckpt" / f"step={resume_at}.ckpt")
    assert list(lrs) == list(range(resume_at, HOST_N))
    assert_same_trace([full[k] for k in range(resume_at)] + list(lrs.values()), list(full.values()), resume_at)
    assert monitored(logged) == lrs


# ---------------------------------------------------------------------------- HF Trainer
def reset_accelerate() -> None:
    """Forget Accelerate's process-wide state, so each run starts as in a new process."""
    state = pytest.importorskip("accelerate.state")
    state.AcceleratorState._reset_state(True)
    state.GradientState._reset_state()


class DictDataset(torch.utils.data.Dataset):
    """The toy data as the dicts HF's collator expects: ``{"x": features, "labels": class}``."""

    def __init__(self, n_samples: int) -> None:
        self.data = toy_data(n_samples)

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        x, y = self.data[i]
        return {"x": x, "labels": y}


class LossModel(torch.nn.Module):
    """A plain ``torch.nn.Module`` in HF's calling convention: ``forward(**batch)`` returns ``{"loss": ...}``."""

    def __init__(self) -> None:
        super().__init__()
        self.net = tiny_model()

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"loss": torch.nn.functional.cross_entropy(self.net(x), labels)}


def hf_train(tmp_path, build: Build, resume_from: str | None = None) -> dict[int, float]:
    """HF ``Trainer`` over HOST_N updates of 2 micro-batches of 2 (4 updates an epoch), a checkpoint every 4
    updates; returns ``{update: lr}`` read just before each optimizer step."""
    transformers = pytest.importorskip("transformers")
    reset_accelerate()  # the Trainer builds its own Accelerator

    lrs: dict[int, float] = {}

    class LRTrace(transformers.TrainerCallback):
        def on_pre_optimizer_step(self, args, state, control, optimizer=None, **kwargs):
            lrs[state.global_step] = optimizer.param_groups[0]["lr"]

    args = transformers.TrainingArguments(
        output_dir=str(tmp_path / "hf"),
        per_device_train_batch_size=2,
        gradient_accumulation_steps=2,
        max_steps=HOST_N,
        save_strategy="steps",
        save_steps=4,
        logging_steps=1,
        report_to=[],
        use_cpu=True,
        remove_unused_columns=False,
        disable_tqdm=True,
        dataloader_num_workers=0,
        seed=0,
    )
    model = LossModel()
    opt = sgd(model)
    trainer = transformers.Trainer(
        model=model,
        args=args,
        train_dataset=DictDataset(16),
        optimizers=(opt, build(opt)),
        callbacks=[LRTrace()],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "not a PreTrainedModel, only saving its state dict" and the like
        trainer.train(resume_from_checkpoint=resume_from)
    return lrs


@pytest.fixture(scope="module", params=HOST_CASES)
def hf_run(request, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("hf")
    return request.param, tmp_path, hf_train(tmp_path, HOST_CASES[request.param])


def test_hf_trainer_gives_every_update_its_lr_under_gradient_accumulation(hf_run):
    """With ``gradient_accumulation_steps=2`` the Trainer steps the scheduler once per optimizer update."""
    name, _, lrs = hf_run
    check_uninterrupted(name, lrs)


@pytest.mark.parametrize("resume_at", RESUME_POINTS.values(), ids=RESUME_POINTS.keys())
def test_hf_trainer_resume_from_checkpoint_continues_the_schedule(hf_run, resume_at, tmp_path):
    """``train(resume_from_checkpoint=...)`` (the optimizer's state loaded, then the scheduler's) continues at
    update ``resume_at`` with the uninterrupted run's LRs."""
    name, run_dir, full = hf_run
    lrs = hf_train(tmp_path, HOST_CASES[name], resume_from=str(run_dir / "hf" / f"checkpoint-{resume_at}"))
    assert list(lrs) == list(range(resume_at, HOST_N))
    assert_same_trace([full[k] for k in range(resume_at)] + list(lrs.values()), list(full.values()), resume_at)


# ---------------------------------------------------------------------------- Accelerate
def accelerate_train(tmp_path, build: Build, resume_at: int | None = None) -> dict[int, float]:
    """Accelerate's loop over HOST_N updates of 2 micro-batches of 2 (``accumulate``), ``save_state`` after
    every update in RESUME_POINTS; with ``resume_at``, ``load_state`` that state and skip the batches
    already seen. Returns ``{update: lr}`` read just before each optimizer update."""
    accelerate = pytest.importorskip("accelerate")
    from accelerate.scheduler import AcceleratedScheduler

    reset_accelerate()
    accelerator = accelerate.Accelerator(gradient_accumulation_steps=2, cpu=True)
    model = tiny_model()
    opt = sgd(model)
    loader = torch.utils.data.DataLoader(toy_data(2 * 2 * HOST_N), batch_size=2)
    model, opt, loader, scheduler = accelerator.prepare(model, opt, loader, build(opt))
    assert isinstance(scheduler, AcceleratedScheduler)
    update = 0
    if resume_at is not None:
        accelerator.load_state(str(tmp_path / f"state-{resume_at}"))
        loader, update = accelerator.skip_first_batches(loader, 2 * resume_at), resume_at
    lrs: dict[int, float] = {}
    for x, y in loader:
        with accelerator.accumulate(model):
            accelerator.backward(torch.nn.functional.cross_entropy(model(x), y))
            if accelerator.sync_gradients:
                lrs[update] = opt.param_groups[0]["lr"]
            opt.step()
            scheduler.step()
            opt.zero_grad()
        if accelerator.sync_gradients:
            update += 1
            if resume_at is None and update in RESUME_POINTS.values():
                accelerator.save_state(str(tmp_path / f"state-{update}"))
    return lrs


@pytest.fixture(scope="module", params=HOST_CASES)
def accelerate_run(request, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("accelerate")
    return request.param, tmp_path, accelerate_train(tmp_path, HOST_CASES[request.param])


def test_accelerated_scheduler_gives_every_update_its_lr_under_gradient_accumulation(accelerate_run):
    """``AcceleratedScheduler`` steps the wrapped scheduler only on the micro-batch that updates the weights."""
    name, _, lrs = accelerate_run
    check_uninterrupted(name, lrs)


@pytest.mark.parametrize("resume_at", RESUME_POINTS.values(), ids=RESUME_POINTS.keys())
def test_accelerate_load_state_continues_the_schedule(accelerate_run, resume_at):
    """``load_state`` (the optimizer's state loaded, then the scheduler's) continues at update ``resume_at``
    with the uninterrupted run's LRs."""
    name, run_dir, full = accelerate_run
    lrs = accelerate_train(run_dir, HOST_CASES[name], resume_at=resume_at)
    assert list(lrs) == list(range(resume_at, HOST_N))
    assert_same_trace([full[k] for k in range(resume_at)] + list(lrs.values()), list(full.values()), resume_at)

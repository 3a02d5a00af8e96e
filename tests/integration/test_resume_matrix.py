"""Exact resume in every adapter, and the rule for extending a run's length on resume.

The matrix: adapter (torch ``WarmupLR``, timm ``WarmupScheduler`` via ``step_update``, fastai
``WarmupCallback`` via ``fit(..., start_epoch=e)``) x warmup type (linear, exponential, cosine,
constant, none) x resume point (inside the warmup, exactly at ``W``, mid-decay, after ``T``; with no
warmup ``W = 0``, so the point inside it does not exist). Each case trains, saves a checkpoint with
``torch.save``, loads it with ``torch.load(weights_only=True)`` into freshly built objects, continues,
and checks the LR trace equals the uninterrupted run's exactly (and, for torch and timm, that the
weights do too).

The extension rule: ``load_state_dict`` restores the saved schedule exactly, as torch does; to
train longer, load, then ``scheduler.set_schedule(schedule.replace(total_steps=new_total))``. The
update index carries on, so a warmup is never repeated, and update ``k`` then uses
``base * f_new(k)``: the decay recomputed over the new horizon.
"""

import io
import itertools
import warnings

import pytest
import torch

from tests.helpers import batches, tiny_model
from warmup_plugins import WarmupSchedule
from warmup_plugins.torch import WarmupLR

W, T, N = 8, 16, 24  # warmup, total, updates in the run: N > T, so a resume "after T" exists
UPDATES_PER_EPOCH = 4  # so every resume point is an epoch boundary (fastai resumes per epoch)
POINTS = {"in_warmup": W // 2, "at_W": W, "mid_decay": (W + T) // 2, "after_T": T + UPDATES_PER_EPOCH}
WARMUP_TYPES = ("linear", "exponential", "cosine", "constant", "none")
ADAPTERS = ("torch", "timm", "fastai")
BASES = (0.1, 0.03)  # two param groups with their own base LR (torch and timm)


def schedule_for(warmup_type: str, total: int = T) -> WarmupSchedule:
    warmup = 0 if warmup_type == "none" else W
    return WarmupSchedule(
        warmup_type=warmup_type,
        warmup_steps=warmup,
        total_steps=total,
        start_factor=0.1,
        decay_type="cosine",
        end_factor=0.05,
    )


def resume_points(warmup_type: str) -> dict[str, int]:
    if warmup_type == "none":  # W = 0: resuming "at W" is resuming before the first update
        return {**POINTS, "in_warmup": None, "at_W": 0}
    return POINTS


CASES = [
    pytest.param(adapter, warmup_type, k, id=f"{adapter}-{warmup_type}-{point}-k{k}")
    for adapter in ADAPTERS
    for warmup_type in WARMUP_TYPES
    for point, k in resume_points(warmup_type).items()
    if k is not None
]


def roundtrip(checkpoint: dict) -> dict:
    """``torch.save`` to a buffer and back with ``weights_only=True``: plain data only."""
    buffer = io.BytesIO()
    torch.save(checkpoint, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


def sgd(model: torch.nn.Module, bases=BASES) -> torch.optim.SGD:
    params = list(model.parameters())
    groups = [{"params": params[i :: len(bases)], "lr": lr} for i, lr in enumerate(bases)]
    return torch.optim.SGD(groups, momentum=0.9)


def train(model, opt, data, after_update) -> list[list[float]]:
    """One update per batch; ``after_update()`` is the scheduler call. Returns the LRs each update used."""
    trace = []
    for x, y in data:
        trace.append([float(g["lr"]) for g in opt.param_groups])
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
        opt.zero_grad()
        after_update()
    return trace


def weights(model: torch.nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in model.parameters()]


# ---------------------------------------------------------------------------- torch
def torch_run(schedule: WarmupSchedule, resume_at: int | None, opt_first: bool = True, extend_to: int | None = None):
    """Train N updates with WarmupLR; with ``resume_at``, stop there, checkpoint, and continue in fresh objects."""
    data = batches(N if extend_to is None else extend_to)
    model = tiny_model()
    opt = sgd(model)
    scheduler = WarmupLR(opt, schedule)
    if resume_at is None:
        return train(model, opt, data, scheduler.step), weights(model)
    trace = train(model, opt, data[:resume_at], scheduler.step)
    ckpt = roundtrip({"model": model.state_dict(), "opt": opt.state_dict(), "scheduler": scheduler.state_dict()})

    model = tiny_model(seed=1)  # other weights, LRs and schedule: the checkpoint must win
    opt = sgd(model, bases=(7.0, 8.0))
    scheduler = WarmupLR(opt, WarmupSchedule(warmup_steps=1))
    model.load_state_dict(ckpt["model"])
    loads = [lambda: opt.load_state_dict(ckpt["opt"]), lambda: scheduler.load_state_dict(ckpt["scheduler"])]
    for load in loads if opt_first else loads[::-1]:
        load()
    if extend_to is not None:
        scheduler.set_schedule(scheduler.schedule.replace(total_steps=extend_to))
    trace += train(model, opt, data[resume_at:], scheduler.step)
    return trace, weights(model)


# ---------------------------------------------------------------------------- timm
def timm_run(schedule: WarmupSchedule, resume_at: int | None, extend_to: int | None = None):
    """timm's loop: ``step_update(num_updates)`` after every update, ``step(epoch + 1)`` at epoch ends."""
    from warmup_plugins.timm import WarmupScheduler

    n = N if extend_to is None else extend_to
    data = batches(n)
    model = tiny_model()
    opt = sgd(model)
    scheduler = WarmupScheduler(opt, schedule, t_in_epochs=False)
    state = {"num_updates": 0}

    def after_update():
        state["num_updates"] += 1
        scheduler.step_update(num_updates=state["num_updates"])
        if state["num_updates"] % UPDATES_PER_EPOCH == 0:
            scheduler.step(state["num_updates"] // UPDATES_PER_EPOCH)

    stop = n if resume_at is None else resume_at
    trace = train(model, opt, data[:stop], after_update)
    if resume_at is None:
        return trace, weights(model)
    ckpt = roundtrip(
        {
            "model": model.state_dict(),
            "opt": opt.state_dict(),
            "scheduler": scheduler.state_dict(),
            "num_updates": state["num_updates"],
        }
    )
    model = tiny_model(seed=1)
    opt = sgd(model, bases=(7.0, 8.0))
    scheduler = WarmupScheduler(opt, WarmupSchedule(warmup_steps=1), t_in_epochs=False)
    model.load_state_dict(ckpt["model"])
    opt.load_state_dict(ckpt["opt"])
    scheduler.load_state_dict(ckpt["scheduler"])
    if extend_to is not None:
        scheduler.set_schedule(scheduler.schedule.replace(total_steps=extend_to))
    state["num_updates"] = ckpt["num_updates"]
    trace += train(model, opt, data[resume_at:], after_update)
    return trace, weights(model)


# ---------------------------------------------------------------------------- fastai
def fastai_learner(callback, seed: int = 0, path=None):
    from tests.fastai_adapter.common import make_dls, make_learner

    dls = make_dls(n_train=8 * UPDATES_PER_EPOCH)  # bs 8, drop_last: 4 batches (updates) an epoch
    return make_learner(cbs=[callback], dls=dls, seed=seed, **({} if path is None else {"path": path}))


def fastai_fit(learn, n_epoch: int, start_epoch: int = 0, stop_after: int | None = None):
    """``learn.fit(n_epoch, 0.1, start_epoch=...)``, cancelled after epoch ``stop_after - 1`` if given."""
    from fastai.callback.core import Callback, CancelFitException

    class StopAfter(Callback):
        def after_epoch(self):
            if stop_after is not None and self.epoch + 1 == stop_after:
                raise CancelFitException()

    with learn.no_bar(), learn.no_logging(), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        learn.fit(n_epoch, 0.1, start_epoch=start_epoch, cbs=[StopAfter()])
    return learn.trace.lrs("batches")


def fastai_run(schedule: WarmupSchedule | dict, resume_at: int | None, tmp_path, first=N, then=N):
    """``fit`` over ``first`` updates, interrupted at update ``resume_at`` (an epoch end); save with fastai's
    ``learn.save`` (model + optimizer) plus the resume epoch and the callback's schedule (a ``WarmupSchedule`` or
    keyword arguments) as plain data; then ``fit`` over ``then`` updates with ``start_epoch=e`` in a fresh learner."""
    from warmup_plugins.fastai import WarmupCallback

    def callback(spec):
        return WarmupCallback(spec) if isinstance(spec, WarmupSchedule) else WarmupCallback(**spec)

    learn = fastai_learner(callback(schedule), path=tmp_path)
    if resume_at is None:
        return fastai_fit(learn, first // UPDATES_PER_EPOCH)
    epoch, rest = divmod(resume_at, UPDATES_PER_EPOCH)
    assert rest == 0, "fastai resumes at epoch boundaries"
    if epoch:
        trace = fastai_fit(learn, first // UPDATES_PER_EPOCH, stop_after=epoch)
    else:
        learn.create_opt()
        trace = []
    learn.save("checkpoint", with_opt=True)  # fastai's mechanism; learn.load reads it with weights_only=True
    is_schedule = isinstance(schedule, WarmupSchedule)
    data = {"schedule": schedule.to_dict(), "kwargs": None} if is_schedule else {"schedule": None, "kwargs": schedule}
    ckpt = roundtrip({"epoch": epoch, **data})
    spec = ckpt["kwargs"] if ckpt["schedule"] is None else WarmupSchedule.from_dict(ckpt["schedule"])
    fresh = fastai_learner(callback(spec), 1, tmp_path)
    fresh.create_opt()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "numpy.core is deprecated", DeprecationWarning)  # inside fastai's load
        fresh.load("checkpoint", with_opt=True)
    return trace + fastai_fit(fresh, then // UPDATES_PER_EPOCH, start_epoch=ckpt["epoch"])


# ---------------------------------------------------------------------------- the matrix
def test_matrix_size(capsys):
    """3 adapters x (4 warmup types x 4 points + 'none' x 3 points) = 57 cases, each a test below."""
    assert len(CASES) == len(ADAPTERS) * (4 * 4 + 3) == 57
    with capsys.disabled():  # shown in the normal pytest output
        print(
            f"\nresume matrix: {len(CASES)} cases (adapters {ADAPTERS} x warmup types {WARMUP_TYPES} x {list(POINTS)})"
        )


@pytest.mark.parametrize(("adapter", "warmup_type", "resume_at"), CASES)
def test_resume_gives_the_uninterrupted_trace(adapter, warmup_type, resume_at, tmp_path):
    schedule = schedule_for(warmup_type)
    if adapter == "fastai":
        pytest.importorskip("fastai")
        full = fastai_run(schedule, None, tmp_path)
        resumed = fastai_run(schedule, resume_at, tmp_path)
        assert full == [[BASES[0] * schedule(k)] for k in range(N)]
        assert resumed == full
        return
    if adapter == "timm":
        pytest.importorskip("timm")
        full, full_weights = timm_run(schedule, None)
        resumed, resumed_weights = timm_run(schedule, resume_at)
    else:
        full, full_weights = torch_run(schedule, None)
        resumed, resumed_weights = torch_run(schedule, resume_at, opt_first=resume_at % 8 == 0)
    assert full == [[base * schedule(k) for base in BASES] for k in range(N)]
    assert resumed == full  # bit for bit
    assert all(torch.equal(a, b) for a, b in zip(resumed_weights, full_weights))


# ---------------------------------------------------------------------------- extending the run
EXTENDED = 32


def check_extension(trace: list[list[float]], resume_at: int, schedule: WarmupSchedule, bases=BASES) -> None:
    """Before the resume, the old schedule; from it on, the same update index on the new horizon."""
    longer = schedule.replace(total_steps=EXTENDED)
    assert trace[:resume_at] == [[b * schedule(k) for b in bases] for k in range(resume_at)]
    assert trace[resume_at:] == [[b * longer(k) for b in bases] for k in range(resume_at, EXTENDED)]
    factors = [lrs[0] / bases[0] for lrs in trace[max(resume_at, W) :]]
    assert all(a >= b for a, b in itertools.pairwise(factors)), "after W the LR only decays: no second warmup"
    assert longer(EXTENDED) == schedule(T) == 0.05  # the new horizon ends where the old one did


@pytest.mark.parametrize("resume_at", POINTS.values(), ids=POINTS.keys())
def test_torch_extension_follows_the_rule(resume_at):
    schedule = schedule_for("linear")
    trace, _ = torch_run(schedule, resume_at, extend_to=EXTENDED)
    check_extension(trace, resume_at, schedule)


@pytest.mark.parametrize("resume_at", POINTS.values(), ids=POINTS.keys())
def test_timm_extension_follows_the_rule(resume_at):
    pytest.importorskip("timm")
    schedule = schedule_for("cosine")
    trace, _ = timm_run(schedule, resume_at, extend_to=EXTENDED)
    check_extension(trace, resume_at, schedule)


def test_extension_with_per_group_schedules_rederives_each_group():
    """``set_schedule`` with one schedule per group rewrites every group's LR at once (plain
    assignment to ``.schedule`` would leave the per-group factors behind)."""
    model = tiny_model()
    opt = sgd(model)
    fast, slow = schedule_for("linear"), schedule_for("exponential").replace(warmup_steps=4)
    scheduler = WarmupLR(opt, [fast, slow])
    for _ in range(10):
        scheduler.step()
    new = [fast.replace(total_steps=40), slow.replace(total_steps=50)]
    scheduler.set_schedule(new)
    assert [g["lr"] for g in opt.param_groups] == [0.1 * new[0](10), 0.03 * new[1](10)]
    scheduler.step()
    assert scheduler.get_last_lr() == [0.1 * new[0](11), 0.03 * new[1](11)]
    assert scheduler.state_dict()["schedule"][1]["total_steps"] == 50


def test_load_restores_the_saved_schedule_even_into_an_extended_scheduler():
    """The checkpoint wins, as in torch: building the fresh scheduler with the longer schedule is not enough."""
    opt = sgd(tiny_model())
    saved = WarmupLR(opt, schedule_for("linear"))
    saved.step(12)
    longer = schedule_for("linear", total=EXTENDED)
    fresh = WarmupLR(sgd(tiny_model()), longer)
    fresh.load_state_dict(roundtrip(saved.state_dict()))
    assert fresh.schedule == schedule_for("linear")
    fresh.set_schedule(longer)
    assert fresh.get_last_lr() == [b * longer(12) for b in BASES]


def test_timm_train_py_resume_with_more_epochs():
    """timm's ``train.py`` rebuilds its scheduler from the command line and resumes with
    ``step_update(start_epoch * updates_per_epoch)`` (it does not load a scheduler state): a larger
    ``--epochs`` is then the extension, on the same update index."""
    pytest.importorskip("timm")
    from warmup_plugins.timm import create_scheduler_v2

    def scheduler_for(epochs):
        opt = sgd(tiny_model())
        scheduler, _ = create_scheduler_v2(
            opt,
            sched="cosine",
            num_epochs=epochs,
            warmup_epochs=2,
            warmup_lr=1e-3,
            decay_after_warmup=True,
            step_on_epochs=False,
            updates_per_epoch=UPDATES_PER_EPOCH,
        )
        return opt, scheduler

    _, short = scheduler_for(4)
    opt, longer = scheduler_for(8)
    k = 3 * UPDATES_PER_EPOCH  # start_epoch 3
    longer.step_update(k)
    # two base LRs: timm's absolute warmup_lr gives each group its own schedule (a tuple)
    assert [g["lr"] for g in opt.param_groups] == [b * s(k) for b, s in zip(BASES, longer.schedule)]
    assert longer.schedule == tuple(s.replace(total_steps=8 * UPDATES_PER_EPOCH) for s in short.schedule)


@pytest.mark.parametrize("resume_epoch", [1, 2, 3])
def test_fastai_extension_is_a_longer_fit_with_absolute_warmup(resume_epoch, tmp_path):
    """fastai: the callback resolves ``total_steps`` against each fit, so the extension is
    ``fit(new_n_epoch, start_epoch=e)`` with the warmup given in updates or epochs (a ``warmup_pct``
    would scale with the longer fit)."""
    pytest.importorskip("fastai")
    spec = {"warmup_steps": W, "start_factor": 0.1, "decay_type": "cosine", "end_factor": 0.05}
    k0 = resume_epoch * UPDATES_PER_EPOCH
    trace = fastai_run(spec, k0, tmp_path, first=T, then=EXTENDED)  # 4 epochs, resumed as 8
    check_extension(trace, k0, WarmupSchedule(total_steps=T, **spec), bases=BASES[:1])


@pytest.mark.parametrize("opt_first", [True, False], ids=["optimizer-then-scheduler", "scheduler-then-optimizer"])
def test_timm_plateau_resume_keeps_the_reduced_lr(opt_first):
    """Past its warmup the plateau scheduler's LR is the plateau's (reduced, plus timm's noise): a
    resume restores it whichever state is loaded first."""
    pytest.importorskip("timm")
    from warmup_plugins.timm import create_scheduler_v2

    def make():
        opt = sgd(tiny_model())
        scheduler, _ = create_scheduler_v2(
            opt,
            sched="plateau",
            num_epochs=20,
            warmup_epochs=2,
            patience_epochs=0,
            decay_rate=0.5,
            plateau_mode="min",
            noise=[0.2, 0.9],
        )
        return opt, scheduler

    opt, scheduler = make()
    lrs = []
    for epoch in range(1, 12):
        scheduler.step(epoch, metric=1.0)  # never improves: halves every epoch after the warmup
        lrs.append([g["lr"] for g in opt.param_groups])
        if epoch == 6:
            ckpt = roundtrip({"opt": opt.state_dict(), "scheduler": scheduler.state_dict()})
    opt2, again = make()
    loads = [lambda: opt2.load_state_dict(ckpt["opt"]), lambda: again.load_state_dict(ckpt["scheduler"])]
    for load in loads if opt_first else loads[::-1]:
        load()
    assert [g["lr"] for g in opt2.param_groups] == lrs[5]
    resumed = []
    for epoch in range(7, 12):
        again.step(epoch, metric=1.0)
        resumed.append([g["lr"] for g in opt2.param_groups])
    assert resumed == lrs[6:]
    assert lrs[-1][0] < 0.1 / 2**4

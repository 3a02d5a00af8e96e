"""The migration pages' tables (docs/migrate_*.md), row by row, against the real libraries.

Each expressible row of a page is an entry of ``ROWS[page]`` under the same first-column text: it
runs the library's own scheduler over a grid (several warmups, totals and peaks, and 20 updates past
the end) and compares every LR with ``base * f(k)`` of the row's ``WarmupSchedule``, driven through
``WarmupLR``. transformers' rows are tests/transformers_adapter/test_get_scheduler.py and timm's are
tests/timm_adapter/test_timm_parity.py (the drop-in factories); this file checks those pages list them.
A library that is not installed skips its rows with the ``pip install`` that brings it.
"""

from __future__ import annotations

import itertools
import math
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from torch.optim import lr_scheduler as torch_sched

from warmup_plugins import WarmupSchedule
from warmup_plugins.core.warmups import radam_factor
from warmup_plugins.torch import WarmupLR
from warmup_plugins.transformers import SCHEDULER_NAMES

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAST_END = 20
GRID = [(w, t, peak) for w, t in itertools.product((1, 5, 37), (40, 101, 250)) for peak in (0.1, 3e-4)]


def optimizer(peak: float, adam: bool = False, betas: tuple[float, float] = (0.9, 0.999)) -> torch.optim.Optimizer:
    params = [torch.nn.Parameter(torch.zeros(2))]
    return torch.optim.Adam(params, lr=peak, betas=betas) if adam else torch.optim.SGD(params, lr=peak)


def warmup_lr_trace(schedule: WarmupSchedule, peak: float, n: int) -> list[float]:
    scheduler = WarmupLR(optimizer(peak), schedule)
    out = []
    for _ in range(n):
        out.append(scheduler.optimizer.param_groups[0]["lr"])
        scheduler.step()
    return out


def torch_trace(build: Callable[[torch.optim.Optimizer], object], peak: float, n: int) -> list[float]:
    opt = optimizer(peak)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's "step() before optimizer.step()" and SequentialLR's epoch notes
        scheduler = build(opt)
        out = []
        for _ in range(n):
            out.append(opt.param_groups[0]["lr"])
            scheduler.step()
    return out


@dataclass(frozen=True)
class Row:
    """A page row: the library's LRs over ``n`` updates, this library's schedule, how far they may differ (a
    fraction of the peak), and up to which update (``end(w, t)``; later the library moves on and this holds)."""

    theirs: Callable[[int, int, float, int], list[float]]
    ours: Callable[[int, int], WarmupSchedule]
    tolerance: float
    end: Callable[[int, int], int] | None = None
    peak_after_end: bool = False  # a warmup that only approaches the peak there: here the peak, theirs below it


def check_row(row: Row) -> int:
    compared = 0
    for w, t, peak in GRID:
        n = t + PAST_END
        mine, ref = warmup_lr_trace(row.ours(w, t), peak, n), row.theirs(w, t, peak, n)
        end = n if row.end is None else row.end(w, t)
        for k in range(n):
            if k > end and row.peak_after_end:
                assert mine[k] == peak >= ref[k], (w, t, peak, k)
                continue
            if k > end:
                assert mine[k] == mine[end], (w, t, peak, k)  # this library holds its final value
                continue
            assert abs(mine[k] - ref[k]) <= row.tolerance * peak, (w, t, peak, k, mine[k], ref[k])
            compared += 1
    return compared


def sequential(first: Callable, then: Callable, w: int) -> Callable:
    return lambda opt: torch_sched.SequentialLR(opt, [first(opt), then(opt)], milestones=[w])


def linear_lr(w: int, start: float = 0.01) -> Callable:
    return lambda opt: torch_sched.LinearLR(opt, start_factor=start, end_factor=1.0, total_iters=w)


def warmup(w: int, t: int | None, **decay) -> WarmupSchedule:
    return WarmupSchedule(warmup_steps=w, total_steps=t, start_factor=0.01, **decay)


# ---------------------------------------------------------------------------- torch
TORCH = 1e-12  # torch's chainable form multiplies the LR by a ratio each step: rounding accumulates
TORCH_ROWS: dict[str, Row] = {
    "LinearLR(start_factor=s, total_iters=W)": Row(
        lambda w, t, p, n: torch_trace(linear_lr(w), p, n), lambda w, t: warmup(w, None), TORCH
    ),
    "SequentialLR([LinearLR(s, 1, W), CosineAnnealingLR(T_max=T-W, eta_min=m·lr)], [W])": Row(
        lambda w, t, p, n: torch_trace(
            sequential(linear_lr(w), lambda o: torch_sched.CosineAnnealingLR(o, T_max=t - w, eta_min=0.05 * p), w),
            p,
            n,
        ),
        lambda w, t: warmup(w, t, decay_type="cosine", end_factor=0.05),
        TORCH,
        end=lambda w, t: t,  # CosineAnnealingLR is periodic: it rises again after T_max
    ),
    "SequentialLR([LinearLR(s, 1, W), LinearLR(1, e, total_iters=T-W)], [W])": Row(
        lambda w, t, p, n: torch_trace(
            sequential(
                linear_lr(w),
                lambda o: torch_sched.LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=t - w),
                w,
            ),
            p,
            n,
        ),
        lambda w, t: warmup(w, t, decay_type="linear", end_factor=0.1),
        TORCH,
    ),
    "SequentialLR([LinearLR(s, 1, W), PolynomialLR(total_iters=T-W, power=2)], [W])": Row(
        lambda w, t, p, n: torch_trace(
            sequential(linear_lr(w), lambda o: torch_sched.PolynomialLR(o, total_iters=t - w, power=2.0), w), p, n
        ),
        lambda w, t: warmup(w, t, decay_type="polynomial", power=2.0),
        TORCH,
    ),
    "SequentialLR([LinearLR(s, 1, W), StepLR(step_size=7, gamma=0.5)], [W])": Row(
        lambda w, t, p, n: torch_trace(
            sequential(linear_lr(w), lambda o: torch_sched.StepLR(o, step_size=7, gamma=0.5), w), p, n
        ),
        lambda w, t: warmup(w, None, decay_type="step", step_size=7, gamma=0.5),
        TORCH,
    ),
    "SequentialLR([LinearLR(s, 1, W), MultiStepLR(milestones=[10, 20])], [W])": Row(
        lambda w, t, p, n: torch_trace(
            sequential(linear_lr(w), lambda o: torch_sched.MultiStepLR(o, milestones=[10, 20], gamma=0.1), w), p, n
        ),
        lambda w, t: warmup(w, None, decay_type="multistep", milestones=(w + 10, w + 20), gamma=0.1),
        TORCH,
    ),
    "SequentialLR([LinearLR(s, 1, W), ExponentialLR(gamma=0.97)], [W])": Row(
        lambda w, t, p, n: torch_trace(
            sequential(linear_lr(w), lambda o: torch_sched.ExponentialLR(o, gamma=0.97), w), p, n
        ),
        lambda w, t: warmup(w, None, decay_type="exponential", gamma=0.97),
        TORCH,
    ),
    "SequentialLR([LinearLR(s, 1, W), CosineAnnealingWarmRestarts(T_0=9, T_mult=2)], [W])": Row(
        lambda w, t, p, n: torch_trace(
            sequential(linear_lr(w), lambda o: torch_sched.CosineAnnealingWarmRestarts(o, T_0=9, T_mult=2), w), p, n
        ),
        lambda w, t: warmup(w, t, decay_type="cosine", cycle_steps=9, cycle_mul=2),
        TORCH,
        end=lambda w, t: t,  # then torch's cycles go on; here f(T) holds (no T of the grid is on a cycle boundary)
    ),
    "ConstantLR(factor=s, total_iters=W)": Row(
        lambda w, t, p, n: torch_trace(lambda o: torch_sched.ConstantLR(o, factor=0.25, total_iters=w), p, n),
        lambda w, t: WarmupSchedule(warmup_type="constant", warmup_steps=w, start_factor=0.25),
        TORCH,
    ),
    "OneCycleLR(max_lr, total_steps=T, pct_start, cycle_momentum=False)": Row(
        lambda w, t, p, n: torch_trace(
            lambda o: torch_sched.OneCycleLR(
                o, max_lr=p, total_steps=n + 1, pct_start=(w + 1) / (n + 1), cycle_momentum=False
            ),
            p,
            n,
        ),
        lambda w, t: WarmupSchedule(
            warmup_type="cosine",
            warmup_steps=w,
            total_steps=t + PAST_END,
            start_factor=1 / 25,
            decay_type="cosine",
            end_factor=1 / 25 / 1e4,
        ),
        1e-14,
    ),
}


# ---------------------------------------------------------------------------- pytorch_warmup
def pytorch_warmup_trace(kind: str, peak: float, n: int, **kwargs) -> list[float]:
    pw = pytest.importorskip("pytorch_warmup", reason="pytorch_warmup is not installed: pip install pytorch-warmup")
    opt = optimizer(peak, adam=True, betas=kwargs.pop("betas", (0.9, 0.999)))
    scheduler = getattr(pw, kind)(opt, **kwargs)
    out = []
    for _ in range(n):
        out.append(opt.param_groups[0]["lr"])
        with scheduler.dampening():  # no LR scheduler under it: the warmup alone
            pass
    return out


def tau_warmup(tau: int) -> WarmupSchedule:
    """pytorch_warmup's ``min(1, (k + 1) / tau)``: ``1 / tau`` at update 0 and the peak at ``tau - 1``."""
    return WarmupSchedule(warmup_type="linear" if tau > 1 else "none", warmup_steps=tau - 1, start_factor=1 / tau)


ULP = 2e-16  # one unit in the last place of the peak: (k + 1) / tau computed as 1/tau + (1 - 1/tau) * k/(tau - 1)
EXP = 1e-15  # measured 2.8e-16: 1 - exp(-(k + 1) / tau) computed as s + (1 - s) * -expm1(-k / tau)
RADAM = 5e-15  # measured 1.2e-15: RAdamWarmup's r(k) computed as s + (1 - s)(r(k) - r(0)) / (1 - r(0))
SATURATED = 7  # W = 7 tau: pytorch_warmup's factor is 1 - exp(-7) = 0.9991 there; this library's is the peak
PYTORCH_WARMUP_ROWS: dict[str, Row] = {
    "LinearWarmup(optimizer, warmup_period=τ)": Row(
        lambda w, t, p, n: pytorch_warmup_trace("LinearWarmup", p, n, warmup_period=w),
        lambda w, t: tau_warmup(w),
        ULP,
    ),
    "UntunedLinearWarmup(optimizer) (β2 = 0.999: τ = 1999)": Row(
        lambda w, t, p, n: pytorch_warmup_trace("UntunedLinearWarmup", p, 2000 + PAST_END),
        lambda w, t: tau_warmup(int(2.0 / (1.0 - 0.999))),
        ULP,
    ),
    "UntunedLinearWarmup(optimizer) (β2 = 0.99: τ = 199)": Row(
        lambda w, t, p, n: pytorch_warmup_trace("UntunedLinearWarmup", p, 2000 + PAST_END, betas=(0.9, 0.99)),
        lambda w, t: tau_warmup(int(2.0 / (1.0 - 0.99))),
        ULP,
    ),
    "ExponentialWarmup(optimizer, warmup_period=τ)": Row(
        lambda w, t, p, n: pytorch_warmup_trace("ExponentialWarmup", p, n, warmup_period=w),
        lambda w, t: exp_warmup(w, min(SATURATED * w, t)),
        EXP,
        end=lambda w, t: min(SATURATED * w, t) - 1,
        peak_after_end=True,
    ),
    "UntunedExponentialWarmup(optimizer) (β2 = 0.999: τ = 999)": Row(
        lambda w, t, p, n: pytorch_warmup_trace("UntunedExponentialWarmup", p, 2000 + PAST_END),
        lambda w, t: exp_warmup(int(1.0 / (1.0 - 0.999)), SATURATED * 999),
        EXP,
    ),
    "RAdamWarmup(optimizer) (β2 = 0.999)": Row(
        lambda w, t, p, n: pytorch_warmup_trace("RAdamWarmup", p, 2000 + PAST_END),
        lambda w, t: radam_warmup(0.999),
        RADAM,
    ),
    "RAdamWarmup(optimizer) (β2 = 0.99)": Row(
        lambda w, t, p, n: pytorch_warmup_trace("RAdamWarmup", p, 2000 + PAST_END, betas=(0.9, 0.99)),
        lambda w, t: radam_warmup(0.99),
        RADAM,
    ),
}


def radam_warmup(beta2: float) -> WarmupSchedule:
    """RAdamWarmup's factor from its own start, the peak at W = 10,000 updates (past the 2,020 compared)."""
    start = radam_factor(0, beta2)
    return WarmupSchedule(warmup_type="radam", warmup_beta2=beta2, warmup_steps=10_000, start_factor=start)


def exp_warmup(tau: int, w: int) -> WarmupSchedule:
    """pytorch_warmup's ``1 - exp(-(k + 1) / tau)`` for ``k < W``, then the peak (theirs only approaches it)."""
    return WarmupSchedule(warmup_type="1-exp", warmup_tau=tau, warmup_steps=w, start_factor=1 - math.exp(-1 / tau))


def untuned_grid_row(row: Row) -> int:
    """The untuned and RAdam rows read their warmup from β2: one grid point each, over 2,020 updates."""
    compared = 0
    for peak in (0.1, 3e-4):
        ref = row.theirs(0, 0, peak, 0)
        mine = warmup_lr_trace(row.ours(0, 0), peak, len(ref))
        for k, (a, b) in enumerate(zip(mine, ref)):
            assert abs(a - b) <= row.tolerance * peak, (peak, k, a, b)
            compared += 1
    return compared


# ---------------------------------------------------------------------------- fastai
def fastai_trace(sched: Callable[[float], float], n_epoch: int, n_iter: int) -> list[float]:
    """The values fastai's ``ParamScheduler`` writes: ``sched(pct_train)``, where ``pct_train`` is reset to
    ``epoch / n_epoch`` at each epoch and grows by ``1 / (n_iter * n_epoch)`` per batch, as fastai does."""
    out = []
    for epoch in range(n_epoch):
        pos = epoch / n_epoch
        for _ in range(n_iter):
            out.append(float(sched(pos)))
            pos += 1.0 / (n_iter * n_epoch)
    return out


FASTAI_GRID = [(n_epoch, n_iter, peak) for n_epoch in (1, 3, 7) for n_iter in (5, 16) for peak in (0.1, 3e-4)]
FASTAI = 1e-5  # fastai's combine_scheds computes positions in float32 (~3e-6 at the tail)


def fastai_rows() -> dict[str, tuple[Callable, Callable]]:
    """Row -> (fastai's LR function for a peak, this library's schedule for ``n`` updates)."""
    schedule = pytest.importorskip("fastai.callback.schedule", reason="fastai is not installed: pip install fastai")

    def sgdr(peak: float, n: int, n_epoch: int) -> Callable:
        n_cycles, cycle_len = 3, 1  # fit_sgdr(3, 1): 1 + 2 + 4 = 7 epochs
        total = cycle_len * (2**n_cycles - 1)
        pcts = [cycle_len * 2**i / total for i in range(n_cycles)]
        return schedule.combine_scheds(pcts, [schedule.SchedCos(peak, 0) for _ in range(n_cycles)])

    return {
        "fit_one_cycle(n_epoch, lr_max)": (
            lambda peak, n, n_epoch: schedule.combined_cos(0.25, peak / 25, peak, peak / 1e5),
            lambda n: WarmupSchedule(
                warmup_type="cosine",
                warmup_steps=0.25 * n,
                total_steps=n,
                start_factor=1 / 25,
                decay_type="cosine",
                end_factor=1e-5,
            ),
        ),
        "fit_flat_cos(n_epoch, lr)": (
            lambda peak, n, n_epoch: schedule.combined_cos(0.75, peak, peak, peak / 1e5),
            lambda n: WarmupSchedule(
                warmup_type="constant",
                warmup_steps=0.75 * n,
                total_steps=n,
                start_factor=1.0,
                decay_type="cosine",
                end_factor=1e-5,
            ),
        ),
        "fit_sgdr(n_cycles=3, cycle_len=1, lr_max)": (
            sgdr,
            lambda n: WarmupSchedule(
                warmup_type="none", total_steps=n, decay_type="cosine", cycle_steps=n / 7, cycle_mul=2
            ),
        ),
    }


def check_fastai_row(theirs: Callable, ours: Callable, sgdr: bool) -> int:
    compared = 0
    for n_epoch, n_iter, peak in FASTAI_GRID:
        if sgdr and n_epoch != 7:  # fit_sgdr(3, 1) always fits 7 epochs
            continue
        n = n_epoch * n_iter
        ref = fastai_trace(theirs(peak, n, n_epoch), n_epoch, n_iter)
        mine = warmup_lr_trace(ours(n), peak, n)
        restarts = {n // 7, 3 * n // 7} if sgdr else set()  # the updates where cycles 2 and 3 start
        for k, (a, b) in enumerate(zip(mine, ref)):
            if k in restarts and a == peak and b < FASTAI * peak:
                continue  # fastai's float32 position is still at the end of the old cycle: see the page
            assert abs(a - b) <= FASTAI * peak, (n_epoch, n_iter, peak, k, a, b)
            compared += 1
    return compared


# ---------------------------------------------------------------------------- the pages and their tests
def table_rows(page: str, section: str) -> list[str]:
    """The first column (code spans removed) of the table under the heading ``section`` of ``page``."""
    text = (DOCS / page).read_text()
    part = text.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in part.splitlines() if line.startswith("| ") and not line.startswith("| ---")]
    return [re.sub(r"`", "", row.split(" | ")[0][2:]).strip() for row in rows[1:]]


@pytest.mark.parametrize("name", list(TORCH_ROWS))
def test_torch_row(name):
    assert check_row(TORCH_ROWS[name]) > 1000


@pytest.mark.parametrize("name", list(PYTORCH_WARMUP_ROWS))
def test_pytorch_warmup_row(name):
    row = PYTORCH_WARMUP_ROWS[name]
    compared = untuned_grid_row(row) if name.startswith(("Untuned", "RAdam")) else check_row(row)
    assert compared > 1000


FASTAI_ROWS = [
    "fit_one_cycle(n_epoch, lr_max)",
    "fit_flat_cos(n_epoch, lr)",
    "fit_sgdr(n_cycles=3, cycle_len=1, lr_max)",
]


@pytest.mark.parametrize("name", FASTAI_ROWS)
def test_fastai_row(name):
    theirs, ours = fastai_rows()[name]
    assert check_fastai_row(theirs, ours, sgdr=name.startswith("fit_sgdr")) > 50


@pytest.mark.parametrize(
    ("page", "tested"),
    [
        ("migrate_torch.md", TORCH_ROWS),
        ("migrate_pytorch_warmup.md", PYTORCH_WARMUP_ROWS),
        ("migrate_fastai.md", FASTAI_ROWS),
    ],
)
def test_every_expressible_row_of_the_page_is_a_test_here(page, tested):
    assert table_rows(page, "Equivalents") == list(tested)


def test_the_transformers_page_lists_every_scheduler_name():
    rows = " ".join(table_rows("migrate_transformers.md", "Equivalents"))
    assert all(f'"{name}"' in rows for name in SCHEDULER_NAMES if name != "greedy"), rows


# ---------------------------------------------------------------------------- pytorch_warmup's product model
def multiplicative_gaps(tau_share: float, total: int = 1000) -> tuple[float, float]:
    """pytorch_warmup's ``CosineAnnealingLR(T_max=T)`` dampened by ``LinearWarmup(tau)`` against the two nearest
    schedules here: a warmup to the peak then a cosine over ``T - W`` (the hand-off), and timm's overlap
    (``warmup_prefix=False, warmup_end="decay"``). Returns the largest gap of each over the ``T`` updates,
    as a fraction of the peak."""
    pytest.importorskip("pytorch_warmup", reason="pytorch_warmup is not installed: pip install pytorch-warmup")
    import pytorch_warmup as pw

    tau = round(tau_share * total)
    opt = optimizer(1.0, adam=True)
    cosine = torch_sched.CosineAnnealingLR(opt, T_max=total)
    dampen = pw.LinearWarmup(opt, warmup_period=tau)
    product = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(total):
            product.append(opt.param_groups[0]["lr"])
            with dampen.dampening():
                cosine.step()
    hand_off = WarmupSchedule(warmup_steps=tau - 1, total_steps=total, start_factor=1 / tau, decay_type="cosine")
    overlap = hand_off.replace(warmup_prefix=False, warmup_end="decay")
    gaps = [max(abs(schedule(k) - lr) for k, lr in enumerate(product)) for schedule in (hand_off, overlap)]
    return gaps[0], gaps[1]


def test_the_multiplicative_model_gaps_are_the_pages():
    """The numbers in docs/migrate_pytorch_warmup.md's design note are these, rounded to whole percents."""
    text = (DOCS / "migrate_pytorch_warmup.md").read_text()
    for share in (0.1, 1 / 3):
        hand_off, overlap = multiplicative_gaps(share)
        label = f"τ = {share:.0%} of T"
        line = next(line for line in text.splitlines() if line.startswith(f"| {label}"))
        assert f"| {hand_off:.0%} | {overlap:.0%} |" in line, (line, hand_off, overlap)
    assert math.isfinite(hand_off)


def test_the_timm_page_lists_every_sched_the_parity_test_runs():
    pytest.importorskip("timm", reason="timm is not installed: pip install timm")
    from tests.timm_adapter.test_timm_parity import grid

    tested = list(dict.fromkeys(case.values[0]["sched"] for case in grid()))
    assert [row.strip('"') for row in table_rows("migrate_timm.md", "Equivalents")] == tested


# ---------------------------------------------------------------------------- the pages' words, measured (issue 28)
def page_column(page: str, section: str, column: int) -> dict[str, str]:
    """First column (code spans removed) -> the text of ``column`` of the table under ``section``."""
    text = (DOCS / page).read_text()
    part = text.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in part.splitlines() if line.startswith("| ") and not line.startswith("| ---")][1:]
    return {re.sub(r"`", "", row.split(" | ")[0][2:]).strip(): row.split(" | ")[column] for row in rows}


@pytest.mark.parametrize("name", [name for name in TORCH_ROWS if not name.startswith("OneCycleLR")])
def test_each_torch_row_is_the_schedule_it_names_in_full(name):
    """The row's code is the whole schedule the test runs (a ``...`` carried ``total_steps=T`` over to StepLR,
    MultiStepLR and ExponentialLR, whose LRs then differed from torch's after T by up to 0.99 of the peak)."""
    code = re.match(r"`([^`]*)`", page_column("migrate_torch.md", "Equivalents", 1)[name]).group(1)
    for w, t in ((5, 101), (37, 250)):
        s = 0.25 if name.startswith("ConstantLR") else 0.01  # the start factor each row's test uses
        symbols = {"W": w, "T": t, "s": s, "m": 0.05, "e": 0.1}
        kwargs = eval(f"dict({code})", {"__builtins__": {"dict": dict}}, symbols)  # the page's own code
        assert WarmupSchedule(**kwargs) == TORCH_ROWS[name].ours(w, t), (name, code)


def test_the_untuned_rows_name_pytorch_warmups_periods():
    """pytorch_warmup's untuned period is int(2 / (1 - β2)) (linear) or int(1 / (1 - β2)) (exponential), truncated:
    199 at β2 = 0.99 (the page said 200)."""
    for name in PYTORCH_WARMUP_ROWS:
        if not name.startswith("Untuned"):
            continue
        beta2, tau = re.search(r"β2 = ([\d.]+): τ = (\d+)", name).groups()
        rise = 2.0 if name.startswith("UntunedLinear") else 1.0
        assert int(tau) == int(rise / (1.0 - float(beta2))), name


def test_the_linear_rows_agree_to_the_ulps_the_page_states():
    """(k + 1) / τ computed as 1/τ + (1 - 1/τ) · k/(τ - 1): one ulp of the peak for most τ, two at τ = 19, 63, 171
    and 399 (of τ up to 500, as the page says; its grid here: τ up to 64, 171 and 399)."""
    worst: dict[int, float] = {}
    for tau in (*range(1, 65), 171, 399):
        for peak in (0.1, 3e-4):
            ref = pytorch_warmup_trace("LinearWarmup", peak, tau + 2, warmup_period=tau)
            mine = warmup_lr_trace(tau_warmup(tau), peak, tau + 2)
            ulps = max(abs(a - b) for a, b in zip(mine, ref)) / math.ulp(peak)
            worst[tau] = max(worst.get(tau, 0.0), ulps)
    assert max(worst.values()) == 2.0
    assert sorted(tau for tau, ulps in worst.items() if ulps > 1) == [19, 63, 171, 399]
    page = " ".join((DOCS / "migrate_pytorch_warmup.md").read_text().split())
    assert "agree to two units in the last place of the peak" in page and "τ = 19, 63, 171 and 399" in page

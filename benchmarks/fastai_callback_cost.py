"""Per-batch cost of ``WarmupCallback.before_batch`` against fastai's ``ParamScheduler.before_batch``.

    python -m benchmarks.fastai_callback_cost [--out runs/benchmarks] [--rounds 7] [--quick]

Both schedule what ``fit_one_cycle`` schedules, ``lr`` alone and ``lr`` with ``mom``: the
ParamScheduler through fastai's own ``combined_cos`` (per-group ``lr_max`` arrays, as
``fit_one_cycle`` builds them), the callback through the equivalent core schedules. Each is set
up by its real ``before_fit`` on the same ``Learner`` (1 or 50 param groups; fastai's ``Adam``,
and torch's ``AdamW`` in an ``OptimWrapper``), then called over a whole fit's batch positions.
Same process, interleaved rounds, minimum over rounds (a noisy machine only ever adds time), less
the loop's own cost (setting ``epoch``/``iter``/``pct_train``). ``ParamScheduler`` reads the values
back in ``after_batch`` to record them, the callback records in ``before_batch``: the
``+after_batch`` row is ParamScheduler's whole per-batch cost. Writes ``fastai_callback_cost.json``.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
import torch
from fastai.basics import Adam, DataLoaders, Learner, MSELossFlat, OptimWrapper
from fastai.callback.schedule import ParamScheduler, combined_cos
from torch.utils.data import DataLoader, TensorDataset

from benchmarks.environment import environment, save_result, timing_parser
from warmup_plugins.fastai import WarmupCallback

N_EPOCH, N_ITER, LR = 4, 100, 1e-2
OPTIMIZERS: dict[str, Callable[..., Any]] = {
    "fastai Adam": Adam,
    "OptimWrapper(AdamW)": partial(OptimWrapper, opt=torch.optim.AdamW),
}
OURS, THEIRS = "WarmupCallback.before_batch", "ParamScheduler.before_batch"
Calls = list[Callable[[], None]]


def one_group_per_layer(model: torch.nn.Module) -> list[list[torch.nn.Parameter]]:
    return [list(layer.parameters()) for layer in model]


def make_learner(n_groups: int, opt_func: Callable[..., Any]) -> Learner:
    """A learner with ``n_groups`` tiny Linear layers (a param group each), at the start of an N_EPOCH fit."""
    model = torch.nn.Sequential(*[torch.nn.Linear(2, 2) for _ in range(n_groups)])
    ds = TensorDataset(torch.zeros(N_ITER, 2), torch.zeros(N_ITER, 2))
    dls = DataLoaders(DataLoader(ds, batch_size=1), DataLoader(ds, batch_size=1))
    learn = Learner(dls, model, loss_func=MSELossFlat(), opt_func=opt_func, splitter=one_group_per_layer)
    learn.create_opt()
    learn.opt.set_hyper("lr", LR)
    learn.n_epoch, learn.epoch, learn.iter, learn.pct_train = N_EPOCH, 0, 0, 0.0
    return learn


def warmup_callback(learn: Learner, with_mom: bool) -> WarmupCallback:
    """The core's one-cycle schedules (``fit_warmup``'s parity settings), set up by ``before_fit``."""
    lr = {"warmup_type": "cosine", "warmup_pct": 0.25, "start_factor": 1 / 25, "decay_type": "cosine"}
    lr["end_factor"] = 1e-5
    mom = {**lr, "start_factor": 0.95 / 0.85, "end_factor": 0.95 / 0.85} if with_mom else None
    callback = WarmupCallback(mom=mom, **lr)
    learn.add_cb(callback)
    callback.before_fit()
    return callback


def param_scheduler(learn: Learner, with_mom: bool) -> ParamScheduler:
    """``fit_one_cycle``'s ParamScheduler, built the way it builds it, set up by ``before_fit``."""
    lr_max = np.array([h["lr"] for h in learn.opt.hypers])
    scheds = {"lr": combined_cos(0.25, lr_max / 25, lr_max, lr_max / 1e5)}
    if with_mom:
        scheds["mom"] = combined_cos(0.25, 0.95, 0.85, 0.95)
    callback = ParamScheduler(scheds)
    learn.add_cb(callback)
    callback.before_fit()
    return callback


def contenders(learn: Learner, with_mom: bool) -> dict[str, Calls]:
    """name -> the calls one training batch makes."""
    ours = warmup_callback(learn, with_mom)  # before the ParamScheduler joins: it refuses a second LR scheduler
    theirs = param_scheduler(learn, with_mom)
    targets = [(driver, driver.values_at(1)) for driver in ours._drivers.values()]

    def write_floats() -> None:
        for writer, values in targets:
            writer.write_values(values)

    return {
        "loop alone": [],
        OURS: [ours.before_batch],
        THEIRS: [theirs.before_batch],
        "ParamScheduler.before_batch + after_batch": [theirs.before_batch, theirs.after_batch],
        "writing the values alone": [write_floats],
    }


def seconds_per_batch(learn: Learner, calls: Calls, number: int) -> float:
    """Seconds per batch position for ``calls``, cycling through the fit's positions."""
    n_batches = N_EPOCH * N_ITER
    positions = [(j // N_ITER, j % N_ITER, j / n_batches) for j in (i % n_batches for i in range(number))]
    start = time.perf_counter()
    for epoch, it, pct in positions:
        learn.epoch, learn.iter, learn.pct_train = epoch, it, pct
        for call in calls:
            call()
    return (time.perf_counter() - start) / number


def measure(n_groups: int, opt_name: str, with_mom: bool, rounds: int, number: int) -> dict[str, Any]:
    learn = make_learner(n_groups, OPTIMIZERS[opt_name])
    runs = contenders(learn, with_mom)
    best = {name: math.inf for name in runs}
    for _ in range(rounds):
        for name, calls in runs.items():
            best[name] = min(best[name], seconds_per_batch(learn, calls, number) * 1e6)
    loop = best.pop("loop alone")
    micros = {name: value - loop for name, value in best.items()}
    hypers = "lr+mom" if with_mom else "lr"
    return {"groups": n_groups, "optimizer": opt_name, "hypers": hypers, "loop_us": loop, "us_per_batch": micros}


def print_row(row: dict[str, Any]) -> None:
    ours = row["us_per_batch"][OURS]
    for name, value in row["us_per_batch"].items():
        print(
            f"{row['optimizer']:20s} {row['hypers']:6s} {row['groups']:3d} groups  {name:42s} "
            f"{value:9.2f} us  ({value / ours:6.1f}x WarmupCallback)"
        )


def main(argv: list[str] | None = None) -> dict:
    args = timing_parser(__doc__).parse_args(argv)
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")  # fastai/torch import-time deprecation warnings
    rounds = 2 if args.quick else args.rounds
    rows = []
    for opt_name in OPTIMIZERS:
        for with_mom in (False, True):
            for groups in (1, 50):
                number = (100 if args.quick else 2000) // (1 if groups == 1 else 10)
                rows.append(measure(groups, opt_name, with_mom, rounds, number))
                print_row(rows[-1])
    for row in rows:
        row["ratio_before_batch"] = row["us_per_batch"][THEIRS] / row["us_per_batch"][OURS]
    result = {"benchmark": "fastai_callback_cost", "environment": environment(), "rounds": rounds, "rows": rows}
    path = save_result(result, args.out, "fastai_callback_cost", args.quick)
    ratios = ", ".join(f"{r['groups']} groups {r['ratio_before_batch']:.0f}x" for r in rows if r["hypers"] == "lr")
    print(f"ParamScheduler.before_batch / WarmupCallback.before_batch (lr only): {ratios}")
    print(f"wrote {path}")
    return result


if __name__ == "__main__":
    main()

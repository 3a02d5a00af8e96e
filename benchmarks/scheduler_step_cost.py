"""Per-step cost of ``WarmupLR.step()`` against the schedulers a user would otherwise use.

    python -m benchmarks.scheduler_step_cost [--out runs/benchmarks]

Same process, same optimizer shapes, interleaved rounds, minimum over rounds (a noisy machine
only ever adds time). All schedulers run a warmup then cosine decay and are measured in the decay
phase, with 1 and 50 param groups, float and Tensor LRs. Writes ``scheduler_step_cost.json`` and
``scheduler_step_cost.md`` (generated from it).

Goal (issue 20): ``WarmupLR.step()`` is the cheapest scheduler step. At 1 float group it must cost no more,
relative to torch's ``LambdaLR`` measured in the same process, than the committed figure
(``benchmarks/results/scheduler_step_cost.json``) plus the noise this run measured (the spread of the
per-round ratios); and less than timm's ``step_update``. A run that misses it prints a FAIL line and exits 1.
"""

from __future__ import annotations

import json
import math
import sys
import timeit
import warnings
from collections.abc import Callable
from pathlib import Path

import torch
from torch.optim.lr_scheduler import CosineAnnealingLR, LambdaLR, LinearLR, SequentialLR

from benchmarks.environment import environment, save_result, timing_parser
from benchmarks.report import render_step_cost
from warmup_plugins import WarmupSchedule
from warmup_plugins.torch import WarmupLR

WARMUP, TOTAL = 1_000, 100_000_000
COMMITTED = Path(__file__).parent / "results" / "scheduler_step_cost.json"
TIMM = "timm CosineLRScheduler.step_update"
SCHEDULE = WarmupSchedule(warmup_steps=WARMUP, total_steps=TOTAL, decay_type="cosine")


def lambda_factor(k: int) -> float:
    if k < WARMUP:
        return 0.01 + 0.99 * k / WARMUP
    return 0.5 * (1 + math.cos(math.pi * (k - WARMUP) / (TOTAL - WARMUP)))


def make_optimizer(groups: int, tensor: bool) -> torch.optim.Optimizer:
    params = [
        {"params": [torch.zeros(1, requires_grad=True)], "lr": torch.tensor(0.1) if tensor else 0.1}
        for _ in range(groups)
    ]
    return torch.optim.SGD(params, lr=0.1)


def contenders(groups: int, tensor: bool) -> dict[str, Callable[[], None]]:
    """name -> a zero-argument function doing one scheduler step."""
    out: dict[str, Callable[[], None]] = {}
    out["WarmupLR"] = WarmupLR(make_optimizer(groups, tensor), SCHEDULE).step
    out["LambdaLR"] = LambdaLR(make_optimizer(groups, tensor), lambda_factor).step
    opt = make_optimizer(groups, tensor)
    warm = LinearLR(opt, start_factor=0.01, total_iters=WARMUP)
    cos = CosineAnnealingLR(opt, T_max=TOTAL - WARMUP)
    out["SequentialLR"] = SequentialLR(opt, [warm, cos], milestones=[WARMUP]).step
    try:
        from timm.scheduler import CosineLRScheduler
    except ImportError:
        pass
    else:
        timm_sched = CosineLRScheduler(
            make_optimizer(groups, tensor),
            t_initial=TOTAL - WARMUP,
            warmup_t=WARMUP,
            warmup_prefix=True,
            warmup_lr_init=0.001,
            t_in_epochs=False,
        )
        counter = iter(range(1, 10**9))
        out["timm CosineLRScheduler.step_update"] = lambda: timm_sched.step_update(next(counter))
    if not tensor:
        plain = make_optimizer(groups, tensor).param_groups
        values = [0.05] * groups

        def write_floats() -> None:
            for group, value in zip(plain, values):
                group["lr"] = value

        out["writing one float per group, nothing else"] = write_floats
    return out


def measure(groups: int, tensor: bool, rounds: int, number: int) -> tuple[dict[str, float], list[float]]:
    """The minimum µs per step of each contender, and each round's ratio WarmupLR / LambdaLR (the noise)."""
    steps = contenders(groups, tensor)
    for step in steps.values():  # move past the warmup, into the cosine phase
        for _ in range(WARMUP + 10):
            step()
    best = {name: math.inf for name in steps}
    ratios = []
    for _ in range(rounds):
        now = {name: timeit.timeit(step, number=number) / number * 1e6 for name, step in steps.items()}
        best = {name: min(best[name], now[name]) for name in steps}
        ratios.append(now["WarmupLR"] / now["LambdaLR"])
    return best, ratios


def check_goal(row: dict, ratios: list[float], committed: Path) -> dict:
    """The goal for one float group (see the module docs): the verdict, its figures and a line saying so."""
    us = row["us_per_step"]
    ratio = us["WarmupLR"] / us["LambdaLR"]
    noise = (max(ratios) - min(ratios)) / 2
    limit = None
    if committed.exists():
        old = next(r for r in json.loads(committed.read_text())["rows"] if r["groups"] == 1 and r["lr"] == "float")
        limit = old["us_per_step"]["WarmupLR"] / old["us_per_step"]["LambdaLR"] + noise
    beats_timm = TIMM not in us or us["WarmupLR"] < us[TIMM]
    ok = beats_timm and (limit is None or ratio <= limit)
    line = (
        f"{'PASS' if ok else 'FAIL'}: WarmupLR at 1 float group costs {ratio:.3f}x LambdaLR (committed figure plus "
        f"noise: {'none committed' if limit is None else f'{limit:.3f}x'}; noise {noise:.3f}), "
        f"{'less' if beats_timm else 'NOT less'} than timm's step_update"
    )
    return {"pass": ok, "ratio_to_lambda": ratio, "noise": noise, "limit": limit, "line": line}


def main(argv: list[str] | None = None) -> dict:
    args = timing_parser(__doc__).parse_args(argv)
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")  # torch's "step before optimizer.step" warnings: no optimizer runs here
    rounds = 2 if args.quick else args.rounds
    rows = []
    for groups in (1, 50):
        for tensor in (False, True):
            number = (200 if args.quick else 5000) // (1 if groups == 1 else 10)
            micros, ratios = measure(groups, tensor, rounds, number)
            rows.append({"groups": groups, "lr": "Tensor" if tensor else "float", "us_per_step": micros})
            ours = micros["WarmupLR"]
            for name, value in micros.items():
                ratio = value / ours
                print(f"{groups:3d} groups  {rows[-1]['lr']:6s}  {name:42s} {value:9.2f} us  ({ratio:5.2f}x WarmupLR)")
            if groups == 1 and not tensor:
                goal = check_goal(rows[-1], ratios, COMMITTED)
    result = {"benchmark": "scheduler_step_cost", "environment": environment(), "rounds": rounds, "rows": rows}
    result["goal"] = goal
    path = save_result(result, args.out, "scheduler_step_cost", args.quick)
    path.with_suffix(".md").write_text(render_step_cost(result))
    print(f"wrote {path} and {path.with_suffix('.md')}")
    print(goal["line"])
    if not goal["pass"] and not args.quick:
        sys.exit(1)
    return result


if __name__ == "__main__":
    main()

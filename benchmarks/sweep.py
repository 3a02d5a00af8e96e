"""Warmup ablation on CIFAR-10: warmup type x warmup length x peak LR x seed.

    python -m benchmarks.sweep --data /tmp/data/cifar10 --device cuda     # the default grid (a GPU)
    python -m benchmarks.sweep --quick                                    # CPU smoke run

The default grid trains the timm ResNet-18 recipe at peak LR 0.4 and 2.0 with no warmup and with
linear, exponential, cosine and constant warmups of 1 epoch (each from 1% of the peak), over 2
seeds, all through ``WarmupLR``. Two more cells per peak LR test feedback: a short fixed linear
warmup (``--short-warmup-epochs``, default 0.25) and an adaptive warmup of the same nominal length
(``AdaptiveWarmup`` with its default settings, untuned), which may stretch it. It reports the final
test accuracy (mean and std over seeds), the largest training loss in the first epoch, the updates
the warmup really took, and how many runs diverged (a NaN/inf loss, or a final epoch's mean loss
above ln 10).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch

from benchmarks.cifar10 import load_data, quick_recipe, training_parser
from benchmarks.data import Split
from benchmarks.environment import environment, save_result
from benchmarks.loops import Trainer, call_step, nothing, plain_loop, step_with_loss
from benchmarks.recipes import RECIPES, Recipe
from warmup_plugins import AdaptiveWarmup
from warmup_plugins.torch import WarmupLR

WARMUP_TYPES = ("none", "linear", "exponential", "cosine", "constant")


def grid(args: argparse.Namespace) -> list[dict]:
    """One entry per (warmup type, warmup epochs, peak LR), 'none' with the single length 0; with a
    short length, a short linear and an adaptive cell per peak LR (a duplicate cell runs once)."""
    cells = []
    for peak_lr in args.peak_lrs:
        for warmup_type in args.warmup_types:
            lengths = [0.0] if warmup_type == "none" else args.warmup_epochs
            cells += [{"warmup_type": warmup_type, "warmup_epochs": w, "peak_lr": peak_lr} for w in lengths]
        if args.short_warmup_epochs:
            for warmup_type in ("linear", "adaptive"):
                cells.append(
                    {"warmup_type": warmup_type, "warmup_epochs": args.short_warmup_epochs, "peak_lr": peak_lr}
                )
    return list({tuple(c.items()): c for c in cells}.values())


def run_cell(cell: dict, base: Recipe, train: Split, test: Split, args: argparse.Namespace) -> list[dict]:
    """Train one grid cell once per seed; an adaptive cell feeds each update's loss to AdaptiveWarmup."""
    adaptive = cell["warmup_type"] == "adaptive"
    recipe = base.with_(
        warmup_type="linear" if adaptive else cell["warmup_type"],
        warmup_epochs=cell["warmup_epochs"],
        peak_lr=cell["peak_lr"],
        start_lr=cell["peak_lr"] * base.start_lr / base.peak_lr,
    )
    runs = []
    for seed in args.seeds:
        trainer = Trainer(recipe, train, test, args.device, seed, 1 if args.quick else None)
        schedule = recipe.schedule(trainer.steps_per_epoch)
        controller = AdaptiveWarmup() if adaptive else None
        label = f"{cell['warmup_type']} {cell['warmup_epochs']:g}ep lr {cell['peak_lr']:g} seed {seed}"
        hook = step_with_loss if adaptive else call_step
        run = plain_loop(
            trainer, label, "torch", lambda o, c=controller, s=schedule: WarmupLR(o, s, adaptive=c), hook, nothing
        )
        result = run.to_json()
        result["first_epoch_max_loss"] = max(run.losses[: trainer.steps_per_epoch])
        result["warmup_updates"] = controller.warmup_done_at if adaptive else schedule.warmup_steps
        result.pop("lrs")
        result["losses"] = run.losses[:: max(1, len(run.losses) // 500)]
        runs.append({"seed": seed, **result})
    return runs


def summarize(runs: list[dict]) -> dict:
    accs = [r["test_accuracy"][-1] for r in runs]
    return {
        "accuracy_mean": statistics.fmean(accs),
        "accuracy_std": statistics.stdev(accs) if len(accs) > 1 else 0.0,
        "first_epoch_max_loss": max(r["first_epoch_max_loss"] for r in runs),
        "warmup_updates": [r["warmup_updates"] for r in runs],
        "diverged": sum(r["diverged"] for r in runs),
        "runs": len(runs),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = training_parser(__doc__)
    parser.add_argument("--model", default="resnet18", choices=list(RECIPES))
    parser.add_argument("--warmup-types", nargs="+", default=list(WARMUP_TYPES), choices=WARMUP_TYPES)
    parser.add_argument("--warmup-epochs", nargs="+", type=float, default=[1.0])
    parser.add_argument("--short-warmup-epochs", type=float, default=0.25, help="0 leaves out the adaptive cells")
    parser.add_argument("--peak-lrs", nargs="+", type=float, default=[0.4, 2.0])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    args = parser.parse_args(argv)
    torch.backends.cudnn.benchmark = True
    start = time.perf_counter()
    train, test = load_data(args)
    base = quick_recipe(RECIPES[args.model]) if args.quick else RECIPES[args.model]
    if args.quick:
        args.warmup_epochs = [min(w, 1.0) for w in args.warmup_epochs]
    cells = []
    for cell in grid(args):
        runs = run_cell(cell, base, train, test, args)
        cells.append({**cell, **summarize(runs), "seeds": runs})
        s = cells[-1]
        print(
            f"{cell['warmup_type']:12s} {cell['warmup_epochs']:4g} ep  lr {cell['peak_lr']:4g}:  acc "
            f"{s['accuracy_mean']:.2%} +- {s['accuracy_std']:.2%}  first-epoch max loss {s['first_epoch_max_loss']:.2f}"
            f"  diverged {s['diverged']}/{s['runs']}"
        )
    result = {
        "benchmark": "sweep",
        "environment": environment(args.device),
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "recipe": base.__dict__,
        "cells": cells,
        "wall_seconds": time.perf_counter() - start,
    }
    path = save_result(result, args.out, "sweep", args.quick)
    print(f"wrote {path} ({result['wall_seconds']:.0f}s)")
    return result


if __name__ == "__main__":
    main()

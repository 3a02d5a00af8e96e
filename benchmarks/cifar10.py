"""Train the seed CNN and a timm ResNet-18 on CIFAR-10 through every adapter, and cross-check.

    python -m benchmarks.cifar10 --data /tmp/data/cifar10 --device cuda      # the real thing (a GPU)
    python -m benchmarks.cifar10 --quick                                     # CPU smoke run, < 1 min

Each model is trained by the torch adapter in a plain loop, the timm adapter in a timm-style loop
(``step_update`` per update, ``step`` per epoch) and the fastai adapter in ``Learner.fit`` (the same
torch optimizer via ``OptimWrapper``), from the same initial weights, batch order and augmentation
draws. The cross-check requires identical LR traces (max |dLR| = 0) and per-epoch train loss and
test accuracy within a stated tolerance. References run beside them: timm's ``CosineLRScheduler``,
torch's ``SequentialLR(LinearLR, CosineAnnealingLR)``, fastai's ``fit_one_cycle`` and, for the seed
CNN, the seed's own per-epoch ``LambdaLR(lambda e: min(1, e / 5))``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks.data import cache_dir, load_cifar10, synthetic_cifar10
from benchmarks.environment import RUNS, add_device_argument, environment, save_result
from benchmarks.loops import (
    RunResult,
    Trainer,
    call_step,
    fastai_loop,
    nothing,
    plain_loop,
    timm_step_epoch,
    timm_step_update,
)
from benchmarks.recipes import RECIPES, Recipe
from warmup_plugins.torch import WarmupLR

ADAPTERS = ("torch", "timm", "fastai")
LOSS_RTOL = 0.05  # per-epoch mean train loss, relative
ACC_ATOL = 0.015  # per-epoch test accuracy, absolute (1.5 points)


def adapter_runs(trainer: Trainer) -> list[RunResult]:
    """The same WarmupSchedule through the torch, timm and fastai adapters."""
    from warmup_plugins.fastai import WarmupCallback
    from warmup_plugins.timm import WarmupScheduler

    schedule = trainer.recipe.schedule(trainer.steps_per_epoch)
    label = f"{schedule.warmup_type} warmup + {schedule.decay_type}"
    return [
        plain_loop(trainer, f"torch WarmupLR: {label}", "torch", lambda o: WarmupLR(o, schedule), call_step, nothing),
        plain_loop(
            trainer,
            f"timm WarmupScheduler: {label}",
            "timm",
            lambda o: WarmupScheduler(o, schedule, t_in_epochs=False),
            timm_step_update,
            timm_step_epoch,
        ),
        fastai_loop(trainer, f"fastai WarmupCallback: {label}", "fastai", lambda: [WarmupCallback(schedule)]),
    ]


def reference_runs(trainer: Trainer) -> list[RunResult]:
    """The native schedulers a user would otherwise pick, and the seed's own schedule."""
    from timm.scheduler import CosineLRScheduler
    from torch.optim.lr_scheduler import CosineAnnealingLR, LambdaLR, LinearLR, SequentialLR

    recipe, spe = trainer.recipe, trainer.steps_per_epoch
    schedule = recipe.schedule(spe)
    w, t, s = int(schedule.warmup_steps), int(schedule.total_steps), schedule.start_factor

    def sequential(opt: torch.optim.Optimizer) -> SequentialLR:
        warm = LinearLR(opt, start_factor=s, end_factor=1.0, total_iters=w)
        return SequentialLR(opt, [warm, CosineAnnealingLR(opt, T_max=t - w)], milestones=[w])

    def timm_cosine(opt: torch.optim.Optimizer) -> CosineLRScheduler:
        return CosineLRScheduler(
            opt, t_initial=t - w, warmup_t=w, warmup_lr_init=recipe.start_lr, warmup_prefix=True, t_in_epochs=False
        )

    runs = [
        plain_loop(
            trainer, "timm CosineLRScheduler (reference)", "timm-native", timm_cosine, timm_step_update, nothing
        ),
        plain_loop(trainer, "torch SequentialLR (reference)", "torch-native", sequential, call_step, nothing),
        fastai_loop(trainer, "fastai fit_one_cycle (reference)", "fastai-native", list, fit="fit_one_cycle"),
    ]
    if recipe.name == "seed_cnn":
        seed_epochs = recipe.warmup_epochs
        runs.append(
            plain_loop(
                trainer,
                "seed LambdaLR per epoch (reference)",
                "seed",
                lambda o: LambdaLR(o, lambda e: min(1.0, e / seed_epochs)),
                nothing,
                call_step,
            )
        )
        constant = recipe.with_(decay="constant").schedule(spe)
        runs.append(
            plain_loop(
                trainer,
                "torch WarmupLR: linear warmup + constant",
                "torch",
                lambda o: WarmupLR(o, constant),
                call_step,
                nothing,
            )
        )
    return runs


def cross_check(runs: list[RunResult]) -> dict:
    """Compare the three adapter runs: LR traces exactly, curves within the stated tolerance."""
    by_adapter = {r.adapter: r for r in runs if r.adapter in ADAPTERS and "constant" not in r.label}
    ref = by_adapter["torch"]
    out: dict = {"loss_rtol": LOSS_RTOL, "acc_atol": ACC_ATOL, "pairs": []}
    for name in ("timm", "fastai"):
        other = by_adapter[name]
        lr_delta = max(abs(a - b) for a, b in zip(ref.lrs, other.lrs, strict=True))
        loss_rel = max(abs(a - b) / max(abs(a), 1e-12) for a, b in zip(ref.train_loss, other.train_loss, strict=True))
        acc_abs = max(abs(a - b) for a, b in zip(ref.test_accuracy, other.test_accuracy, strict=True))
        same_losses = sum(a == b for a, b in zip(ref.losses, other.losses, strict=True))
        out["pairs"].append(
            {
                "pair": f"torch vs {name}",
                "max_abs_lr_delta": lr_delta,
                "max_rel_train_loss_delta": loss_rel,
                "max_abs_test_accuracy_delta": acc_abs,
                "bitwise_equal_update_losses": same_losses,
                "updates": len(ref.losses),
                "pass": lr_delta == 0 and loss_rel <= LOSS_RTOL and acc_abs <= ACC_ATOL,
            }
        )
    out["pass"] = all(p["pass"] for p in out["pairs"])
    return out


def trace_summary(lrs: list[float]) -> dict:
    arr = np.asarray(lrs, dtype=np.float64)
    samples = np.unique(np.linspace(0, len(arr) - 1, min(len(arr), 400)).round().astype(int))
    return {
        "sha256": hashlib.sha256(arr.tobytes()).hexdigest(),
        "length": len(arr),
        "sample_index": samples.tolist(),
        "sample_lr": arr[samples].tolist(),
    }


def run_model(recipe: Recipe, train, test, args: argparse.Namespace) -> dict:
    max_batches = (2 if recipe.name == "seed_cnn" else 1) if args.quick else None  # ResNet-18 is slow on a CPU
    trainer = Trainer(recipe, train, test, args.device, args.seed, max_batches)
    print(f"{recipe.name}: {recipe.epochs} epochs x {trainer.steps_per_epoch} updates, batch {recipe.batch_size}")
    runs = adapter_runs(trainer) + (reference_runs(trainer) if not args.no_references else [])
    check = cross_check(runs)
    for pair in check["pairs"]:
        verdict = "PASS" if pair["pass"] else "FAIL"
        print(
            f"  {verdict} {pair['pair']}: max |dLR| {pair['max_abs_lr_delta']:.3g}, "
            f"train loss rel {pair['max_rel_train_loss_delta']:.2e} (tol {LOSS_RTOL}), "
            f"test acc abs {pair['max_abs_test_accuracy_delta']:.4f} (tol {ACC_ATOL}), "
            f"bitwise-equal losses {pair['bitwise_equal_update_losses']}/{pair['updates']}"
        )
    runs_json = []
    for run in runs:
        data = run.to_json()
        data["lr_trace"] = trace_summary(data.pop("lrs"))
        data["loss_samples"] = data.pop("losses")[:: max(1, len(run.losses) // 2000)]
        data["first_epoch_max_loss"] = max(run.losses[: trainer.steps_per_epoch])
        runs_json.append(data)
    return {
        "recipe": recipe.__dict__,
        "steps_per_epoch": trainer.steps_per_epoch,
        "schedule": recipe.schedule(trainer.steps_per_epoch).to_dict(),
        "runs": runs_json,
        "cross_check": check,
    }


def quick_recipe(recipe: Recipe) -> Recipe:
    return recipe.with_(epochs=2, warmup_epochs=1, batch_size=min(recipe.batch_size, 8))


def load_data(args: argparse.Namespace):
    if args.data is None and not args.download:
        if not args.quick:
            raise SystemExit("--data is required (or --quick for a synthetic smoke run)")
        return synthetic_cifar10(256, 32, args.device)
    root = args.data or cache_dir() / "cifar10"
    train, test = load_cifar10(root, args.device, download=args.download)
    return (train.subset(256), test.subset(32)) if args.quick else (train, test)


def training_parser(description: str | None) -> argparse.ArgumentParser:
    """The options every training benchmark takes: ``--data``, ``--download``, ``--device``, ``--out``, ``--quick``."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="CIFAR-10 root (ImageFolder train/test, or torchvision's cifar-10-batches-py)")
    parser.add_argument(
        "--download", action="store_true", help=f"download torchvision's CIFAR-10 into --data (default {cache_dir()})"
    )
    add_device_argument(parser)
    parser.add_argument(
        "--out",
        type=Path,
        default=RUNS,
        help=f"output folder (default {RUNS}; benchmarks/results is the committed one)",
    )
    parser.add_argument("--quick", action="store_true", help="2 tiny epochs on a small (synthetic) set: a smoke run")
    return parser


def main(argv: list[str] | None = None) -> dict:
    parser = training_parser(__doc__)
    parser.add_argument("--models", nargs="+", default=list(RECIPES), choices=list(RECIPES))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--deterministic", action="store_true", help="deterministic kernels (slower)")
    parser.add_argument("--no-references", action="store_true", help="only the three adapter runs")
    args = parser.parse_args(argv)
    if args.deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True)
        torch.backends.cudnn.benchmark = False
    else:
        torch.backends.cudnn.benchmark = True
    start = time.perf_counter()
    train, test = load_data(args)
    models = {}
    for name in args.models:
        recipe = quick_recipe(RECIPES[name]) if args.quick else RECIPES[name]
        models[name] = run_model(recipe, train, test, args)
    result = {
        "benchmark": "cifar10",
        "environment": environment(args.device),
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "models": models,
        "wall_seconds": time.perf_counter() - start,
        "pass": all(m["cross_check"]["pass"] for m in models.values()),
    }
    path = save_result(result, args.out, "cifar10", args.quick)
    print(f"cross-check {'PASS' if result['pass'] else 'FAIL'}; wrote {path} ({result['wall_seconds']:.0f}s)")
    return result


if __name__ == "__main__":
    main()

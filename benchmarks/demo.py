"""The demo behind ``make demo``: CIFAR-10 through the torch, timm and fastai adapters, cross-checked.

    python -m benchmarks.demo                          # CPU: seed CNN on a subset, about 5 minutes on 2 cores
    python -m benchmarks.demo --data /tmp/data/cifar10 # an existing copy (or CIFAR10_ROOT=...)
    python -m benchmarks.demo --device cuda            # a GPU: the full recipes (seed CNN and ResNet-18)

The same schedule (linear warmup from the recipe's start LR, then cosine) drives the three adapters from
the same initial weights, batch order and augmentation draws; beside them run two references with the same
weights and batches: no warmup (the same cosine, from the peak) and, for the seed CNN, the seed's own
per-epoch ``LambdaLR(lambda e: min(1, e / W))``. It prints a table (test accuracy, final train loss, max LR
difference to the torch adapter, PASS/FAIL) and writes ``demo.json`` and ``demo.png`` (LR and loss curves)
to ``--out``. Data: ``--data``, else ``$CIFAR10_ROOT``, else torchvision's download into the cache directory.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import torch

from benchmarks.cifar10 import cross_check
from benchmarks.data import cache_dir, cached_arrays_path, find_or_download, load_cifar10
from benchmarks.environment import environment, require_device, save_result
from benchmarks.loops import RunResult, Trainer, call_step, nothing, plain_loop
from benchmarks.recipes import RECIPES, Recipe
from warmup_plugins import WarmupSchedule
from warmup_plugins.torch import WarmupLR

CPU_SIZE = {"train_images": 16_000, "test_images": 5000, "epochs": 4, "warmup_epochs": 1.0, "models": ["seed_cnn"]}
OUT = Path("runs/demo")


def adapter_and_reference_runs(trainer: Trainer) -> list[RunResult]:
    """The three adapters on one schedule, then no warmup and (seed CNN) the seed's per-epoch LambdaLR."""
    from torch.optim.lr_scheduler import LambdaLR

    from benchmarks.cifar10 import adapter_runs

    runs = adapter_runs(trainer)
    schedule = trainer.recipe.schedule(trainer.steps_per_epoch)
    no_warmup = WarmupSchedule(warmup_type="none", total_steps=schedule.total_steps, decay_type=schedule.decay_type)
    runs.append(
        plain_loop(trainer, "no warmup (reference)", "none", lambda o: WarmupLR(o, no_warmup), call_step, nothing)
    )
    if trainer.recipe.name == "seed_cnn":
        w = trainer.recipe.warmup_epochs
        runs.append(
            plain_loop(
                trainer,
                f"seed LambdaLR min(1, e/{w:g}) (reference)",
                "seed",
                lambda o: LambdaLR(o, lambda e: min(1.0, e / w)),
                nothing,
                call_step,
            )
        )
    return runs


def table(name: str, runs: list[RunResult], check: dict) -> str:
    """One row per run: test accuracy, final train loss, max |LR - torch adapter's LR|, PASS/FAIL."""
    torch_lrs = np.asarray(runs[0].lrs)
    verdicts = {p["pair"].split(" vs ")[1]: "PASS" if p["pass"] else "FAIL" for p in check["pairs"]}
    lines = [f"{'run':48s} {'test acc':>9s} {'final loss':>11s} {'max |dLR|':>10s}  check"]
    for run in runs:
        adapter = run.adapter in ("torch", "timm", "fastai")
        delta = f"{np.abs(np.asarray(run.lrs) - torch_lrs).max():.3g}" if adapter else "-"
        verdict = verdicts.get(run.adapter, "reference")
        if run.adapter == "torch":
            verdict = "PASS" if check["pass"] else "FAIL"
        lines.append(
            f"{run.label[:48]:48s} {run.test_accuracy[-1]:9.2%} {run.train_loss[-1]:11.4f} {delta:>10s}  {verdict}"
        )
    return f"{name}\n" + "\n".join(lines)


def smooth(values: list[float], width: int) -> np.ndarray:
    """Running mean over ``width`` updates (shorter at the start)."""
    v = np.asarray(values, dtype=np.float64)
    c = np.cumsum(np.insert(v, 0, 0.0))
    starts = np.maximum(np.arange(1, len(v) + 1) - width, 0)
    return (c[1:] - c[starts]) / (np.arange(1, len(v) + 1) - starts)


def plot(models: dict[str, list[RunResult]], path: Path) -> Path:
    """One row per model: LR per update, smoothed train loss per update, test accuracy per epoch."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(13, 3.4 * len(models)), layout="constrained")
    axes = fig.subplots(len(models), 3, squeeze=False)
    for (name, runs), (lr_ax, loss_ax, acc_ax) in zip(models.items(), axes):
        width = max(1, len(runs[0].losses) // 50)
        for run in runs:
            adapter = run.adapter in ("torch", "timm", "fastai")
            style = {"lw": 3, "alpha": 0.45} if adapter else {"lw": 1.2, "ls": "--"}
            lr_ax.plot(run.lrs, label=run.label, **style)
            loss_ax.plot(smooth(run.losses, width), label=run.label, **style)
            acc_ax.plot(range(1, len(run.test_accuracy) + 1), run.test_accuracy, marker="o", label=run.label, **style)
        lr_ax.set(title=f"{name}: LR per update", xlabel="optimizer update", ylabel="LR")
        loss_ax.set(title=f"train loss (mean of {width} updates)", xlabel="optimizer update", ylabel="loss")
        acc_ax.set(title="test accuracy", xlabel="epoch", ylabel="accuracy")
        acc_ax.legend(fontsize=7, frameon=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    return path


def recipes_for(args: argparse.Namespace) -> list[Recipe]:
    names = args.models or (CPU_SIZE["models"] if args.cpu_size else list(RECIPES))
    recipes = [RECIPES[name] for name in names]
    if args.cpu_size:
        recipes = [r.with_(epochs=CPU_SIZE["epochs"], warmup_epochs=CPU_SIZE["warmup_epochs"]) for r in recipes]
    if args.epochs is not None:
        recipes = [r.with_(epochs=args.epochs, warmup_epochs=min(r.warmup_epochs, args.epochs / 2)) for r in recipes]
    return recipes


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="CIFAR-10 root, ImageFolder train/test or torchvision's (default: CIFAR10_ROOT)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--models", nargs="+", choices=list(RECIPES), help="default: seed_cnn on a CPU, both on a GPU")
    parser.add_argument("--size", choices=("cpu", "full"), help="cpu: a subset and few epochs (default without CUDA)")
    parser.add_argument("--epochs", type=int, help="override the epochs (the warmup is at most half of them)")
    parser.add_argument("--train-images", type=int, help=f"a random subset (CPU size: {CPU_SIZE['train_images']})")
    parser.add_argument("--test-images", type=int, help=f"a random subset (CPU size: {CPU_SIZE['test_images']})")
    parser.add_argument("--cache", type=Path, default=cache_dir(), help="downloads and decoded arrays (reused)")
    parser.add_argument("--out", type=Path, default=OUT, help=f"where demo.json and demo.png go (default {OUT})")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    require_device(args.device)
    warnings.filterwarnings("ignore", "`torch.jit.script` is deprecated", FutureWarning)  # fastai's import, not ours
    args.cpu_size = (args.size or ("full" if torch.device(args.device).type == "cuda" else "cpu")) == "cpu"
    start = time.perf_counter()
    root = find_or_download(args.data, args.cache)
    print(f"data {root}; decoded arrays cached in {cached_arrays_path(root, args.cache)}")
    train, test = load_cifar10(root, args.device, cache=args.cache)
    n_train = args.train_images or (CPU_SIZE["train_images"] if args.cpu_size else len(train))
    n_test = args.test_images or (CPU_SIZE["test_images"] if args.cpu_size else len(test))
    train = train.subset(n_train) if n_train < len(train) else train
    test = test.subset(n_test) if n_test < len(test) else test
    torch.backends.cudnn.benchmark = True
    models, tables, results = {}, [], {}
    for recipe in recipes_for(args):
        trainer = Trainer(recipe, train, test, args.device, args.seed, None)
        name = (
            f"{recipe.name}: {recipe.epochs} epochs x {trainer.steps_per_epoch} updates of batch {recipe.batch_size}, "
            f"{len(train)} train / {len(test)} test images, warmup {recipe.warmup_epochs:g} epochs, {args.device}"
        )
        print(name)
        runs = adapter_and_reference_runs(trainer)
        check = cross_check(runs)
        models[recipe.name] = runs
        tables.append(table(name, runs, check))
        results[recipe.name] = {"recipe": recipe.__dict__, "cross_check": check, "runs": [r.to_json() for r in runs]}
    figure = plot(models, args.out / "demo.png")
    result = {
        "benchmark": "demo",
        "environment": environment(args.device),
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "models": results,
        "wall_seconds": time.perf_counter() - start,
        "pass": all(m["cross_check"]["pass"] for m in results.values()),
    }
    path = save_result(result, args.out, "demo", quick=False)
    print("\n" + "\n\n".join(tables))
    verdict = "PASS: the three adapters gave the same LR at every update" if result["pass"] else "FAIL"
    print(f"\n{verdict}. Wrote {path} and {figure} ({result['wall_seconds']:.0f} s).")
    if not result["pass"]:
        raise SystemExit(1)
    return result


if __name__ == "__main__":
    main()

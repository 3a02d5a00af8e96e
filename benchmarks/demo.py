"""The demo behind ``make demo``: CIFAR-10 through the torch, timm and fastai adapters, cross-checked.

    python -m benchmarks.demo                          # CPU: seed CNN on a subset, about 3-4 minutes on 2 cores
    python -m benchmarks.demo --data /tmp/data/cifar10 # an existing copy (or CIFAR10_ROOT=...)
    python -m benchmarks.demo --device cuda            # a GPU: the full recipes (seed CNN and ResNet-18)

The same schedule (linear warmup from the recipe's start LR, then cosine) drives the three adapters from
the same initial weights, batch order and augmentation draws (the cross-check). Beside them runs a reference
pair with the same weights and batches, to show what warmup is for: for the seed CNN with Adam, a peak LR of
0.01 (10x the recipe's) without warmup and with the recipe's warmup; for ResNet-18, no warmup at its own peak.
It prints a table (test accuracy, final and max train loss, max LR difference to the torch adapter,
PASS/FAIL) and a sentence on each part, and writes ``demo.json`` and ``demo.png`` (LR and loss curves) to
``--out``. Data: ``--data``, else ``$CIFAR10_ROOT``, else torchvision's download into the cache directory.
Every flag is checked before any data is read: a bad one is one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import copy
import os
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


# The peak at which the reference pair runs: where warmup matters for this model and optimizer.
PAIR_PEAK = {"seed_cnn": 0.01}


def reference_pair(trainer: Trainer) -> list[RunResult]:
    """No warmup and the recipe's warmup, both at ``PAIR_PEAK`` (the recipe's peak for models without one)."""
    recipe = trainer.recipe
    peak = PAIR_PEAK.get(recipe.name, recipe.peak_lr)
    high = copy.copy(trainer)
    high.recipe = recipe.with_(peak_lr=peak, start_lr=peak * recipe.start_lr / recipe.peak_lr)
    with_warmup = high.recipe.schedule(trainer.steps_per_epoch)
    no_warmup = WarmupSchedule(warmup_type="none", total_steps=with_warmup.total_steps, decay_type=recipe.decay)
    runs = [
        plain_loop(high, f"peak {peak:g}, no warmup", "no warmup", lambda o: WarmupLR(o, no_warmup), call_step, nothing)
    ]
    if peak != recipe.peak_lr:  # at the recipe's own peak the adapters' runs are the warmup side
        label = f"peak {peak:g}, {recipe.warmup_epochs:g}-epoch warmup"
        runs.append(plain_loop(high, label, "warmup", lambda o: WarmupLR(o, with_warmup), call_step, nothing))
    return runs


def adapter_and_reference_runs(trainer: Trainer) -> list[RunResult]:
    """The three adapters on one schedule (the cross-check), then the reference pair."""
    from benchmarks.cifar10 import adapter_runs

    return adapter_runs(trainer) + reference_pair(trainer)


def table(name: str, runs: list[RunResult], check: dict) -> str:
    """One row per run: test accuracy, final and max train loss, max |LR - torch adapter's LR|, PASS/FAIL;
    then a sentence on the cross-check and one on the reference pair."""
    torch_lrs = np.asarray(runs[0].lrs)
    verdicts = {p["pair"].split(" vs ")[1]: "PASS" if p["pass"] else "FAIL" for p in check["pairs"]}
    lines = [f"{'run':48s} {'test acc':>9s} {'final loss':>11s} {'max loss':>9s} {'max |dLR|':>10s}  check"]
    for run in runs:
        adapter = run.adapter in ADAPTERS
        delta = f"{np.abs(np.asarray(run.lrs) - torch_lrs).max():.3g}" if adapter else "-"
        verdict = verdicts.get(run.adapter, "reference")
        if run.adapter == "torch":
            verdict = "PASS" if check["pass"] else "FAIL"
        lines.append(
            f"{run.label[:48]:48s} {run.test_accuracy[-1]:9.2%} {run.train_loss[-1]:11.4f} "
            f"{max_loss(run):9.2f} {delta:>10s}  {verdict}"
        )
    return f"{name}\n" + "\n".join(lines) + "\n" + summary(runs, check)


def max_loss(run: RunResult) -> float:
    """The largest per-update train loss (NaN if any update's loss was not finite)."""
    return max(run.losses) if all(np.isfinite(run.losses)) else float("nan")


def summary(runs: list[RunResult], check: dict) -> str:
    """What the table shows, in a sentence per part, from its own numbers."""
    same = "gave the same LR at every update" if check["pass"] else "did NOT agree (see the check column)"
    lines = [f"The three adapters {same} ({len(runs[0].lrs)} updates)."]
    pair = {r.adapter: r for r in runs}
    if "no warmup" in pair and "warmup" in pair:
        cold, warm = pair["no warmup"], pair["warmup"]
        lines.append(
            f"At {cold.label.split(',')[0]}, no warmup spikes the train loss to {max_loss(cold):.1f} "
            f"(test accuracy {cold.test_accuracy[-1]:.2%}); the warmup keeps its max at {max_loss(warm):.1f} "
            f"({warm.test_accuracy[-1]:.2%})."
        )
    return "\n".join(lines)


def smooth(values: list[float], width: int) -> np.ndarray:
    """Running mean over ``width`` updates (shorter at the start)."""
    v = np.asarray(values, dtype=np.float64)
    c = np.cumsum(np.insert(v, 0, 0.0))
    starts = np.maximum(np.arange(1, len(v) + 1) - width, 0)
    return (c[1:] - c[starts]) / (np.arange(1, len(v) + 1) - starts)


ADAPTERS = ("torch", "timm", "fastai")
# The three adapters' curves are identical: distinct line styles and markers keep each one visible.
STYLES = {
    "torch": {"lw": 3.5, "alpha": 0.35, "color": "tab:blue"},
    "timm": {"lw": 1.5, "ls": "--", "marker": "o", "ms": 4, "color": "tab:orange"},
    "fastai": {"lw": 1.0, "ls": ":", "marker": "x", "ms": 5, "color": "tab:green"},
    "no warmup": {"lw": 1.2, "color": "tab:red"},
    "warmup": {"lw": 1.2, "color": "tab:purple"},
}


def plot(models: dict[str, list[RunResult]], path: Path) -> Path:
    """One row per model: LR per update, smoothed train loss per update, test accuracy per epoch."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(13, 3.4 * len(models)), layout="constrained")
    axes = fig.subplots(len(models), 3, squeeze=False)
    for (name, runs), (lr_ax, loss_ax, acc_ax) in zip(models.items(), axes):
        width = max(1, len(runs[0].losses) // 50)
        for run in runs:
            style = STYLES.get(run.adapter, {"lw": 1.2, "ls": ":"})
            every = max(1, len(run.lrs) // 12)
            lr_ax.plot(run.lrs, label=run.label, markevery=every, **style)
            loss_ax.plot(smooth(run.losses, width), label=run.label, markevery=every, **style)
            acc_ax.plot(range(1, len(run.test_accuracy) + 1), run.test_accuracy, label=run.label, **style)
        lr_ax.set(title=f"{name}: LR per update", xlabel="optimizer update", ylabel="LR", yscale="log")
        loss_ax.set(title=f"train loss (mean of {width} updates)", xlabel="optimizer update", ylabel="loss")
        loss_ax.set_yscale("log")
        acc_ax.set(title="test accuracy", xlabel="epoch", ylabel="accuracy")
        for ax in (lr_ax, loss_ax, acc_ax):
            ax.legend(fontsize=7, frameon=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    return path


def model_name(value: str) -> str:
    """``--models`` value: ``seed-cnn`` (the spelling ``benchmarks.tune --recipe`` uses) or ``seed_cnn``."""
    name = value.replace("-", "_")
    if name not in RECIPES:
        spellings = ", ".join(n.replace("_", "-") for n in RECIPES)
        raise argparse.ArgumentTypeError(f"unknown model {value!r}; choose from {spellings}")
    return name


def check_args(args: argparse.Namespace) -> str | None:
    """The first bad flag as one sentence, or None. Runs before any data is read."""
    if args.epochs is not None and args.epochs < 1:
        return f"--epochs {args.epochs}: give at least 1 epoch"
    for flag in ("train_images", "test_images"):
        value = getattr(args, flag)
        if value is not None and value < 1:
            return f"--{flag.replace('_', '-')} {value}: give a positive number of images"
    batch = max(RECIPES[name].batch_size for name in args.models or RECIPES)
    if args.train_images is not None and args.train_images < batch:
        return f"--train-images {args.train_images}: fewer than one batch ({batch} images); give at least {batch}"
    if args.data is not None and not Path(args.data).is_dir():
        return f"--data {args.data}: no such directory (give a CIFAR-10 root, or omit --data to download it)"
    root = os.environ.get("CIFAR10_ROOT")
    if args.data is None and root and not Path(root).is_dir():
        return f"CIFAR10_ROOT={root}: no such directory (unset it to download CIFAR-10, or give --data DIR)"
    return None


def recipes_for(args: argparse.Namespace) -> list[Recipe]:
    names = args.models or (CPU_SIZE["models"] if args.cpu_size else list(RECIPES))
    recipes = [RECIPES[name] for name in names]
    if args.cpu_size:
        recipes = [r.with_(epochs=CPU_SIZE["epochs"], warmup_epochs=CPU_SIZE["warmup_epochs"]) for r in recipes]
    if args.epochs is not None:
        recipes = [r.with_(epochs=args.epochs, warmup_epochs=min(r.warmup_epochs, args.epochs / 2)) for r in recipes]
    return recipes


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.demo", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", help="CIFAR-10 root, ImageFolder train/test or torchvision's (default: CIFAR10_ROOT)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument(
        "--models",
        nargs="+",
        type=model_name,
        metavar="{" + ",".join(n.replace("_", "-") for n in RECIPES) + "}",
        help="default: seed-cnn on a CPU, both on a GPU (seed_cnn is accepted too)",
    )
    parser.add_argument("--size", choices=("cpu", "full"), help="cpu: a subset and few epochs (default without CUDA)")
    parser.add_argument("--epochs", type=int, help="override the epochs (the warmup is at most half of them)")
    parser.add_argument("--train-images", type=int, help=f"a random subset (CPU size: {CPU_SIZE['train_images']})")
    parser.add_argument("--test-images", type=int, help=f"a random subset (CPU size: {CPU_SIZE['test_images']})")
    parser.add_argument("--cache", type=Path, default=cache_dir(), help="downloads and decoded arrays (reused)")
    parser.add_argument("--out", type=Path, default=OUT, help=f"where demo.json and demo.png go (default {OUT})")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    require_device(args.device)
    problem = check_args(args)
    if problem:
        parser.exit(2, f"{parser.prog}: error: {problem}\n")
    warnings.filterwarnings("ignore", "`torch.jit.script` is deprecated", FutureWarning)  # fastai's import, not ours
    args.cpu_size = (args.size or ("full" if torch.device(args.device).type == "cuda" else "cpu")) == "cpu"
    start = time.perf_counter()
    load_average = os.getloadavg() if hasattr(os, "getloadavg") else None  # the cores may be shared: say so
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
        "load_average": load_average,
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

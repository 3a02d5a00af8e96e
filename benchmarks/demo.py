"""The demo behind ``make demo``: CIFAR-10 through the torch, timm and fastai adapters, cross-checked.

    python -m benchmarks.demo                          # CPU: seed CNN on a subset, 5 trainings of 1,000 updates
    python -m benchmarks.demo --quick                  # CPU: the same 5 trainings at 124 updates each
    python -m benchmarks.demo --data /tmp/data/cifar10 # an existing copy (or CIFAR10_ROOT=...)
    python -m benchmarks.demo --device cuda            # a GPU: the full recipes (seed CNN and ResNet-18)

The same schedule (linear warmup from the recipe's start LR, then cosine) drives the three adapters from
the same initial weights, batch order and augmentation draws (the cross-check). Beside them run the reference
rows (``REFERENCES``) with the same weights and batches, to show what warmup is for: for the seed CNN with
Adam, a peak LR of 0.03 (30x the recipe's) without warmup and with the recipe's warmup; for ResNet-18, no
warmup at its own peak. It prints "training i of N" with the time left as it goes, then a table (each run's
peak LR, test accuracy, final and max train loss, max LR difference to the torch adapter, PASS/FAIL) and a
sentence on each part, and writes ``demo.json`` and ``demo.png`` (LR and loss curves) to ``--out``.
``--quick`` trains 4,000 images for 2 epochs: it shows the cross-check and the loss spike without warmup; its
accuracies are those of two short epochs, not what warmup is worth at the end of a run. Data: ``--data``, else
``$CIFAR10_ROOT``, else torchvision's download into the cache directory. Every flag is checked before any data
is read: a bad one is one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import copy
import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from benchmarks.cifar10 import cross_check
from benchmarks.data import cache_dir, cached_arrays_path, find_or_download, load_cifar10
from benchmarks.environment import add_device_argument, environment, save_result
from benchmarks.loops import PROGRESS, RunResult, Trainer, call_step, nothing, plain_loop
from benchmarks.recipes import RECIPES, Recipe
from warmup_plugins import WarmupSchedule
from warmup_plugins.torch import WarmupLR

CPU_SIZE = {"train_images": 16_000, "test_images": 5000, "epochs": 4, "warmup_epochs": 1.0, "models": ["seed_cnn"]}
QUICK_SIZE = {"train_images": 4000, "test_images": 1000, "epochs": 2}  # --quick: the CPU size, smaller
OUT = Path("runs/demo")


# The peak at which the reference rows run: where warmup matters for this model and optimizer. For the seed CNN
# with Adam at the CPU size, 0.03 (30x the recipe's): the 1-epoch warmup ended 3.8 to 7.5 points of test accuracy
# above no warmup in each of 3 seeds (benchmarks/results/demo_pair.md); at 0.01 the two tied (58.78% and 58.52%).
PAIR_PEAK = {"seed_cnn": 0.03}


def pair_peak(recipe: Recipe) -> float:
    """The reference rows' peak: ``PAIR_PEAK``, or the recipe's own peak for a model without one."""
    return PAIR_PEAK.get(recipe.name, recipe.peak_lr)


def pair_trainer(trainer: Trainer) -> Trainer:
    """The trainer's recipe at :func:`pair_peak`, its start LR scaled with it."""
    recipe, peak = trainer.recipe, pair_peak(trainer.recipe)
    high = copy.copy(trainer)
    high.recipe = recipe.with_(peak_lr=peak, start_lr=peak * recipe.start_lr / recipe.peak_lr)
    return high


def no_warmup(high: Trainer, recipe: Recipe) -> RunResult:
    """The recipe's decay at the pair's peak from the first update."""
    schedule = high.recipe.schedule(high.steps_per_epoch)
    cold = WarmupSchedule(warmup_type="none", total_steps=schedule.total_steps, decay_type=recipe.decay)
    label = f"peak {high.recipe.peak_lr:g}, no warmup"
    return plain_loop(high, label, "no warmup", lambda o: WarmupLR(o, cold), call_step, nothing)


def recipe_warmup(high: Trainer, recipe: Recipe) -> RunResult:
    """The recipe's warmup and decay at the pair's peak."""
    schedule = high.recipe.schedule(high.steps_per_epoch)
    label = f"peak {high.recipe.peak_lr:g}, {recipe.warmup_epochs:g}-epoch warmup"
    return plain_loop(high, label, "warmup", lambda o: WarmupLR(o, schedule), call_step, nothing)


def always(recipe: Recipe) -> bool:
    return True


def above_the_recipes_peak(recipe: Recipe) -> bool:
    """At the recipe's own peak the adapters' rows are this row already."""
    return pair_peak(recipe) != recipe.peak_lr


@dataclass(frozen=True)
class Reference:
    """One reference row: ``run(trainer at the pair's peak, the recipe)``, for the recipes where ``applies``."""

    run: Callable[[Trainer, Recipe], RunResult]
    applies: Callable[[Recipe], bool] = always


# The reference rows, in table order. A new row (say, a warmup that finds its own peak) is one more entry here,
# with its line style in STYLES under its RunResult.adapter; the progress plan, the table and the figure follow.
REFERENCES: tuple[Reference, ...] = (Reference(no_warmup), Reference(recipe_warmup, above_the_recipes_peak))


def reference_count(recipe: Recipe) -> int:
    """How many reference rows the recipe gets (to plan the progress)."""
    return sum(reference.applies(recipe) for reference in REFERENCES)


def reference_runs(trainer: Trainer) -> list[RunResult]:
    """The ``REFERENCES`` rows that apply to the trainer's recipe, at the pair's peak."""
    high = pair_trainer(trainer)
    return [ref.run(high, trainer.recipe) for ref in REFERENCES if ref.applies(trainer.recipe)]


def adapter_and_reference_runs(trainer: Trainer) -> list[RunResult]:
    """The three adapters on one schedule (the cross-check), then the reference rows."""
    from benchmarks.cifar10 import adapter_runs

    return adapter_runs(trainer) + reference_runs(trainer)


def table(name: str, runs: list[RunResult], check: dict) -> str:
    """One row per run: peak LR, test accuracy, final and max train loss, max |LR - torch adapter's LR|,
    PASS/FAIL; then a sentence on the cross-check and one on the reference rows."""
    torch_lrs = np.asarray(runs[0].lrs)
    verdicts = {p["pair"].split(" vs ")[1]: "PASS" if p["pass"] else "FAIL" for p in check["pairs"]}
    head = f"{'run':48s} {'peak LR':>8s} {'test acc':>9s} {'final loss':>11s} {'max loss':>9s} {'max |dLR|':>10s}"
    lines = [f"{head}  check"]
    for run in runs:
        adapter = run.adapter in ADAPTERS
        delta = f"{np.abs(np.asarray(run.lrs) - torch_lrs).max():.3g}" if adapter else "-"
        verdict = verdicts.get(run.adapter, "reference")
        if run.adapter == "torch":
            verdict = "PASS" if check["pass"] else "FAIL"
        lines.append(
            f"{run.label[:48]:48s} {peak_lr(run):8.3g} {run.test_accuracy[-1]:9.2%} {run.train_loss[-1]:11.4f} "
            f"{max_loss(run):9.2f} {delta:>10s}  {verdict}"
        )
    return f"{name}\n" + "\n".join(lines) + "\n" + summary(runs, check)


def peak_lr(run: RunResult) -> float:
    """The largest LR the run used (the peak: the end of its warmup, or its first update without one)."""
    return max(run.lrs)


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
        times = f" ({peak_lr(cold) / peak_lr(runs[0]):.3g}x the adapters' {peak_lr(runs[0]):.3g})"
        gain = 100 * (warm.test_accuracy[-1] - cold.test_accuracy[-1])
        lines.append(
            f"At peak {peak_lr(cold):.3g}{times}, no warmup spikes the train loss to {max_loss(cold):.1f} and "
            f"reaches {cold.test_accuracy[-1]:.2%} test accuracy; the warmup keeps the max loss at "
            f"{max_loss(warm):.1f} and reaches {warm.test_accuracy[-1]:.2%} ({gain:+.2f} points)."
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
    if args.quick and args.size == "full":
        return "--quick with --size full: --quick is a smaller CPU size; give one of them"
    if args.data is not None and not Path(args.data).is_dir():
        return f"--data {args.data}: no such directory (give a CIFAR-10 root, or omit --data to download it)"
    root = os.environ.get("CIFAR10_ROOT")
    if args.data is None and root and not Path(root).is_dir():
        return f"CIFAR10_ROOT={root}: no such directory (unset it to download CIFAR-10, or give --data DIR)"
    return None


def apply_quick(args: argparse.Namespace) -> None:
    """``--quick``: the CPU size with ``QUICK_SIZE``'s images and epochs, where no flag gives them."""
    if not args.quick:
        return
    args.size = "cpu"
    for name, value in QUICK_SIZE.items():
        if getattr(args, name) is None:
            setattr(args, name, value)


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
    add_device_argument(parser)
    parser.add_argument(
        "--models",
        nargs="+",
        type=model_name,
        metavar="{" + ",".join(n.replace("_", "-") for n in RECIPES) + "}",
        help="default: seed-cnn on a CPU, both on a GPU (seed_cnn is accepted too)",
    )
    parser.add_argument("--size", choices=("cpu", "full"), help="cpu: a subset and few epochs (default without CUDA)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"{QUICK_SIZE['train_images']:,} images x {QUICK_SIZE['epochs']} epochs: the cross-check and the loss "
        "spike; accuracies of two short epochs",
    )
    parser.add_argument("--epochs", type=int, help="override the epochs (the warmup is at most half of them)")
    parser.add_argument("--train-images", type=int, help=f"a random subset (CPU size: {CPU_SIZE['train_images']})")
    parser.add_argument("--test-images", type=int, help=f"a random subset (CPU size: {CPU_SIZE['test_images']})")
    parser.add_argument("--cache", type=Path, default=cache_dir(), help="downloads and decoded arrays (reused)")
    parser.add_argument("--out", type=Path, default=OUT, help=f"where demo.json and demo.png go (default {OUT})")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    problem = check_args(args)
    if problem:
        parser.exit(2, f"{parser.prog}: error: {problem}\n")
    apply_quick(args)
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
    recipes = recipes_for(args)
    plan = [(3 + reference_count(r), r.epochs * (len(train) // r.batch_size)) for r in recipes]
    PROGRESS.plan(runs=sum(n for n, _ in plan), updates=sum(n * updates for n, updates in plan))
    for recipe in recipes:
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
        results[recipe.name] = {
            "recipe": recipe.__dict__,
            "reference_peak": pair_trainer(trainer).recipe.peak_lr,
            "cross_check": check,
            "runs": [r.to_json() for r in runs],
        }
    figure = plot(models, args.out / ("demo_quick.png" if args.quick else "demo.png"))
    result = {
        "benchmark": "demo",
        "environment": environment(args.device),
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "models": results,
        "wall_seconds": time.perf_counter() - start,
        "load_average": load_average,
        "torch_threads": torch.get_num_threads(),
        "pass": all(m["cross_check"]["pass"] for m in results.values()),
    }
    path = save_result(result, args.out, "demo", quick=args.quick)  # demo_quick.json: never the committed one
    print("\n" + "\n\n".join(tables))
    verdict = "PASS: the three adapters gave the same LR at every update" if result["pass"] else "FAIL"
    print(f"\n{verdict}. Wrote {path} and {figure} ({result['wall_seconds']:.0f} s).")
    if not result["pass"]:
        raise SystemExit(1)
    return result


if __name__ == "__main__":
    main()

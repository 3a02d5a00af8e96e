"""The demo's reference rows (no warmup, the recipe's warmup) at chosen peaks over several seeds, at the demo's
CPU size: how ``PAIR_PEAK`` in ``benchmarks/demo.py`` was chosen.

    python -m benchmarks.demo_pair --data /tmp/data/cifar10 --peaks 0.03 --seeds 0 1 2 --out benchmarks/results

For each peak and seed: the seed CNN (Adam) on the demo's CPU subset (16,000 training images, 4 epochs, the
same 5,000 test images), trained by the demo's own ``REFERENCES`` rows from the same initial weights and batches.
Writes ``demo_pair.json`` (after every seed, so a stopped run keeps what it did) and ``demo_pair.md``: per seed
the test accuracy and max train loss of each row, then the warmup's gain paired by seed with a t-based 95%
interval, beside the seed spread of each row.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from pathlib import Path

import torch

from benchmarks import demo
from benchmarks.adaptive_grid import T975
from benchmarks.data import cache_dir, load_cifar10
from benchmarks.environment import environment, save_result
from benchmarks.loops import PROGRESS, Trainer
from benchmarks.recipes import RECIPES

RESULTS = Path("benchmarks/results")


def cell(trainer: Trainer, peak: float) -> dict:
    """The reference rows at ``peak`` for the trainer's seed: per row its test accuracy per epoch, max loss."""
    saved = dict(demo.PAIR_PEAK)
    demo.PAIR_PEAK[trainer.recipe.name] = peak
    try:
        runs = demo.reference_runs(trainer)
    finally:
        demo.PAIR_PEAK.clear()
        demo.PAIR_PEAK.update(saved)
    rows = {}
    for r in runs:
        rows[r.adapter] = {"label": r.label, "test_accuracy": r.test_accuracy, "train_loss": r.train_loss}
        rows[r.adapter]["max_loss"] = demo.max_loss(r)
    return {"peak": peak, "seed": trainer.seed, "rows": rows}


def markdown(result: dict) -> str:
    """Per peak: a row per seed, then the gain of the warmup over no warmup, paired by seed (points)."""
    env = result["environment"]
    size = result["size"]
    parts = [
        f"# The demo's reference rows over seeds (`python -m benchmarks.demo_pair`)\n\n"
        f"Seed CNN + Adam, {size['train_images']:,} training images x {size['epochs']} epochs, "
        f"{size['test_images']:,} test images (the demo's CPU size); {env['device']}, torch {env['torch']}, commit "
        f"{env['git_commit']}; {result['wall_seconds'] / 60:.0f} min wall."
    ]
    for peak in sorted({c["peak"] for c in result["cells"]}):
        cells = [c for c in result["cells"] if c["peak"] == peak]
        lines = [
            f"## Peak {peak:g}",
            "| seed | no warmup: test acc | max loss | 1-epoch warmup: test acc | max loss | warmup - no warmup |",
            "| ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        gains, cold, warm = [], [], []
        for c in cells:
            a, b = c["rows"]["no warmup"], c["rows"]["warmup"]
            cold.append(100 * a["test_accuracy"][-1])
            warm.append(100 * b["test_accuracy"][-1])
            gains.append(warm[-1] - cold[-1])
            lines.append(
                f"| {c['seed']} | {cold[-1]:.2f}% | {a['max_loss']:.1f} | {warm[-1]:.2f}% | {b['max_loss']:.1f} | "
                f"{gains[-1]:+.2f} |"
            )
        text = "\n".join(lines)
        if len(gains) > 1:
            mean = statistics.mean(gains)
            half = T975.get(len(gains) - 1, 1.96) * statistics.stdev(gains) / math.sqrt(len(gains))
            text += (
                f"\n\nWarmup - no warmup, paired by seed: mean {mean:+.2f} points, 95% interval "
                f"[{mean - half:+.2f}, {mean + half:+.2f}] ({len(gains)} seeds). Seed spread (std) of the test "
                f"accuracy: no warmup {statistics.stdev(cold):.2f}, warmup {statistics.stdev(warm):.2f} points."
            )
        parts.append(text)
    return "\n\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="CIFAR-10 root (default: CIFAR10_ROOT, else the download)")
    parser.add_argument("--peaks", type=float, nargs="+", default=[demo.PAIR_PEAK["seed_cnn"]])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--out", type=Path, default=Path("runs/demo_pair"))
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    start = time.perf_counter()
    root = demo.find_or_download(args.data, cache_dir())
    train, test = load_cifar10(root, "cpu", cache=cache_dir())
    size = {k: demo.CPU_SIZE[k] for k in ("train_images", "test_images", "epochs", "warmup_epochs")}
    train, test = train.subset(size["train_images"]), test.subset(size["test_images"])
    recipe = RECIPES["seed_cnn"].with_(epochs=size["epochs"], warmup_epochs=size["warmup_epochs"])
    updates = recipe.epochs * (len(train) // recipe.batch_size)
    runs = sum(len(demo.REFERENCES) - (peak == recipe.peak_lr) for peak in args.peaks) * len(args.seeds)
    PROGRESS.plan(runs=runs, updates=runs * updates)
    result = {"benchmark": "demo_pair", "environment": environment("cpu"), "size": size, "cells": []}
    result["config"] = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    for peak in args.peaks:
        for seed in args.seeds:
            result["cells"].append(cell(Trainer(recipe, train, test, "cpu", seed, None), peak))
            result["wall_seconds"] = time.perf_counter() - start
            path = save_result(result, args.out, "demo_pair", quick=False)
    (args.out / "demo_pair.md").write_text(markdown(result))
    print(markdown(result))
    print(f"wrote {path} and {args.out / 'demo_pair.md'}")
    return result


if __name__ == "__main__":
    main()

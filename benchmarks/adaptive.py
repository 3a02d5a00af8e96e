"""Does ``AdaptiveWarmup`` adapt? The seed CNN on CIFAR-10, adaptive against fixed warmups.

    python -m benchmarks.adaptive --data /tmp/data/cifar10               # the issue's set-up
    python -m benchmarks.adaptive --data /tmp/data/cifar10 --cpu-subset  # a CPU-sized subset
    python -m benchmarks.adaptive --quick                                # a synthetic smoke run

Set-up: the seed CNN, Adam, batch 64, a class-balanced ``--images`` subset of the training set
(10k), ``--epochs`` epochs (4) of cosine decay to 0, the test set (``--test-images``, all), and
for every peak LR in ``--peak-lrs`` (0.003 0.01 0.03) and seed in ``--seeds`` (0 1 2):

* ``none``; fixed linear warmups of 5 updates, 0.2 epoch and 1 epoch (from 0.1 of the peak);
* ``untuned``: ``warmup_type='untuned_linear'`` with Adam's beta2 = ``--untuned-beta2`` (0.99: a
  199-update linear warmup from 1/200; the other runs keep beta2 = 0.999, whose 2000 updates exceed
  the run);
* ``adaptive``: ``AdaptiveWarmup()`` (its defaults) from a too short nominal warmup (5 updates) and
  from a too long one (1 epoch).

Every method at a seed starts from the same weights and sees the same batches. The report gives the
test accuracy (mean and std over seeds), the largest training loss over the whole run and over its
first 100 updates, the warmup length the adaptive runs really took, and per-seed paired differences
against the best fixed warmup at each peak (highest mean accuracy among none and the fixed linear
ones), with their seed noise (two standard errors of the mean difference). Targets: the mean
difference is within that noise (0.3 points where no warmup is within noise of the best), and the
whole-run max loss is at most the best fixed warmup's. It also times the update-size measurement
against a training step, side by side in one process, for the seed CNN and the ResNet-18 recipe
(``--cost-models``).

Writes ``adaptive.json``, ``adaptive.md`` (the tables, generated from the JSON) and ``adaptive.png``
(accuracy against peak LR per method, error bars one std) under ``--out``.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from pathlib import Path

import torch
from tqdm import tqdm

from benchmarks.data import Split, load_cifar10, synthetic_cifar10
from benchmarks.environment import environment
from benchmarks.loops import Trainer
from benchmarks.recipes import RECIPES, SEED_CNN, Recipe
from warmup_plugins import AdaptiveWarmup, WarmupSchedule
from warmup_plugins.extensions.update_size import UpdateSize
from warmup_plugins.torch import WarmupLR

FIXED = ("none", "linear 5", "linear 0.2 ep", "linear 1 ep")
METHODS = (*FIXED, "untuned", "adaptive from 5", "adaptive from 1 ep")
START_FACTOR = 0.1
EARLY = 100


def balanced_subset(split: Split, n: int, seed: int = 0) -> Split:
    """``n`` images, as many of each class as ``n`` allows (a seeded choice within each class)."""
    g = torch.Generator().manual_seed(seed)
    classes = sorted(set(split.labels.tolist()))
    per_class = n // len(classes)
    index = []
    for c in classes:
        members = (split.labels == c).nonzero().flatten()
        index.append(members[torch.randperm(len(members), generator=g)[:per_class]])
    chosen = torch.cat(index).sort().values
    return Split(split.images[chosen], split.labels[chosen])


def schedule_for(method: str, steps_per_epoch: int, total: int) -> WarmupSchedule:
    """The schedule a method runs (adaptive: its nominal warmup)."""
    lengths = {"5": 5, "0.2 ep": round(0.2 * steps_per_epoch), "1 ep": steps_per_epoch}
    if method == "none":
        return WarmupSchedule(warmup_type="none", total_steps=total, decay_type="cosine")
    warmup = lengths[method.split(" ", 1)[1] if method.startswith("linear") else method.split("from ", 1)[1]]
    return WarmupSchedule(warmup_steps=warmup, start_factor=START_FACTOR, total_steps=total, decay_type="cosine")


def make_scheduler(method: str, optimizer: torch.optim.Optimizer, spe: int, total: int) -> WarmupLR:
    if method == "untuned":
        return WarmupLR(optimizer, warmup_type="untuned_linear", total_steps=total, decay_type="cosine")
    adaptive = AdaptiveWarmup() if method.startswith("adaptive") else None
    return WarmupLR(optimizer, schedule_for(method, spe, total), adaptive=adaptive)


def train_one(trainer: Trainer, method: str, bar: tqdm) -> dict:
    """One run: forward, loss, backward, Adam step, ``scheduler.step(loss=...)``; final test accuracy."""
    recipe = trainer.recipe
    model = trainer.model()
    betas = (0.9, trainer.untuned_beta2 if method == "untuned" else 0.999)
    optimizer = torch.optim.Adam(model.parameters(), lr=recipe.peak_lr, betas=betas)
    total = recipe.epochs * trainer.steps_per_epoch
    scheduler = make_scheduler(method, optimizer, trainer.steps_per_epoch, total)
    loss_fn = recipe.loss()
    losses, lrs = [], []
    for epoch in range(recipe.epochs):
        for x, y in trainer.epoch_batches(epoch):
            lrs.append(optimizer.param_groups[0]["lr"])
            loss = loss_fn(model(x), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            value = loss.item()
            losses.append(value)
            scheduler.step(loss=value)
            bar.update()
            bar.set_postfix_str(f"{method} loss {value:.3f} lr {lrs[-1]:.2g}", refresh=False)
    finite = [v for v in losses if math.isfinite(v)]
    adaptive = scheduler.adaptive
    return {
        "accuracy": trainer.evaluate(model),
        "max_loss": max(finite) if len(finite) == len(losses) else math.inf,
        "early_max_loss": max(losses[:EARLY]) if all(map(math.isfinite, losses[:EARLY])) else math.inf,
        "final_train_loss": statistics.fmean(losses[-trainer.steps_per_epoch :]),
        "warmup_updates": scheduler.schedule.warmup_steps if adaptive is None else adaptive.warmup_done_at,
        "adaptive": None if adaptive is None else adaptive.report(),
        "lrs": lrs[:: max(1, len(lrs) // 200)],
    }


def summarize(peaks: dict[str, dict[str, list[dict]]]) -> dict:
    """Per peak: each method's mean and std, the best fixed warmup, and paired differences to it."""
    out = {}
    for peak, methods in peaks.items():
        rows = {}
        for method, runs in methods.items():
            accs = [100 * r["accuracy"] for r in runs]
            rows[method] = {
                "accuracy_mean": statistics.fmean(accs),
                "accuracy_std": statistics.stdev(accs) if len(accs) > 1 else 0.0,
                "max_loss_mean": statistics.fmean(r["max_loss"] for r in runs),
                "early_max_loss_mean": statistics.fmean(r["early_max_loss"] for r in runs),
                "warmup_updates": [r["warmup_updates"] for r in runs],
            }
        best = max((m for m in FIXED if m in rows), key=lambda m: rows[m]["accuracy_mean"])
        none_mean, none_noise = _paired(methods["none"], methods[best])
        no_warmup_helps = none_mean >= -none_noise  # no warmup is within seed noise of the best one
        paired = {}
        for method in methods:
            if method.startswith("adaptive"):
                mean, noise = _paired(methods[method], methods[best])
                allowed = 0.3 if no_warmup_helps else noise
                paired[method] = {
                    "differences": [
                        100 * (a["accuracy"] - b["accuracy"]) for a, b in zip(methods[method], methods[best])
                    ],
                    "mean": mean,
                    "noise": noise,
                    "allowed_loss": allowed,
                    "accuracy_ok": mean >= -allowed,
                    "max_loss_ok": rows[method]["max_loss_mean"] <= rows[best]["max_loss_mean"],
                }
        out[peak] = {"rows": rows, "best_fixed": best, "paired": paired}
    return out


def _paired(runs: list[dict], reference: list[dict]) -> tuple[float, float]:
    """Mean per-seed accuracy difference (points) and its seed noise: two standard errors of the mean
    difference, ``2 * std / sqrt(n)`` (0 with one seed)."""
    diffs = [100 * (a["accuracy"] - b["accuracy"]) for a, b in zip(runs, reference)]
    noise = 2 * statistics.stdev(diffs) / math.sqrt(len(diffs)) if len(diffs) > 1 else 0.0
    return statistics.fmean(diffs), noise


def time_update_size(recipe: Recipe, device: str, batch: int, rounds: int) -> dict:
    """Median seconds of a training step and of one ``UpdateSize.measure()``, interleaved in one process."""
    torch.manual_seed(0)
    model = recipe.model().to(device)
    optimizer = recipe.optimizer(model)
    sizes = UpdateSize(optimizer.param_groups)
    x = torch.randn(batch, 3, 32, 32, device=device)
    y = torch.randint(0, 10, (batch,), device=device)
    loss_fn = recipe.loss()

    def step() -> None:
        loss = loss_fn(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        loss.item()

    def timed(fn) -> float:
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        return time.perf_counter() - start

    step()
    sizes.measure()
    steps, measures, both = [], [], []
    for _ in range(rounds):
        steps.append(timed(step))
        measures.append(timed(sizes.measure))
        both.append(timed(lambda: (step(), sizes.measure())))
    step_s, measure_s = statistics.median(steps), statistics.median(measures)
    return {
        "model": recipe.name,
        "batch_size": batch,
        "rounds": rounds,
        "parameters": sum(p.numel() for p in model.parameters()),
        "step_seconds": step_s,
        "measure_seconds": measure_s,
        "measure_fraction": measure_s / step_s,
        "step_and_measure_seconds": statistics.median(both),
    }


def render(result: dict) -> str:
    """The markdown report, every number from ``result``."""
    env, cfg = result["environment"], result["config"]
    lines = [
        "# Adaptive warmup benchmark (`python -m benchmarks.adaptive`)",
        "",
        f"Generated from `adaptive.json`. Ran on {env['device']}, torch {env['torch']}, git `{env['git_commit']}`; "
        f"{result['wall_seconds'] / 60:.1f} min.",
        f"Seed CNN, Adam, batch 64, {cfg['images']} training images (class-balanced), {cfg['epochs']} epochs "
        f"({result['total_updates']} updates, {result['steps_per_epoch']} per epoch), cosine to 0, "
        f"{result['test_images']} test images, seeds {cfg['seeds']}.",
        "",
    ]
    for peak, block in result["summary"].items():
        lines += [
            f"## Peak LR {peak}",
            "",
            "| method | test acc % | max loss, whole run | max loss, updates 0-99 | warmup updates taken |",
            "| --- | ---: | ---: | ---: | --- |",
        ]
        for method, row in block["rows"].items():
            mark = " (best fixed)" if method == block["best_fixed"] else ""
            lines.append(
                f"| {method}{mark} | {row['accuracy_mean']:.2f} ± {row['accuracy_std']:.2f} | "
                f"{row['max_loss_mean']:.2f} | {row['early_max_loss_mean']:.2f} | "
                f"{', '.join(str(w) for w in row['warmup_updates'])} |"
            )
        lines += [
            "",
            f"Paired per-seed differences against {block['best_fixed']} (points of accuracy; seed noise = 2 standard "
            "errors of the mean difference; allowed: that noise, or 0.3 where no warmup is within noise of the best):",
            "",
        ]
        for method, p in block["paired"].items():
            diffs = ", ".join(f"{d:+.2f}" for d in p["differences"])
            lines.append(
                f"- {method}: {diffs}; mean {p['mean']:+.2f}, seed noise {p['noise']:.2f} (allowed "
                f"{-p['allowed_loss']:+.2f}: "
                f"{'met' if p['accuracy_ok'] else 'MISSED'}); max loss "
                f"{'at most' if p['max_loss_ok'] else 'ABOVE'} the best fixed warmup's"
            )
        lines.append("")
    lines += [
        "## Cost of the update-size signal",
        "",
        "Median over interleaved rounds in one process: one training step, and one `UpdateSize.measure()`.",
        "",
        "| model | parameters | batch | step ms | measure ms | measure / step |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for c in result["cost"]:
        lines.append(
            f"| {c['model']} | {c['parameters']:,} | {c['batch_size']} | {1e3 * c['step_seconds']:.1f} | "
            f"{1e3 * c['measure_seconds']:.2f} | {100 * c['measure_fraction']:.2f}% |"
        )
    return "\n".join(lines) + "\n"


def plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    peaks = list(result["summary"])
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for i, method in enumerate(METHODS):
        rows = [result["summary"][p]["rows"].get(method) for p in peaks]
        if any(r is None for r in rows):
            continue
        xs = [float(p) * (1 + 0.03 * (i - len(METHODS) / 2)) for p in peaks]  # a small offset per method
        style = "-" if method.startswith("adaptive") else "--"
        ax.errorbar(
            xs,
            [r["accuracy_mean"] for r in rows],
            yerr=[r["accuracy_std"] for r in rows],
            label=method,
            linestyle=style,
            marker="o",
            capsize=3,
        )
    ax.set_xscale("log")
    ax.set_xlabel("peak LR (Adam)")
    ax.set_ylabel("test accuracy % (mean ± std over seeds)")
    ax.set_title(f"Seed CNN, {result['config']['images']} CIFAR-10 images, {result['config']['epochs']} epochs")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="CIFAR-10 root (ImageFolder train/test, or torchvision's cifar-10-batches-py)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--out", type=Path, default=Path("runs/adaptive"))
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--test-images", type=int, default=None, help="default: the whole test set")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--peak-lrs", nargs="+", type=float, default=[0.003, 0.01, 0.03])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--cost-models", nargs="*", default=list(RECIPES), choices=list(RECIPES))
    parser.add_argument("--cost-rounds", type=int, default=15)
    parser.add_argument("--untuned-beta2", type=float, default=0.99)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument(
        "--cpu-subset",
        action="store_true",
        help="CPU-sized (<= 30 min on 2 shared cores): 3000 images, 3 epochs, 1000 test images, "
        "untuned beta2 0.95 (a 39-update warmup), 1 thread, 7 cost rounds",
    )
    parser.add_argument("--quick", action="store_true", help="synthetic data, tiny: a smoke run")
    args = parser.parse_args(argv)
    if args.cpu_subset:
        args.images, args.epochs, args.test_images = 3000, 3, args.test_images or 1000
        args.untuned_beta2, args.threads, args.cost_rounds = 0.95, args.threads or 1, 7
    if args.quick:
        args.images, args.epochs, args.test_images, args.seeds = 640, 2, 64, args.seeds[:2]
        args.untuned_beta2, args.threads = 0.9, args.threads or 1
        args.cost_rounds, args.cost_models = 2, ["seed_cnn"]
    if "none" not in args.methods:
        args.methods.insert(0, "none")  # the "no warmup helps" test needs it
    return args


def main(argv: list[str] | None = None) -> dict:
    args = parse(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    start, env = time.perf_counter(), environment(args.device)  # the commit the run starts from
    if args.quick:
        train, test = synthetic_cifar10(args.images, args.test_images, args.device)
    elif args.data is None:
        raise SystemExit("--data is required (or --quick for a synthetic smoke run)")
    else:
        train, test = load_cifar10(args.data, args.device)
        train = balanced_subset(train, args.images)
        test = test if args.test_images is None else balanced_subset(test, args.test_images)
    batch = 32 if args.cpu_subset or args.quick else 64
    cost = [time_update_size(RECIPES[name], args.device, batch, args.cost_rounds) for name in args.cost_models]
    base = SEED_CNN.with_(epochs=args.epochs, warmup_epochs=0)
    spe = len(train) // base.batch_size
    runs = len(args.peak_lrs) * len(args.seeds) * len(args.methods)
    peaks: dict[str, dict[str, list[dict]]] = {}
    with tqdm(total=runs * spe * args.epochs, unit="upd", desc="adaptive benchmark", mininterval=2) as bar:
        for peak in args.peak_lrs:
            recipe = base.with_(peak_lr=peak, start_lr=peak * START_FACTOR)
            methods: dict[str, list[dict]] = {m: [] for m in args.methods}
            for seed in args.seeds:
                trainer = Trainer(recipe, train, test, args.device, seed, None)
                trainer.untuned_beta2 = args.untuned_beta2
                for method in args.methods:
                    methods[method].append({"seed": seed, **train_one(trainer, method, bar)})
            peaks[f"{peak:g}"] = methods
    result = {
        "benchmark": "adaptive",
        "environment": env,
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "steps_per_epoch": spe,
        "total_updates": spe * args.epochs,
        "test_images": len(test),
        "cost": cost,
        "runs": peaks,
        "summary": summarize(peaks),
        "wall_seconds": time.perf_counter() - start,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "adaptive.json").write_text(json.dumps(result, indent=1))
    (args.out / "adaptive.md").write_text(render(result))
    plot(result, args.out / "adaptive.png")
    print(render(result))
    return result


if __name__ == "__main__":
    main()

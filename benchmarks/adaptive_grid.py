"""The adaptive warmup against fixed warmups on several set-ups, peaks and nominal lengths (issue 19).

    python -m benchmarks.adaptive_grid --data /tmp/data/cifar10 --full   # every set-up, peak and method
    python -m benchmarks.adaptive_grid --data /tmp/data/cifar10          # the documented CPU subset
    python -m benchmarks.adaptive_grid --quick                           # a synthetic smoke run

Set-ups (``SETUPS``): ``cnn-3k`` (the seed CNN, Adam, 3,000 images, 3 epochs: where the rule was developed),
and, held out (never used to tune the rule): ``cnn-6k`` (the seed CNN, Adam, 6,000 images, 2 epochs),
``resnet18`` (ResNet-18, SGD momentum 0.9, nesterov, weight decay 5e-4) and ``vit`` (timm's ViT, 4x4 patches for
32x32 inputs, depth 6, width 192, AdamW, weight decay 0.05). Every run: batch 64, cosine decay to 0, a
class-balanced training subset, ``--test-images`` (5,000, class-balanced) test images.

Methods at each peak: ``none``; fixed linear warmups (from 0.1 of the peak) of 5 updates (too short), 0.2 epoch
and 1 epoch (long); ``adaptive from W`` (``AdaptiveWarmup()``) and ``adaptive from W, cap`` (``cap_peak=True``)
for W = 5 and 1 epoch; ``adaptive from W, probe`` (``probe=True``: the catapult-aware start of Kalra &
Barkeshli 2024) and ``adaptive from W, loss only`` (``update_target=None``: the clock acts on the loss
alone, holding while a spike has not recovered, instead of holding whenever the update is large): two rules
tried on the development set-up; ``lr_find`` (fastai's ``valley`` suggestion from an
LR range test as fastai's ``lr_find`` runs it: 100 updates from 1e-7 to 10, smoothed losses, stop at 4x the
best; then a 1-epoch linear warmup to it, the same budget; it does not depend on the peak, so it is run once
per seed).

Targets, per set-up, peak and adaptive method (paired by seed; the 95% interval is t-based on the per-seed
differences):

* (a) against the fixed linear warmup of its nominal length: the interval's lower end is above -1 point;
* (b) at a too-high peak (no warmup and every fixed warmup there lose >= 3 points against the best fixed
  warmup at a lower peak): the adaptive run recovers at least half of the gap between the best fixed warmup at
  that peak and the best fixed (peak, W) of the grid.

Also: the run-to-run spread of one identical run repeated in a second process, and the cost of the whole
adaptive ``scheduler.step(loss=...)`` against a training step, side by side in one process.

Writes ``adaptive_grid.json``, ``RESULTS.md`` (generated from the JSON) and ``adaptive_grid.png`` under ``--out``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
from tqdm import tqdm

from benchmarks.data import balanced_subset, load_cifar10, synthetic_cifar10
from benchmarks.environment import add_device_argument, environment
from benchmarks.loops import Trainer
from benchmarks.recipes import RESNET18, SEED_CNN, Recipe
from warmup_plugins import AdaptiveWarmup, WarmupSchedule
from warmup_plugins.torch import WarmupLR

START_FACTOR = 0.1
FIXED = ("none", "linear 5", "linear 0.2 ep", "linear 1 ep")
ADAPTIVE = (
    "adaptive from 5",
    "adaptive from 5, cap",
    "adaptive from 1 ep",
    "adaptive from 1 ep, cap",
    "adaptive from 5, probe",
    "adaptive from 1 ep, probe",
    "adaptive from 5, loss only",
    "adaptive from 1 ep, loss only",
)
METHODS = (*FIXED, *ADAPTIVE, "lr_find")
# the two-sided 95% t quantile by degrees of freedom (a table: no scipy needed)
T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228}


class _VitRecipe(Recipe):
    """The seed recipe's data handling with timm's ViT for 32x32 inputs (4x4 patches, depth 6, width 192)."""

    def model(self) -> torch.nn.Module:
        import timm

        return timm.create_model(
            "vit_tiny_patch16_224", img_size=32, patch_size=4, depth=6, embed_dim=192, num_heads=3, num_classes=10
        )


VIT = _VitRecipe(**{f.name: getattr(SEED_CNN, f.name) for f in dataclasses.fields(SEED_CNN)} | {"name": "vit"})


SETUPS: dict[str, dict] = {
    "cnn-3k": {"recipe": SEED_CNN, "images": 3000, "epochs": 3, "opt": "adam", "peaks": [0.003, 0.01, 0.03]},
    "cnn-6k": {"recipe": SEED_CNN, "images": 6000, "epochs": 2, "opt": "adam", "peaks": [0.003, 0.01, 0.03]},
    "resnet18": {"recipe": RESNET18, "images": 8000, "epochs": 4, "opt": "sgd", "peaks": [0.1, 0.3, 1.0]},
    "vit": {"recipe": VIT, "images": 8000, "epochs": 4, "opt": "adamw", "peaks": [1e-3, 3e-3, 1e-2]},
}
DEVELOPED_ON = ("cnn-3k",)


def optimizer_for(kind: str, model: torch.nn.Module, lr: float) -> torch.optim.Optimizer:
    if kind == "sgd":
        return torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, nesterov=True, weight_decay=5e-4)
    if kind == "adamw":
        return torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.05)
    return torch.optim.Adam(model.parameters(), lr=lr)


def warmup_length(method: str, spe: int) -> int:
    """The (nominal) warmup length a method names: 5 updates, 0.2 epoch or 1 epoch."""
    return {"5": 5, "0.2 ep": round(0.2 * spe), "1 ep": spe}[method.split(" ", 1)[1].split(",")[0].replace("from ", "")]


def make_scheduler(method: str, opt: torch.optim.Optimizer, spe: int, total: int) -> WarmupLR:
    if method == "none":
        return WarmupLR(opt, warmup_type="none", total_steps=total, decay_type="cosine")
    warmup = spe if method == "lr_find" else warmup_length(method, spe)
    schedule = WarmupSchedule(warmup_steps=warmup, start_factor=START_FACTOR, total_steps=total, decay_type="cosine")
    adaptive = None
    if method.startswith("adaptive"):
        size_signal = {"update_target": None} if method.endswith("loss only") else {}
        adaptive = AdaptiveWarmup(cap_peak=method.endswith("cap"), probe=method.endswith("probe"), **size_signal)
    return WarmupLR(opt, schedule, adaptive=adaptive)


def lr_find_valley(trainer: Trainer, opt_kind: str, num_it: int = 100) -> float:
    """fastai's ``lr_find`` suggestion (``valley``): an exponential LR sweep 1e-7 -> 10 over ``num_it`` updates
    from the initial weights, losses smoothed as fastai's Recorder does (beta 0.98, debiased), stopped at 4x the
    best smoothed loss, ``valley`` on the points ``[num_it // 10 : -5]`` as ``Learner.lr_find`` passes them."""
    from fastai.callback.schedule import valley

    model = trainer.model()
    opt = optimizer_for(opt_kind, model, 1e-7)
    loss_fn = trainer.recipe.loss()
    lrs, losses, mov, best = [], [], 0.0, math.inf
    batches = (b for epoch in range(1000) for b in trainer.epoch_batches(epoch))
    for i, (x, y) in zip(range(num_it), batches):
        lr = 1e-7 * (10 / 1e-7) ** (i / (num_it - 1))
        for group in opt.param_groups:
            group["lr"] = lr
        loss = loss_fn(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        mov = 0.98 * mov + 0.02 * loss.item()
        smooth = mov / (1 - 0.98 ** (i + 1))
        lrs.append(lr)
        losses.append(smooth)
        best = min(best, smooth)
        if not math.isfinite(smooth) or smooth > 4 * best:
            break
    lo, hi = num_it // 10, len(losses) - 5
    return float(valley(lrs[lo:hi], losses[lo:hi], num_it)[0])


def train_one(trainer: Trainer, setup: dict, method: str, peak: float, bar: tqdm) -> dict:
    model = trainer.model()
    opt = optimizer_for(setup["opt"], model, peak)
    spe = trainer.steps_per_epoch
    total = setup["epochs"] * spe
    sched = make_scheduler(method, opt, spe, total)
    loss_fn = trainer.recipe.loss()
    losses, lrs = [], []
    for epoch in range(setup["epochs"]):
        for x, y in trainer.epoch_batches(epoch):
            lrs.append(opt.param_groups[0]["lr"])
            loss = loss_fn(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            value = loss.item()
            losses.append(value)
            sched.step(loss=value)
            bar.update()
    finite = all(map(math.isfinite, losses))
    report = None if sched.adaptive is None else sched.adaptive.report()
    return {
        "accuracy": 100 * trainer.evaluate(model),
        "max_loss": max(losses) if finite else math.inf,
        "warmup_updates": sched.schedule.warmup_steps if report is None else report["warmup_updates"],
        "adaptive": report,
        "peak": peak,
        "lrs": lrs[:: max(1, len(lrs) // 100)],
    }


def paired_interval(ours: list[float], reference: list[float]) -> dict:
    """Mean of the per-seed differences and its t-based 95% interval (points)."""
    diffs = [a - b for a, b in zip(ours, reference)]
    mean = statistics.fmean(diffs)
    if len(diffs) < 2:
        return {"differences": diffs, "mean": mean, "low": -math.inf, "high": math.inf}
    half = T975.get(len(diffs) - 1, 1.96) * statistics.stdev(diffs) / math.sqrt(len(diffs))
    return {"differences": diffs, "mean": mean, "low": mean - half, "high": mean + half}


def judge(cells: dict[str, dict[str, list[dict]]]) -> dict:
    """Per peak of one set-up: means, the targets (a) and (b) per adaptive method (see the module docs)."""
    acc = {p: {m: [r["accuracy"] for r in runs] for m, runs in ms.items()} for p, ms in cells.items()}
    mean = {p: {m: statistics.fmean(v) for m, v in ms.items()} for p, ms in acc.items()}
    fixed = {p: [m for m in FIXED if m in mean[p]] for p in mean}  # none in a repeat of one adaptive run
    fixed_best = {p: max(fixed[p], key=lambda m: mean[p][m]) if fixed[p] else None for p in mean}
    grid_best = max((mean[p][fixed_best[p]] for p in mean if fixed[p]), default=-math.inf)
    peaks = sorted(mean, key=float)
    out = {}
    for i, p in enumerate(peaks):
        lower_best = max((mean[q][fixed_best[q]] for q in peaks[:i] if fixed[q]), default=-math.inf)
        too_high = bool(fixed[p]) and all(mean[p][m] <= lower_best - 3 for m in fixed[p])
        here = mean[p][fixed_best[p]] if fixed[p] else -math.inf
        targets = {}
        for m in ADAPTIVE:
            if m not in acc[p]:
                continue
            nominal = "linear " + m.split("from ", 1)[1].split(",")[0]
            a = paired_interval(acc[p][m], acc[p][nominal]) if nominal in acc[p] else None
            b = None
            if too_high:
                recovered = (mean[p][m] - here) / (grid_best - here) if grid_best > here else 1.0
                b = {"recovered": recovered, "met": recovered >= 0.5}
            targets[m] = {"nominal": nominal, "a": a, "a_met": a is not None and a["low"] > -1, "b": b}
        out[p] = {
            "mean": mean[p],
            "std": {m: statistics.stdev(v) if len(v) > 1 else 0.0 for m, v in acc[p].items()},
            "best_fixed": fixed_best[p],
            "too_high": too_high,
            "targets": targets,
        }
    return out


def time_steps(setup_name: str, device: str, rounds: int) -> dict:
    """Median ms of a training step, and of the adaptive ``scheduler.step(loss=...)`` in the warmup (it measures
    the update size), interleaved in one process."""
    setup = SETUPS[setup_name]
    torch.manual_seed(0)
    model = setup["recipe"].model().to(device)
    opt = optimizer_for(setup["opt"], model, setup["peaks"][0])
    sched = WarmupLR(opt, WarmupSchedule(warmup_steps=10**6, total_steps=10**7), adaptive=AdaptiveWarmup())
    x, y = torch.randn(64, 3, 32, 32, device=device), torch.randint(0, 10, (64,), device=device)
    loss_fn = setup["recipe"].loss()
    steps, scheds = [], []
    for _ in range(rounds + 1):
        start = time.perf_counter()
        loss = loss_fn(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        value = loss.item()
        mid = time.perf_counter()
        sched.step(loss=value)
        end = time.perf_counter()
        steps.append(mid - start)
        scheds.append(end - mid)
    step, sched_s = statistics.median(steps[1:]), statistics.median(scheds[1:])
    return {
        "setup": setup_name,
        "rounds": rounds,
        "step_ms": 1e3 * step,
        "scheduler_ms": 1e3 * sched_s,
        "fraction": sched_s / step,
    }


def load_data(args: argparse.Namespace, images: int) -> tuple:
    if args.quick:
        return synthetic_cifar10(images, args.test_images, args.device)
    train, test = load_cifar10(args.data, args.device)
    return balanced_subset(train, images), balanced_subset(test, args.test_images)


def save_partial(args: argparse.Namespace, name: str, cells: dict) -> None:
    """The runs of one set-up so far, after every run (``partial_<set-up>.json``): a run stopped early keeps them."""
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"partial_{name}.json").write_text(json.dumps({"setup": name, "cells": cells}))


def run_setup(args: argparse.Namespace, name: str, bar: tqdm) -> dict:
    setup = dict(SETUPS[name])
    images = args.images_override or setup["images"]
    setup["epochs"] = args.epochs_override or setup["epochs"]
    train, test = load_data(args, images)
    recipe = setup["recipe"].with_(batch_size=64, epochs=setup["epochs"], warmup_epochs=0)
    peaks = args.peaks or setup["peaks"]
    cells: dict[str, dict[str, list[dict]]] = {f"{p:g}": {} for p in peaks}
    for seed in args.seeds:
        trainer = Trainer(recipe, train, test, args.device, seed, None)
        for peak in peaks:
            for method in args.methods:
                if method == "lr_find":
                    continue
                cells[f"{peak:g}"].setdefault(method, []).append(
                    {"seed": seed, **train_one(trainer, setup, method, peak, bar)}
                )
                save_partial(args, name, cells)
                print(
                    f"{time.strftime('%H:%M:%S')} {name} peak {peak:g} seed {seed} {method}: "
                    f"{cells[f'{peak:g}'][method][-1]['accuracy']:.2f}%",
                    flush=True,
                )
        if "lr_find" in args.methods:
            found = lr_find_valley(trainer, setup["opt"])
            run = {"seed": seed, "valley": found, **train_one(trainer, setup, "lr_find", found, bar)}
            for peak in peaks:
                cells[f"{peak:g}"].setdefault("lr_find", []).append(run)
            save_partial(args, name, cells)
            print(
                f"{time.strftime('%H:%M:%S')} {name} seed {seed} lr_find {found:.3g}: {run['accuracy']:.2f}%",
                flush=True,
            )
    return {
        "images": len(train),
        "test_images": len(test),
        "epochs": setup["epochs"],
        "steps_per_epoch": len(train) // 64,
        "held_out": name not in DEVELOPED_ON,
        "cells": cells,
        "judged": judge(cells),
    }


def repeat_in_second_process(args: argparse.Namespace, setup: str, peak: float, method: str, first: float) -> dict:
    """The same run (seed 0) in a fresh process: the run-to-run spread beside the seed spread."""
    code = (
        "import json,sys; from benchmarks import adaptive_grid as g; a=g.parse(sys.argv[1:]); "
        "from tqdm import tqdm; r=g.run_setup(a, a.setups[0], tqdm(disable=True)); "
        "print('RESULT', json.dumps(r['cells'][a.peaks and f'{a.peaks[0]:g}']))"
    )
    argv = [
        "--setups",
        setup,
        "--peaks",
        str(peak),
        "--seeds",
        "0",
        "--methods",
        method,
        "--no-repeat",
        "--cost-rounds",
        "0",
        "--test-images",
        str(args.test_images),
    ]
    argv += ["--quick"] if args.quick else ["--data", args.data]
    argv += [f"--images-override={args.images_override}"] if args.images_override else []
    argv += [f"--epochs-override={args.epochs_override}"] if args.epochs_override else []
    done = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, check=True)
    line = next(row for row in done.stdout.splitlines() if row.startswith("RESULT "))
    second = json.loads(line[len("RESULT ") :])[method][0]["accuracy"]
    return {
        "setup": setup,
        "peak": peak,
        "method": method,
        "seed": 0,
        "first": first,
        "second": second,
        "difference": second - first,
    }


MARK = {True: "met", False: "**missed**", None: "n/a"}


def _ci(a: dict) -> str:
    return f"{a['mean']:+.2f} [{a['low']:+.2f}, {a['high']:+.2f}]"


def _names(methods: list[str]) -> str:
    return ", ".join(f"`{m}`" for m in methods)


def _accuracies(cell: dict, method: str) -> list[float]:
    return [r["accuracy"] for r in cell.get(method, [])]


def _invocations(result: dict) -> list[str]:
    env = result["environment"]
    lines = [
        f"Generated from `adaptive_grid.json` ({'`--full`' if result['config']['full'] else 'CPU subset'}) and the "
        f"invocations merged into it. {env['device']}, torch {env['torch']}. Seeds {result['config']['seeds']}; 95% "
        "intervals are t-based on per-seed paired differences; *within noise* = the interval's lower end above -1 "
        "point.",
        "",
        f"- {', '.join(result['setups_run'])}: {_names(result['config']['methods'])}; git "
        f"`{env['git_commit']}`, {result['wall_seconds'] / 60:.1f} min wall.",
    ]
    for m in result.get("merged", []):
        note = f" ({m['note']})" if m.get("note") else ""
        lines.append(
            f"- {', '.join(m['setups'])}: {_names(m['methods'])}; git `{m['git']}`{note}, {m['minutes']:.1f} min wall."
        )
    held = [n for n, s in result["setups"].items() if s["held_out"]]
    lines += [
        "",
        f"Developed on: {', '.join(DEVELOPED_ON)}. Held out (never used to tune a rule): {', '.join(held) or 'none'}. "
        f"Not run here: {', '.join(n for n in SETUPS if n not in result['setups']) or 'none'}.",
        "",
    ]
    return lines


def _summary(result: dict) -> list[str]:
    """Targets (a) and (b) counted per set-up."""
    lines = [
        "## Targets at a glance",
        "",
        "| set-up | role | (a) met / cells | (b) met / cells with a too-high peak |",
        "| --- | --- | ---: | ---: |",
    ]
    for name, s in result["setups"].items():
        a = [t["a_met"] for j in s["judged"].values() for t in j["targets"].values() if t["a"] is not None]
        b = [t["b"]["met"] for j in s["judged"].values() for t in j["targets"].values() if t["b"] is not None]
        role = "held out" if s["held_out"] else "development"
        lines.append(f"| {name} | {role} | {sum(a)} / {len(a)} | {sum(b)} / {len(b)} |")
    return [*lines, ""]


def _setup_table(name: str, s: dict) -> list[str]:
    lines = [
        f"## {name} ({'held out' if s['held_out'] else 'development'}): {s['images']} images, "
        f"{s['epochs']} epochs x {s['steps_per_epoch']} updates, {s['test_images']} test images",
        "",
    ]
    run = sorted({m for cell in s["cells"].values() for m in cell}, key=METHODS.index)
    lines += [
        f"Methods run: {_names(run)}; not run: {_names([m for m in METHODS if m not in run]) or 'none'}. "
        "Warmup taken: the updates each seed's warmup really took (adaptive), or its length (fixed).",
        "",
        "| peak | method | test acc % (mean ± std) | warmup taken | (a) vs nominal: mean [95% CI] | (a) "
        "| (b) recovered | (b) |",
        "| --- | --- | ---: | --- | --- | --- | ---: | --- |",
    ]
    for peak, j in s["judged"].items():
        for m, acc in j["mean"].items():
            t = j["targets"].get(m)
            best = " (best fixed)" if m == j["best_fixed"] else ""
            taken = ", ".join(str(r["warmup_updates"]) for r in s["cells"][peak][m])
            extra = "| | | | |"
            if t is not None:
                a, b = t["a"], t["b"]
                extra = (
                    f"| {'-' if a is None else _ci(a)} | {MARK[t['a_met'] if a else None]} | "
                    f"{'-' if b is None else format(100 * b['recovered'], '.0f') + '%'} | "
                    f"{MARK[None if b is None else b['met']]} |"
                )
            lines.append(
                f"| {peak}{' (too high)' if j['too_high'] else ''} | {m}{best} | {acc:.2f} ± {j['std'][m]:.2f} "
                f"| {taken} {extra}"
            )
    return [*lines, ""]


def _cap_table(result: dict) -> list[str]:
    """``cap_peak=True`` against the default, paired by seed, wherever both ran."""
    rows = []
    for name, s in result["setups"].items():
        for peak, cell in s["cells"].items():
            for start in ("5", "1 ep"):
                default, cap = f"adaptive from {start}", f"adaptive from {start}, cap"
                if cell.get(default) and cell.get(cap):
                    a = paired_interval(_accuracies(cell, cap), _accuracies(cell, default))
                    fired = sum(r["adaptive"]["peak_too_high_at"] is not None for r in cell[cap])
                    factors = [r["adaptive"]["peak_factor"] for r in cell[cap] if r["adaptive"]["peak_factor"]]
                    capped = ", ".join(f"{f:.2f}" for f in factors) or "-"
                    tag = " (too high)" if s["judged"][peak]["too_high"] else ""
                    rows.append(
                        f"| {name} | {peak}{tag} | {start} | {_ci(a)} | {'yes' if a['low'] > -1 else 'no'} | "
                        f"{fired} / {len(cell[cap])} | {capped} |"
                    )
    if not rows:
        return []
    return [
        "## `cap_peak=True` against the default",
        "",
        "Paired by seed: cap minus default (points). *Fired*: runs whose too-high-peak report fired (only then can "
        "the two differ); *peak kept*: the capped runs' effective peak as a fraction of the one given.",
        "",
        "| set-up | peak | nominal start | cap - default: mean [95% CI] | within noise | fired | peak kept |",
        "| --- | --- | --- | --- | --- | ---: | --- |",
        *rows,
        "",
    ]


def _best_fixed(s: dict) -> tuple[str, str]:
    """The best fixed (peak, method) of a set-up's grid, by mean accuracy."""
    judged = s["judged"]
    best = ((p, j["best_fixed"]) for p, j in judged.items() if j["best_fixed"])
    return max(best, key=lambda pm: judged[pm[0]]["mean"][pm[1]])


def _lr_find_table(result: dict) -> list[str]:
    """fastai's lr_find suggestion with a 1-epoch warmup, beside the grid's best fixed and adaptive runs."""
    rows = []
    for name, s in result["setups"].items():
        cell = next(iter(s["cells"].values()))
        if not cell.get("lr_find"):
            continue
        found = _accuracies(cell, "lr_find")
        peak, fixed = _best_fixed(s)
        adaptive = [
            (p, m) for p, c in s["cells"].items() for m in c if m.startswith("adaptive") and len(c[m]) == len(found)
        ]
        ap, am = max(adaptive, key=lambda pm: statistics.fmean(_accuracies(s["cells"][pm[0]], pm[1])))
        best = _accuracies(s["cells"][peak], fixed)
        ours = _accuracies(s["cells"][ap], am)
        valleys = ", ".join(f"{r['valley']:.2g}" for r in cell["lr_find"])
        rows.append(
            f"| {name} | {valleys} | {statistics.fmean(found):.2f} ± {statistics.stdev(found):.2f} | "
            f"{fixed} at {peak}: {statistics.fmean(best):.2f} | {_ci(paired_interval(found, best))} | "
            f"{am} at {ap}: {statistics.fmean(ours):.2f} | {_ci(paired_interval(found, ours))} |"
        )
    if not rows:
        return []
    return [
        "## What users do instead: fastai's `lr_find` (valley) with a 1-epoch warmup",
        "",
        "The same training budget; the LR range test's own 100 updates are extra. Paired by seed (points).",
        "",
        "| set-up | valley LR per seed | lr_find acc % | best fixed (peak, W) of the grid | lr_find - it "
        "| best adaptive cell | lr_find - it |",
        "| --- | --- | ---: | --- | --- | --- | --- |",
        *rows,
        "",
    ]


RULES_TRIED = tuple(m for m in ADAPTIVE if m.endswith(("probe", "loss only")))


def _rules_table(tried: list[dict]) -> list[str]:
    """Other rules (``RULES_TRIED``), each against the default adaptive warmup and against the fixed warmup of its
    nominal length, paired by seed within the invocation that ran them (``adaptive_rules*.json``)."""
    rows = []
    for result in tried:
        for name, s in result["setups"].items():
            role = "held out" if s["held_out"] else "development"
            for peak, cell in s["cells"].items():
                for rule in (m for m in RULES_TRIED if cell.get(m)):
                    start = rule.split("from ", 1)[1].split(",")[0]
                    ours = _accuracies(cell, rule)
                    default = paired_interval(ours, _accuracies(cell, f"adaptive from {start}"))
                    nominal = paired_interval(ours, _accuracies(cell, f"linear {start}"))
                    taken = ", ".join(str(r["warmup_updates"]) for r in cell[rule])
                    rows.append(
                        f"| {name} ({role}) | {peak} | {rule} | {statistics.fmean(ours):.2f} | {taken} | "
                        f"{_ci(default)} | {_ci(nominal)} | {MARK[nominal['low'] > -1]} |"
                    )
    if not rows:
        return []
    return [
        "## Other rules tried",
        "",
        "Run in their own invocations (`adaptive_rules*.json`), each beside the default adaptive warmup and the "
        "fixed warmup of the same nominal length, paired by seed within that invocation (never across "
        "invocations: see the run-to-run spread below). Tried on cnn-3k, then run once, unchanged, on the held-out "
        "cnn-6k.",
        "",
        "| set-up | peak | rule | acc % | warmup taken | rule - default: mean [95% CI] | rule - nominal fixed | (a) |",
        "| --- | --- | --- | ---: | --- | --- | --- | --- |",
        *rows,
        "",
    ]


def _repeat_table(result: dict) -> list[str]:
    repeats = [r for r in result.get("repeats", []) if r]
    if not repeats:
        return []
    lines = [
        "## Run-to-run spread: one identical run in a second process, beside the seed spread",
        "",
        "| set-up | peak | method | seed 0, benchmark process | seed 0, second process | difference | seed std "
        "of that cell |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for r in repeats:
        std = result["setups"][r["setup"]]["judged"][f"{r['peak']:g}"]["std"][r["method"]]
        lines.append(
            f"| {r['setup']} | {r['peak']:g} | {r['method']} | {r['first']:.2f} | {r['second']:.2f} | "
            f"{r['difference']:+.2f} | {std:.2f} |"
        )
    return [*lines, ""]


def _cost_table(result: dict, ddp: dict | None) -> list[str]:
    lines = []
    if result["cost"]:
        lines += [
            "## Cost of the adaptive `scheduler.step(loss=...)` in the warmup",
            "",
            f"Median over {result['cost'][0]['rounds']} interleaved rounds in one process, batch 64, CPU "
            f"(git `{result['environment']['git_commit']}`). Target: at most 2% of a training step.",
            "",
            "| set-up | training step ms | scheduler.step ms | share | <= 2% |",
            "| --- | ---: | ---: | ---: | --- |",
        ]
        for c in result["cost"]:
            lines.append(
                f"| {c['setup']} | {c['step_ms']:.1f} | {c['scheduler_ms']:.2f} | {100 * c['fraction']:.2f}% | "
                f"{MARK[c['fraction'] <= 0.02]} |"
            )
        lines.append("")
    if ddp is not None:
        cnn = next((c for c in result["cost"] if c["setup"] == "cnn-3k"), None)
        share = "" if cnn is None else f" ({100 * ddp['median_ms'] / cnn['step_ms']:.2f}% of the seed-CNN step above)"
        lines += [
            "## DDP cost",
            "",
            f"`reduce_signals` ({ddp['backend']}, {ddp['world_size']} ranks, this CPU; from "
            f"`adaptive_ddp_cost.json`): median {ddp['median_ms']:.3f} ms per warmup update over "
            f"{ddp['rounds']} calls{share}, once per update during the warmup only.",
            "",
        ]
    return lines


def render(result: dict, ddp: dict | None = None, tried: list[dict] | None = None) -> str:
    """RESULTS.md, every number from ``result`` (and ``ddp``, ``adaptive_ddp_cost.json``, and ``tried``, the
    ``adaptive_rules*.json`` invocations, when given)."""
    result = {**result, "setups_run": list(result.get("setups_run", result["setups"]))}
    result.setdefault("repeats", [result.get("repeat")])
    lines = [
        "# Adaptive warmup: set-ups x peaks x nominal starts (`python -m benchmarks.adaptive_grid`)",
        "",
        *_invocations(result),
        *_summary(result),
    ]
    for name, s in result["setups"].items():
        lines += _setup_table(name, s)
    lines += [*_cap_table(result), *_rules_table(tried or []), *_lr_find_table(result), *_repeat_table(result)]
    lines += _cost_table(result, ddp)
    return "\n".join(lines)


def plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(result["setups"])
    fig, axes = plt.subplots(1, len(names), figsize=(6 * len(names), 4.5), squeeze=False)
    for ax, name in zip(axes[0], names):
        judged = result["setups"][name]["judged"]
        peaks = sorted(judged, key=float)
        for m in METHODS:
            if all(m in judged[p]["mean"] for p in peaks):
                ax.plot(
                    [float(p) for p in peaks],
                    [judged[p]["mean"][m] for p in peaks],
                    marker="o",
                    label=m,
                    linestyle="-" if m.startswith("adaptive") else "--",
                )
        ax.set_xscale("log")
        ax.set_xlabel("peak LR")
        ax.set_ylabel("test accuracy % (mean over seeds)")
        ax.set_title(name)
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def merge(result: dict, extra: dict) -> None:
    """Add the runs of another invocation (other methods, seeds or set-ups, the same harness) to ``result``;
    re-judge. An ``extra['note']`` (how it ran) is kept beside its git commit."""
    result.setdefault("setups_run", list(result["setups"]))
    for name, setup in extra["setups"].items():
        if name not in result["setups"]:
            result["setups"][name] = setup
            continue
        cells = result["setups"][name]["cells"]
        for peak, methods in setup["cells"].items():
            for method, runs in methods.items():
                ours = cells.setdefault(peak, {}).setdefault(method, [])
                seen = {r["seed"] for r in ours}
                ours += [r for r in runs if r["seed"] not in seen]  # other seeds of a method: added
                ours.sort(key=lambda r: r["seed"])  # paired by position: every method in seed order
        result["setups"][name]["judged"] = judge(cells)
    result.setdefault("repeats", [result.get("repeat")]).append(extra.get("repeat"))
    result.setdefault("merged", []).append(
        {
            "setups": list(extra["setups"]),
            "methods": extra["config"]["methods"],
            "git": extra["environment"]["git_commit"],
            "minutes": extra["wall_seconds"] / 60,
            "note": extra.get("note"),
        }
    )


def rerender(folder: Path) -> str:
    """Write ``folder/RESULTS.md`` again from ``adaptive_grid.json``, merged with any ``adaptive_grid_extra*.json``,
    with ``adaptive_ddp_cost.json`` and the other rules tried (``adaptive_rules*.json``)."""
    result = json.loads((folder / "adaptive_grid.json").read_text())
    for path in sorted(folder.glob("adaptive_grid_extra*.json")):
        merge(result, json.loads(path.read_text()))
    ddp_path = folder / "adaptive_ddp_cost.json"
    ddp = json.loads(ddp_path.read_text()) if ddp_path.exists() else None
    tried = [json.loads(path.read_text()) for path in sorted(folder.glob("adaptive_rules*.json"))]
    text = render(result, ddp, tried)
    (folder / "RESULTS.md").write_text(text)
    plot(result, folder / "adaptive_grid.png")
    return text


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="CIFAR-10 root (ImageFolder train/test)")
    add_device_argument(parser)
    parser.add_argument("--out", type=Path, default=Path("runs/adaptive_grid"))
    parser.add_argument("--full", action="store_true", help="every set-up, peak and method")
    parser.add_argument("--setups", nargs="+", choices=list(SETUPS), default=None)
    parser.add_argument("--peaks", nargs="+", type=float, default=None, help="default: each set-up's")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=None)
    parser.add_argument("--test-images", type=int, default=5000)
    parser.add_argument("--images-override", type=int, default=None)
    parser.add_argument("--epochs-override", type=int, default=None)
    parser.add_argument("--cost-rounds", type=int, default=9)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--no-repeat", action="store_true", help="skip the second-process repeat")
    parser.add_argument("--quick", action="store_true", help="synthetic data, tiny: a smoke run")
    parser.add_argument("--render", type=Path, default=None, help="only re-write RESULTS.md/PNG from this folder")
    args = parser.parse_args(argv)
    # the CPU subset (documented in RESULTS.md): the two seed-CNN set-ups, peaks 0.01 and 0.03, six methods + lr_find
    subset_methods = [
        "none",
        "linear 5",
        "linear 1 ep",
        "adaptive from 5",
        "adaptive from 5, cap",
        "adaptive from 1 ep, cap",
        "lr_find",
    ]
    if args.full:
        args.setups, args.methods = args.setups or list(SETUPS), args.methods or list(METHODS)
    else:
        args.setups = args.setups or ["cnn-3k", "cnn-6k"]
        args.methods = args.methods or subset_methods
        args.peaks = args.peaks or [0.01, 0.03]
    if args.quick:
        args.setups, args.images_override, args.epochs_override = args.setups[:1], 640, 2
        args.test_images, args.seeds, args.cost_rounds = 200, args.seeds[:2], min(args.cost_rounds, 2)
    return args


def main(argv: list[str] | None = None) -> dict | None:
    args = parse(argv)
    if args.render is not None:
        print(rerender(args.render))
        return None
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.data is None and not args.quick:
        raise SystemExit("--data is required (or --quick for a synthetic smoke run)")
    start, env = time.perf_counter(), environment(args.device)
    cost = [time_steps(n, args.device, args.cost_rounds) for n in ("cnn-3k", "resnet18")] if args.cost_rounds else []
    setups = {}
    with tqdm(unit="upd", desc="adaptive grid", mininterval=10, disable=None) as bar:
        for name in args.setups:
            setups[name] = run_setup(args, name, bar)
    result = {
        "benchmark": "adaptive_grid",
        "environment": env,
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "setups": setups,
        "cost": cost,
        "repeat": None,
    }
    if not args.no_repeat:
        first = args.setups[0]
        peak = sorted(setups[first]["cells"], key=float)[-1]
        method = args.methods[1]
        acc = setups[first]["cells"][peak][method][0]["accuracy"]
        result["repeat"] = repeat_in_second_process(args, first, float(peak), method, acc)
    result["wall_seconds"] = time.perf_counter() - start
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "adaptive_grid.json").write_text(json.dumps(result, indent=1))
    (args.out / "RESULTS.md").write_text(render(result))
    plot(result, args.out / "adaptive_grid.png")
    print(render(result))
    return result


if __name__ == "__main__":
    main()

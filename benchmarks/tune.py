"""Tuning the warmup of a CIFAR-10 recipe with Optuna, against the untuned and adaptive warmups.

    python -m benchmarks.tune --recipe seed-cnn --trials 12 --data /tmp/data/cifar10 --subset 4096 --epochs 3
    python -m benchmarks.tune --recipe resnet18 --trials 40 --data /tmp/data/cifar10 --device cuda
    python -m benchmarks.tune --quick                      # seconds, synthetic data: a smoke run
    python -m benchmarks.tune --render runs/tune/tune_seed_cnn.json   # the markdown again, from the JSON

The study (TPE sampler, median pruner, the warmup diagnosis pruning spikes, NaNs and divergence through
``warmup_plugins.tune``) searches warmup type (none, linear, exponential, cosine, constant), warmup
length (a fraction of the run), start factor and peak LR, with the recipe's cosine decay; every trial
trains every seed (``--seeds``, at least 2) epoch by epoch and reports their mean test accuracy. On
the same budget (epochs, images, seeds) it then trains, untuned in every sense: the recipe's own
warmup, the untuned warmup (``W = 2 / (1 - beta2)`` from Adam; SGD recipes have none) and an
``AdaptiveWarmup`` of the recipe's length, each at the recipe's peak LR (and, with
``--best-lr-baselines``, again at the best trial's peak LR). The report compares them with the best
trial and gives the tuning cost: the training updates (and seconds) the search spent in all, and
until its running best first beat each baseline.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from pathlib import Path
from typing import Any

import optuna
import torch
from tqdm.auto import tqdm

from benchmarks.cifar10 import load_data, training_parser
from benchmarks.data import Split
from benchmarks.environment import environment
from benchmarks.loops import Trainer
from benchmarks.recipes import RECIPES, Recipe
from warmup_plugins.extensions.untuned import beta2_of, untuned_warmup_steps
from warmup_plugins.torch import WarmupLR
from warmup_plugins.tune import SearchSpace, Suggestion, TorchReporter, create_study, optimize, suggest_schedule

RECIPE_NAMES = {"seed-cnn": "seed_cnn", "resnet18": "resnet18"}
PEAK_LRS = {"seed_cnn": (1e-4, 1e-2), "resnet18": (0.05, 4.0)}
TUNED_TYPES = ("none", "linear", "exponential", "cosine", "constant")


class SeedRun:
    """One seed of one configuration: model, optimizer, ``WarmupLR`` with a record, and its reporter."""

    def __init__(
        self,
        trainer: Trainer,
        recipe: Recipe,
        suggestion: Suggestion,
        trial: optuna.trial.BaseTrial,
        key: str,
        prune_on: tuple[str, ...] | None = None,
    ):
        self.trainer, self.model = trainer, trainer.model()
        self.optimizer = recipe.optimizer(self.model)
        # scheduler_kwargs() per scheduler: each seed's run needs its own AdaptiveWarmup
        self.scheduler = WarmupLR(self.optimizer, record=True, **suggestion.scheduler_kwargs())
        prune_on = _prune_on(trial) if prune_on is None else prune_on
        self.reporter = TorchReporter(trial, self.scheduler, record_key=key, prune_on=prune_on)
        self.loss_fn = recipe.loss()
        self.updates = 0

    def train_epoch(self, epoch: int, bar: tqdm) -> float:
        """One epoch, the diagnosis checking every update; returns the test accuracy."""
        for x, y in self.trainer.epoch_batches(epoch):
            with self.trainer.autocast():
                loss = self.loss_fn(self.model(x), y)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            self.updates += 1
            value = loss.item()
            self.reporter.step(loss=value)  # may raise optuna.TrialPruned
            bar.update()
            bar.set_postfix(loss=f"{value:.3f}", lr=f"{self.optimizer.param_groups[0]['lr']:.2e}", refresh=False)
        return self.trainer.evaluate(self.model)


def _prune_on(trial: optuna.trial.BaseTrial) -> tuple[str, ...]:
    """A fixed (baseline) run is never pruned: it runs whole, whatever the diagnosis says."""
    return () if isinstance(trial, optuna.trial.FixedTrial) else ("nonfinite", "spike", "divergence")


def train_config(
    trial: optuna.trial.BaseTrial,
    recipe: Recipe,
    suggestion: Suggestion,
    data: tuple[Split, Split],
    args: argparse.Namespace,
    label: str,
    prune_on: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """Train every seed epoch by epoch; report the mean test accuracy per epoch to the trial.
    ``prune_on``: the diagnosis findings that prune (default: all of them in a search, none in a baseline).

    Returns the per-seed accuracies, the updates and seconds spent (also when pruned: kept in the trial's
    user attributes in a ``finally``)."""
    train, test = data
    trainers = [Trainer(recipe, train, test, args.device, seed, None) for seed in args.seeds]
    runs = [
        SeedRun(t, recipe, suggestion, trial, "record" if i == 0 else f"record_seed{seed}", prune_on)
        for i, (t, seed) in enumerate(zip(trainers, args.seeds))
    ]
    accuracy: list[list[float]] = [[] for _ in runs]
    start = time.perf_counter()
    total = recipe.epochs * len(runs) * trainers[0].steps_per_epoch
    bar = tqdm(total=total, desc=f"  {label}", leave=False, unit="upd")
    try:
        for epoch in range(recipe.epochs):
            for run, accs in zip(runs, accuracy):
                accs.append(run.train_epoch(epoch, bar))
            mean = statistics.fmean(a[-1] for a in accuracy)
            bar.set_postfix(acc=f"{mean:.2%}", refresh=True)
            for run in runs[1:]:
                run.reporter.keep()
            runs[0].reporter.report_epoch(epoch, mean)  # may raise optuna.TrialPruned (Optuna's pruner)
    finally:
        bar.close()
        cost = {"updates": sum(r.updates for r in runs), "seconds": time.perf_counter() - start}
        trial.set_user_attr("cost", cost)
        trial.set_user_attr("accuracy", accuracy)
        adaptive = runs[0].scheduler.adaptive
        if adaptive is not None:
            trial.set_user_attr("warmup_updates", [r.scheduler.adaptive.warmup_done_at for r in runs])
    return {
        "accuracy": accuracy,
        "cost": cost,
        **({"warmup_updates": trial.user_attrs["warmup_updates"]} if adaptive else {}),
    }


def _mean(accuracy: list[list[float]]) -> float:
    return statistics.fmean(a[-1] for a in accuracy)


def baselines(
    recipe: Recipe, peak_lrs: dict[str, float], data, args, total: int, done: set[tuple[str, str]] = frozenset()
) -> list[dict[str, Any]]:
    """The recipe's warmup, the untuned and the adaptive warmup, at each of ``peak_lrs``, no search
    (those already ``done``, as ``(warmup, lr_from)`` pairs, are left out)."""
    fraction = recipe.warmup_epochs / RECIPES[recipe.name].epochs
    warmup = max(1, round(fraction * total))
    start = recipe.start_lr / recipe.peak_lr
    probe = recipe.optimizer(recipe.model())
    has_beta2 = all("betas" in g for g in probe.param_groups)
    untuned_w = untuned_warmup_steps(beta2_of(probe.param_groups)) if has_beta2 else None
    shaped = {"warmup_type": "linear", "warmup_steps": warmup, "start_factor": start}
    decay = {"total_steps": total, "decay_type": recipe.decay, "end_factor": 0.0}
    configs = {"recipe warmup": ({**shaped, **decay}, False), "adaptive": ({**shaped, **decay}, True)}
    if untuned_w is not None:
        # untuned_linear warms up over W - 1 updates; a run no longer than that has no room for the decay
        fits = untuned_w - 1 < total
        configs["untuned"] = ({"warmup_type": "untuned_linear", **(decay if fits else {})}, False)
    out = []
    for where, lr in peak_lrs.items():
        for name, (kwargs, adaptive) in configs.items():
            if (name, where) in done:
                continue
            label = f"{name} @ {where} LR {lr:.3g}"
            tqdm.write(f"baseline: {label}")
            suggestion = Suggestion(name, kwargs, adaptive, lr)
            result = train_config(optuna.trial.FixedTrial({}), recipe.with_(peak_lr=lr), suggestion, data, args, label)
            acc = [a[-1] for a in result["accuracy"]]
            row = {"label": label, "warmup": name, "peak_lr": lr, "lr_from": where, "schedule_kwargs": kwargs}
            row.update(accuracy_mean=statistics.fmean(acc), accuracy_std=statistics.stdev(acc), accuracy=acc)
            row.update(cost=result["cost"], warmup_updates=result.get("warmup_updates"))
            if name == "untuned":
                row.update(untuned_warmup_steps=untuned_w, decays=untuned_w - 1 < total)
            out.append(row)
    return out


def reuse_baselines(path: Path, recipe: Recipe, train_images: int, test_images: int, seeds: list[int]) -> list[dict]:
    """The baselines of an earlier run on the same budget (recipe, images, seeds), e.g. run in a second process."""
    earlier = json.loads(path.read_text())
    same = (earlier["recipe"], earlier["train_images"], earlier["test_images"], earlier["config"]["seeds"])
    if same != (json.loads(json.dumps(recipe.__dict__)), train_images, test_images, seeds):
        raise SystemExit(f"--baselines-from {path}: that run had another budget (recipe, images or seeds)")
    return earlier["baselines"]


def trial_rows(study: optuna.Study) -> list[dict[str, Any]]:
    rows = []
    for t in study.trials:
        accuracy = t.user_attrs.get("accuracy")
        rows.append(
            {
                "number": t.number,
                "state": t.state.name,
                "value": t.value,
                "params": t.params,
                "warmup_steps": (t.user_attrs.get("suggestion") or {}).get("schedule_kwargs", {}).get("warmup_steps"),
                "accuracy": accuracy,
                "cost": t.user_attrs.get("cost"),
                "pruned_by": t.user_attrs.get("pruned_by"),
                "error": t.user_attrs.get("error"),
            }
        )
    return rows


def cost_to_beat(trials: list[dict[str, Any]], target: float) -> dict[str, Any] | None:
    """The first complete trial whose value beats ``target``, with the updates and seconds spent up to it
    (a pruned trial's value is its last report, not a finished run's: it only counts as cost)."""
    updates = seconds = 0.0
    for i, t in enumerate(trials):
        updates += (t["cost"] or {}).get("updates", 0)
        seconds += (t["cost"] or {}).get("seconds", 0.0)
        if t["state"] == "COMPLETE" and t["value"] > target:
            return {"trial": t["number"], "trials": i + 1, "updates": updates, "seconds": seconds}
    return None


def render(result: dict[str, Any]) -> str:
    """The markdown report: every number from the JSON ``result``."""
    env, cfg, trials = result["environment"], result["config"], result["trials"]
    done = [t for t in trials if t["state"] == "COMPLETE"]
    best = max(done, key=lambda t: t["value"]) if done else None
    per_run = result["updates_per_run"]
    total_updates = sum((t["cost"] or {}).get("updates", 0) for t in trials)
    total_seconds = sum((t["cost"] or {}).get("seconds", 0.0) for t in trials)
    base_seconds = sum(b["cost"]["seconds"] for b in result["baselines"])
    states = {s: sum(t["state"] == s for t in trials) for s in ("COMPLETE", "PRUNED", "FAIL")}
    lines = [
        f"# Tuning the warmup: {result['recipe']['name']} on CIFAR-10 (`python -m benchmarks.tune`)",
        "",
        f"Generated by `python -m benchmarks.tune --render` from `{result['json_name']}`; nothing is typed by hand.",
        "",
        f"Ran on {env['device']}, torch `{env['torch']}`, optuna `{result['optuna']}`, commit `{env['git_commit']}`."
        f" Compute: search {total_seconds / 60:.1f} min, baselines {base_seconds / 60:.1f} min (training and"
        " evaluation time summed over the runs).",
        f"Budget per run: {result['recipe']['epochs']} epochs x {result['steps_per_epoch']} updates of"
        f" {result['recipe']['batch_size']} ({result['train_images']} training images, {per_run} updates),"
        f" test accuracy on {result['test_images']} test images, seeds {cfg['seeds']} (each point is their mean).",
        f"Search: {len(trials)} trials (TPE; {states['COMPLETE']} complete, {states['PRUNED']} pruned,"
        f" {states['FAIL']} failed) over warmup type {list(TUNED_TYPES)}, warmup fraction"
        f" {result['space']['warmup_fraction']}, start factor {result['space']['start_factor']} and peak LR"
        f" {result['space']['peak_lr']}, cosine decay to 0. It trained {total_updates} updates"
        f" ({total_updates / per_run:.1f} runs' worth, {total_seconds / 60:.1f} min).",
        "",
    ]
    if best is None:
        return "\n".join([*lines, "No trial completed."]) + "\n"
    accs = [a[-1] for a in best["accuracy"]]
    p = best["params"]
    shape = (
        "no warmup"
        if p["warmup_type"] == "none"
        else (
            f"{p['warmup_type']}, {best['warmup_steps']} updates ({best['warmup_steps'] / per_run:.1%} of the run),"
            f" start factor {p['start_factor']:.3g}"
        )
    )
    lines += [
        f"**Best tuned warmup** (trial {best['number']}): {shape}, peak LR {p['peak_lr']:.3g}:"
        f" test accuracy **{best['value']:.2%}** (seeds: {', '.join(f'{a:.2%}' for a in accs)}). Being the best of"
        f" {len(done)} noisy points, this is optimistic.",
        "",
        "| warmup, no search | peak LR | test accuracy (mean, std over seeds) | vs best tuned | warmup updates |"
        " tuning cost to beat it |",
        "| --- | ---: | ---: | ---: | --- | --- |",
    ]
    for b in result["baselines"]:
        reach = cost_to_beat(trials, b["accuracy_mean"])
        if reach is None:
            cost = "the search never beat it"
        else:
            cost = (
                f"trial {reach['trial']} ({reach['trials']} trial{'s' * (reach['trials'] > 1)},"
                f" {reach['updates'] / per_run:.1f} runs,"
                f" {reach['seconds'] / 60:.1f} min)"
            )
        warm = b["warmup_updates"] or b["schedule_kwargs"].get("warmup_steps")
        if b["warmup"] == "untuned":
            warm = f"{b['untuned_warmup_steps'] - 1} (2/(1-beta2) - 1)" + ("" if b["decays"] else ", no room to decay")
        elif b["warmup"] == "adaptive":
            warm = f"nominal {b['schedule_kwargs']['warmup_steps']}, took {warm}"
        lines.append(
            f"| {b['warmup']} ({b['lr_from']} LR) | {b['peak_lr']:.3g} | {b['accuracy_mean']:.2%} ±"
            f" {b['accuracy_std']:.2%} | {100 * (b['accuracy_mean'] - best['value']):+.2f} pt | {warm} | {cost} |"
        )
    lines += [
        "",
        "The baselines cost one configuration each (one run per seed); the tuning cost counts every update the",
        "search trained (pruned trials included) up to the first trial whose mean accuracy beat the baseline.",
    ]
    for b in result["baselines"]:
        twin = [r for r in result["baselines"] if r["warmup"] == "recipe warmup" and r["lr_from"] == b["lr_from"]]
        nominal = b["schedule_kwargs"].get("warmup_steps")
        if b["warmup"] == "adaptive" and twin and set(b["warmup_updates"] or []) == {nominal}:
            same = "the same accuracies as" if b["accuracy"] == twin[0]["accuracy"] else "unlike"
            lines += [
                "",
                f"At the {b['lr_from']} LR the adaptive warmup saw no spike: it took its nominal {nominal} updates,"
                f" so it ran the recipe's fixed warmup ({same} that row).",
            ]
    untuned = [b for b in result["baselines"] if b["warmup"] == "untuned" and not b["decays"]]
    if untuned:
        w = untuned[0]["untuned_warmup_steps"]
        lines += [
            "",
            f"The untuned warmup of Adam (beta2 0.999) is {w} updates, longer than this {per_run}-update run: it ran"
            " as published (a linear rise that never reaches the peak LR, no decay), so it is compared here only at"
            f" a budget it was not designed for (it reaches {(per_run + 1) / w:.0%} of the peak).",
        ]
    lines += [
        "",
        "Every trial (a pruned trial's accuracy is the mean at the epoch it was stopped; a trial stopped by the warmup"
        " diagnosis inside an epoch has none):",
        "",
        "| trial | state | warmup | updates | start | peak LR | accuracy | pruned by / error |",
    ]
    lines.append("| ---: | --- | --- | ---: | ---: | ---: | ---: | --- |")
    for t in trials:
        p = t["params"]
        value = "" if t["value"] is None else f"{t['value']:.2%}"
        why = t["pruned_by"] or t["error"] or ("Optuna's median pruner" if t["state"] == "PRUNED" else "")
        why = why.replace("|", "/")[:110]
        lines.append(
            f"| {t['number']} | {t['state'].lower()} | {p.get('warmup_type', '')} | {t['warmup_steps']} |"
            f" {p.get('start_factor', 0):.3g} | {p.get('peak_lr', 0):.3g} | {value} | {why} |"
        )
    lines += ["", *(f"![{name}]({name})" for name in result["figures"])]
    return "\n".join(lines) + "\n"


def plot_search_cost(result: dict[str, Any], path: Path) -> Path:
    """Running best accuracy against the updates the search trained, with the baselines as lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    per_run = result["updates_per_run"]
    xs, ys, spent, best = [], [], 0.0, -math.inf
    for t in result["trials"]:
        spent += (t["cost"] or {}).get("updates", 0) / per_run
        if t["state"] == "COMPLETE":
            best = max(best, t["value"])
        if math.isfinite(best):
            xs.append(spent)
            ys.append(best)
    fig, ax = plt.subplots(figsize=(7, 4.2))
    ax.step(xs, [100 * y for y in ys], where="post", color="black", label="tuned: best so far")
    colors = {"recipe warmup": "tab:blue", "adaptive": "tab:green", "untuned": "tab:orange"}
    widths = {"recipe warmup": 4.0, "adaptive": 1.5, "untuned": 1.5}  # wide below thin: equal lines stay visible
    for b in result["baselines"]:
        style = "-" if b["lr_from"] == "recipe" else "--"
        ax.axhline(
            100 * b["accuracy_mean"],
            color=colors[b["warmup"]],
            linestyle=style,
            linewidth=widths[b["warmup"]],
            alpha=0.5 if b["warmup"] == "recipe warmup" else 1.0,
            label=b["label"],
        )
    ax.set_xlabel("search cost: training runs' worth of updates (all seeds, pruned trials included)")
    ax.set_ylabel("test accuracy (%), mean over seeds")
    ax.set_title(f"{result['recipe']['name']}: tuned warmup vs no search")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def run(args: argparse.Namespace) -> dict[str, Any]:
    name = RECIPE_NAMES[args.recipe]
    recipe = RECIPES[name]
    if args.epochs is not None:
        recipe = recipe.with_(epochs=args.epochs)
    if args.quick:
        recipe = recipe.with_(epochs=2, batch_size=8)
    if len(args.seeds) < 2:
        raise SystemExit("--seeds needs at least 2 seeds: each point is a mean with a spread")
    train, test = load_data(args)
    if args.subset is not None and not args.quick:
        train = train.subset(args.subset)
    if args.test_subset is not None and not args.quick:
        test = test.subset(args.test_subset)
    if args.quick:
        train = train.subset(64)
    steps_per_epoch = len(train) // recipe.batch_size
    total = recipe.epochs * steps_per_epoch
    space = SearchSpace(
        warmup_types=TUNED_TYPES, warmup_fraction=(0.02, 0.5), start_factor=(1e-3, 0.3), peak_lr=PEAK_LRS[name]
    )
    args.out.mkdir(parents=True, exist_ok=True)
    storage = args.storage or f"sqlite:///{args.out / f'tune_{name}.db'}"
    study_name = args.study or f"{name}-{len(train)}img-{recipe.epochs}ep"
    pruner = optuna.pruners.MedianPruner(n_startup_trials=4, n_warmup_steps=1)
    study = create_study(study_name, storage=storage, pruner=pruner, space=space)
    # a resumed study gets a new sampler seed: the same seed would replay the first run's random start-up trials
    study.sampler = optuna.samplers.TPESampler(
        seed=args.sampler_seed + len(study.trials), n_startup_trials=max(2, min(10, args.trials // 2))
    )
    start = time.perf_counter()

    def objective(trial: optuna.Trial) -> float:
        suggestion = suggest_schedule(trial, total_steps=total, space=space)
        lr_recipe = recipe.with_(peak_lr=suggestion.peak_lr)
        result = train_config(trial, lr_recipe, suggestion, (train, test), args, f"trial {trial.number}")
        return _mean(result["accuracy"])

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with tqdm(total=args.trials, desc="trials", unit="trial") as bar:

        def progress(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
            complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
            best = study.best_value if complete else math.nan  # a pruned trial has a value but is no best trial
            bar.set_postfix(last=trial.state.name.lower(), best=f"{best:.2%}")
            bar.update()

        if args.trials:  # 0: only the baselines, against the trials the study already has
            optimize(study, objective, args.trials, callbacks=[progress])
    trials = trial_rows(study)
    done = [t for t in trials if t["state"] == "COMPLETE"]
    peak_lrs = {"recipe": recipe.peak_lr}
    if done and args.best_lr_baselines:
        peak_lrs["best trial's"] = max(done, key=lambda t: t["value"])["params"]["peak_lr"]
    reused = []
    if args.baselines_from is not None:
        reused = reuse_baselines(args.baselines_from, recipe, len(train), len(test), args.seeds)
    reused = [b for b in reused if b["warmup"] not in args.rerun_baselines]
    done_pairs = {(b["warmup"], b["lr_from"]) for b in reused}
    base = reused + baselines(recipe, peak_lrs, (train, test), args, total, done_pairs)
    stem = f"tune_{name}" + ("_quick" if args.quick else "")
    result = {
        "benchmark": "tune",
        "environment": environment(args.device),
        "optuna": optuna.__version__,
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "recipe": recipe.__dict__,
        "storage": storage,
        "study": study_name,
        "space": space.to_dict(),
        "train_images": len(train),
        "test_images": len(test),
        "steps_per_epoch": steps_per_epoch,
        "updates_per_run": total,
        "trials": trials,
        "baselines": base,
        "wall_seconds": time.perf_counter() - start,
        "json_name": f"{stem}.json",
    }
    result["figures"] = [plot_search_cost(result, args.out / f"{stem}_cost.png").name]
    if len(done) >= 2:
        from warmup_plugins.tune.report import write_report

        figures = write_report(study, args.out, prefix=f"{stem}_")
        result["figures"] += [p.name for p in figures]
    (args.out / f"{stem}.json").write_text(json.dumps(result, indent=1))
    (args.out / f"{stem}.md").write_text(render(result))
    return result


def main(argv: list[str] | None = None) -> dict[str, Any] | None:
    parser = training_parser(__doc__)
    parser.set_defaults(out=Path("runs/tune"))
    parser.add_argument("--recipe", default="seed-cnn", choices=list(RECIPE_NAMES))
    parser.add_argument("--trials", type=int, default=12, help="trials to add to the study (0: none)")
    parser.add_argument("--storage", help="an Optuna storage URL (default: a SQLite file in --out)")
    parser.add_argument("--study", help="the study name (default: from the recipe and budget)")
    parser.add_argument("--subset", type=int, help="train on this many training images (default: all)")
    parser.add_argument("--test-subset", type=int, help="test on this many test images (default: all)")
    parser.add_argument("--epochs", type=int, help="epochs per run (default: the recipe's)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--sampler-seed", type=int, default=0)
    parser.add_argument(
        "--best-lr-baselines", action="store_true", help="also run the baselines at the best trial's peak LR"
    )
    parser.add_argument(
        "--baselines-from", type=Path, metavar="JSON", help="reuse the baselines of a run on the same budget"
    )
    parser.add_argument(
        "--rerun-baselines", nargs="+", default=[], metavar="WARMUP", help="with --baselines-from: run these again"
    )
    parser.add_argument("--render", type=Path, metavar="JSON", help="only write the markdown report of a saved run")
    args = parser.parse_args(argv)
    if args.render is not None:
        result = json.loads(args.render.read_text())
        path = args.render.with_suffix(".md")
        path.write_text(render(result))
        cost = plot_search_cost(result, args.render.with_name(args.render.stem + "_cost.png"))
        print(f"wrote {path} and {cost}")
        return None
    torch.backends.cudnn.benchmark = True
    result = run(args)
    print(render(result))
    print(f"wrote {args.out / result['json_name']} ({result['wall_seconds'] / 60:.1f} min)")
    return result


if __name__ == "__main__":
    main()

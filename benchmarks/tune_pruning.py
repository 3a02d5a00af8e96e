"""What pruning buys a warmup search: the same search budget three ways, on the seed CNN (Adam, CIFAR-10).

    python -m benchmarks.tune_pruning --data /tmp/data/cifar10 --out benchmarks/results   # the committed CPU subset
    python -m benchmarks.tune_pruning --data /tmp/data/cifar10 --full                     # the complete grid
    python -m benchmarks.tune_pruning --quick                                             # seconds, synthetic data
    python -m benchmarks.tune_pruning --render benchmarks/results/tune_pruning.json       # the markdown, from the JSON

Three searches of the same space with the same TPE seed and number of trials:

* ``no pruning``: every trial trains its whole run (``NopPruner``, the diagnosis off);
* ``Optuna pruner``: ``MedianPruner`` on the per-epoch test accuracy;
* ``diagnosis + Optuna pruner``: also pruned at once when the warmup diagnosis sees a spike, a NaN or a
  divergence in the loss (``warmup_plugins.tune``).

The space tunes the peak LR with the warmup: warmup none / linear / cosine, length 2-50% of the run, start
factor 1e-3-0.3, cosine decay to 0, and peak LR 1e-3-0.1 (log), up to where Adam's loss spikes on this CNN.
Each search is repeated for every search seed (``--searches``, at least 2). Compute is counted in optimizer
updates trained (a pruned trial counts what it trained). The report gives, per search, the updates spent
until the first complete trial within ``--within`` (0.5) points of the best accuracy of the unpruned
search with the same seed, and that as a share of the unpruned search's whole budget.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

import optuna

from benchmarks.cifar10 import load_data, training_parser
from benchmarks.environment import environment
from benchmarks.recipes import RECIPES
from benchmarks.tune import train_config
from warmup_plugins.tune import PRUNE_ON, SearchSpace, create_study, optimize, suggest_schedule

ARMS = {  # name: (Optuna pruner?, diagnosis findings that prune)
    "no pruning": (False, ()),
    "Optuna pruner": (True, ()),
    "diagnosis + Optuna pruner": (True, PRUNE_ON),
}
SPACE = SearchSpace(
    warmup_types=("none", "linear", "cosine"),
    warmup_fraction=(0.02, 0.5),
    start_factor=(1e-3, 0.3),
    peak_lr=(1e-3, 0.1),
)
SUBSET = {"subset": 4096, "test_subset": 1000, "epochs": 4, "trials": 10, "searches": [0, 1]}
FULL = {"subset": None, "test_subset": None, "epochs": 10, "trials": 30, "searches": [0, 1, 2]}
GOAL = 0.30  # the target: the best warmup found at <= 30% of the unpruned search's compute


def search(arm: str, search_seed: int, recipe, data, args: argparse.Namespace, total: int) -> list[dict[str, Any]]:
    """One search: ``args.trials`` trials of ``SPACE``, TPE seeded ``search_seed``; one row per trial."""
    use_pruner, prune_on = ARMS[arm]
    pruner = optuna.pruners.MedianPruner(n_startup_trials=3) if use_pruner else optuna.pruners.NopPruner()
    sampler = optuna.samplers.TPESampler(seed=search_seed, n_startup_trials=max(2, args.trials // 3))
    study = create_study(
        f"{arm}-{search_seed}", storage=optuna.storages.InMemoryStorage(), sampler=sampler, pruner=pruner
    )

    def objective(trial: optuna.Trial) -> float:
        s = suggest_schedule(trial, total_steps=total, space=SPACE)
        result = train_config(trial, recipe.with_(peak_lr=s.peak_lr), s, data, args, f"{arm} #{trial.number}", prune_on)
        return statistics.fmean(a[-1] for a in result["accuracy"])

    optimize(study, objective, args.trials)
    return [
        {
            "number": t.number,
            "state": t.state.name,
            "value": t.value,
            "params": t.params,
            "updates": (t.user_attrs.get("cost") or {}).get("updates", 0),
            "seconds": (t.user_attrs.get("cost") or {}).get("seconds", 0.0),
            "pruned_by": t.user_attrs.get("pruned_by"),
            "error": t.user_attrs.get("error"),
        }
        for t in study.trials
    ]


def best(trials: list[dict[str, Any]]) -> float | None:
    done = [t["value"] for t in trials if t["state"] == "COMPLETE"]
    return max(done) if done else None


def updates_to_reach(trials: list[dict[str, Any]], target: float) -> int | None:
    """Updates trained up to and including the first complete trial whose accuracy is >= ``target``."""
    spent = 0
    for t in trials:
        spent += t["updates"]
        if t["state"] == "COMPLETE" and t["value"] >= target:
            return spent
    return None


def summarize(result: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per (search seed, arm): budget spent, best accuracy, updates to reach the target."""
    rows = []
    for seed in result["config"]["searches"]:
        runs = {arm: result["searches"][f"{arm}|{seed}"] for arm in ARMS}
        unpruned_best = best(runs["no pruning"])
        unpruned_total = sum(t["updates"] for t in runs["no pruning"])
        target = None if unpruned_best is None else unpruned_best - result["config"]["within"] / 100
        unpruned_value = {json.dumps(t["params"], sort_keys=True): t["value"] for t in runs["no pruning"]}
        for arm, trials in runs.items():
            reach = None if target is None else updates_to_reach(trials, target)
            pruned = [t for t in trials if t["state"] == "PRUNED"]
            # the same configuration, trained whole by the unpruned search: did it reach the target?
            twins = [unpruned_value.get(json.dumps(t["params"], sort_keys=True)) for t in pruned]
            rows.append(
                {
                    "search_seed": seed,
                    "arm": arm,
                    "complete": sum(t["state"] == "COMPLETE" for t in trials),
                    "pruned_by_pruner": sum((t["pruned_by"] or "").startswith("pruner:") for t in pruned),
                    "pruned_by_diagnosis": sum(not (t["pruned_by"] or "").startswith("pruner:") for t in pruned),
                    "failed": sum(t["state"] == "FAIL" for t in trials),
                    "pruned_twins": sum(v is not None for v in twins),
                    "pruned_reaching_target": sum(v is not None and target is not None and v >= target for v in twins),
                    "updates": sum(t["updates"] for t in trials),
                    "best": best(trials),
                    "target": target,
                    "updates_to_target": reach,
                    "share_of_unpruned": None if reach is None else reach / unpruned_total,
                }
            )
    return rows


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.2%}"


def render(result: dict[str, Any], figures: str = "") -> str:
    """The markdown section: every number from the JSON ``result``; ``figures`` prefixes the PNG's path."""
    cfg, env, rows = result["config"], result["environment"], summarize(result)
    per_run = result["updates_per_run"]
    lines = [
        "## What pruning buys a warmup search (`python -m benchmarks.tune_pruning`)",
        "",
        f"Generated from `{result['json_name']}`. Ran on {env['device']}, torch `{env['torch']}`, optuna"
        f" `{result['optuna']}`, commit `{env['git_commit']}`, in {result['wall_seconds'] / 60:.1f} min wall"
        f" ({result['mode']}). Seed CNN with Adam, {result['train_images']} training images, {cfg['epochs']} epochs"
        f" x {result['steps_per_epoch']} updates = {per_run} updates per run, test accuracy on"
        f" {result['test_images']} test images, one training seed per trial. Each search: {cfg['trials']} TPE"
        f" trials over warmup {list(SPACE.warmup_types)}, fraction {list(SPACE.warmup_fraction)}, start factor"
        f" {list(SPACE.start_factor)}, peak LR {list(SPACE.peak_lr)} (log), cosine decay; search seeds"
        f" {cfg['searches']}. Target: within {cfg['within']} points of the unpruned search's best (same seed).",
        "",
        "| search seed | search | complete | pruned by Optuna's pruner | pruned by the diagnosis | updates trained |"
        " best accuracy | updates to the target | share of the unpruned budget | pruned, reached it when run whole |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        reach = "never" if r["updates_to_target"] is None else f"{r['updates_to_target']}"
        lines.append(
            f"| {r['search_seed']} | {r['arm']} | {r['complete']} | {r['pruned_by_pruner']} |"
            f" {r['pruned_by_diagnosis']} | {r['updates']} | {_pct(r['best'])} | {reach} |"
            f" {_pct(r['share_of_unpruned'])} | {r['pruned_reaching_target']} of {r['pruned_twins']} |"
        )
    lines += [
        "",
        "The last column looks up each pruned trial's configuration in the unpruned search with the same seed (the"
        " searches draw the same trials until their first prune), where it was trained whole: how many of those"
        " pruned configurations would have reached the target.",
        "",
        "Over the search seeds:",
        "",
    ]
    for arm in ARMS:
        mine = [r for r in rows if r["arm"] == arm]
        unpruned = {r["search_seed"]: r["updates"] for r in rows if r["arm"] == "no pruning"}
        budget = statistics.fmean(r["updates"] / unpruned[r["search_seed"]] for r in mine)
        shares = [r["share_of_unpruned"] for r in mine if r["share_of_unpruned"] is not None]
        reach = f", at {statistics.fmean(shares):.0%} of the unpruned budget on average" if shares else ""
        verdict = "met" if len(shares) == len(mine) and max(shares) <= GOAL else "not met"
        lines.append(
            f"- **{arm}**: the whole search trained {budget:.0%} of the unpruned search's updates; it reached the"
            f" target in {len(shares)} of {len(mine)} searches{reach} (goal, <= {GOAL:.0%} in every search: {verdict})."
        )
    lines += ["", f"![accuracy against compute]({figures}{result['figure']})", ""]
    return "\n".join(lines)


def render_in_results(result: dict[str, Any], results: Path, stem: str) -> str:
    """The section of ``benchmarks/RESULTS.md`` (``benchmarks.report``), its PNG beside the JSON in ``results``."""
    return render(result, figures=f"{results.name}/")


def plot(result: dict[str, Any], path: Path) -> str:
    """The running best test accuracy (complete trials) against updates trained, one panel per search seed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    seeds = result["config"]["searches"]
    fig, axes = plt.subplots(1, len(seeds), figsize=(5.5 * len(seeds), 4), squeeze=False)
    styles = {"no pruning": ("-", "o"), "Optuna pruner": ("--", "s"), "diagnosis + Optuna pruner": (":", "^")}
    rows = summarize(result)
    for ax, seed in zip(axes[0], seeds):
        for arm, (line, marker) in styles.items():
            spent, running, xs, ys = 0, None, [], []
            for t in result["searches"][f"{arm}|{seed}"]:
                spent += t["updates"]
                if t["state"] == "COMPLETE" and (running is None or t["value"] > running):
                    running = t["value"]
                if running is not None:
                    xs.append(spent)
                    ys.append(100 * running)
            ax.step(xs, ys, where="post", linestyle=line, marker=marker, markersize=4, label=arm)
        target = next(r["target"] for r in rows if r["search_seed"] == seed)
        if target is not None:
            ax.axhline(100 * target, color="grey", linewidth=0.8, label="target (unpruned best - 0.5 pt)")
        ax.set_title(f"search seed {seed}")
        ax.set_xlabel("optimizer updates trained (all trials, pruned ones included)")
        ax.set_ylabel("best test accuracy so far (%)")
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path.name


def run(args: argparse.Namespace) -> dict[str, Any]:
    mode = "full" if args.full else ("quick" if args.quick else "subset")
    sizes = FULL if args.full else SUBSET
    for key, value in sizes.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if len(args.searches) < 2:
        raise SystemExit("--searches needs at least 2 search seeds")
    recipe = RECIPES["seed_cnn"].with_(epochs=args.epochs)
    if args.quick:
        recipe = recipe.with_(epochs=2, batch_size=8)
    train, test = load_data(args)
    if args.subset is not None and not args.quick:
        train = train.subset(args.subset)
    if args.test_subset is not None and not args.quick:
        test = test.subset(args.test_subset)
    steps_per_epoch = len(train) // recipe.batch_size
    total = recipe.epochs * steps_per_epoch
    args.seeds = [0]  # one training seed per trial: the search seeds carry the repetition
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    start = time.perf_counter()
    searches = {}
    for seed in args.searches:
        for arm in ARMS:
            print(f"search seed {seed}: {arm} ({time.perf_counter() - start:.0f} s)", flush=True)
            searches[f"{arm}|{seed}"] = search(arm, seed, recipe, (train, test), args, total)
    stem = "tune_pruning" + ("_quick" if args.quick else "_full" if args.full else "")
    config = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    result = {
        "benchmark": "tune_pruning",
        "mode": mode,
        "environment": environment(args.device),
        "optuna": optuna.__version__,
        "config": config,
        "space": SPACE.to_dict(),
        "train_images": len(train),
        "test_images": len(test),
        "steps_per_epoch": steps_per_epoch,
        "updates_per_run": total,
        "searches": searches,
        "wall_seconds": time.perf_counter() - start,
        "json_name": f"{stem}.json",
    }
    args.out.mkdir(parents=True, exist_ok=True)
    result["figure"] = plot(result, args.out / f"{stem}.png")
    (args.out / f"{stem}.json").write_text(json.dumps(result, indent=1))
    (args.out / f"{stem}.md").write_text(render(result))
    return result


def main(argv: list[str] | None = None) -> dict[str, Any] | None:
    parser = training_parser(__doc__)
    parser.set_defaults(out=Path("runs/tune_pruning"))
    parser.add_argument(
        "--full", action="store_true", help="the complete grid: all images, 10 epochs, 30 trials, 3 seeds"
    )
    parser.add_argument("--trials", type=int, help="trials per search (subset: 10)")
    parser.add_argument("--searches", type=int, nargs="+", help="search (TPE) seeds, at least 2 (subset: 0 1)")
    parser.add_argument("--subset", type=int, help="training images (subset: 4096)")
    parser.add_argument("--test-subset", type=int, help="test images (subset: 1000)")
    parser.add_argument("--epochs", type=int, help="epochs per run (subset: 4)")
    parser.add_argument("--within", type=float, default=0.5, help="points below the unpruned best that count")
    parser.add_argument("--render", type=Path, metavar="JSON", help="write the markdown again from a result JSON")
    args = parser.parse_args(argv)
    if args.render is not None:
        result = json.loads(args.render.read_text())
        args.render.with_suffix(".md").write_text(render(result))
        return None
    return run(args)


if __name__ == "__main__":
    main()

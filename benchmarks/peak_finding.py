"""Peak finding in the warmup against the LR searches users know, on four set-ups (issue 27).

    python -m benchmarks.peak_finding --quick                            # synthetic smoke run, < 10 min on 2 cores
    python -m benchmarks.peak_finding --data /tmp/data/cifar10 --full    # every set-up, method and seed (hours)
    python -m benchmarks.peak_finding --render benchmarks/results/peak   # RESULTS.md and the PNG from the JSON

Set-ups: :mod:`benchmarks.peak_setups` (1,560 updates per run, 10 epochs; two developed on, two held out).
Methods, each a full run at the same training budget (``method key``):

* ``grid p=P w=W``: the reference grid, a fixed linear warmup (from 0.01 of the peak) of ``W`` updates to the peak
  ``P``, then a cosine decay to 0 at ``T``; 4 peaks spanning 30x by 3 warmup lengths (0.1, 1 and 3 epochs);
* ``peak``: ``WarmupLR(optimizer at the bound, total_steps=T, decay_type='cosine', adaptive=PeakFinder())``, the
  bound 3x the grid's highest peak; ``peak bound x10``: the same with a bound 10x higher still;
* ``lr_find``: fastai's ``lr_find`` LR range test (100 updates, 1e-7 to 10, from the initial weights, the weights
  restored after) and its ``valley`` suggestion, then a 1-epoch linear warmup to it (the test costs 100 more
  updates than one run);
* ``adaptive p=P``: ``AdaptiveWarmup()`` (this release's defaults) from a nominal 1-epoch linear warmup, at the
  grid's highest peak (too high on every set-up) and at the best grid peak (fine); with ``taken p=P s=SEED``, a
  fixed linear warmup as long as the warmup that adaptive run really took;
* ``autowu``: the AutoWU rule (Kim et al. 2021, :mod:`benchmarks.autowu`) from 1e-5 to the bound.

Every method runs for seeds 0, 1 and 2 (the seed sets the initial weights, the batch order and the augmentation);
comparisons are paired by seed, with t-based 95% intervals. Results go to one JSON per set-up under ``--out``,
written after every run, so a run cut short keeps what it finished and a rerun skips what is done.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch

from benchmarks.peak_report import plain
from benchmarks.peak_setups import SETUPS, Data, Setup

START_FACTOR = 0.01
GRID_WARMUPS = (0.1, 1.0, 3.0)  # epochs
SEEDS = (0, 1, 2)
LR_FIND_UPDATES = 100


# ------------------------------------------------------------------------------------------------ one run
@dataclass(frozen=True)
class Job:
    """One training run: a set-up, a method key, a seed, and the method's numbers (peak, warmup, ...)."""

    setup: str
    method: str
    seed: int
    peak: float | None = None
    warmup: int | None = None
    options: tuple[tuple[str, Any], ...] = ()

    @property
    def key(self) -> str:
        return f"{self.method} | seed {self.seed}"


def _schedule_kwargs(setup: Setup, warmup: int) -> dict:
    return {
        "warmup_type": "linear" if warmup else "none",
        "warmup_steps": warmup,
        "start_factor": START_FACTOR,
        "total_steps": setup.total_steps,
        "decay_type": "cosine",
    }


def _scheduler(job: Job, setup: Setup, optimizer: torch.optim.Optimizer) -> Any:
    """The scheduler a method uses, stepped once per update with the update's loss."""
    from warmup_plugins import AdaptiveWarmup
    from warmup_plugins.torch import WarmupLR

    options = dict(job.options)
    if job.method.startswith(("grid", "taken", "lr_find")):
        return WarmupLR(optimizer, **_schedule_kwargs(setup, job.warmup))
    if job.method.startswith("adaptive"):
        return WarmupLR(optimizer, **_schedule_kwargs(setup, job.warmup), adaptive=AdaptiveWarmup(**options))
    if job.method.startswith("peak"):
        from warmup_plugins import PeakFinder

        return WarmupLR(optimizer, total_steps=setup.total_steps, decay_type="cosine", adaptive=PeakFinder(**options))
    if job.method == "autowu":
        from benchmarks.autowu import AutoWU

        return AutoWU(optimizer, setup.total_steps, setup.steps_per_epoch, min_lr=1e-5, max_lr=job.peak)
    raise ValueError(f"unknown method {job.method!r}")


def lr_find_valley(setup: Setup, data: Data, model: torch.nn.Module) -> float:
    """fastai's ``Learner.lr_find`` on a copy of ``model``: an exponential LR sweep 1e-7 -> 10 over 100 updates,
    losses smoothed as fastai's Recorder does (beta 0.98, debiased), stopped at 4x the best smoothed loss, then
    ``valley`` on the points ``[num_it // 10 : -5]``, as ``lr_find`` passes them."""
    import copy

    from fastai.callback.schedule import valley

    model = copy.deepcopy(model)
    optimizer = setup.build_optimizer(model, 1e-7)
    losses, lrs, moving, best = [], [], 0.0, math.inf
    n = LR_FIND_UPDATES
    for i, (x, y) in zip(range(n), data.batches()):
        lr = 1e-7 * (10 / 1e-7) ** (i / (n - 1))
        for group in optimizer.param_groups:
            group["lr"] = lr
        loss = torch.nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        moving = 0.98 * moving + 0.02 * loss.item()
        smooth = moving / (1 - 0.98 ** (i + 1))
        lrs.append(lr)
        losses.append(smooth)
        best = min(best, smooth)
        if not math.isfinite(smooth) or smooth > 4 * best:
            break
    lo, hi = n // 10, len(losses) - 5
    return float(valley(torch.tensor(lrs[lo:hi]), torch.tensor(losses[lo:hi]), n)[0])


def run(job: Job, data: Data) -> dict:
    """Train one run; its accuracy, losses, LR path (every 4th update) and what its scheduler reports."""
    setup = SETUPS[job.setup]
    torch.manual_seed(job.seed)
    model = setup.build_model()
    start = time.perf_counter()
    peak, extra = job.peak, {}
    if job.method == "lr_find":
        peak = extra["valley"] = lr_find_valley(setup, data, model)
    optimizer = setup.build_optimizer(model, peak)
    scheduler = _scheduler(job, setup, optimizer)
    losses, lrs = [], []
    floor = 0  # AdaptiveWarmup: warmup updates whose clock sat on its floor (the stretched nominal warmup)
    for x, y in data.batches():
        lrs.append(optimizer.param_groups[0]["lr"])
        loss = torch.nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        value = loss.item()
        losses.append(value)
        if job.method == "autowu":
            scheduler.step(value)
        else:
            scheduler.step(loss=value)
            a = getattr(scheduler, "adaptive", None)
            if job.method.startswith("adaptive") and a.in_warmup and a.clock == a._floor():
                floor += 1
        if not math.isfinite(value):
            break  # diverged: the rest would be NaN
    finite = [v for v in losses if math.isfinite(v)]
    adaptive = getattr(scheduler, "adaptive", None)
    report = scheduler.report() if job.method == "autowu" else (adaptive.report() if adaptive is not None else None)
    return {
        "setup": job.setup,
        "method": job.method,
        "seed": job.seed,
        "peak": peak,
        "warmup": job.warmup,
        "options": dict(job.options),
        "accuracy": data.accuracy(model) if len(losses) == setup.total_steps and len(finite) == len(losses) else 10.0,
        "diverged": len(finite) < len(losses),
        "max_loss": max(finite) if len(finite) == len(losses) else math.inf,
        "final_loss": sum(finite[-setup.steps_per_epoch :]) / max(1, len(finite[-setup.steps_per_epoch :])),
        "max_lr": max(lrs),
        "lrs": lrs[::4],
        "losses": [sum(losses[i : i + 4]) / len(losses[i : i + 4]) for i in range(0, len(losses), 4)],
        "report": plain(report),
        "on_floor": floor if job.method.startswith("adaptive") else None,
        "seconds": time.perf_counter() - start,
        **extra,
    }


# ------------------------------------------------------------------------------------------------ workers
_DATA: dict[tuple[str, int], Data] = {}
_SPLITS: list = []


def _init_worker(data_root: str | None, quick: bool, threads: int) -> None:
    torch.set_num_threads(threads)
    if quick:
        from benchmarks.data import synthetic_cifar10

        _SPLITS[:] = synthetic_cifar10(6_000, 1_000, "cpu")
    else:
        from benchmarks.data import load_cifar10

        _SPLITS[:] = load_cifar10(data_root, "cpu")


def _work(job: Job, setups: dict[str, Setup]) -> dict:
    SETUPS.update(setups)  # --quick shrinks the set-ups: the workers use the same sizes
    key = (job.setup, job.seed)
    if key not in _DATA:
        _DATA[key] = Data(SETUPS[job.setup], _SPLITS[0], _SPLITS[1], job.seed)
    return run(job, _DATA[key])


# ------------------------------------------------------------------------------------------------ the plan
def grid_jobs(setup: Setup, seeds: Iterable[int], quick: bool = False) -> list[Job]:
    """The reference grid: every peak by every warmup length (quick: the lowest and highest peak, 1 epoch)."""
    jobs = []
    peaks = (min(setup.peaks), max(setup.peaks)) if quick else setup.peaks
    for peak in peaks:
        for epochs in (1.0,) if quick else GRID_WARMUPS:
            w = round(epochs * setup.steps_per_epoch)
            jobs += [Job(setup.name, f"grid p={peak:g} w={w}", s, peak, w) for s in seeds]
    return jobs


def method_jobs(setup: Setup, seeds: Iterable[int]) -> list[Job]:
    """The methods that need nothing from other runs."""
    top, spe = max(setup.peaks), setup.steps_per_epoch
    jobs = []
    for s in seeds:
        jobs += [
            Job(setup.name, "peak", s, setup.bound),
            Job(setup.name, "peak bound x10", s, 10 * setup.bound),
            Job(setup.name, "lr_find", s, None, spe),
            Job(setup.name, f"adaptive p={top:g}", s, top, spe),
            Job(setup.name, "autowu", s, setup.bound),
        ]
    return jobs


def follow_up_jobs(setup: Setup, results: dict[str, dict], seeds: Iterable[int]) -> list[Job]:
    """Runs that need others first: adaptive at the best grid peak, and fixed warmups as long as each adaptive run
    really took."""
    best = best_grid_cell(results)
    jobs = []
    spe = setup.steps_per_epoch
    if best is not None and best[0] != max(setup.peaks):
        jobs += [Job(setup.name, f"adaptive p={best[0]:g}", s, best[0], spe) for s in seeds]
    for r in results.values():
        if r["method"].startswith("adaptive") and r["report"] and r["report"].get("warmup_updates") is not None:
            taken = int(r["report"]["warmup_updates"])
            jobs.append(Job(setup.name, f"taken p={r['peak']:g} s={r['seed']}", r["seed"], r["peak"], taken))
    return jobs


def best_grid_cell(results: dict[str, dict]) -> tuple[float, int] | None:
    """The grid cell with the best mean accuracy over the seeds it has (all seeds needed)."""
    cells: dict[tuple[float, int], list[float]] = {}
    for r in results.values():
        if r["method"].startswith("grid"):
            cells.setdefault((r["peak"], r["warmup"]), []).append(r["accuracy"])
    full = {c: v for c, v in cells.items() if len(v) == max(map(len, cells.values()))} if cells else {}
    return max(full, key=lambda c: sum(full[c]) / len(full[c])) if full else None


# ------------------------------------------------------------------------------------------------ driver
def _load(path: Path) -> dict[str, dict]:
    return json.loads(path.read_text())["runs"] if path.exists() else {}


def _save(path: Path, setup: Setup, runs: dict[str, dict], environment: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"setup": setup.__dict__ | {"total_steps": setup.total_steps}, "environment": environment, "runs": runs}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=None, separators=(",", ":")))
    tmp.replace(path)


def execute(args: argparse.Namespace, setups: list[Setup]) -> None:
    """Run every job not yet in the set-ups' JSON files, ``--jobs`` at a time; save after each run."""
    from benchmarks.environment import environment

    env = environment("cpu")
    paths = {s.name: args.out / f"{s.name}.json" for s in setups}
    runs = {s.name: _load(paths[s.name]) for s in setups}
    phases: list[Callable[[Setup], list[Job]]] = [
        lambda s: grid_jobs(s, args.seeds, args.quick) + method_jobs(s, args.seeds),
        lambda s: follow_up_jobs(s, runs[s.name], args.seeds),
        lambda s: follow_up_jobs(s, runs[s.name], args.seeds),  # the taken warmups of the best-peak adaptive runs
    ]
    started = time.monotonic()
    done_count = 0
    shared = {s.name: s for s in setups}
    with ProcessPoolExecutor(args.jobs, initializer=_init_worker, initargs=(args.data, args.quick, 1)) as pool:
        for phase in phases:
            todo = [j for s in setups for j in phase(s) if j.key not in runs[j.setup]]
            if args.only:
                todo = [j for j in todo if j.method.startswith(tuple(args.only))]
            pending = {pool.submit(_work, j, shared): j for j in todo}
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    job = pending.pop(future)
                    result = future.result()
                    runs[job.setup][job.key] = result
                    _save(paths[job.setup], shared[job.setup], runs[job.setup], env)
                    done_count += 1
                    rate = (time.monotonic() - started) / done_count
                    left = len(pending)
                    print(
                        f"{time.strftime('%H:%M:%S')} [{done_count} done, {left} left in this phase, "
                        f"ETA {left * rate / 60:.0f} min] {job.setup} {job.key}: {result['accuracy']:.2f}% "
                        f"(max loss {result['max_loss']:.3g}, {result['seconds']:.0f} s)",
                        flush=True,
                    )


REPEATED = "peak | seed 0"


def repeat_in_second_process(args: argparse.Namespace, setup: Setup) -> None:
    """Run ``REPEATED`` again in a fresh Python process and store it as ``repeat peak | seed 0``: the run-to-run
    spread of one identical configuration, beside the seed spread."""
    from benchmarks.environment import environment

    path = args.out / f"{setup.name}.json"
    runs = _load(path)
    key = f"repeat {REPEATED}"
    if key in runs or REPEATED not in runs:
        return
    code = (
        "import json, sys, torch; from dataclasses import replace; from benchmarks import peak_finding as pf; "
        "from benchmarks.peak_setups import SETUPS, Setup; "
        "setup = Setup(**json.loads(sys.argv[1])); SETUPS[setup.name] = setup; "
        "pf._init_worker(sys.argv[2] or None, sys.argv[3] == '1', 1); "
        "print('RESULT', json.dumps(pf._work(pf.Job(setup.name, 'peak', 0, setup.bound), {setup.name: setup})))"
    )
    fields = {k: v for k, v in setup.__dict__.items()}
    argv = [sys.executable, "-c", code, json.dumps(fields), args.data or "", "1" if args.quick else "0"]
    out = subprocess.run(argv, capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parents[1])
    result = json.loads(next(line for line in out.stdout.splitlines() if line.startswith("RESULT "))[7:])
    runs[key] = {**result, "method": f"repeat {REPEATED.split(' | ')[0]}"}
    _save(path, setup, runs, environment("cpu"))
    print(
        f"{time.strftime('%H:%M:%S')} {setup.name} {key}: {result['accuracy']:.2f}% (first process: "
        f"{runs[REPEATED]['accuracy']:.2f}%)",
        flush=True,
    )


def quick_setups() -> list[Setup]:
    """Tiny synthetic versions of the set-ups (640 images, 10 epochs of 20 updates: 200 updates, the shortest run
    a peak search accepts): the code paths in minutes, no claim about training."""
    return [replace(s, images=640, test_images=320, epochs=10) for s in SETUPS.values()]


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.peak_finding", description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="synthetic data, tiny set-ups: a smoke run")
    mode.add_argument("--full", action="store_true", help="every set-up, method and seed on CIFAR-10")
    mode.add_argument("--render", type=Path, metavar="DIR", help="only render RESULTS.md and the PNG from DIR's JSON")
    parser.add_argument("--data", help="CIFAR-10 root (ImageFolder or torchvision's); default $CIFAR10_ROOT")
    parser.add_argument("--setups", nargs="+", choices=sorted(SETUPS), help="default: all four")
    parser.add_argument("--seeds", nargs="+", type=int, default=list(SEEDS))
    parser.add_argument("--only", nargs="+", metavar="PREFIX", help="only the methods whose key starts so")
    parser.add_argument("--jobs", type=int, default=2, help="runs side by side, one thread each (default 2)")
    parser.add_argument(
        "--out", type=Path, default=None, help="default benchmarks/results/peak (quick: runs/peak_quick)"
    )
    args = parser.parse_args(argv)
    if args.quick and "--seeds" not in (argv if argv is not None else sys.argv):
        args.seeds = [0]
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1, got {args.jobs}")
    if not (args.quick or args.render):
        args.data = args.data or os.environ.get("CIFAR10_ROOT")
        if not args.data or not Path(args.data).is_dir():
            parser.error("--data (or $CIFAR10_ROOT) must name a CIFAR-10 folder; or use --quick")
    if args.out is None:
        args.out = Path("runs/peak_quick" if args.quick else "benchmarks/results/peak")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    if args.render:
        from benchmarks.peak_report import render_folder

        try:
            print(render_folder(args.render))
        except (FileNotFoundError, ValueError) as error:
            raise SystemExit(f"python -m benchmarks.peak_finding: error: {error}") from None
        return
    setups = quick_setups() if args.quick else [SETUPS[n] for n in (args.setups or SETUPS)]
    if args.setups and args.quick:
        setups = [s for s in setups if s.name in args.setups]
    execute(args, setups)
    if not args.only:
        for setup in setups:
            repeat_in_second_process(args, setup)
    from benchmarks.peak_report import render_folder

    render_folder(args.out)
    print(f"wrote {args.out}/RESULTS.md")


if __name__ == "__main__":
    main()

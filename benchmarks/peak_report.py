"""Render the peak-finding benchmark (issue 27) from its JSON: ``RESULTS.md`` and PNGs, and the judged numbers.

    python -m benchmarks.peak_finding --render benchmarks/results/peak   # RESULTS.md and the PNGs
    python -m benchmarks.peak_report benchmarks/results/peak [--json]    # the same; --json prints summary()

Input: one ``<set-up>.json`` per set-up, as :func:`benchmarks.peak_finding._save` writes it (``setup``,
``environment``, ``runs`` keyed ``"<method> | seed <n>"``). Every number in the output comes from those files.

Statistics: accuracies are test accuracies in percent (a diverged run counts as 10.0). A method's accuracy is the
mean ± sample standard deviation over its seeds. A comparison "ours vs reference" is **paired by seed**: the mean
of the per-seed differences ``d_s = ours_s - reference_s`` over the seeds both have, with the t-based 95% interval
``mean ± t(0.975, n - 1) · sd(d) / sqrt(n)`` (t from a table, no scipy; none for fewer than 2 seeds).

Targets (issue 27), per set-up, judged on the held-out set-ups:

* (a) ``peak`` (and ``peak bound x10``) vs the best grid cell: met when the interval's lower end is above -1 point;
* (b) ``peak`` vs ``lr_find`` and vs ``autowu``: met when the mean difference, averaged over the held-out
  set-ups (each set-up weighted equally), is >= 0 against each; per set-up the sign of its own mean is shown;
* (c) ``adaptive p=P`` at the best grid peak vs its nominal fixed warmup (the grid cell with the same peak and the
  adaptive run's nominal warmup, 1 epoch): met when the interval's lower end is above -1 point.

The best grid cell is :func:`benchmarks.peak_finding.best_grid_cell`'s (the one the follow-up runs used).
"""

from __future__ import annotations

import argparse
import json
import math
import re
import statistics
from collections.abc import Iterable
from pathlib import Path
from typing import Any

MARGIN = 1.0  # points: (a) and (c) are met when the interval's lower end is above -MARGIN
PEAK, PEAK_X10, LR_FIND, AUTOWU = "peak", "peak bound x10", "lr_find", "autowu"
BEST = "best grid cell"  # the pseudo method key of the best grid cell in comparisons and the summary
# the two-sided 95% t quantile t(0.975, df); between tabulated df the next lower one (a slightly wider interval)
T975 = dict(
    zip(
        (*range(1, 31), 40, 60, 120),
        (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
         2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
         2.021, 2.000, 1.980),
    )
)  # fmt: skip
NOT_RUN = "not run"
DIVERGED_ACCURACY = 10.0  # what peak_finding.run reports for a diverged run


# ------------------------------------------------------------------------------------------------ statistics
def t975(df: int) -> float:
    """The 0.975 quantile of Student's t with ``df`` degrees of freedom (table; conservative between entries)."""
    if not isinstance(df, int) or df < 1:
        raise ValueError(f"df must be an integer >= 1, got {df!r}")
    return T975[df] if df in T975 else T975[max(d for d in T975 if d <= df)]


def describe(values: list[float]) -> dict[str, Any]:
    """``{"n", "mean", "sd"}``: the mean and sample standard deviation (``sd`` None for one value)."""
    n = len(values)
    return {
        "n": n,
        "mean": statistics.fmean(values) if n else None,
        "sd": statistics.stdev(values) if n > 1 else None,
    }


def interval(differences: list[float]) -> dict[str, Any]:
    """Mean of ``differences`` and its t-based 95% interval (``low``/``high`` None for fewer than 2)."""
    n = len(differences)
    mean = statistics.fmean(differences)
    if n < 2:
        return {"n": n, "mean": mean, "low": None, "high": None}
    half = t975(n - 1) * statistics.stdev(differences) / math.sqrt(n)
    return {"n": n, "mean": mean, "low": mean - half, "high": mean + half}


def paired(ours: dict[int, float], reference: dict[int, float]) -> dict[str, Any] | None:
    """``ours - reference`` paired by seed over the seeds both have: the seeds, differences, mean and 95% interval;
    None when they share no seed."""
    seeds = sorted(set(ours) & set(reference))
    if not seeds:
        return None
    differences = [ours[s] - reference[s] for s in seeds]
    return {"seeds": seeds, "differences": differences, **interval(differences)}


def judge(target: str | None, comparison: dict[str, Any] | None) -> bool | None:
    """Whether ``comparison`` meets ``target``: (a), (c) ``low > -MARGIN``; (b) ``mean >= 0``; None when the
    target does not apply or cannot be judged (not run, fewer than 2 seeds for an interval)."""
    if target is None or comparison is None:
        return None
    if target == "b":
        return comparison["mean"] >= 0
    return None if comparison["low"] is None else comparison["low"] > -MARGIN


# ------------------------------------------------------------------------------------------------ reading runs
def _number(value: Any) -> float:
    """A JSON number; non-finite ones are stored as strings (``"inf"``, ``"nan"``)."""
    return float(value)


def plain(value: Any) -> Any:
    """JSON-safe: non-finite floats as strings, as the input stores them."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def base_method(method: str) -> str:
    """The method a run is a copy of: ``"repeat X"`` -> ``"X"``."""
    return method[len("repeat ") :].strip() if method.startswith("repeat ") else method


def method_group(method: str) -> str:
    """The row a run belongs to: ``"taken p=P s=S"`` -> ``"taken p=P"`` (one fixed warmup per adaptive seed,
    paired with that seed), every other key itself."""
    match = re.fullmatch(r"(taken p=\S+) s=\d+", method)
    return match.group(1) if match else method


def chosen_peak(run: dict) -> float | None:
    """The peak LR a run used: PeakFinder ``bound x peak_factor``; lr_find its valley; AutoWU its ``peak_lr``;
    AdaptiveWarmup ``peak x peak_factor`` (1 unless the peak was capped); fixed warmups their peak."""
    method, report = base_method(run["method"]), run.get("report") or {}
    if method.startswith("peak"):
        factor = report.get("peak_factor")
        return None if factor is None else run["peak"] * factor
    if method == LR_FIND:
        return run.get("valley", run.get("peak"))
    if method == AUTOWU:
        return report.get("peak_lr")
    if method.startswith("adaptive"):
        factor = report.get("peak_factor")
        return run["peak"] * (1.0 if factor is None else factor)
    return run.get("peak")


def warmup_taken(run: dict) -> int | None:
    """The warmup a run really took, in updates: PeakFinder's decision, AutoWU's warmup end, AdaptiveWarmup's
    ``warmup_updates``; a fixed warmup's length."""
    method, report = base_method(run["method"]), run.get("report") or {}
    if method.startswith("peak"):
        return report.get("decided_at")
    if method == AUTOWU:
        return report.get("warmup_end_update")
    if method.startswith("adaptive"):
        return report.get("warmup_updates")
    return run.get("warmup")


def load_folder(folder: Path) -> list[dict]:
    """Every set-up file in ``folder`` (``*.json`` with ``setup`` and ``runs``), held-out set-ups first, then by
    name. Raises ``FileNotFoundError`` when ``folder`` is not a folder, ``ValueError`` when it has no set-up file."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"folder {str(folder)!r} is not a folder: give the --out folder of a benchmark run")
    data = []
    for path in sorted(folder.glob("*.json")):
        content = json.loads(path.read_text())
        if isinstance(content, dict) and {"setup", "runs"} <= content.keys():
            data.append(content)
    if not data:
        raise ValueError(f"folder {str(folder)!r} has no set-up JSON (<set-up>.json with 'setup' and 'runs')")
    return sorted(data, key=lambda d: (not is_held_out(d["setup"]), d["setup"]["name"]))


def is_held_out(setup: dict) -> bool:
    return setup.get("role") == "held out"


# ------------------------------------------------------------------------------------------------ one set-up
def _row(key: str, runs: dict[int, dict]) -> dict[str, Any]:
    """One method's runs by seed, summarised as plain data."""
    seeds = sorted(runs)
    accuracy = [runs[s]["accuracy"] for s in seeds]
    return {
        "key": key,
        "seeds": seeds,
        "accuracies": accuracy,
        **describe(accuracy),
        "peaks": [chosen_peak(runs[s]) for s in seeds],
        "warmups": [warmup_taken(runs[s]) for s in seeds],
        "max_losses": [plain(_number(runs[s]["max_loss"])) for s in seeds],
        "seconds": statistics.fmean(runs[s]["seconds"] for s in seeds),
        "diverged": sum(bool(runs[s].get("diverged")) for s in seeds),
    }


def _by_seed(row: dict | None) -> dict[int, float]:
    return dict(zip(row["seeds"], row["accuracies"])) if row else {}


def flags(runs: Iterable[dict]) -> list[dict[str, Any]]:
    """Runs whose LR path is a fixed path or that did not do what the method is for: a PeakFinder search that ran
    into the bound, an AdaptiveWarmup on its floor for its whole warmup, an AutoWU rule that never decided, and
    every diverged run."""
    out = []
    runs = list(runs)
    by_key = {(r["method"], r["seed"]): r for r in runs}
    for run in runs:
        method, report = base_method(run["method"]), run.get("report") or {}
        where = {"method": run["method"], "seed": run["seed"]}
        if method.startswith("peak") and report.get("reason") == "bound":
            out.append(
                {
                    **where,
                    "flag": "bound",
                    "text": "the search reached the bound without an edge: its LR path is a fixed exponential warmup "
                    f"to the bound {run['peak']:.3g} over {report.get('decided_at')} updates, not adaptation",
                }
            )
        if method.startswith("peak") and report.get("decided_at") is None:
            out.append({**where, "flag": "undecided", "text": "the search never decided on a peak"})
        warm, floor = report.get("warmup_updates"), run.get("on_floor")
        if method.startswith("adaptive") and warm and floor is not None and floor >= warm:
            out.append(
                {
                    **where,
                    "flag": "floor",
                    "text": f"its clock sat on the floor for all {warm} warmup updates: the LR path of a fixed, "
                    "stretched linear warmup, not adaptation",
                }
            )
        taken = (
            by_key.get((f"taken {method.split(' ', 1)[1]} s={run['seed']}", run["seed"]))
            if method.startswith("adaptive ")
            else None
        )
        off = same_path(run, taken) if taken is not None else None
        if off is not None and (floor is None or floor < (warm or 0)):
            out.append(
                {
                    **where,
                    "flag": "fixed path",
                    "text": f"its LR path is that of a fixed linear warmup of {warm} updates (its `taken` run, to "
                    f"{off:.1g} relative): it shows that fixed path, not adaptation",
                }
            )
        if method.startswith("adaptive") and warm is None:
            out.append({**where, "flag": "unfinished", "text": "the adaptive warmup never ended"})
        if method == AUTOWU and not report.get("decided"):
            out.append(
                {
                    **where,
                    "flag": "autowu undecided",
                    "text": "AutoWU never decided (no 3 positive tests in a row): its LR path is the fixed "
                    f"exponential ramp to {run['peak']:.3g} over half the run, that LR held, then the cosine",
                }
            )
        if run.get("diverged"):
            out.append({**where, "flag": "diverged", "text": "diverged (a non-finite loss); counted as 10% accuracy"})
    return out


def same_path(run: dict, other: dict, rtol: float = 1e-9) -> float | None:
    """The largest relative difference between two runs' LR paths when every stored LR agrees within ``rtol``
    (the same path up to rounding), else None."""
    a, b = run.get("lrs") or [], other.get("lrs") or []
    if not a or len(a) != len(b):
        return None
    off = max(abs(x - y) / max(abs(x), abs(y), 1e-300) for x, y in zip(a, b))
    return off if off <= rtol else None


def analyse(data: dict) -> dict[str, Any]:
    """One set-up file, judged: the grid, every method's row, the comparisons and targets, the flags."""
    from benchmarks.peak_finding import best_grid_cell

    setup, runs = data["setup"], data["runs"]
    grouped: dict[str, dict[int, dict]] = {}
    for run in runs.values():
        grouped.setdefault(method_group(run["method"]), {})[run["seed"]] = run
    rows = {key: _row(key, by_seed) for key, by_seed in grouped.items()}
    grid = {k: r for k, r in rows.items() if k.startswith("grid ")}
    for key, row in grid.items():
        any_run = next(iter(grouped[key].values()))
        row["peak"], row["warmup"] = any_run["peak"], any_run["warmup"]
    best_cell = best_grid_cell(runs) if grid else None
    best = next((r for r in grid.values() if (r["peak"], r["warmup"]) == best_cell), None)
    top = max(setup["peaks"])

    comparisons: list[dict[str, Any]] = []

    def compare(ours: str, reference: str, target: str | None, reference_row: dict | None = None) -> None:
        ref_row = reference_row if reference_row is not None else rows.get(reference)
        result = paired(_by_seed(rows.get(ours)), _by_seed(ref_row)) if ours in rows and ref_row else None
        comparisons.append(
            {
                "ours": ours,
                "reference": reference,
                "reference_key": ref_row["key"] if ref_row else None,
                "target": target,
                "status": "ok" if result else (NOT_RUN if ours not in rows or not ref_row else "no common seed"),
                **(result or {}),
                "met": judge(target, result),
            }
        )

    compare(PEAK, BEST, "a", best)
    compare(PEAK_X10, BEST, "a", best)
    compare(PEAK, LR_FIND, "b")
    compare(PEAK, AUTOWU, "b")
    compare(PEAK_X10, PEAK, None)
    compare(LR_FIND, BEST, None, best)
    compare(AUTOWU, BEST, None, best)
    adaptive = sorted((k for k in rows if re.fullmatch(r"adaptive p=\S+", k)), key=lambda k: -_peak_of(grouped[k]))
    best_peak = best["peak"] if best else None
    for key in adaptive:
        peak, nominal_w = _peak_of(grouped[key]), next(iter(grouped[key].values()))["warmup"]
        nominal = next((r for r in grid.values() if r["peak"] == peak and r["warmup"] == nominal_w), None)
        target = "c" if best_peak is not None and peak == best_peak else None
        compare(key, f"grid p={peak:g} w={nominal_w}", target, nominal)
        compare(key, "taken " + key.split(" ", 1)[1], None)
        compare(key, BEST, None, best)
    repeats = []
    for key in rows:
        if key.startswith("repeat ") and base_method(key) in rows:
            compare(key, base_method(key), None)
            repeats.append(_spread(key, grouped[key], grouped[base_method(key)]))

    def find(ours: str, reference: str) -> dict | None:
        return next((c for c in comparisons if c["ours"] == ours and c["reference"] == reference), None)

    best_adaptive = next((k for k in adaptive if _peak_of(grouped[k]) == best_peak), None)
    c = next((c for c in comparisons if c["target"] == "c"), None)
    return {
        "name": setup["name"],
        "role": setup.get("role"),
        "setup": setup,
        "environment": data.get("environment", {}),
        "steps_per_epoch": setup["total_steps"] // setup["epochs"],
        "seeds": sorted({r["seed"] for r in runs.values()}),
        "top_peak": top,
        "best": None if best is None else {k: best[k] for k in ("key", "peak", "warmup", "n", "mean", "sd")},
        "grid": sorted(grid.values(), key=lambda r: (r["peak"], r["warmup"])),
        "methods": {k: r for k, r in rows.items() if k not in grid},
        "adaptive": {"top": _adaptive_at(adaptive, grouped, top), "best": best_adaptive},
        "comparisons": comparisons,
        "targets": {
            "a": {m: (find(m, BEST) or {}).get("met") for m in (PEAK, PEAK_X10)},
            "b": {m: (find(PEAK, m) or {}).get("met") for m in (LR_FIND, AUTOWU)},
            "c": None if c is None else c["met"],
        },
        "flags": flags(runs.values()),
        "repeats": repeats,
    }


def _spread(key: str, again: dict[int, dict], first: dict[int, dict]) -> dict[str, Any]:
    """A config run twice (``repeat X`` in a second process): per seed the accuracy difference and whether the
    losses were identical."""
    seeds = sorted(set(again) & set(first))
    differences = [again[s]["accuracy"] - first[s]["accuracy"] for s in seeds]
    return {
        "key": key,
        "of": base_method(key),
        "seeds": seeds,
        "differences": differences,
        "largest": max((abs(d) for d in differences), default=None),
        "identical_losses": [again[s]["losses"] == first[s]["losses"] for s in seeds],
    }


def _peak_of(by_seed: dict[int, dict]) -> float:
    return next(iter(by_seed.values()))["peak"]


def _adaptive_at(keys: list[str], grouped: dict[str, dict[int, dict]], peak: float) -> str | None:
    return next((k for k in keys if _peak_of(grouped[k]) == peak), None)


# ------------------------------------------------------------------------------------------------ all set-ups
def held_out_judgement(setups: list[dict]) -> dict[str, Any]:
    """The targets over the held-out set-ups: (a) and (c) met on how many; (b) the mean over the held-out set-ups
    of ``peak``'s per-set-up mean difference against ``lr_find`` and ``autowu`` (met when >= 0 and every held-out
    set-up has the pair), with the interval of all their per-seed differences pooled (for information)."""
    held = [s for s in setups if is_held_out(s["setup"])]
    names = [s["name"] for s in held]

    def count(target: str, ours: str | None = None) -> dict[str, Any]:
        marks = {s["name"]: (s["targets"][target][ours] if ours else s["targets"][target]) for s in held}
        return {"met": sum(v is True for v in marks.values()), "of": len(held), "per_setup": marks}

    b = {}
    for reference in (LR_FIND, AUTOWU):
        found = {
            s["name"]: c
            for s in held
            for c in s["comparisons"]
            if c["ours"] == PEAK and c["reference"] == reference and c["status"] == "ok"
        }
        pooled = [d for c in found.values() for d in c["differences"]]
        mean = statistics.fmean(c["mean"] for c in found.values()) if found else None
        complete = bool(held) and len(found) == len(held)
        b[reference] = {
            "mean": mean,
            "setups": sorted(found),
            "complete": complete,
            "pooled": interval(pooled) if pooled else None,
            "met": (mean >= 0) if complete else None,
        }
    return {"setups": names, "a": count("a", PEAK), "a_bound_x10": count("a", PEAK_X10), "b": b, "c": count("c")}


def summary(folder: Path) -> dict[str, Any]:
    """The judged numbers as plain data (JSON-ready; non-finite numbers as strings): per set-up its grid, methods,
    comparisons, targets and flags; the held-out judgement; which set-ups were developed on."""
    setups = [analyse(d) for d in load_folder(folder)]
    return plain(
        {
            "developed_on": [s["name"] for s in setups if not is_held_out(s["setup"])],
            "held_out": [s["name"] for s in setups if is_held_out(s["setup"])],
            "environments": _environments(setups),
            "setups": {s["name"]: s for s in setups},
            "held_out_judgement": held_out_judgement(setups),
        }
    )


def _environments(setups: list[dict]) -> list[dict[str, Any]]:
    """The distinct environments, each with the set-ups that ran in it."""
    out: list[dict[str, Any]] = []
    for s in setups:
        same = next((e for e in out if e["environment"] == s["environment"]), None)
        if same is None:
            out.append({"environment": s["environment"], "setups": [s["name"]]})
        else:
            same["setups"].append(s["name"])
    return out


# ------------------------------------------------------------------------------------------------ markdown
def _signed(x: float) -> str:
    return f"{x:+.2f}"


def _acc(row: dict | None) -> str:
    if not row or not row["n"]:
        return NOT_RUN
    text = f"{row['mean']:.2f}" + (f" ± {row['sd']:.2f}" if row["sd"] is not None else " (1 seed)")
    return text + (f", {row['diverged']} diverged" if row.get("diverged") else "")


def _cmp(c: dict | None) -> str:
    if c is None or c["status"] != "ok":
        return NOT_RUN if c is None else c["status"]
    text = _signed(c["mean"])
    if c["low"] is not None:
        text += f" [{_signed(c['low'])}, {_signed(c['high'])}]"
    return text + f" (n={c['n']})"


def _verdict(c: dict | None) -> str:
    if c is None or c["target"] is None:
        return "n/a"
    if c["status"] != "ok":
        return NOT_RUN
    if c["met"] is None:
        return "not judged (1 seed)"
    return "**met**" if c["met"] else "**missed**"


def _values(values: list[Any], fmt: str = "{:.3g}") -> str:
    shown = ["none" if v is None else fmt.format(_number(v)) for v in values]
    return shown[0] if len(set(shown)) == 1 else ", ".join(shown)


LABELS = {
    PEAK: "PeakFinder",
    PEAK_X10: "PeakFinder, bound x10",
    LR_FIND: "lr_find valley + 1-epoch warmup",
    AUTOWU: "AutoWU rule",
}


def _label(key: str, s: dict) -> str:
    if key in LABELS:
        return LABELS[key]
    if key.startswith("adaptive p="):
        where = [w for w, k in (("top", s["adaptive"]["top"]), ("best", s["adaptive"]["best"])) if k == key]
        return f"AdaptiveWarmup at {key.split('=', 1)[1]}" + (f" ({' and '.join(where)} grid peak)" if where else "")
    if key.startswith("taken p="):
        return f"fixed warmup as long as the adaptive one took, {key.split(' ', 1)[1]}"
    if key == BEST:
        return "best grid cell" + (f" ({s['best']['key']})" if s["best"] else "")
    return key


def _find(s: dict, ours: str, reference: str) -> dict | None:
    return next((c for c in s["comparisons"] if c["ours"] == ours and c["reference"] == reference), None)


def _setups_table(setups: list[dict]) -> list[str]:
    lines = [
        "| set-up | role | model | optimizer | train images | test images | batch | epochs | updates per run |"
        " grid peaks | seeds | runs |",
        "| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: |",
    ]
    for s in setups:
        u = s["setup"]
        runs = sum(r["n"] for r in s["grid"]) + sum(r["n"] for r in s["methods"].values())
        lines.append(
            f"| {s['name']} | {u.get('role')} | {u.get('model')} | {u.get('optimizer')} | {u.get('images')} | "
            f"{u.get('test_images')} | {u.get('batch')} | {u.get('epochs')} | {u['total_steps']} | "
            f"{', '.join(f'{p:g}' for p in u['peaks'])} | {', '.join(map(str, s['seeds']))} | {runs} |"
        )
    return lines


def _target_cell(s: dict, key: str) -> str:
    """A set-up x method cell: the accuracy and the target that applies to it."""
    row = s["methods"].get(key) if key else None
    if row is None:
        return NOT_RUN
    parts = [_acc(row)]
    if key in (PEAK, PEAK_X10):
        parts.append(_mark("a", _find(s, key, BEST), ""))
    elif key in (LR_FIND, AUTOWU):
        parts.append(_mark("b", _find(s, PEAK, key), "PeakFinder - this: "))
    elif key == s["adaptive"]["best"]:
        c = next((c for c in s["comparisons"] if c["ours"] == key and c["target"] == "c"), None)
        parts.append(_mark("c", c, f"vs {c['reference']}: " if c else ""))
    else:
        parts.append("(c) n/a: not the best grid peak")
    return "<br>".join(parts)


def _mark(target: str, c: dict | None, what: str) -> str:
    """``(a) met: +0.30 [-0.52, +1.12] (n=3)``, or why the target is not judged."""
    if c is None or c["status"] != "ok":
        why = "no common seed" if c is not None and c["status"] == "no common seed" else "the reference is not run"
        return f"({target}) not judged: {what}{why}"
    return f"({target}) {_verdict(c)}: {what}{_cmp(c)}"


def _targets_table(setups: list[dict]) -> list[str]:
    lines = [
        "| set-up | best grid cell | PeakFinder | PeakFinder, bound x10 | lr_find + 1-epoch warmup | AutoWU rule |"
        " AdaptiveWarmup, top grid peak | AdaptiveWarmup, best grid peak |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for s in setups:
        best = f"{s['best']['key']}: {_acc(s['best'])}" if s["best"] else NOT_RUN
        cells = [_target_cell(s, k) for k in (PEAK, PEAK_X10, LR_FIND, AUTOWU)]
        top, fine = s["adaptive"]["top"], s["adaptive"]["best"]
        cells.append(_target_cell(s, top) if top and top != fine else ("= best grid peak" if top else NOT_RUN))
        cells.append(_target_cell(s, fine) if fine else NOT_RUN)
        lines.append(f"| {s['name']} | {best} | " + " | ".join(cells) + " |")
    return lines


def _held_out_lines(j: dict) -> list[str]:
    if not j["setups"]:
        return ["No held-out set-up has results yet: the targets are not judged."]
    lines = [
        f"Over the held-out set-ups ({', '.join(j['setups'])}):",
        "",
        f"- (a) PeakFinder within 1 point of the best grid cell: met on {j['a']['met']} of {j['a']['of']} "
        f"(bound x10: {j['a_bound_x10']['met']} of {j['a_bound_x10']['of']}).",
    ]
    for reference, b in j["b"].items():
        if b["mean"] is None:
            lines.append(f"- (b) PeakFinder vs {LABELS[reference]}: {NOT_RUN}.")
            continue
        verdict = ("**met**" if b["met"] else "**missed**") if b["met"] is not None else "not judged"
        pooled = b["pooled"]
        spread = f" [{_signed(pooled['low'])}, {_signed(pooled['high'])}]" if pooled["low"] is not None else ""
        where = "" if b["complete"] else f" (only {', '.join(b['setups'])} has the pair yet)"
        lines.append(
            f"- (b) PeakFinder vs {LABELS[reference]}: mean difference {_signed(b['mean'])} averaged over "
            f"{len(b['setups'])} set-up(s){where}; all {pooled['n']} per-seed differences pooled: "
            f"{_signed(pooled['mean'])}{spread}: {verdict}."
        )
    lines.append(
        f"- (c) AdaptiveWarmup at the best grid peak not worse than its nominal fixed warmup: met on "
        f"{j['c']['met']} of {j['c']['of']}."
    )
    return lines


def _grid_table(s: dict) -> list[str]:
    """Peak x warmup, every cell of the planned grid (``GRID_WARMUPS``, the set-up's peaks) and any other run."""
    from benchmarks.peak_finding import GRID_WARMUPS

    spe = s["steps_per_epoch"]
    peaks = sorted({r["peak"] for r in s["grid"]} | set(s["setup"]["peaks"]))
    warmups = sorted({r["warmup"] for r in s["grid"]} | {round(e * spe) for e in GRID_WARMUPS})
    cells = {(r["peak"], r["warmup"]): r for r in s["grid"]}
    head = " | ".join(f"w = {w} ({w / spe:.2g} epoch)" for w in warmups)
    lines = [f"| peak | {head} |", "| ---: |" + " ---: |" * len(warmups)]
    for p in peaks:
        row = []
        for w in warmups:
            cell = cells.get((p, w))
            text = _acc(cell) if cell else NOT_RUN
            row.append(f"**{text}** (best)" if cell and s["best"] and cell["key"] == s["best"]["key"] else text)
        lines.append(f"| {p:g} | " + " | ".join(row) + " |")
    return lines


def _methods_table(s: dict) -> list[str]:
    lines = [
        "| method | seeds | test accuracy % | peak LR used (per seed) | warmup taken, updates | max loss "
        "(per seed) | min per run |",
        "| --- | ---: | ---: | --- | --- | --- | ---: |",
    ]
    order = [PEAK, PEAK_X10, LR_FIND, AUTOWU]
    for peak in dict.fromkeys([s["top_peak"], *([s["best"]["peak"]] if s["best"] else [])]):
        order += [f"adaptive p={peak:g}", f"taken p={peak:g}"]
    keys = [BEST, *order, *sorted(k for k in s["methods"] if k not in order)]
    for key in keys:
        row = (
            next((r for r in s["grid"] if s["best"] and r["key"] == s["best"]["key"]), None)
            if key == BEST
            else s["methods"].get(key)
        )
        if row is None:
            lines.append(f"| {_label(key, s)} | 0 | {NOT_RUN} | | | | |")
            continue
        lines.append(
            f"| {_label(key, s)} | {row['n']} | {_acc(row)} | {_values(row['peaks'])} | "
            f"{_values(row['warmups'], '{:.0f}')} | {_values(row['max_losses'], '{:.3g}')} | "
            f"{row['seconds'] / 60:.1f} |"
        )
    return lines


def _comparisons_table(s: dict) -> list[str]:
    lines = [
        "| comparison (paired by seed) | mean difference, points [95% interval] | target | verdict |",
        "| --- | --- | --- | --- |",
    ]
    for c in s["comparisons"]:
        reference = c["reference"] if c["reference"].startswith("grid ") else _label(c["reference"], s)
        lines.append(f"| {_label(c['ours'], s)} - {reference} | {_cmp(c)} | {c['target'] or ''} | {_verdict(c)} |")
    return lines


def _spread_lines(s: dict) -> list[str]:
    if not s["repeats"]:
        return []
    lines = [
        "### Run-to-run spread (the same config again, in a second process)",
        "",
        "| config | seeds | accuracy difference per seed, points | largest | losses identical |",
        "| --- | --- | --- | ---: | --- |",
    ]
    for r in s["repeats"]:
        same = sum(r["identical_losses"])
        largest = "" if r["largest"] is None else f"{r['largest']:.2f}"
        lines.append(
            f"| {r['of']} | {', '.join(map(str, r['seeds']))} | {', '.join(_signed(d) for d in r['differences'])} | "
            f"{largest} | {same} of {len(r['seeds'])} seeds |"
        )
    return [*lines, ""]


def _flag_lines(setups: list[dict]) -> list[str]:
    found = [f"- {s['name']}, {f['method']}, seed {f['seed']}: {f['text']}." for s in setups for f in s["flags"]]
    return found or ["None: no run searched into its bound, sat on a floor, failed to decide or diverged."]


def render(setups: list[dict], figures: dict[str, list[str]]) -> str:
    """RESULTS.md from the analysed set-ups (``analyse``) and the PNG names per set-up."""
    held = [s for s in setups if is_held_out(s["setup"])]
    dev = [s for s in setups if not is_held_out(s["setup"])]
    lines = [
        "# Peak finding in the warmup (issue 27)",
        "",
        "Generated by `python -m benchmarks.peak_finding --render DIR` from the JSON in this folder (one file per "
        "set-up); every number below comes from those files. Accuracy: test accuracy in %, mean ± sd over seeds "
        "(a diverged run counts as 10%). Comparisons are paired by seed: mean difference in points with its "
        "t-based 95% interval.",
        "",
    ]
    for e in _environments(setups):
        env = e["environment"]
        lines.append(
            f"Ran on {env.get('device')}, torch `{env.get('torch')}`, timm `{env.get('timm')}`, fastai "
            f"`{env.get('fastai')}`, python `{env.get('python')}`, commit `{env.get('git_commit')}` "
            f"({', '.join(e['setups'])})."
        )
    lines += ["", "## Set-ups", "", *_setups_table(setups), ""]
    lines.append(
        f"Developed on: {', '.join(s['name'] for s in dev) or 'none'} (the peak-finding rule and its defaults were "
        f"chosen on them). Held out: {', '.join(s['name'] for s in held) or 'none'} (reported untouched)."
    )
    lines += [
        "",
        "## Targets, set-up x method",
        "",
        "(a) a PeakFinder run is within noise of the best grid cell: the interval's lower end is above -1 point. "
        "(b) PeakFinder is at least as good as lr_find + a 1-epoch warmup and as the AutoWU rule: the mean "
        "difference, averaged over the held-out set-ups, is >= 0 (each cell shows its set-up's own). "
        "(c) AdaptiveWarmup at the best grid peak (a peak that is fine) is not worse than its nominal fixed "
        "warmup (the grid cell at that peak with w = 1 epoch): the lower end is above -1 point.",
        "",
        "### Held-out set-ups",
        "",
        *(_targets_table(held) if held else ["No held-out set-up has results yet."]),
        "",
        *_held_out_lines(held_out_judgement(setups)),
        "",
        "### Development set-ups (developed on: not evidence for the targets)",
        "",
        *(_targets_table(dev) if dev else ["No development set-up has results yet."]),
        "",
        "## Flags",
        "",
        *_flag_lines(setups),
    ]
    for s in setups:
        lines += [
            "",
            f"## {s['name']} ({s['role']})",
            "",
            f"{s['setup']['total_steps']} updates per run ({s['setup']['epochs']} epochs of "
            f"{s['steps_per_epoch']}); PeakFinder's bound is the optimizer's LR (the `peak` column of its runs).",
            "",
            "### Reference grid (fixed linear warmup, cosine decay)",
            "",
            *(_grid_table(s) if s["grid"] else [f"Grid {NOT_RUN}."]),
            "",
            "### Methods",
            "",
            *_methods_table(s),
            "",
            "### Comparisons",
            "",
            *_comparisons_table(s),
            "",
            *_spread_lines(s),
            *[f"![{name}]({name})" for name in figures.get(s["name"], [])],
        ]
    return "\n".join(lines).rstrip() + "\n"


# ------------------------------------------------------------------------------------------------ README blocks
README_BLOCKS = ("peak-headline", "peak-evidence", "adaptive-evidence")
MODELS = {"seed_cnn": "the seed CNN", "resnet8": "a ResNet-8", "vit": "a small ViT", "convmixer": "a ConvMixer"}
OPTIMIZERS = {"adam": "Adam", "sgd": "SGD + momentum", "adamw": "AdamW", "lamb": "LAMB"}


def _short(c: dict | None) -> str:
    """``+0.19 [-0.74, +1.13]``, or why there is no comparison."""
    if c is None or c["status"] != "ok":
        return NOT_RUN
    return _signed(c["mean"]) + (f" [{_signed(c['low'])}, {_signed(c['high'])}]" if c["low"] is not None else "")


def _percent(row: dict | None) -> str:
    """``54.87% ± 0.16`` (mean ± sd over seeds, points), ``38.36% (1 seed)``, or not run."""
    if not row or not row["n"]:
        return NOT_RUN
    text = f"{row['mean']:.2f}%" + (f" ± {row['sd']:.2f}" if row["sd"] is not None else " (1 seed)")
    return text + (f", {row['diverged']} diverged" if row.get("diverged") else "")


def _where(s: dict) -> str:
    u = s["setup"]
    return f"{MODELS.get(u.get('model'), u.get('model'))} with {OPTIMIZERS.get(u.get('optimizer'), u.get('optimizer'))}"


def _met(c: dict | None, target: str) -> str:
    if c is None or c["status"] != "ok" or c["met"] is None:
        return f"({target}) not judged"
    return f"({target}) {'met' if c['met'] else 'missed'}"


def _evidence_header(setups: list[dict]) -> str:
    u = setups[0]["setup"]
    devices = sorted({str(e["environment"].get("device")) for e in _environments(setups)})
    seeds = sorted({n for s in setups for n in s["seeds"]})
    return (
        f"Measured on CIFAR-10 ({u['images']:,} training and {u['test_images']:,} test images, {u['epochs']} epochs "
        f"of batch {u['batch']}: {u['total_steps']:,} updates per run), {len(seeds)} seeds paired by seed, t-based "
        f"95% intervals in points of test accuracy, on {', '.join(devices)}. The held-out set-ups were never run "
        f"while the rule and its defaults were chosen. The reference is the best cell of a grid of fixed linear "
        f"warmups (peak x warmup length, cosine decay), which costs a run per cell; PeakFinder is one run with the "
        f"bound at 3x the grid's top peak ([all runs](benchmarks/results/peak/RESULTS.md)):"
    )


def peak_evidence(setups: list[dict]) -> str:
    """The README's PeakFinder bullets, from the analysed set-ups: per set-up PeakFinder against the best grid
    cell (target (a)), lr_find and the AutoWU rule; then the held-out tally."""
    if not setups:
        return "No peak-finding results yet."
    lines = [_evidence_header(setups), ""]
    for s in setups:
        m = s["methods"]
        cells = len(s["grid"])
        best = s["best"]
        lines.append(
            f"- **{s['name']}** ({s['role']}; {_where(s)}): PeakFinder {_percent(m.get(PEAK))}, the best of "
            f"{cells} grid cells ({best['key'].removeprefix('grid ') if best else NOT_RUN}) {_percent(best)}: "
            f"{_short(_find(s, PEAK, BEST))}, {_met(_find(s, PEAK, BEST), 'a')}. fastai's `lr_find` valley with a "
            f"1-epoch warmup {_percent(m.get(LR_FIND))} (PeakFinder {_short(_find(s, PEAK, LR_FIND))}); the AutoWU "
            f"rule {_percent(m.get(AUTOWU))} (PeakFinder {_short(_find(s, PEAK, AUTOWU))})."
        )
    j = held_out_judgement(setups)
    dev = [s for s in setups if not is_held_out(s["setup"])]
    dev_met = sum(s["targets"]["a"][PEAK] is True for s in dev)
    b = " and ".join(
        f"{_signed(j['b'][r]['mean'])} over {LABELS[r]}" if j["b"][r]["mean"] is not None else f"{LABELS[r]} {NOT_RUN}"
        for r in (LR_FIND, AUTOWU)
    )
    above = {
        r: sum(1 for s in setups if (c := _find(s, PEAK, r)) is not None and c["status"] == "ok" and c["mean"] > 0)
        for r in (LR_FIND, AUTOWU)
    }
    lines += [
        "",
        f"PeakFinder's mean is above fastai's `lr_find` with a 1-epoch warmup on {above[LR_FIND]} of {len(setups)} "
        f"set-ups and above the AutoWU rule on {above[AUTOWU]} of {len(setups)}. "
        f"Target (a), the interval's lower end above -1 point against the best grid cell: met on {j['a']['met']} "
        f"of {j['a']['of']} held-out set-ups and {dev_met} of {len(dev)} development ones. Averaged over the "
        f"held-out set-ups, PeakFinder's mean difference is {b} (target (b): at least 0).",
    ]
    return "\n".join(lines)


def peak_headline(setups: list[dict]) -> str:
    """The README's first-screen bullet on PeakFinder: per set-up its difference from the best grid cell, and the
    held-out tally of target (a)."""
    held = [s for s in setups if is_held_out(s["setup"])]
    j = held_out_judgement(setups)
    per = "; ".join(
        f"{s['name']} ({s['role']}) {_short(_find(s, PEAK, BEST))}" for s in sorted(setups, key=lambda s: s["name"])
    )
    lr_find = j["b"][LR_FIND]["mean"]
    seeds = len({n for s in setups for n in s["seeds"]})
    return (
        "- **Experimental: a warmup that finds its own peak LR, in one run.** None of those libraries has it: "
        "`PeakFinder` ramps towards a bound you set, reads the run's own losses and picks the peak, then decays from "
        "it ([results](benchmarks/results/peak/RESULTS.md)). Against the best of a grid of "
        f"{max((len(s['grid']) for s in setups), default=0)} fixed warmups (a run per cell), in points of CIFAR-10 "
        f"test accuracy over {seeds} seeds: {per or NOT_RUN}. Within 1 point of that grid on {j['a']['met']} of "
        f"{len(held)} held-out set-ups"
        + (
            f"; there, {_signed(lr_find)} points on average against fastai's `lr_find` with a 1-epoch warmup"
            if lr_find is not None
            else ""
        )
        + "."
    )


def adaptive_evidence(setups: list[dict]) -> str:
    """The README's AdaptiveWarmup bullets: at the grid's top peak (too high) and at the best grid peak, against
    the fixed warmup of its nominal length and a fixed warmup as long as it really took."""
    if not setups:
        return "No results yet."
    lines = []
    for s in setups:
        parts = []
        for which in ("top", "best"):
            key = s["adaptive"][which]
            if key is None or (which == "best" and key == s["adaptive"]["top"]):
                continue
            row = s["methods"][key]
            nominal = next(
                (c for c in s["comparisons"] if c["ours"] == key and c["reference"].startswith("grid ")), None
            )
            taken = _find(s, key, "taken " + key.split(" ", 1)[1])
            peak = key.split("=", 1)[1]
            used = _values(row["peaks"])
            fixed = sum(f["flag"] == "fixed path" and f["method"] == key for f in s["flags"])
            same = f"; on {fixed} of {row['n']} seeds exactly a fixed linear warmup's LR path, flagged" if fixed else ""
            parts.append(
                f"at the {'top' if which == 'top' else 'best'} grid peak {peak} {_percent(row)} (peak used {used}, "
                f"warmup {_values(row['warmups'], '{:.0f}')} updates{same}): {_short(nominal)} against its nominal "
                f"1-epoch warmup, {_short(taken)} against a fixed warmup as long as it took"
                + (
                    f", {_met(next((c for c in s['comparisons'] if c['target'] == 'c'), None), 'c')}"
                    if which == "best"
                    else ""
                )
            )
        lines.append(f"- **{s['name']}** ({s['role']}; {_where(s)}): " + ("; ".join(parts) or NOT_RUN) + ".")
    return "\n".join(lines)


def readme_blocks(folder: Path) -> dict[str, str]:
    """The README's generated blocks (``README_BLOCKS``) from the set-up JSON in ``folder``."""
    setups = [analyse(d) for d in load_folder(folder)]
    return {
        "peak-headline": peak_headline(setups),
        "peak-evidence": peak_evidence(setups),
        "adaptive-evidence": adaptive_evidence(setups),
    }


def block_pattern(name: str) -> re.Pattern[str]:
    """A README block between ``<!-- --8<-- [start:NAME] -->`` and ``<!-- --8<-- [end:NAME] -->`` (its text is
    group 1), the markers mkdocs' snippets use."""
    return re.compile(
        rf"<!-- --8<-- \[start:{re.escape(name)}\] -->\n(.*?)\n<!-- --8<-- \[end:{re.escape(name)}\] -->", re.S
    )


def write_readme_blocks(folder: Path, readme: Path) -> None:
    """Replace each of ``README_BLOCKS`` in ``readme`` by its text generated from ``folder``."""
    text = readme.read_text()
    for name, body in readme_blocks(folder).items():
        pattern = block_pattern(name)
        if not pattern.search(text):
            raise ValueError(f"{str(readme)!r} has no block {name!r} (its start and end markers)")
        start, end = pattern.search(text).span(1)
        text = text[:start] + body + text[end:]
    readme.write_text(text)


# ------------------------------------------------------------------------------------------------ figures
def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def plot_accuracy(s: dict, path: Path) -> Path:
    """Every grid cell and method of one set-up: each seed a dot (an x when it diverged), the mean a bar, the best
    grid cell's mean a dashed line."""
    rows = [*s["grid"], *[s["methods"][k] for k in sorted(s["methods"], key=_method_order)]]
    fig = _figure(max(6.0, 0.42 * len(rows) + 1.5), 4.2)
    ax = fig.subplots()
    trained = [a for r in rows for a in r["accuracies"] if a > DIVERGED_ACCURACY]
    floor = min(trained) - 2 if trained else DIVERGED_ACCURACY  # diverged runs drawn here, not at 10%
    for i, row in enumerate(rows):
        color = "0.45" if row["key"].startswith("grid ") else f"C{i % 10}"
        for j, acc in enumerate(row["accuracies"]):
            x = i + 0.12 * (j - (len(row["seeds"]) - 1) / 2)
            if acc > DIVERGED_ACCURACY:
                ax.plot(x, acc, "o", color=color, ms=4)
            else:
                ax.plot(x, floor, "x", color="C3", ms=6, label="diverged (10%)")
        if row["n"] and row["mean"] >= floor:
            ax.hlines(row["mean"], i - 0.3, i + 0.3, color=color, lw=1.6)
    if s["best"]:
        ax.axhline(s["best"]["mean"], color="C3", ls="--", lw=1, label=f"best grid cell ({s['best']['key']})")
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        unique = dict(zip(labels, handles))
        ax.legend(unique.values(), unique.keys(), frameon=False, fontsize=8, loc="lower left")
    ax.set_xticks(range(len(rows)), [r["key"] for r in rows], rotation=60, ha="right", fontsize=7)
    ax.set(ylabel="test accuracy %", title=f"{s['name']} ({s['role']}): seeds as dots, means as bars")
    fig.savefig(path, dpi=110)
    return path


def plot_searches(s: dict, runs: dict[str, dict], path: Path) -> Path | None:
    """PeakFinder's searches as ``lr_find`` draws them: the loss (4-update means, smoothed) against the LR on a log
    axis over the search updates, one line per seed, the chosen peak a vertical line; one panel per bound. None
    when no PeakFinder run is there."""
    from warmup_plugins.monitoring.plotting import LOG_LOSS_RATIO, smooth

    panels = [m for m in (PEAK, PEAK_X10) if any(r["method"] == m for r in runs.values())]
    if not panels:
        return None
    fig = _figure(5.2 * len(panels), 3.8)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, method in zip(axes, panels):
        finite: list[float] = []
        for run in sorted((r for r in runs.values() if r["method"] == method), key=lambda r: r["seed"]):
            color, report = f"C{run['seed'] % 10}", run.get("report") or {}
            end = report.get("decided_at") or 4 * len(run["lrs"])
            points = [(lr, _number(loss)) for i, (lr, loss) in enumerate(zip(run["lrs"], run["losses"])) if 4 * i < end]
            lrs = [p[0] for p in points]
            losses = [p[1] for p in points]
            ax.plot(lrs, losses, ".", color=color, ms=3, alpha=0.45)
            ax.plot(lrs, smooth(losses, 0.7), color=color, lw=1.3, label=f"seed {run['seed']}")
            peak = chosen_peak(run)
            if peak is not None:
                ax.axvline(peak, color=color, lw=1.2, ls="--")
            if report.get("edge_factor") is not None and report.get("reason") != "bound":
                ax.axvline(run["peak"] * report["edge_factor"], color=color, lw=1.0, ls=":")
            finite += [v for v in losses if math.isfinite(v)]
        ax.set_xscale("log")
        if finite and max(finite) > LOG_LOSS_RATIO * statistics.median(finite):
            ax.set_yscale("log")
        ax.set(xlabel="learning rate", ylabel="training loss (4-update means)")
        ax.set_title(f"{LABELS[method]} search: dashed = chosen peak, dotted = edge", fontsize=9)
        ax.legend(frameon=False, fontsize=8)
    fig.suptitle(f"{s['name']} ({s['role']})")
    fig.savefig(path, dpi=110)
    return path


def _method_order(key: str) -> tuple[int, str]:
    order = [PEAK, PEAK_X10, LR_FIND, AUTOWU]
    return (order.index(key), key) if key in order else (len(order), key)


# ------------------------------------------------------------------------------------------------ entry points
def render_folder(folder: Path) -> str:
    """Write ``folder/RESULTS.md`` and the PNGs (``<set-up>_accuracy.png``, ``<set-up>_search.png``) from the
    set-up JSON in ``folder``; return the markdown."""
    folder = Path(folder)
    data = load_folder(folder)
    setups = [analyse(d) for d in data]
    figures: dict[str, list[str]] = {}
    for s, d in zip(setups, data):
        names = [plot_accuracy(s, folder / f"{s['name']}_accuracy.png").name]
        search = plot_searches(s, d["runs"], folder / f"{s['name']}_search.png")
        if search is not None:
            names.append(search.name)
        figures[s["name"]] = names
    text = render(setups, figures)
    (folder / "RESULTS.md").write_text(text)
    return text


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.peak_report", description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, help="the folder of set-up JSON files (a peak_finding --out)")
    parser.add_argument("--json", action="store_true", help="print summary() as JSON instead of the markdown")
    parser.add_argument(
        "--readme", type=Path, metavar="FILE", help="rewrite FILE's generated blocks (the README's evidence)"
    )
    args = parser.parse_args(argv)
    try:
        if args.readme:
            write_readme_blocks(args.folder, args.readme)
            print(f"rewrote {', '.join(README_BLOCKS)} in {args.readme}")
            return
        print(json.dumps(summary(args.folder), indent=1) if args.json else render_folder(args.folder))
    except (FileNotFoundError, ValueError) as error:
        parser.exit(2, f"{parser.prog}: error: {error}\n")


if __name__ == "__main__":
    main()

"""A study's results for a person: the best trials as text, and three PNGs (matplotlib, no plotly).

* ``metric_vs_warmup.png``: each complete trial's value against its warmup length in updates, one
  colour per warmup type. The length is the one the trial really used: from its record (an untuned
  warmup's ``2 / (1 - beta2)``, an adaptive warmup's stretched length) or else its suggestion.
* ``lr_warmup_heatmap.png``: the mean value in cells of peak LR (log-spaced) x warmup length, each
  cell labelled with its mean and trial count; the points are the trials.
* ``importances.png``: ``optuna.importance.get_param_importances(study)`` as bars.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import optuna

from ..core import _checks
from ..monitoring.record import TrainingRecord

__all__ = [
    "best_or_outcome",
    "best_trials_table",
    "outcome",
    "plot_importances",
    "plot_lr_warmup_heatmap",
    "plot_metric_vs_warmup",
    "write_report",
]

COMPLETE = optuna.trial.TrialState.COMPLETE
PRUNED = optuna.trial.TrialState.PRUNED
FAIL = optuna.trial.TrialState.FAIL


@dataclass(frozen=True)
class _Point:
    number: int
    value: float
    warmup_type: str
    warmup_steps: float | None
    peak_lr: float | None
    start_factor: float | None


def _warmup_steps(trial: optuna.trial.FrozenTrial) -> float | None:
    """The warmup length the trial used: its record's (real, resolved) or else its suggestion's."""
    data = trial.user_attrs.get("record")
    if isinstance(data, dict):
        try:
            steps = TrainingRecord.from_dict(data).warmup_steps
        except (ValueError, TypeError):
            steps = None
        if steps is not None:
            return steps
    suggestion = trial.user_attrs.get("suggestion")
    if isinstance(suggestion, dict):
        steps = (suggestion.get("schedule_kwargs") or {}).get("warmup_steps")
        if steps is not None:
            return steps
    return trial.params.get("warmup_steps")


def _points(study: optuna.Study) -> list[_Point]:
    out = []
    for t in study.get_trials(deepcopy=False, states=(COMPLETE,)):
        if t.value is None or not math.isfinite(t.value):
            continue
        kind = str(t.params.get("warmup_type", (t.user_attrs.get("suggestion") or {}).get("warmup_type", "?")))
        out.append(
            _Point(t.number, t.value, kind, _warmup_steps(t), t.params.get("peak_lr"), t.params.get("start_factor"))
        )
    return out


def _sorted(study: optuna.Study, points: list[_Point]) -> list[_Point]:
    maximize = study.direction == optuna.study.StudyDirection.MAXIMIZE
    return sorted(points, key=lambda p: -p.value if maximize else p.value)


def best_trials_table(study: optuna.Study, top: int = 5) -> str:
    """The ``top`` best complete trials, and how many trials ended in each state."""
    top = _checks.integer("top", top, low=1)
    states: dict[str, int] = {}
    for t in study.get_trials(deepcopy=False):
        states[t.state.name.lower()] = states.get(t.state.name.lower(), 0) + 1
    direction = "maximize" if study.direction == optuna.study.StudyDirection.MAXIMIZE else "minimize"
    head = f"study {study.study_name!r} ({direction}): " + ", ".join(f"{n} {s}" for s, n in sorted(states.items()))
    lines = [
        head or "no trials",
        f"{'trial':>5}  {'value':>10}  {'warmup':<12} {'updates':>8} {'start':>8} {'peak LR':>9}",
    ]
    for p in _sorted(study, _points(study))[:top]:
        steps = "" if p.warmup_steps is None else f"{p.warmup_steps:g}"
        start = "" if p.start_factor is None else f"{p.start_factor:.3g}"
        lr = "" if p.peak_lr is None else f"{p.peak_lr:.3g}"
        lines.append(f"{p.number:>5}  {p.value:>10.5g}  {p.warmup_type:<12} {steps:>8} {start:>8} {lr:>9}")
    if len(lines) == 2:
        lines.append("(no complete trial yet)")
        lines += _stopped_lines(study, 5)
    return "\n".join(lines)


def _why(trial: optuna.trial.FrozenTrial) -> str:
    """One line: why a pruned or failed trial stopped (its ``pruned_by`` / ``error``), cut to 120 characters."""
    if trial.state == PRUNED:
        reason = trial.user_attrs.get("pruned_by") or "pruned (no reason kept)"
    elif trial.state == FAIL:
        reason = trial.user_attrs.get("error") or trial.system_attrs.get("fail_reason") or "failed (no error kept)"
    else:
        reason = trial.state.name.lower()
    line = " ".join(str(reason).split())
    return line if len(line) <= 120 else line[:117] + "..."


def outcome(study: optuna.Study, show: int = 5) -> str:
    """What happened to the study's trials, for a study that may have no complete trial: the count per state,
    then one line per pruned or failed trial (the last ``show`` of them) saying why it stopped."""
    show = _checks.integer("show", show, low=0)
    trials = study.get_trials(deepcopy=False)
    counts = {s: sum(t.state == s for t in trials) for s in optuna.trial.TrialState}
    head = f"study {study.study_name!r}: {len(trials)} trials, " + ", ".join(
        f"{counts[s]} {s.name.lower()}" for s in optuna.trial.TrialState if counts[s] or s == COMPLETE
    )
    if not counts[COMPLETE]:
        head += "; no complete trial, so no best trial yet"
    return "\n".join([head, *_stopped_lines(study, show)])


def _stopped_lines(study: optuna.Study, show: int) -> list[str]:
    """One line per pruned or failed trial (the last ``show``) saying why it stopped."""
    stopped = [t for t in study.get_trials(deepcopy=False) if t.state in (PRUNED, FAIL)]
    lines = [f"  trial {t.number} {t.state.name.lower()}: {_why(t)}" for t in stopped[-show:]] if show else []
    if lines and len(stopped) > show:
        lines.insert(0, f"  (the last {show} of {len(stopped)} stopped trials)")
    return lines


def best_or_outcome(study: optuna.Study) -> str:
    """One line on the best complete trial, or, if there is none, :func:`outcome` (never raises on an empty study)."""
    if not study.get_trials(deepcopy=False, states=(COMPLETE,)):
        return outcome(study)
    best = study.best_trial
    return f"best of {len(study.trials)} trials: trial {best.number}, value {best.value:.4g}, {best.params}"


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    _pyplot().close(fig)
    return path


def plot_metric_vs_warmup(study: optuna.Study, path: str | Path) -> Path:
    """Value against warmup length (updates), one colour per warmup type."""
    plt = _pyplot()
    points = [p for p in _points(study) if p.warmup_steps is not None]
    fig, ax = plt.subplots(figsize=(6.5, 4))
    kinds = sorted({p.warmup_type for p in points})
    for i, kind in enumerate(kinds):
        mine = sorted((p for p in points if p.warmup_type == kind), key=lambda p: p.warmup_steps)
        ax.plot(
            [p.warmup_steps for p in mine],
            [p.value for p in mine],
            "o-",
            color=plt.get_cmap("tab10")(i),
            label=f"{kind} ({len(mine)})",
            alpha=0.8,
            linewidth=0.8,
        )
    ax.set_xlabel("warmup length (optimizer updates)")
    ax.set_ylabel("objective value")
    ax.set_title(f"{study.study_name}: value vs warmup length")
    ax.grid(alpha=0.3)
    if kinds:
        ax.legend(fontsize=8)
    return _save(fig, Path(path))


def _edges(values: list[float], bins: int, log: bool) -> list[float]:
    low, high = min(values), max(values)
    if low == high:
        return [low * 0.9, high * 1.1] if log else [low - 0.5, high + 0.5]
    if log:  # a 2% margin on each side, so that the extreme trials lie inside the edge cells
        a, b = (
            math.log(low) - 0.02 * (math.log(high) - math.log(low)),
            math.log(high) + 0.02 * (math.log(high) - math.log(low)),
        )
        return [math.exp(a + (b - a) * i / bins) for i in range(bins + 1)]
    low, high = low - 0.02 * (high - low), high + 0.02 * (high - low)
    return [low + (high - low) * i / bins for i in range(bins + 1)]


def _bin(value: float, edges: list[float]) -> int:
    for i in range(len(edges) - 1):
        if value <= edges[i + 1]:
            return i
    return len(edges) - 2


def plot_lr_warmup_heatmap(study: optuna.Study, path: str | Path, bins: int = 5) -> Path:
    """Mean value per cell of peak LR (log bins) x warmup length (bins), with the trials on top."""
    import numpy as np

    plt = _pyplot()
    bins = _checks.integer("bins", bins, low=1)
    points = [p for p in _points(study) if p.warmup_steps is not None and p.peak_lr is not None]
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    if points:
        xe = _edges([p.warmup_steps for p in points], bins, False)
        ye = _edges([p.peak_lr for p in points], bins, True)
        sums, counts = np.zeros((len(ye) - 1, len(xe) - 1)), np.zeros((len(ye) - 1, len(xe) - 1))
        for p in points:
            row, col = _bin(p.peak_lr, ye), _bin(p.warmup_steps, xe)
            sums[row, col] += p.value
            counts[row, col] += 1
        mean = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
        mesh = ax.pcolormesh(xe, ye, np.ma.masked_invalid(mean), cmap="viridis", shading="flat")
        fig.colorbar(mesh, ax=ax, label="mean objective value")
        for r in range(len(ye) - 1):
            for c in range(len(xe) - 1):
                if counts[r, c]:
                    x, y = (xe[c] + xe[c + 1]) / 2, math.sqrt(ye[r] * ye[r + 1])
                    ax.text(
                        x,
                        y,
                        f"{mean[r, c]:.3g}\n({int(counts[r, c])})",
                        ha="center",
                        va="center",
                        fontsize=7,
                        bbox={"facecolor": "white", "alpha": 0.6, "linewidth": 0},
                    )
        ax.scatter([p.warmup_steps for p in points], [p.peak_lr for p in points], s=8, c="red", label="trials")
        ax.set_yscale("log")
        ax.legend(fontsize=7, loc="upper right")
    ax.set_xlabel("warmup length (optimizer updates)")
    ax.set_ylabel("peak LR")
    ax.set_title(f"{study.study_name}: peak LR x warmup length")
    return _save(fig, Path(path))


def plot_importances(study: optuna.Study, path: str | Path) -> Path:
    """Optuna's parameter importances (``get_param_importances``, its default evaluator) as bars.

    Needs at least two complete trials; raises ``ValueError`` otherwise."""
    plt = _pyplot()
    complete = [t for t in study.get_trials(deepcopy=False, states=(COMPLETE,))]
    if len(complete) < 2:
        raise ValueError(f"parameter importances need at least 2 complete trials; the study has {len(complete)}")
    importances = optuna.importance.get_param_importances(study)
    names = list(importances)[::-1]
    fig, ax = plt.subplots(figsize=(6.5, 0.5 * len(names) + 1.8))
    ax.barh(names, [importances[n] for n in names], color="tab:blue")
    for i, n in enumerate(names):
        ax.text(importances[n], i, f" {importances[n]:.2f}", va="center", fontsize=8)
    ax.set_xlabel("importance (optuna.importance.get_param_importances, sums to 1)")
    ax.set_title(f"{study.study_name}\nparameter importances from {len(complete)} complete trials", fontsize=10)
    ax.set_xlim(0, max(importances.values(), default=1) * 1.2 or 1)
    return _save(fig, Path(path))


def write_report(study: optuna.Study, out: str | Path, prefix: str = "") -> list[Path]:
    """Write the three PNGs into ``out`` (created if missing); returns their paths. Importances are left
    out (with the other two written) when the study has fewer than two complete trials."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = [
        plot_metric_vs_warmup(study, out / f"{prefix}metric_vs_warmup.png"),
        plot_lr_warmup_heatmap(study, out / f"{prefix}lr_warmup_heatmap.png"),
    ]
    if len(study.get_trials(deepcopy=False, states=(COMPLETE,))) >= 2:
        paths.append(plot_importances(study, out / f"{prefix}importances.png"))
    return paths

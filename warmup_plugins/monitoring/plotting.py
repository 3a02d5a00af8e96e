"""Matplotlib figures of a training record or a schedule, written to a file (PNG by default).

Needs ``matplotlib`` (imported when a function is called, never by ``import warmup_plugins``). The
figures are built with ``matplotlib.figure.Figure`` directly, so no pyplot state or backend is
touched: safe in scripts, servers and notebooks alike.

* :func:`plot_record`: the LR against the update, the per-update loss (raw and smoothed) against
  the update and, when the record has per-epoch rows, train/valid loss and accuracy against the
  epoch; the warmup ``[0, W)`` is shaded. Several records (a mapping of label to record) share the
  axes, one colour each.
* :func:`plot_peak_search`: a :class:`~warmup_plugins.PeakFinder` search as fastai's ``lr_find`` draws it: the
  loss (raw and smoothed) against the LR of each search update, on a log LR axis, the chosen peak marked.
* :func:`plot_schedule`: the factor ``f(k)`` (or ``base_lr · f(k)``) of a :class:`WarmupSchedule`
  against the update, warmup shaded.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..core import _checks
from ..core.schedule import WarmupSchedule
from .diagnosis import peak_verdict
from .record import TrainingRecord

__all__ = ["describe", "plot_peak_search", "plot_record", "plot_schedule", "smooth"]

LOG_LOSS_RATIO = 10.0  # "auto" loss axis: log scale when the largest finite loss is over 10x the median
MAX_POINTS = 20_000  # plot_schedule draws at most this many updates (far more than the figure's pixels)


MISSING = "plotting needs matplotlib: pip install matplotlib"


def _figure(rows: int) -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError(MISSING) from error
    return Figure(figsize=(7.0, 2.5 * rows + 0.4), layout="constrained")


def _path(path: object, default_name: str) -> Path:
    """Where to write: ``path``; a file ``default_name`` inside it when it is a folder (or ends with a slash);
    with ``.png`` added when it has no extension. Its folder is created; an extension matplotlib cannot
    write is a ``ValueError``."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or path-like, got {type(path).__name__}")
    text = os.fspath(path)
    if not text:
        raise ValueError("path must name a file or a folder, got an empty string")
    out = Path(text)
    if out.is_dir() or text.endswith(("/", os.sep)):
        out = out / default_name
    elif not out.suffix:
        out = out.with_name(out.name + ".png")
    try:
        from matplotlib.backend_bases import FigureCanvasBase
    except ImportError as error:
        raise ImportError(MISSING) from error
    formats = FigureCanvasBase.get_supported_filetypes()
    if out.suffix[1:].lower() not in formats:
        allowed = ", ".join(f".{f}" for f in sorted(formats))
        raise ValueError(f"path {text!r}: matplotlib cannot write {out.suffix!r} files; use one of {allowed}")
    out.parent.mkdir(parents=True, exist_ok=True)
    return out


def _save(fig: Any, path: Path, title: str | None) -> Path:
    if title:
        fig.suptitle(title)
    fig.savefig(path, dpi=110)
    return path


def _meta_number(value: object, name: str, *, low_open: bool) -> float | None:
    """A number the record's ``meta`` holds (the warmup length, the steps per epoch), checked, or None."""
    return None if value is None else _checks.number(name, value, low=0, low_open=low_open)


def smooth(values: list[float | None] | np.ndarray, beta: float) -> np.ndarray:
    """Bias-corrected exponential moving average ``a_k = β·a_(k-1) + (1-β)·x_k``, divided by ``1 - β^n``
    (``n`` the finite values seen); missing and non-finite values are skipped (NaN in the output).
    ``beta = 0`` returns the values unchanged."""
    beta = _checks.number("smooth", beta, low=0, high=1, high_open=True)
    x = np.array([math.nan if v is None else v for v in values], dtype=float)
    out = np.full_like(x, math.nan)
    average, seen = 0.0, 0
    for i, v in enumerate(x):
        if math.isfinite(v):
            average, seen = beta * average + (1 - beta) * v, seen + 1
            out[i] = average / (1 - beta**seen)
    return out


def _records(record: TrainingRecord | Mapping[str, TrainingRecord]) -> dict[str, TrainingRecord]:
    records = {"": record} if isinstance(record, TrainingRecord) else record
    if not isinstance(records, Mapping) or not records:
        raise TypeError("record must be a TrainingRecord or a non-empty mapping of label -> TrainingRecord")
    for label, r in records.items():
        if not isinstance(r, TrainingRecord):
            raise TypeError(f"record[{label!r}] must be a TrainingRecord, got {type(r).__name__}")
        if not len(r):
            raise ValueError(f"record{f'[{label!r}]' if label else ''} has no per-update rows to plot")
        r.validate()
    return dict(records)


def _column(values: list[float | None]) -> np.ndarray:
    return np.array([math.nan if v is None else v for v in values], dtype=float)


def _shade(ax: Any, end: float, color: str, label: str | None) -> None:
    if end > 0:
        ax.axvspan(0, end, color=color, alpha=0.12, lw=0, zorder=0, label=label)


def plot_record(
    record: TrainingRecord | Mapping[str, TrainingRecord],
    path: str | os.PathLike[str],
    *,
    warmup_steps: float | None = None,
    steps_per_epoch: float | None = None,
    smooth_beta: float = 0.9,
    loss_scale: str = "auto",
    title: str | None = None,
) -> Path:
    """Draw LR, loss and (if any) per-epoch metrics of one record, or of several on shared axes.

    ``record``: a :class:`TrainingRecord`, or a mapping of label to record (one colour each).
    ``warmup_steps``: the shaded warmup ``[0, W)`` in updates; default each record's
    ``meta['schedule']['warmup_steps']`` (no shading when unknown or 0). Per-epoch train/valid loss
    and accuracy are drawn side by side at ``epoch + 1`` (epochs trained; ``metric`` is not drawn),
    the warmup shaded up to ``W / steps_per_epoch`` epochs when the steps per epoch are known
    (argument, else ``meta['steps_per_epoch']``). ``smooth_beta``: the weight of the smoothed loss
    line (:func:`smooth`; 0 for none). ``loss_scale``: ``'linear'``, ``'log'`` or ``'auto'`` (log
    when the largest finite loss is more than 10x the median). The first non-finite loss of a
    record is marked by a dotted line.

    ``path``: the image file (its extension picks the format); a folder gets ``record.png`` inside it, and a
    name without an extension gets ``.png``. Returns the path written.
    """
    records = _records(record)
    loss_scale = _checks.choice("loss_scale", loss_scale, ("auto", "linear", "log"))
    if warmup_steps is not None:
        warmup_steps = _checks.number("warmup_steps", warmup_steps, low=0)
    if steps_per_epoch is not None:
        steps_per_epoch = _checks.number("steps_per_epoch", steps_per_epoch, low=0, low_open=True)
    smooth_beta = _checks.number("smooth_beta", smooth_beta, low=0, high=1, high_open=True)
    out = _path(path, "record.png")
    with_epochs = any(_has_epoch_values(r) for r in records.values())
    with_accuracy = any(v is not None for r in records.values() for v in r.epochs["accuracy"])
    layout = [["lr", "lr"], ["loss", "loss"]]
    if with_epochs:
        layout.append(["epoch_loss", "accuracy"] if with_accuracy else ["epoch_loss", "epoch_loss"])
    fig = _figure(len(layout))
    axes = fig.subplot_mosaic(layout)
    ax_lr, ax_loss = axes["lr"], axes["loss"]
    many = len(records) > 1
    finite: list[float] = []
    for i, (label, r) in enumerate(records.items()):
        color, tag = f"C{i}", f" ({label})" if many else ""
        steps, lrs, losses = (_column(r.updates[k]) for k in ("step", "lr", "loss"))
        w = warmup_steps
        if w is None:
            w = _meta_number(r.warmup_steps, r.warmup_source, low_open=False) or 0
        for ax in (ax_lr, ax_loss):
            _shade(ax, w, color if many else "0.5", f"warmup: {w:g} updates" if ax is ax_lr else None)
        ax_lr.plot(steps, lrs, color=color, lw=1.2, label=label or None)
        ax_loss.plot(steps, losses, color=color, lw=0.6, alpha=0.3)
        ax_loss.plot(steps, smooth(losses, smooth_beta), color=color, lw=1.4, label=label or "smoothed")
        bad = [s for s, v in zip(steps, r.updates["loss"]) if v is not None and not math.isfinite(v)]
        if bad:
            ax_loss.axvline(bad[0], color=color, ls=":", lw=1.2, label=f"first non-finite loss{tag}")
        finite.extend(losses[np.isfinite(losses)].tolist())
        if with_epochs:
            spe = steps_per_epoch
            if spe is None:
                spe = _meta_number(r.meta.get("steps_per_epoch"), "record.meta['steps_per_epoch']", low_open=True)
            _epoch_panels(axes, r, color, many, w / spe if spe else 0.0)
    big = bool(finite) and max(finite) > LOG_LOSS_RATIO * float(np.median(finite))
    if loss_scale == "log" or (loss_scale == "auto" and big):
        ax_loss.set_yscale("log")
    ax_lr.set(xlabel="optimizer update", ylabel="learning rate")
    ax_loss.set(xlabel="optimizer update", ylabel="training loss")
    for ax in (ax_lr, ax_loss):
        ax.legend(frameon=False, fontsize=8)
    return _save(fig, out, title)


def plot_peak_search(
    record: TrainingRecord, path: str | os.PathLike[str], *, smooth_beta: float = 0.9, title: str | None = None
) -> Path:
    """Draw a :class:`~warmup_plugins.PeakFinder`'s search as ``lr_find`` does: the loss of every search update
    against its LR (log axis), raw and smoothed (:func:`smooth`), with the edge (where the loss rose) and the chosen
    peak marked, and the one-line verdict as the title.

    ``record``: the :class:`TrainingRecord` of a run with ``record=True`` and ``adaptive=PeakFinder()`` (its
    ``meta['peak_finder']`` and ``meta['base_lrs']``). ``path``: as :func:`plot_record` (default name
    ``peak_search.png``). Returns the path written.
    """
    if not isinstance(record, TrainingRecord):
        raise TypeError(f"record must be a TrainingRecord, got {type(record).__name__}")
    record.validate()
    report = record.meta.get("peak_finder")
    if not isinstance(report, dict):
        raise ValueError(
            "record.meta has no 'peak_finder' report: record a run with adaptive=PeakFinder(), record=True"
        )
    smooth_beta = _checks.number("smooth_beta", smooth_beta, low=0, high=1, high_open=True)
    out = _path(path, "peak_search.png")
    bases = record.meta.get("base_lrs") or [1.0]
    bound = _checks.number("record.meta['base_lrs'][0]", bases[0], low=0, low_open=True)
    steps, lrs, losses = (_column(record.updates[k]) for k in ("step", "lr", "loss"))
    end = report.get("decided_at")
    searched = steps < end if end is not None else np.ones_like(steps, dtype=bool)
    lrs, losses = lrs[searched], losses[searched]
    fig = _figure(1)
    ax = fig.subplots()
    ax.plot(lrs, losses, ".", color="C0", ms=2.5, alpha=0.35, label="loss")
    ax.plot(lrs, smooth(losses, smooth_beta), color="C0", lw=1.4, label="smoothed")
    if report.get("edge_factor") is not None and report.get("reason") != "bound":
        ax.axvline(bound * report["edge_factor"], color="C3", ls=":", lw=1.2, label="edge: the loss rose")
    if report.get("peak_factor") is not None:
        ax.axvline(bound * report["peak_factor"], color="C2", lw=1.6, label=f"peak {bound * report['peak_factor']:.3g}")
    ax.set_xscale("log")
    finite = losses[np.isfinite(losses)]
    if finite.size and finite.max() > LOG_LOSS_RATIO * float(np.median(finite)):
        ax.set_yscale("log")
    ax.set(xlabel="learning rate (first param group)", ylabel="training loss")
    ax.legend(frameon=False, fontsize=8)
    return _save(fig, out, title if title is not None else peak_verdict(report, bound))


def _has_epoch_values(record: TrainingRecord) -> bool:
    return any(v is not None for name, col in record.epochs.items() if name != "epoch" for v in col)


def _epoch_panels(axes: dict[str, Any], record: TrainingRecord, color: str, many: bool, warmup_epochs: float) -> None:
    """Train (solid) and valid (dashed) loss, and accuracy, per epoch, at ``epoch + 1`` (epochs trained)."""
    e, x = record.epochs, _column(record.epochs["epoch"]) + 1
    ax = axes["epoch_loss"]
    for name, style in (("train_loss", "o-"), ("valid_loss", "o--")):
        if any(v is not None for v in e[name]):
            ax.plot(x, _column(e[name]), style, color=color, ms=3, lw=1.2)
    ax.set(xlabel="epochs trained", ylabel="loss", title="per epoch: train (solid), valid (dashed)")
    targets = [ax]
    if "accuracy" in axes and any(v is not None for v in e["accuracy"]):
        acc = axes["accuracy"]
        acc.plot(x, _column(e["accuracy"]), "s-", color=color, ms=3, lw=1.2)
        acc.set(xlabel="epochs trained", ylabel="accuracy", title="accuracy per epoch")
        targets.append(acc)
    for target in targets:
        target.title.set_fontsize(9)
        _shade(target, warmup_epochs, color if many else "0.5", None)


def plot_schedule(
    schedule: WarmupSchedule,
    path: str | os.PathLike[str],
    *,
    base_lr: float | None = None,
    steps: int | None = None,
    title: str | None = None,
) -> Path:
    """Draw ``f(k)`` (or ``base_lr · f(k)``) for ``k = 0 .. steps - 1``, the warmup ``[0, W)`` shaded.

    ``steps`` defaults to ``T + 1`` updates (``T`` the total), or ``max(2W, 100)`` for an endless
    schedule; beyond ``MAX_POINTS`` updates, ``MAX_POINTS`` evenly spaced ones are drawn (with ``W - 1``,
    ``W``, ``T - 1`` and ``T``). The title defaults to a one-line description of the schedule.
    ``path``: the image file (its extension picks the format); a folder gets ``schedule.png`` inside it,
    and a name without an extension gets ``.png``. Returns the path written.
    """
    if not isinstance(schedule, WarmupSchedule):
        raise TypeError(f"schedule must be a WarmupSchedule, got {type(schedule).__name__}")
    if base_lr is not None:
        base_lr = _checks.number("base_lr", base_lr, low=0, low_open=True)
    w, t = schedule.warmup_steps, schedule.total_steps
    if steps is None:
        steps = math.floor(t) + 1 if t is not None else max(2 * math.ceil(w), 100)
    steps = _checks.integer("steps", steps, low=1)
    out = _path(path, "schedule.png")
    k = _updates_to_draw(steps, w, t)
    y = schedule(k) * (1.0 if base_lr is None else base_lr)
    fig = _figure(1)
    ax = fig.subplots()
    _shade(ax, w, "0.5", f"warmup: {w:g} updates")
    ax.plot(k, y, color="C0", lw=1.4)
    ax.set(xlabel="optimizer update k", ylabel="factor f(k)" if base_lr is None else "learning rate")
    if w:
        ax.legend(frameon=False, fontsize=8)
    return _save(fig, out, describe(schedule) if title is None else title)


def _updates_to_draw(steps: int, warmup: float, total: float | None) -> np.ndarray:
    """``0 .. steps - 1``, or for more than ``MAX_POINTS`` updates that many evenly spaced ones and the
    corners of the schedule (``W - 1``, ``W``, ``T - 1``, ``T``) that fall among them."""
    if steps <= MAX_POINTS:
        return np.arange(steps, dtype=float)
    corners = [c for c in (warmup - 1, warmup, *(() if total is None else (total - 1, total))) if 0 <= c < steps]
    evenly = np.floor(np.linspace(0.0, float(steps - 1), MAX_POINTS))
    return np.unique(np.concatenate([evenly, np.array(corners, dtype=float)]))


def describe(schedule: WarmupSchedule) -> str:
    """One line: the warmup and the decay with their lengths (``'linear warmup 10, cosine decay to 100'``)."""
    warmup = "no warmup" if not schedule.warmup_steps else f"{schedule.warmup_type} warmup {schedule.warmup_steps:g}"
    total = "" if schedule.total_steps is None else f" to {schedule.total_steps:g}"
    return f"{warmup}, {schedule.decay_type} decay{total}"

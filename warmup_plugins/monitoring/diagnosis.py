"""``diagnose(record)``: what went wrong in a warmup, with concrete numeric suggestions.

The diagnosis reads a :class:`~warmup_plugins.TrainingRecord`'s per-update rows ``(k, lr_k, L_k)``
(update index, the LR that update used, its training loss; rows without a loss are skipped) and
the warmup length ``W`` (the ``warmup_steps`` argument, else ``record.meta['schedule']``, else
unknown and taken as 0). ``C``, the number of classes, is optional (argument or
``record.meta['num_classes']``); with it the loss is also compared with chance, ``ln C`` (the
cross-entropy of a uniform guess). Every threshold is a keyword argument of :func:`diagnose`.

Rules, each giving at most one :class:`Finding`:

* ``nonfinite``: the first update whose loss is NaN or +-inf.
* ``spike``: in the early phase, updates ``k < H`` with ``H = 2W`` (the warmup and as long again
  after it, while the LR first nears its peak) or, with no warmup, the first ``early_fraction``
  (10%) of the rows: a finite loss ``L_k > spike_factor · A`` (2x), where ``A`` is a running average
  of the earlier finite losses, ``A <- β·A + (1 - β)·min(L, spike_factor · A)`` with
  ``β = ema_beta`` (0.9), seeded with the first finite loss. The first ``burn_in`` (1) finite losses
  are not judged. Clipping what enters ``A`` keeps one huge spike from hiding the next ones.
* ``divergence`` and ``plateau`` compare the median of the first ``w`` finite losses, ``E``, with the
  median of the last ``w``, ``F``, where ``w = max(min_window, round(window_fraction · n))`` (5 and
  10% of the ``n`` finite losses); they need ``n >= 2 · min_window``. Medians ignore single spikes.

  - ``divergence``: the loss grew, ``F > divergence_factor · E`` (1.5x), or, with ``C`` known, it
    ends worse than chance, ``F > (1 + chance_margin) · ln C`` (5% above). Its onset is the first
    row from which the running average (``A`` without the clipping) stays above that threshold.
  - ``plateau`` (only without a divergence): with ``C`` known, ``F >= (1 - chance_margin) · ln C``
    (stuck at chance), or ``F > (1 - min_improvement) · E`` (the loss fell by less than 10%).

Suggestions (LRs and gradient norms rounded to two significant figures, warmup lengths rounded up
to two). A non-finite loss, spikes and a divergence all say the LR rose too high too fast, and
their findings share one set of suggestions, from the first of them (the *trouble*, at update
``t``) and the latest of them in the early phase (update ``e``):

* extend the warmup to ``N = max(2W, 2(e + 1))`` updates (when one lies in the early phase): with a
  linear warmup this halves the LR at the same update;
* lower the peak LR to ``lower_factor · lr_t`` (0.5x the LR at the trouble);
* clip the gradient norm at ``clip_factor · G`` (2x), ``G`` the median logged gradient norm of the
  updates before ``t`` (when the record has gradient norms).

A plateau gets the same suggestions when there was such trouble (the network has likely
collapsed); otherwise the LR is taken to be too low: raise the peak LR to ``raise_factor`` (3x)
times the largest LR in the record.

* ``peak_too_high``: an adaptive warmup (``record.meta['adaptive']``) kept stalling near the peak; the
  suggestion lowers the peak LR to ``suggested_peak_factor`` times the base LR (``meta['base_lrs'][0]``).

The diagnosis is deterministic: plain arithmetic on the record, in row order.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..core import _checks
from .record import TrainingRecord

__all__ = ["Diagnosis", "diagnose"]

KINDS = ("nonfinite", "spike", "divergence", "plateau", "peak_too_high")


@dataclass(frozen=True)
class Suggestion:
    """One concrete change: ``action`` (``'extend_warmup'``, ``'lower_peak_lr'``, ``'raise_peak_lr'``,
    ``'clip_grad_norm'``), its numeric ``value`` (updates, an LR, or a gradient norm) and a sentence."""

    action: str
    value: float
    text: str


@dataclass(frozen=True)
class Finding:
    """One problem: its ``kind`` (one of :data:`KINDS`), the first update ``step`` where it shows
    (``epoch`` when the steps per epoch are known), the LR there, a message and the suggestions.
    ``steps`` lists every update involved (all the spikes; just ``step`` for the other kinds)."""

    kind: str
    step: float
    epoch: int | None
    lr: float | None
    message: str
    suggestions: tuple[Suggestion, ...]
    steps: tuple[float, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "step": self.step,
            "epoch": self.epoch,
            "lr": self.lr,
            "message": self.message,
            "suggestions": [{"action": s.action, "value": s.value, "text": s.text} for s in self.suggestions],
            "steps": list(self.steps),
        }


@dataclass(frozen=True)
class Diagnosis:
    """The findings, in rule order (nonfinite, spike, divergence, plateau); empty for a clean run.

    ``str(diagnosis)`` is the report the command line prints; ``to_dict()`` is plain data.
    """

    findings: tuple[Finding, ...]
    updates: int
    warmup_steps: float | None
    num_classes: int | None
    notes: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """True when nothing was found."""
        return not self.findings

    def __iter__(self) -> Iterator[Finding]:
        return iter(self.findings)

    def __len__(self) -> int:
        return len(self.findings)

    def kinds(self) -> list[str]:
        return [f.kind for f in self.findings]

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "updates": self.updates,
            "warmup_steps": self.warmup_steps,
            "num_classes": self.num_classes,
            "notes": list(self.notes),
            "findings": [f.to_dict() for f in self.findings],
        }

    def __str__(self) -> str:
        warmup = "unknown" if self.warmup_steps is None else f"{_num(self.warmup_steps)} updates"
        head = f"{self.updates} updates with a loss; warmup {warmup}"
        if self.num_classes is not None:
            head += f"; {self.num_classes} classes (chance loss {math.log(self.num_classes):.3g})"
        lines = [head, *(f"note: {n}" for n in self.notes)]
        if self.ok:
            lines.append("no problems found")
        for f in self.findings:
            where = f"update {_num(f.step)}" + ("" if f.epoch is None else f" (epoch {f.epoch})")
            lr = "" if f.lr is None else f", LR {f.lr:.3g}"
            lines.append(f"[{f.kind}] {where}{lr}: {f.message}")
            lines.extend(f"  -> {s.text}" for s in f.suggestions)
        return "\n".join(lines)


@dataclass(frozen=True)
class _Row:
    step: float
    lr: float | None
    loss: float
    grad_norm: float | None


def diagnose(
    record: TrainingRecord,
    *,
    warmup_steps: float | None = None,
    num_classes: int | None = None,
    steps_per_epoch: int | None = None,
    spike_factor: float = 2.0,
    ema_beta: float = 0.9,
    burn_in: int = 1,
    early_fraction: float = 0.1,
    window_fraction: float = 0.1,
    min_window: int = 5,
    divergence_factor: float = 1.5,
    min_improvement: float = 0.1,
    chance_margin: float = 0.05,
    lower_factor: float = 0.5,
    raise_factor: float = 3.0,
    clip_factor: float = 2.0,
) -> Diagnosis:
    """Find loss spikes in the early phase, non-finite losses, divergence and plateaus.

    See the module documentation for the rules; the defaults are the thresholds quoted there.
    ``warmup_steps``, ``num_classes`` and ``steps_per_epoch`` override ``record.meta``
    (``meta['schedule']['warmup_steps']``, ``meta['num_classes']``, ``meta['steps_per_epoch']``).
    Raises ``ValueError`` when the record has no per-update loss at all.
    """
    if not isinstance(record, TrainingRecord):
        raise TypeError(f"record must be a TrainingRecord, got {type(record).__name__}")
    n = _checks.number
    opts = _Options(
        spike_factor=n("spike_factor", spike_factor, low=1, low_open=True),
        ema_beta=n("ema_beta", ema_beta, low=0, high=1, high_open=True),
        burn_in=_checks.integer("burn_in", burn_in, low=1),
        early_fraction=n("early_fraction", early_fraction, low=0, high=1, low_open=True),
        window_fraction=n("window_fraction", window_fraction, low=0, high=0.5, low_open=True),
        min_window=_checks.integer("min_window", min_window, low=1),
        divergence_factor=n("divergence_factor", divergence_factor, low=1, low_open=True),
        min_improvement=n("min_improvement", min_improvement, low=0, high=1, high_open=True),
        chance_margin=n("chance_margin", chance_margin, low=0, high=1, high_open=True),
        lower_factor=n("lower_factor", lower_factor, low=0, high=1, low_open=True, high_open=True),
        raise_factor=n("raise_factor", raise_factor, low=1, low_open=True),
        clip_factor=n("clip_factor", clip_factor, low=0, low_open=True),
    )
    warmup = _meta_number(record.warmup_steps if warmup_steps is None else warmup_steps, "warmup_steps", 0)
    classes = _meta_int(record.meta.get("num_classes") if num_classes is None else num_classes, "num_classes", 2)
    given_spe = record.meta.get("steps_per_epoch") if steps_per_epoch is None else steps_per_epoch
    spe = _meta_int(given_spe, "steps_per_epoch", 1)
    rows = _rows(record)
    if not rows:
        raise ValueError("the record has no per-update loss: log it with log_update(step, lr, loss)")
    result = _Diagnoser(rows, warmup, classes, spe, opts).run()
    peak = _peak_too_high(record, spe)
    return result if peak is None else dataclasses.replace(result, findings=(*result.findings, peak))


def _peak_too_high(record: TrainingRecord, spe: int | None) -> Finding | None:
    """The ``peak_too_high`` finding from an adaptive warmup's report in ``record.meta['adaptive']``."""
    report = record.meta.get("adaptive")
    if not isinstance(report, dict) or report.get("peak_too_high_at") is None:
        return None
    step, factor = report["peak_too_high_at"], report.get("suggested_peak_factor")
    bases = record.meta.get("base_lrs")
    base = bases[0] if isinstance(bases, list) and bases and _checks.is_real(bases[0]) else None
    capped = report.get("peak_factor")
    message = f"the adaptive warmup stalled {report.get('stalls')} times near the peak: the peak LR is too high" + (
        f"; it capped the peak at {capped:.3g}x the base LR" if capped is not None else ""
    )
    suggestions: tuple[Suggestion, ...] = ()
    if base is not None and factor is not None:
        value = _round2(factor * base)
        text = f"lower the peak LR to {value:.2g} ({factor:.3g}x the base LR {base:.3g}, where the warmup stalled)"
        suggestions = (Suggestion("lower_peak_lr", value, text),)
    epoch = None if spe is None else int(step // spe)
    return Finding(
        "peak_too_high",
        step,
        epoch,
        None if base is None or factor is None else factor * base,
        message,
        suggestions,
        (step,),
    )


@dataclass(frozen=True)
class _Options:
    spike_factor: float
    ema_beta: float
    burn_in: int
    early_fraction: float
    window_fraction: float
    min_window: int
    divergence_factor: float
    min_improvement: float
    chance_margin: float
    lower_factor: float
    raise_factor: float
    clip_factor: float


class _Diagnoser:
    """The rules of the module documentation, applied once to one record's rows."""

    def __init__(
        self, rows: list[_Row], warmup: float | None, classes: int | None, spe: int | None, opts: _Options
    ) -> None:
        self.rows, self.warmup, self.classes, self.spe, self.o = rows, warmup, classes, spe, opts
        self.w = warmup or 0
        self.finite = [r for r in rows if math.isfinite(r.loss)]
        self.horizon = 2 * self.w if self.w > 0 else self._early_rows_end()
        self.findings: list[Finding] = []
        self.notes: list[str] = []

    def _early_rows_end(self) -> float:
        """With no warmup: the step just past the first ``early_fraction`` of the rows."""
        count = max(self.o.burn_in + 1, math.ceil(self.o.early_fraction * len(self.rows)))
        return self.rows[min(count, len(self.rows)) - 1].step + 1

    def run(self) -> Diagnosis:
        bad = next((r for r in self.rows if not math.isfinite(r.loss)), None)
        spikes = self._spikes()
        trend = self._trend()
        onset = trend[1] if trend is not None and trend[0] == "divergence" else None
        first_spike = spikes[0][0] if spikes else None
        named = ((first_spike, "the first spike"), (bad, "the first non-finite loss"), (onset, "the divergence onset"))
        firsts = [(r, what) for r, what in named if r is not None]  # min() below keeps this order on ties
        # One set of suggestions for every sign of too high an LR, so that the findings agree.
        common: list[Suggestion] = []
        if firsts:
            trouble, what = min(firsts, key=lambda pair: pair[0].step)
            latest = (bad, onset, spikes[-1][0] if spikes else None)
            early = [r.step for r in latest if r is not None and r.step < self.horizon]
            common = [*([self._extend(max(early))] if early else []), *self._lower(trouble, what), *self._clip(trouble)]
        if bad is not None:
            self._add("nonfinite", bad, f"the loss is {bad.loss} (the first non-finite loss)", common)
        if spikes:
            self._add("spike", spikes[0][0], self._spike_message(spikes), common, tuple(r.step for r, _ in spikes))
        if trend is not None:
            kind, row, message = trend
            if kind == "plateau":
                cause = "after the spikes or non-finite losses the network has likely collapsed: the LR is too high"
                if not firsts:
                    cause = "with no spike, the LR is likely too low"
                message = f"{message}; {cause}"
            self._add(kind, row, message, common if firsts else self._raise())
        return Diagnosis(tuple(self.findings), len(self.rows), self.warmup, self.classes, tuple(self.notes))

    # ------------------------------------------------------------------ rules
    def _spikes(self) -> list[tuple[_Row, float]]:
        """The spikes in the early phase, each with the running average it was judged against."""
        f, beta, average, out = self.o.spike_factor, self.o.ema_beta, math.nan, []
        for seen, row in enumerate(self.finite):
            if row.step >= self.horizon:
                break
            if seen >= self.o.burn_in and row.loss > f * average:
                out.append((row, average))
            value = row.loss if seen == 0 else min(row.loss, f * average)
            average = value if seen == 0 else beta * average + (1 - beta) * value
        return out

    def _spike_message(self, spikes: list[tuple[_Row, float]]) -> str:
        (first, average), last = spikes[0], spikes[-1][0]
        if self.w == 0:
            during = "in the early phase, with no warmup" if self.warmup == 0 else "in the early phase"
        elif last.step < self.w:
            during = "during the warmup"
        else:
            during = "during the warmup or just after it" if first.step < self.w else "just after the warmup"
        rule = f"loss above {_num(self.o.spike_factor)}x its running average"
        if len(spikes) == 1:
            return f"a loss spike {during} ({rule}): {first.loss:.4g} against an average of {average:.4g}"
        return (
            f"{len(spikes)} loss spikes {during} ({rule}): the first to {first.loss:.4g} against an average "
            f"of {average:.4g}; the last at update {_num(last.step)}"
        )

    def _trend(self) -> tuple[str, _Row, str] | None:
        """``(kind, row, message)`` for a divergence or a plateau, or None."""
        o, losses = self.o, [r.loss for r in self.finite]
        if len(losses) < 2 * o.min_window:
            self.notes.append(
                f"divergence and plateau need at least {2 * o.min_window} finite losses; the record has {len(losses)}"
            )
            return None
        w = max(o.min_window, round(o.window_fraction * len(losses)))
        early, late = statistics.median(losses[:w]), statistics.median(losses[-w:])
        chance = None if self.classes is None else math.log(self.classes)
        compare = f"median loss of the last {w} updates {late:.4g}, of the first {w} {early:.4g}"
        if late > o.divergence_factor * early:
            limit = o.divergence_factor * early
            return "divergence", self._onset(w, limit), f"the loss grew: {compare} (over {_num(o.divergence_factor)}x)"
        if chance is not None and late > (1 + o.chance_margin) * chance:
            limit = (1 + o.chance_margin) * chance
            message = f"the loss ends above chance: {compare}, over {limit:.4g} ({1 + o.chance_margin:g}x ln C)"
            return "divergence", self._onset(w, limit), message
        if chance is not None and late >= (1 - o.chance_margin) * chance:
            return (
                "plateau",
                self.finite[-w],
                f"the loss does not fall: {compare}, stuck at chance (ln C = {chance:.4g})",
            )
        if late > (1 - o.min_improvement) * early:
            return (
                "plateau",
                self.finite[-w],
                f"the loss does not fall: {compare} (less than {o.min_improvement:.0%} lower)",
            )
        return None

    def _onset(self, w: int, limit: float) -> _Row:
        """The first row from which the running average of the loss stays above ``limit`` to the end
        (the first row of the last window if the average ends below it)."""
        beta, average, onset = self.o.ema_beta, math.nan, None
        for i, row in enumerate(self.finite):
            average = row.loss if i == 0 else beta * average + (1 - beta) * row.loss
            if average <= limit:
                onset = None
            elif onset is None:
                onset = row
        return onset or self.finite[-w]

    # ------------------------------------------------------------------ suggestions
    def _extend(self, step: float) -> Suggestion:
        steps = _round_up(max(2 * self.w, 2 * (step + 1)))
        if self.warmup is None:
            text = f"use a warmup of at least {steps} updates (warmup_steps={steps})"
        elif self.w == 0:
            text = f"add a warmup of {steps} updates (warmup_steps={steps})"
        else:
            text = f"extend the warmup from {_num(self.w)} to {steps} updates (warmup_steps={steps})"
        return Suggestion("extend_warmup", steps, text)

    def _lower(self, row: _Row, what: str) -> list[Suggestion]:
        if not row.lr:
            self.notes.append(f"no peak-LR suggestion: the record has no positive LR at update {_num(row.step)}")
            return []
        value = _round2(self.o.lower_factor * row.lr)
        text = f"lower the peak LR to {value:.2g} ({_num(self.o.lower_factor)}x the LR {row.lr:.3g} at {what})"
        return [Suggestion("lower_peak_lr", value, text)]

    def _raise(self) -> list[Suggestion]:
        peak = max((r.lr for r in self.rows if r.lr is not None and math.isfinite(r.lr)), default=None)
        if not peak:
            self.notes.append("no LR suggestion: the record has no positive LR; check that the LR is set")
            return []
        value = _round2(self.o.raise_factor * peak)
        text = f"raise the peak LR to {value:.2g} ({_num(self.o.raise_factor)}x the largest LR used, {peak:.3g})"
        return [Suggestion("raise_peak_lr", value, text)]

    def _clip(self, trouble: _Row) -> list[Suggestion]:
        norms = [r.grad_norm for r in self.rows if r.step < trouble.step and r.grad_norm is not None]
        norms = [g for g in norms if math.isfinite(g)]
        if not norms:
            return []
        median = statistics.median(norms)
        value = _round2(self.o.clip_factor * median)
        text = (
            f"clip the gradient norm at {value:.2g} ({_num(self.o.clip_factor)}x the median norm {median:.3g} "
            "before the trouble; torch.nn.utils.clip_grad_norm_)"
        )
        return [Suggestion("clip_grad_norm", value, text)]

    def _add(
        self, kind: str, row: _Row, message: str, suggestions: Sequence[Suggestion], steps: tuple[float, ...] = ()
    ) -> None:
        epoch = None if self.spe is None else int(row.step // self.spe)
        self.findings.append(Finding(kind, row.step, epoch, row.lr, message, tuple(suggestions), steps or (row.step,)))


# ---------------------------------------------------------------------- helpers
def _rows(record: TrainingRecord) -> list[_Row]:
    u = record.updates
    return [
        _Row(_plain_step(step), lr, loss, grad)
        for step, lr, loss, grad in zip(u["step"], u["lr"], u["loss"], u["grad_norm"])
        if loss is not None
    ]


def _plain_step(step: float | None) -> float:
    assert step is not None  # log_update requires a step
    return int(step) if float(step).is_integer() else float(step)


def _meta_number(value: object, name: str, low: float) -> float | None:
    return None if value is None else _checks.number(name, value, low=low)


def _meta_int(value: object, name: str, low: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():  # JSON may hand back 10.0
        value = int(value)
    return _checks.integer(name, value, low=low)


def _round2(value: float) -> float:
    """Two significant figures."""
    return float(f"{value:.2g}")


def _round_up(value: float) -> int:
    """``value`` rounded up to a whole number with at most two significant figures (137 -> 140)."""
    value = math.ceil(value)
    scale = 10 ** max(0, len(str(value)) - 2)
    return math.ceil(value / scale) * scale


def _num(value: float) -> str:
    return f"{value:g}"

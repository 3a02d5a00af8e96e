"""``diagnose(record)``: what went wrong in a warmup, with concrete numeric suggestions.

The diagnosis reads a :class:`~warmup_plugins.TrainingRecord`'s per-update rows ``(k, lr_k, L_k)``
(update index, the LR that update used, its training loss; rows without a loss are skipped) and
the warmup length ``W`` (the ``warmup_steps`` argument, else the record's, else unknown and taken
as 0). ``C``, the number of classes, is optional (argument or ``record.meta['num_classes']``);
with it the loss is also compared with chance, ``ln C`` (the cross-entropy of a uniform guess).
Every threshold below is a field of :class:`DiagnoseOptions`, which holds its default and help.

Rules, each giving at most one :class:`Finding` (each is one entry of ``RULES``, in this order; a new rule is a
function of the diagnoser and one more entry there):

* ``nonfinite``: the first update whose loss is NaN or +-inf.
* ``spike``: in the early phase, updates ``k < H`` with ``H = 2W`` (the warmup and as long again
  after it, while the LR first nears its peak) or, with no warmup, the first ``early_fraction``
  of the rows: a finite loss ``L_k > spike_factor · A``, where ``A`` is a running average of the
  earlier finite losses, ``A <- β·A + (1 - β)·min(L, spike_factor · A)`` with ``β = ema_beta``,
  seeded with the first finite loss. The first ``burn_in`` finite losses are not judged. Clipping
  what enters ``A`` keeps one huge spike from hiding the next ones.
* ``divergence`` and ``plateau`` compare the median of the first ``w`` finite losses, ``E``, with the
  median of the last ``w``, ``F``, where ``w = max(min_window, round(window_fraction · n))``
  (``n`` finite losses); they need ``n >= 2 · min_window``. Medians ignore single spikes. The loss
  *fell* when ``F <= (1 - min_improvement) · E``, and is *flat* when it neither fell nor rose by
  more than that share, ``F <= (1 + min_improvement) · E``.

  - ``divergence``: the loss grew, ``F > divergence_factor · E``, or, with ``C`` known, it moved
    (not flat) from below chance to above it, ``F > (1 + chance_margin) · ln C``. Its onset is the
    row from which the running average (``A`` without the clipping) stays above that limit, after
    having been at or below it (the first row of the last window for a growth without such a row).
    A finding is never dated at the first loss, measured before any update could act.
  - ``plateau`` (only without a divergence): with ``C`` known, ``F >= (1 - chance_margin) · ln C``
    (stuck at chance, flat above it, or never below it), or the loss did not fall.

Suggestions (LRs and gradient norms rounded to two significant figures, update counts rounded up
to two). A non-finite loss, spikes and a divergence all say the LR rose too high too fast, and
their findings share one set of suggestions, from the first of them (the *trouble*, at update
``t``) and the latest of them in the early phase (update ``e``):

* extend the warmup to ``N = max(2W, 2(e + 1))`` updates (when one lies in the early phase): with a
  linear warmup this halves the LR at the same update;
* lower the peak LR to ``lower_factor · lr_t`` (``lr_t`` the LR at the trouble);
* clip the gradient norm at ``clip_factor · G``, ``G`` the median logged gradient norm of the
  updates before ``t`` (when the record has gradient norms).

A plateau gets the same suggestions when there was such trouble (the network has likely
collapsed); otherwise the LR is taken to be too low or the run too short: raise the peak LR to
``raise_factor`` times the largest LR in the record, or train ``lengthen_factor`` times as many
updates.

* ``peak_too_high``: an adaptive warmup (``record.meta['adaptive']``) kept stalling near the peak; the
  suggestion lowers the peak LR to ``suggested_peak_factor`` times the base LR (``meta['base_lrs'][0]``), or
  names ``AdaptiveWarmup(cap_peak=True)``, which ends the warmup at that lower peak.

With an adaptive warmup the report says so (``warmup adaptive: nominal 20, took 36 updates``), ``W`` is the
length it took, and the suggestion to extend the warmup names the options that make it longer
(``max_rate=1``, ``update_target``).

The diagnosis is deterministic: plain arithmetic on the record, in row order.
"""

from __future__ import annotations

import difflib
import math
import statistics
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from functools import cached_property
from typing import Any

from ..core import _checks
from .record import TrainingRecord

__all__ = ["DiagnoseOptions", "Diagnosis", "Finding", "Suggestion", "diagnose", "peak_verdict"]


def _plain_data(obj: Any) -> dict[str, Any]:
    """A dataclass as plain data: :func:`dataclasses.asdict` with every tuple a list (JSON's shape)."""
    return _lists(asdict(obj))


def _lists(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return [_lists(v) for v in value]
    if isinstance(value, dict):
        return {k: _lists(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class Suggestion:
    """One concrete change: ``action`` (``'extend_warmup'``, ``'lower_peak_lr'``, ``'raise_peak_lr'``,
    ``'lengthen_run'``, ``'clip_grad_norm'``), its numeric ``value`` (updates, an LR, or a gradient norm)
    and a sentence."""

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
        """Plain data: the fields in order, tuples as lists."""
        return _plain_data(self)


@dataclass(frozen=True)
class Diagnosis:
    """The findings, in rule order (nonfinite, spike, divergence or plateau, peak_too_high); empty for a clean run.

    ``str(diagnosis)`` is the report the command line prints; ``to_dict()`` is plain data. ``nominal_warmup``
    is the nominal length of an adaptive warmup that is over, and ``warmup_steps`` the length it took (None
    without an adaptive warmup, or while it runs: then a note says that the nominal length was used).
    """

    findings: tuple[Finding, ...]
    updates: int
    warmup_steps: float | None
    num_classes: int | None
    notes: tuple[str, ...] = field(default=())
    nominal_warmup: float | None = None

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
        """Plain data: ``ok``, the fields, then the findings (each :meth:`Finding.to_dict`)."""
        data = _plain_data(self)
        findings = data.pop("findings")
        return {"ok": self.ok, **data, "findings": findings}

    def __str__(self) -> str:
        warmup = "unknown" if self.warmup_steps is None else f"{_num(self.warmup_steps)} updates"
        if self.nominal_warmup is not None:
            warmup = f"adaptive: nominal {_num(self.nominal_warmup)}, took {warmup}"
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


def _threshold(
    default: float,
    help: str,
    *,
    low: float,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> Any:
    """A :class:`DiagnoseOptions` field: its default, its help and its allowed range."""
    allowed = {"low": low, "high": high, "low_open": low_open, "high_open": high_open}
    return field(default=default, metadata={"help": help, **allowed})


@dataclass(frozen=True)
class DiagnoseOptions:
    """The thresholds of :func:`diagnose`, one field each, with its default, help and allowed range (the
    command line makes one flag per field from them). Each value is checked when the options are made.

    >>> DiagnoseOptions(spike_factor=3).spike_factor
    3
    """

    spike_factor: float = _threshold(2.0, "a spike: a loss above this times its running average", low=1, low_open=True)
    ema_beta: float = _threshold(
        0.9, "the weight of the past in the running average of the loss", low=0, high=1, high_open=True
    )
    burn_in: int = _threshold(1, "the first finite losses, not judged for spikes", low=1)
    early_fraction: float = _threshold(
        0.1, "with no warmup, the share of the rows that is the early phase", low=0, high=1, low_open=True
    )
    window_fraction: float = _threshold(
        0.1, "the share of the finite losses in the first and in the last window", low=0, high=0.5, low_open=True
    )
    min_window: int = _threshold(5, "the fewest losses in a window (divergence and plateau need twice as many)", low=1)
    divergence_factor: float = _threshold(
        1.5, "a divergence: the last window's median loss above this times the first's", low=1, low_open=True
    )
    min_improvement: float = _threshold(
        0.1,
        "a plateau: the last window's median loss less than this share below the first's",
        low=0,
        high=1,
        high_open=True,
    )
    chance_margin: float = _threshold(
        0.05,
        "with C classes: a loss above (1 + this) ln C is worse than chance, from (1 - this) ln C at chance",
        low=0,
        high=1,
        high_open=True,
    )
    lower_factor: float = _threshold(
        0.5, "suggest a peak LR of this times the LR at the trouble", low=0, high=1, low_open=True, high_open=True
    )
    raise_factor: float = _threshold(
        3.0, "with no trouble, a plateau suggests a peak LR of this times the largest LR used", low=1, low_open=True
    )
    lengthen_factor: float = _threshold(
        2.0, "with no trouble, a plateau suggests a run of this times as many updates", low=1, low_open=True
    )
    clip_factor: float = _threshold(
        2.0, "suggest clipping the gradient norm at this times its median before the trouble", low=0, low_open=True
    )

    def __post_init__(self) -> None:
        for f in fields(self):
            value, allowed = getattr(self, f.name), f.metadata
            if f.type == "int":
                value = _checks.integer(f.name, value, low=allowed["low"])
            else:
                value = _checks.number(
                    f.name, value, **{k: allowed[k] for k in ("low", "high", "low_open", "high_open")}
                )
            object.__setattr__(self, f.name, value)


def diagnose(
    record: TrainingRecord,
    options: DiagnoseOptions | None = None,
    *,
    warmup_steps: float | None = None,
    num_classes: int | None = None,
    steps_per_epoch: float | None = None,
    **thresholds: float,
) -> Diagnosis:
    """Find loss spikes in the early phase, non-finite losses, divergence and plateaus.

    See the module documentation for the rules. The thresholds are ``options`` (a :class:`DiagnoseOptions`;
    default its defaults), with any of its fields given as a keyword argument replacing that field
    (``diagnose(record, spike_factor=3)``). ``warmup_steps``, ``num_classes`` and ``steps_per_epoch``
    override ``record.meta`` (``meta['schedule']['warmup_steps']``, ``meta['num_classes']``,
    ``meta['steps_per_epoch']``, which may be fractional: fastai under gradient accumulation).
    Raises ``ValueError`` when the record has no per-update loss at all, or a row that is not valid.
    """
    if not isinstance(record, TrainingRecord):
        raise TypeError(f"record must be a TrainingRecord, got {type(record).__name__}")
    options = _options(options, thresholds)
    record.validate()
    meta = record.meta
    warmup = _given_or_meta(warmup_steps, "warmup_steps", record.warmup_steps, record.warmup_source, _length)
    classes = _given_or_meta(
        num_classes, "num_classes", meta.get("num_classes"), "record.meta['num_classes']", _classes
    )
    per_epoch = _given_or_meta(
        steps_per_epoch, "steps_per_epoch", meta.get("steps_per_epoch"), "record.meta['steps_per_epoch']", _per_epoch
    )
    rows = _rows(record)
    if not rows:
        raise ValueError("the record has no per-update loss: log it with log_update(step, lr, loss)")
    nominal = None if warmup_steps is not None else _adaptive_nominal(meta)
    return _Diagnoser(rows, meta, warmup, classes, per_epoch, options, nominal).run()


def _adaptive_nominal(meta: dict[str, Any]) -> float | None:
    """The nominal length of the record's adaptive warmup (``meta['adaptive']['nominal_warmup']``), or None."""
    report = meta.get("adaptive")
    if not isinstance(report, dict) or report.get("nominal_warmup") is None:
        return None
    return _length("record.meta['adaptive']['nominal_warmup']", report["nominal_warmup"])


def _options(options: object, thresholds: dict[str, float]) -> DiagnoseOptions:
    """``options`` (default :class:`DiagnoseOptions`'s defaults) with the keyword ``thresholds`` replaced."""
    if options is None:
        options = DiagnoseOptions()
    if not isinstance(options, DiagnoseOptions):
        raise TypeError(f"options must be a DiagnoseOptions, got {type(options).__name__}")
    known = [f.name for f in fields(DiagnoseOptions)]
    for name in thresholds:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise TypeError(f"diagnose() got an unknown threshold {name!r}{hint}; the thresholds: {', '.join(known)}")
    return replace(options, **thresholds) if thresholds else options


def _given_or_meta(
    given: object, name: str, from_meta: object, meta_name: str, check: Callable[[str, object], float]
) -> Any:
    """The argument if given, else the record's meta value, checked by ``check`` under the name it came by;
    None when neither is known."""
    if given is not None:
        return check(name, given)
    return None if from_meta is None else check(meta_name, from_meta)


def _length(name: str, value: object) -> float:
    return _checks.number(name, value, low=0)


def _classes(name: str, value: object) -> int:
    if isinstance(value, float) and value.is_integer():  # JSON may hand back 10.0
        value = int(value)
    return _checks.integer(name, value, low=2)


def _per_epoch(name: str, value: object) -> float:
    return _checks.number(name, value, low=0, low_open=True)


class _Diagnoser:
    """What the rules (``RULES``) read, computed once for one record: its rows and meta, the first non-finite
    loss, the spikes, the trend and the suggestions that every sign of too high an LR shares."""

    def __init__(
        self,
        rows: list[_Row],
        meta: dict[str, Any],
        warmup: float | None,
        classes: int | None,
        steps_per_epoch: float | None,
        options: DiagnoseOptions,
        nominal: float | None = None,
    ) -> None:
        self.rows, self.meta, self.warmup, self.classes = rows, meta, warmup, classes
        self.steps_per_epoch, self.options = steps_per_epoch, options
        # An adaptive warmup that is over: its nominal length (the warmup is the length it took)
        self.nominal = nominal if meta.get("warmup_updates") is not None else None
        self.warmup_length = warmup or 0
        self.finite = [r for r in rows if math.isfinite(r.loss)]
        self.early_end = 2 * self.warmup_length if self.warmup_length > 0 else self._early_rows_end()
        self.notes: list[str] = []
        search = meta.get("peak_finder")
        if isinstance(search, dict):
            bases = meta.get("base_lrs")
            bound = bases[0] if isinstance(bases, list) and bases and _checks.is_real(bases[0]) else 1.0
            self.notes.append(peak_verdict(search, bound))
        if nominal is not None and self.nominal is None:
            self.notes.append(
                f"the adaptive warmup (nominal {_num(nominal)} updates) was not over at the last update: "
                "its nominal length is used"
            )

    def _early_rows_end(self) -> float:
        """With no warmup: the step just past the first ``early_fraction`` of the rows."""
        count = max(self.options.burn_in + 1, math.ceil(self.options.early_fraction * len(self.rows)))
        return self.rows[min(count, len(self.rows)) - 1].step + 1

    def run(self) -> Diagnosis:
        findings = tuple(finding for rule in RULES for finding in rule.find(self))
        return Diagnosis(findings, len(self.rows), self.warmup, self.classes, tuple(self.notes), self.nominal)

    @cached_property
    def bad(self) -> _Row | None:
        """The first non-finite loss."""
        return next((r for r in self.rows if not math.isfinite(r.loss)), None)

    @cached_property
    def spikes(self) -> list[tuple[_Row, float]]:
        return self._spikes()

    @cached_property
    def trend(self) -> tuple[str, _Row, str] | None:
        return self._trend()

    @cached_property
    def too_high(self) -> bool:
        """A non-finite loss, a spike or a divergence: a sign that the LR rose too high too fast."""
        return bool(self._signs())

    @cached_property
    def common(self) -> list[Suggestion]:
        """One set of suggestions for every sign of too high an LR, so that the findings agree."""
        firsts = self._signs()
        if not firsts:
            return []
        trouble, what = min(firsts, key=lambda pair: pair[0].step)
        onset = self._onset_row()
        latest = (self.bad, onset, self.spikes[-1][0] if self.spikes else None)
        early = [r.step for r in latest if r is not None and r.step < self.early_end]
        return [*([self._extend(max(early))] if early else []), *self._lower(trouble, what), *self._clip(trouble)]

    def _onset_row(self) -> _Row | None:
        trend = self.trend
        return trend[1] if trend is not None and trend[0] == "divergence" else None

    def _signs(self) -> list[tuple[_Row, str]]:
        """The first spike, the first non-finite loss and the divergence onset that exist, in this order (``min``
        keeps it on ties)."""
        onset = self._onset_row()  # the trend first: its note comes before any suggestion's
        first_spike = self.spikes[0][0] if self.spikes else None
        named = (
            (first_spike, "the first spike"),
            (self.bad, "the first non-finite loss"),
            (onset, "the divergence onset"),
        )
        return [(r, what) for r, what in named if r is not None]

    # ------------------------------------------------------------------ rules
    def _spikes(self) -> list[tuple[_Row, float]]:
        """The spikes in the early phase, each with the running average it was judged against."""
        factor, beta, average, out = self.options.spike_factor, self.options.ema_beta, math.nan, []
        for seen, row in enumerate(self.finite):
            if row.step >= self.early_end:
                break
            if seen >= self.options.burn_in and row.loss > factor * average:
                out.append((row, average))
            value = row.loss if seen == 0 else min(row.loss, factor * average)
            average = value if seen == 0 else beta * average + (1 - beta) * value
        return out

    def spike_message(self, spikes: list[tuple[_Row, float]]) -> str:
        (first, average), last = spikes[0], spikes[-1][0]
        if self.warmup_length == 0:
            during = "in the early phase, with no warmup" if self.warmup == 0 else "in the early phase"
        elif last.step < self.warmup_length:
            during = "during the warmup"
        elif first.step < self.warmup_length:
            during = "during the warmup or just after it"
        else:
            during = "just after the warmup"
        rule = f"loss above {_num(self.options.spike_factor)}x its running average"
        if len(spikes) == 1:
            return f"a loss spike {during} ({rule}): {first.loss:.4g} against an average of {average:.4g}"
        return (
            f"{len(spikes)} loss spikes {during} ({rule}): the first to {first.loss:.4g} against an average "
            f"of {average:.4g}; the last at update {_num(last.step)}"
        )

    def _trend(self) -> tuple[str, _Row, str] | None:
        """``(kind, row, message)`` for a divergence or a plateau, or None."""
        options, losses = self.options, [r.loss for r in self.finite]
        if len(losses) < 2 * options.min_window:
            self.notes.append(
                f"divergence and plateau need at least {2 * options.min_window} finite losses; "
                f"the record has {len(losses)}"
            )
            return None
        window = max(options.min_window, round(options.window_fraction * len(losses)))
        first, last = statistics.median(losses[:window]), statistics.median(losses[-window:])
        compare = f"median loss of the last {window} updates {last:.4g}, of the first {window} {first:.4g}"
        fell = last <= (1 - options.min_improvement) * first
        flat = not fell and last <= (1 + options.min_improvement) * first
        if last > options.divergence_factor * first:
            limit = options.divergence_factor * first
            message = f"the loss grew: {compare} (over {_num(options.divergence_factor)}x)"
            return "divergence", self._onset(limit) or self.finite[-window], message
        plateau = self.finite[-window]
        chance = None if self.classes is None else math.log(self.classes)
        above = None if chance is None else (1 + options.chance_margin) * chance
        if above is not None and last > above:
            onset = None if flat else self._onset(above)
            if onset is not None:  # it was below chance, and rose above it for good
                ratio = f"{1 + options.chance_margin:g}x ln C"
                return "divergence", onset, f"the loss ends above chance: {compare}, over {above:.4g} ({ratio})"
            if not flat:
                return "plateau", plateau, f"the loss never gets below chance: {compare}, ln C = {chance:.4g}"
        if chance is not None and last >= (1 - options.chance_margin) * chance:
            where = "at" if above is None or last <= above else "above"
            return "plateau", plateau, f"the loss does not fall: {compare}, stuck {where} chance (ln C = {chance:.4g})"
        if not fell:
            message = f"the loss does not fall: {compare} (less than {options.min_improvement:.0%} lower)"
            return "plateau", plateau, message
        return None

    def _onset(self, limit: float) -> _Row | None:
        """The row from which the running average of the loss (``A`` without the clipping) stays above
        ``limit`` to the end, after having been at or below it; None without such a crossing (the average
        ends below the limit, or was above it from the first loss, before any update could act)."""
        beta, average, onset, below = self.options.ema_beta, math.nan, None, False
        for i, row in enumerate(self.finite):
            average = row.loss if i == 0 else beta * average + (1 - beta) * row.loss
            if average <= limit:
                onset, below = None, True
            elif onset is None and below:
                onset = row
        return onset

    # ------------------------------------------------------------------ suggestions
    def _extend(self, step: float) -> Suggestion:
        steps = _round_up(max(2 * self.warmup_length, 2 * (step + 1)))
        if self.nominal is not None:
            text = (
                f"extend the warmup to {steps} updates (the adaptive warmup took {_num(self.warmup_length)} of a "
                f"nominal {_num(self.nominal)}): warmup_steps={steps} with AdaptiveWarmup(max_rate=1), which never "
                "runs faster than the nominal pace; a lower AdaptiveWarmup(update_target=...) (default 0.05, the "
                "relative update size it aims at) slows it too"
            )
        elif self.warmup is None:
            text = f"use a warmup of at least {steps} updates (warmup_steps={steps})"
        elif self.warmup_length == 0:
            text = f"add a warmup of {steps} updates (warmup_steps={steps})"
        else:
            text = f"extend the warmup from {_num(self.warmup_length)} to {steps} updates (warmup_steps={steps})"
        return Suggestion("extend_warmup", steps, text)

    def _lower(self, row: _Row, what: str) -> list[Suggestion]:
        if not row.lr:
            self.notes.append(f"no peak-LR suggestion: the record has no positive LR at update {_num(row.step)}")
            return []
        factor = self.options.lower_factor
        value = _round2(factor * row.lr)
        text = f"lower the peak LR to {value:.2g} ({_num(factor)}x the LR {row.lr:.3g} at {what})"
        return [Suggestion("lower_peak_lr", value, text)]

    def raise_peak(self) -> list[Suggestion]:
        peak = max((r.lr for r in self.rows if r.lr is not None and math.isfinite(r.lr)), default=None)
        if not peak:
            self.notes.append("no LR suggestion: the record has no positive LR; check that the LR is set")
            return []
        factor = self.options.raise_factor
        value = _round2(factor * peak)
        text = f"raise the peak LR to {value:.2g} ({_num(factor)}x the largest LR used, {peak:.3g})"
        return [Suggestion("raise_peak_lr", value, text)]

    def lengthen(self) -> Suggestion:
        """Train for ``lengthen_factor`` times the updates of the record (rounded up to two figures)."""
        factor = self.options.lengthen_factor
        updates = self.rows[-1].step + 1
        value = _round_up(factor * updates)
        text = (
            f"or train longer: {value} updates ({_num(factor)}x the {_num(updates)} of this run; total_steps={value})"
        )
        return Suggestion("lengthen_run", value, text)

    def _clip(self, trouble: _Row) -> list[Suggestion]:
        norms = [r.grad_norm for r in self.rows if r.step < trouble.step and r.grad_norm is not None]
        norms = [g for g in norms if math.isfinite(g)]
        if not norms:
            return []
        median = statistics.median(norms)
        factor = self.options.clip_factor
        value = _round2(factor * median)
        text = (
            f"clip the gradient norm at {value:.2g} ({_num(factor)}x the median norm {median:.3g} "
            "before the trouble; torch.nn.utils.clip_grad_norm_)"
        )
        return [Suggestion("clip_grad_norm", value, text)]

    def finding(
        self, kind: str, row: _Row, message: str, suggestions: Sequence[Suggestion], steps: tuple[float, ...] = ()
    ) -> Finding:
        """The finding of ``kind`` at ``row`` (its epoch: ``floor(step / steps_per_epoch)``, None if unknown
        or beyond a float)."""
        epoch = None if self.steps_per_epoch is None else row.step // self.steps_per_epoch
        epoch = int(epoch) if epoch is not None and math.isfinite(epoch) else None
        return Finding(kind, row.step, epoch, row.lr, message, tuple(suggestions), steps or (row.step,))


# ---------------------------------------------------------------------- the rules
def _nonfinite(d: _Diagnoser) -> list[Finding]:
    """``nonfinite``: the first update whose loss is NaN or +-inf."""
    if d.bad is None:
        return []
    return [d.finding("nonfinite", d.bad, f"the loss is {d.bad.loss} (the first non-finite loss)", d.common)]


def _spike(d: _Diagnoser) -> list[Finding]:
    """``spike``: the losses over ``spike_factor`` times their running average in the early phase."""
    if not d.spikes:
        return []
    steps = tuple(r.step for r, _ in d.spikes)
    return [d.finding("spike", d.spikes[0][0], d.spike_message(d.spikes), d.common, steps)]


def _divergence_or_plateau(d: _Diagnoser) -> list[Finding]:
    """``divergence`` or ``plateau``: the last window's median loss against the first's (and chance)."""
    if d.trend is None:
        return []
    kind, row, message = d.trend
    if kind == "plateau":
        cause = "after the spikes or non-finite losses the network has likely collapsed: the LR is too high"
        if not d.too_high:
            cause = "with no spike, the LR is likely too low or the run too short"
        message = f"{message}; {cause}"
    return [d.finding(kind, row, message, d.common if d.too_high else [*d.raise_peak(), d.lengthen()])]


def _peak_too_high(d: _Diagnoser) -> list[Finding]:
    """``peak_too_high``: from an adaptive warmup's report in ``record.meta['adaptive']``."""
    report = d.meta.get("adaptive")
    if not isinstance(report, dict) or report.get("peak_too_high_at") is None:
        return []
    step, factor = report["peak_too_high_at"], report.get("suggested_peak_factor")
    bases = d.meta.get("base_lrs")
    base = bases[0] if isinstance(bases, list) and bases and _checks.is_real(bases[0]) else None
    capped = report.get("peak_factor")
    message = f"the adaptive warmup stalled {report.get('stalls')} times near the peak: the peak LR is too high" + (
        f"; it capped the peak at {capped:.3g}x the base LR" if capped is not None else ""
    )
    suggestions: tuple[Suggestion, ...] = ()
    if base is not None and factor is not None:
        value = _round2(factor * base)
        text = f"lower the peak LR to {value:.2g} ({factor:.3g}x the base LR {base:.3g}, where the warmup stalled)"
        if capped is None:
            text += "; or AdaptiveWarmup(cap_peak=True), which ends the warmup at that lower peak"
        suggestions = (Suggestion("lower_peak_lr", value, text),)
    epoch = None if d.steps_per_epoch is None else int(step // d.steps_per_epoch)
    lr = None if base is None or factor is None else factor * base
    return [Finding("peak_too_high", step, epoch, lr, message, suggestions, (step,))]


@dataclass(frozen=True)
class _Rule:
    """One diagnosis rule: the finding kinds it can give, and ``find(diagnoser) -> [Finding]``."""

    kinds: tuple[str, ...]
    find: Callable[[_Diagnoser], list[Finding]]


RULES: tuple[_Rule, ...] = (
    _Rule(("nonfinite",), _nonfinite),
    _Rule(("spike",), _spike),
    _Rule(("divergence", "plateau"), _divergence_or_plateau),
    _Rule(("peak_too_high",), _peak_too_high),
)
KINDS = tuple(kind for rule in RULES for kind in rule.kinds)


# ---------------------------------------------------------------------- helpers
def peak_verdict(report: dict[str, Any], bound: float) -> str:
    """The one line a :class:`~warmup_plugins.PeakFinder` report comes to, for a group whose bound LR is ``bound``:
    ``"peak found at update k: LR x (y x the bound)"``, or where the search stands."""
    if report.get("decided_at") is None:
        return "peak search still running: no peak chosen yet"
    factor = report["peak_factor"]
    text = f"peak found at update {report['decided_at']}: LR {bound * factor:.3g} ({factor:.3g}x the bound)"
    if report.get("reason") == "bound":
        text += "; the loss never rose up to the bound, so the bound is the peak: a higher bound may do better"
    elif report.get("reason") == "nonfinite":
        text += "; a non-finite loss ended the search"
    return text


def _rows(record: TrainingRecord) -> list[_Row]:
    u = record.updates
    return [
        _Row(_plain_step(step), lr, loss, grad)
        for step, lr, loss, grad in zip(u["step"], u["lr"], u["loss"], u["grad_norm"])
        if loss is not None
    ]


def _plain_step(step: float) -> float:
    """The update index as the report prints it: 3, not 3.0 (a loaded record holds checked steps)."""
    return int(step) if float(step).is_integer() else float(step)


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

"""``PeakFinder``: a warmup that finds its own peak LR during the run, from the run's own losses.

The optimizer's LR of each param group is the **bound**: the highest LR the user allows. Write ``B_i`` for group
``i``'s bound, ``T`` for the schedule's total and ``R = search_fraction * T`` for the longest search. Every group
uses ``B_i * a(k)`` at update ``k``, one factor ``a`` for all groups (their ratios are kept):

* **search** (the warmup): ``a = low ** (1 - r / R)``, a geometric ramp from ``low`` to 1 (the bound), where the
  ramp position ``r`` advances by one per update and holds while the loss is suspect (below). The losses are
  smoothed, ``S = EMA_beta(L)`` debiased as fastai's ``Recorder`` does, with ``beta = 1 - 1 / smoothing``
  (``smoothing`` updates, default ``R / 20``: one ``1000 ** (1 / 20) = 1.41x`` step of the ramp); ``S*`` is the
  lowest ``S`` so far and ``d = max(margin * S*, z * sd)`` the rise that counts, ``sd`` the standard deviation of
  ``S`` (from the spread of ``L`` around it). When ``S > S* + d`` the ramp **holds** at its LR; if ``S`` comes back
  to ``S* + d / 2`` within ``patience`` updates, it goes on; if not, that LR is the **edge** of stability. A
  non-finite loss makes the current LR the edge at once.
* **decision**: the peak is ``p = safety * edge`` (a factor of the bound). A search that reaches the bound without
  an edge keeps the bound as the peak (``p = 1``): raise the bound if that happens. ``safety=0.3`` comes from the
  two set-ups the rule was developed on (``benchmarks/results/peak``): the edges found were 0.004-0.01 for the
  seed CNN with Adam, whose best fixed peaks were 1e-3 to 3e-3, and 0.5-1.2 for a CIFAR ResNet with SGD, best at
  0.1 to 0.3; and a peak too high costs more than one too low (the seed CNN: 3x above its best peak, -4 points;
  3x below, none).
* **after it**, from the decision at update ``k_d``: ``a = p * f(s)``, ``f`` the schedule's decay and
  ``s = (k - k_d) * T / (T - k_d)``: the whole decay runs from the found peak over the remaining updates and still
  ends at ``T`` (``f(T)`` times the peak after it).

Every rank of a ``torch.distributed`` run reduces the loss (the mean over the ranks) before judging it, so all take
the same decision. The state is a few plain numbers (format ``'version'`` 1): a resume mid-search or after the
decision continues exactly. ``report()`` says what happened; :meth:`summary` is the one-line verdict
``"peak found at update k: LR x (y x the bound)"``; a :class:`~warmup_plugins.TrainingRecord` keeps the report in
``meta['peak_finder']`` and its rows draw the search as ``lr_find`` does
(:func:`warmup_plugins.monitoring.plotting.plot_peak_search`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar

from .._errors import named
from ..core import _checks
from ..core.schedule import WarmupSchedule

__all__ = ["PeakFinder"]

STATE_VERSION = 1
MIN_SEARCH = 50  # updates: the shortest search that smooths, holds and decides on its own evidence
REASONS = ("rise", "nonfinite", "bound", "cap")


@dataclass
class PeakFinder:
    """Find the peak LR during the warmup, then decay from it; see the module docs for the rule.

    Use it as an adaptive warmup of a schedule without a warmup of its own, the optimizer's LR as the bound::

        optimizer = torch.optim.AdamW(model.parameters(), lr=0.1)  # no LR above 0.1
        scheduler = WarmupLR(optimizer, total_steps=T, decay_type="cosine", adaptive=PeakFinder())
        ...
        scheduler.step(loss=loss.item())  # every update: the search reads the loss
    """

    REPORT_KEY: ClassVar[str] = "peak_finder"  # where a training record keeps report()

    low: float = 1e-3
    search_fraction: float = 0.25
    safety: float = 0.3
    smoothing: float | None = None
    margin: float = 0.03
    z: float = 3.0
    patience: int | None = None
    updates: int = field(default=0, init=False)
    position: int = field(default=0, init=False)
    seen: int = field(default=0, init=False)
    moving: float = field(default=0.0, init=False)
    spread: float | None = field(default=None, init=False)
    best: float | None = field(default=None, init=False)
    best_position: int | None = field(default=None, init=False)
    hold_start: int | None = field(default=None, init=False)
    holds: int = field(default=0, init=False)
    decided_at: int | None = field(default=None, init=False)
    reason: str | None = field(default=None, init=False)
    edge_factor: float | None = field(default=None, init=False)
    peak_factor: float | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        for name, value in _checked_settings({f.name: getattr(self, f.name) for f in fields(self) if f.init}).items():
            setattr(self, name, value)
        self._total = 0.0
        self._schedule: WarmupSchedule | None = None
        self._device: object = None

    # ------------------------------------------------------------------ binding
    def bind(self, schedule: WarmupSchedule, param_groups: object = None) -> PeakFinder:
        """Attach to ``schedule`` (no warmup of its own, a ``total_steps``); ``param_groups`` only tell the device
        the distributed reduction uses. Raises when the run is too short to search."""
        check_schedule(schedule, self.search_fraction)
        self._schedule = schedule
        self._total = float(schedule.total_steps)  # type: ignore[arg-type]
        if param_groups is not None:
            self._device = _first_device(param_groups)
        return self

    @property
    def search_updates(self) -> int:
        """``R``: the updates the ramp takes from ``low`` to the bound (without holds)."""
        return max(1, math.floor(self.search_fraction * self._total))

    @property
    def window(self) -> float:
        """The smoothing window in updates: ``smoothing``, or ``R / 20`` (at least 10)."""
        return self.smoothing if self.smoothing is not None else max(10.0, self.search_updates / 20)

    @property
    def wait(self) -> int:
        """How long a hold may last before its LR is the edge: ``patience``, or twice the window."""
        return self.patience if self.patience is not None else math.ceil(2 * self.window)

    @property
    def in_warmup(self) -> bool:
        return self.decided_at is None

    @property
    def warmup_done_at(self) -> int | None:
        """The update the search ended (the warmup's length), or None while it goes on."""
        return self.decided_at

    def ramp(self, position: float) -> float:
        """The search's factor at ramp position ``position``: ``low ** (1 - position / R)``."""
        return self.low ** (1 - min(position, self.search_updates) / self.search_updates)

    # ------------------------------------------------------------------ the schedule's position
    def where(self) -> tuple[float, float]:
        """``(s, c)``: the next update uses ``c * f(s)`` of each group's bound (the Driver writes it)."""
        if self.decided_at is None:
            return 0.0, self.ramp(self.position)
        done, total = self.decided_at, self._total
        if self.updates >= total:
            return total, self.peak_factor  # type: ignore[return-value]
        return (self.updates - done) * total / (total - done), self.peak_factor  # type: ignore[return-value]

    # ------------------------------------------------------------------ the search
    def observe(self, loss: float | None = None, grad_norm: float | None = None) -> None:
        """Judge one finished update's loss (reduced over the ranks under ``torch.distributed``)."""
        loss = _checks.scalar("loss", loss)
        _checks.scalar("grad_norm", grad_norm)
        if self.decided_at is None and loss is None:
            raise ValueError(
                "PeakFinder needs the loss of every update while it searches: pass it, e.g. scheduler.step(loss=...)"
            )
        self.updates += 1
        if self.decided_at is not None:
            return
        from .distributed import reduce_signals  # imports torch: not at package import

        loss = reduce_signals(loss, None, None, self._device)[0]
        self._judge(loss)  # type: ignore[arg-type]

    def _judge(self, loss: float) -> None:
        if not math.isfinite(loss):
            self._decide("nonfinite", self.ramp(self.position))
            return
        smooth, spread = self._smooth(loss)
        if self.seen <= self.window:  # burn-in: no judgement before one window of losses
            self._advance()
            return
        if self.best is None or smooth < self.best:
            self.best, self.best_position = smooth, self.position
        rise = max(self.margin * abs(self.best), self.z * spread)
        if self.hold_start is not None:
            if smooth <= self.best + rise / 2:
                self.hold_start = None  # it came back: not the edge
                self._advance()
            elif self.updates - self.hold_start >= self.wait:
                self._decide("rise", self.ramp(self.position))
        elif smooth > self.best + rise:
            self.hold_start, self.holds = self.updates, self.holds + 1
        else:
            self._advance()

    def _smooth(self, loss: float) -> tuple[float, float]:
        """Add ``loss`` to the debiased moving average; return it and its standard deviation."""
        beta = 1 - 1 / self.window
        before = self.moving / (1 - beta**self.seen) if self.seen else loss
        self.seen += 1
        self.moving = beta * self.moving + (1 - beta) * loss
        residual = (loss - before) ** 2
        self.spread = residual if self.spread is None else beta * self.spread + (1 - beta) * residual
        return self.moving / (1 - beta**self.seen), math.sqrt(self.spread * (1 - beta) / (1 + beta))

    def _advance(self) -> None:
        self.position += 1
        if self.position >= self.search_updates:
            self._decide("bound", 1.0)
        elif self.updates >= 2 * self.search_updates:  # holds took as long as the ramp: this LR is near the edge
            self._decide("cap", self.ramp(self.position))

    def _decide(self, reason: str, edge: float) -> None:
        self.decided_at, self.reason, self.hold_start = self.updates, reason, None
        self.edge_factor = float(edge)
        self.peak_factor = 1.0 if reason == "bound" else float(min(1.0, self.safety * edge))

    # ------------------------------------------------------------------ report
    def report(self) -> dict[str, Any]:
        """What the search did, as plain data (kept in a training record's ``meta['peak_finder']``)."""
        return {
            "warmup_updates": self.decided_at,
            "decided_at": self.decided_at,
            "reason": self.reason,
            "peak_factor": self.peak_factor,
            "edge_factor": self.edge_factor,
            "holds": self.holds,
            "search_updates": self.search_updates if self._total else None,
            "low": self.low,
            "safety": self.safety,
        }

    def summary(self, bound: float = 1.0) -> str:
        """``"peak found at update k: LR x (y x the bound)"`` for a group whose bound LR is ``bound``."""
        from ..monitoring.diagnosis import peak_verdict

        return peak_verdict(self.report(), bound)

    # ------------------------------------------------------------------ state (plain numbers)
    def state_dict(self) -> dict[str, Any]:
        """The settings and the running state: a few plain numbers, format under ``'version'``."""
        return {**asdict(self), "version": STATE_VERSION}

    def check_state(self, state: object, schedule: WarmupSchedule) -> None:
        """Raise as ``bind(schedule)`` then ``load_state_dict(state)`` would, changing nothing."""
        settings, _ = _decoded(state)
        check_schedule(schedule, settings["search_fraction"])

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a saved state (every value checked before any is applied)."""
        settings, running = _decoded(state)
        for name, value in {**settings, **running}.items():
            setattr(self, name, value)


def check_schedule(schedule: object, search_fraction: float) -> None:
    """The schedule a ``PeakFinder`` drives: one ``WarmupSchedule``, no warmup of its own, a total long enough."""
    if not isinstance(schedule, WarmupSchedule):
        raise TypeError(
            f"PeakFinder needs one WarmupSchedule shared by all param groups, got {type(schedule).__name__}"
        )
    if schedule.warmup_steps != 0:
        raise ValueError(
            f"PeakFinder ramps the warmup itself: build the schedule without one (warmup_steps=0, got "
            f"{schedule.warmup_steps:g}); the search takes at most search_fraction x total_steps updates"
        )
    if schedule.total_steps is None:
        raise ValueError("PeakFinder needs total_steps: its search takes search_fraction x total_steps updates")
    search = math.floor(search_fraction * schedule.total_steps)
    if search < MIN_SEARCH:
        raise ValueError(
            f"total_steps={schedule.total_steps:g} is too short to search for a peak: the search "
            f"(search_fraction={search_fraction:g} x total_steps = {search} updates) needs at least {MIN_SEARCH}; "
            "raise total_steps or search_fraction, or use a fixed warmup"
        )


def _checked_settings(given: dict[str, Any]) -> dict[str, Any]:
    """A ``PeakFinder``'s settings, checked and converted, naming the one at fault."""
    n, s = _checks.number, dict(given)
    s["low"] = float(n("low", s["low"], low=0, high=1, low_open=True, high_open=True))
    s["search_fraction"] = float(n("search_fraction", s["search_fraction"], low=0, high=0.5, low_open=True))
    s["safety"] = float(n("safety", s["safety"], low=0, high=1, low_open=True))
    if s["smoothing"] is not None:
        s["smoothing"] = float(n("smoothing", s["smoothing"], low=1, low_open=True))
    s["margin"] = float(n("margin", s["margin"], low=0))
    s["z"] = float(n("z", s["z"], low=0))
    if s["patience"] is not None:
        s["patience"] = _checks.integer("patience", s["patience"], low=1)
    return s


def _decoded(state: object) -> tuple[dict[str, Any], dict[str, Any]]:
    """A saved state's settings and running state, every value checked; nothing applied (errors named
    ``PeakFinder.load_state_dict``, whoever checks)."""
    with named("PeakFinder.load_state_dict"):
        return _decoded_unnamed(state)


def _decoded_unnamed(state: object) -> tuple[dict[str, Any], dict[str, Any]]:
    if not isinstance(state, dict):
        raise TypeError(f"expected a dict, got {type(state).__name__}")
    state = dict(state)
    version = state.pop("version", None)
    if version != STATE_VERSION:
        raise ValueError(f"unknown state version {version!r} (this release reads {STATE_VERSION})")
    expected = {f.name for f in fields(PeakFinder)}
    missing, extra = sorted(expected - set(state)), sorted(set(state) - expected)
    if missing or extra:
        raise KeyError(f"missing keys {missing}, unexpected keys {extra}")
    settings = _checked_settings({f.name: state[f.name] for f in fields(PeakFinder) if f.init})
    i, x = _checks.integer, _checks.number
    running: dict[str, Any] = {}
    for name in ("updates", "position", "seen", "holds"):
        running[name] = i(name, state[name], low=0)
    running["moving"] = float(x("moving", state["moving"]))
    for name in ("spread", "best"):
        running[name] = (
            None if state[name] is None else float(x(name, state[name], low=0 if name == "spread" else None))
        )
    for name in ("best_position", "hold_start", "decided_at"):
        running[name] = None if state[name] is None else i(name, state[name], low=0)
    reason = state["reason"]
    if reason is not None and reason not in REASONS:
        raise ValueError(f"reason must be one of {REASONS} or None, got {reason!r}")
    running["reason"] = reason
    for name in ("edge_factor", "peak_factor"):
        running[name] = None if state[name] is None else float(x(name, state[name], low=0, high=1, low_open=True))
    if (running["decided_at"] is None) != (running["peak_factor"] is None):
        raise ValueError("decided_at and peak_factor must both be set (after the decision) or both None")
    if running["decided_at"] is not None and running["decided_at"] > running["updates"]:
        raise ValueError(f"decided_at ({running['decided_at']}) is after updates ({running['updates']})")
    return settings, running


def _first_device(param_groups: object) -> object:
    from .update_size import param_lists

    return param_lists(param_groups)[0][0].device

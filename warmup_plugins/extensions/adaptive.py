"""``AdaptiveWarmup``: a warmup whose progress responds to the loss and to the size of each update.

The schedule ``f`` is evaluated at a clock ``s`` instead of the update index ``k``; ``W`` is the
schedule's warmup length, ``T`` its total, ``P = f(W)`` its peak. During warmup each observed
update moves the clock by a verdict on its loss ``L`` and gradient norm ``g``, judged from the
first update on against a reference no spike can enter: ``R = min(L_0, A)``, ``L_0`` the first
finite loss (taken at the start LR, on the initial weights) and ``A`` a moving average (``ema_beta``)
of the losses judged stable; the gradient norm against the average ``G`` of the stable ones:

* severe, ``L > severe_factor * R`` or a non-finite ``L`` or ``g``:
  ``s -= max(1, round(rollback_fraction * W))`` (not below 0);
* spike, ``L > spike_factor * R`` or ``g > grad_factor * G``: ``s`` holds;
* stable: ``s`` advances by the *rate*. Without ``param_groups`` the rate is 1 (the nominal warmup).
  With them (the adapters pass the optimizer's), the relative update ``r = ||dw|| / ||w||`` of the
  update just made is measured (largest over the param groups, every ``measure_every`` updates; see
  :mod:`~warmup_plugins.extensions.update_size`), and the clock goes to the furthest ``s'`` in
  ``[s, s + max_rate]`` with ``f(s') <= f(s) * update_target / r`` (the update size grows in
  proportion to the LR), so the next update's ``r`` stays near ``update_target``; ``r`` above the
  target holds the clock. Updates in between reuse the last rate. ``update_target`` defaults to 0.05
  (each update moves the weights by 5% of their norm): on the seed CNN with Adam, the relative update
  of the first updates from the initial weights is 0.2-0.9 at LRs 0.003-0.03 (the loss jumps), while
  a calm 1-epoch linear warmup to 0.03 keeps it near 0.05; ``None`` turns the signal off.

``probe=True`` first runs a catapult probe (Kalra & Barkeshli, 2024): each stable update doubles
``f(s)``, for at most ``probe_updates`` updates; at the first spike (or ``r`` over the target) the
clock goes back two doublings (the loss shows an LR one update late), and the warmup goes on from
there. ``start_factor`` reports the factor it starts from (``f(0)`` without the probe).

A too-high peak: an update of the warmup whose clock does not advance while ``f(s) >= stall_level * P``
is a stall. After ``stall_patience`` stalls, ``peak_too_high_at`` is set (that update) and ``suggested_peak_factor``
``= f(s) / P`` (the peak LR to use, as a fraction of the one given). Then, by default (``cap_peak=None``: cap
whenever the schedule has a ``total_steps``; ``True`` requires one), the warmup ends there and the decay starts from
its point ``s_d`` where ``f(s_d) = f(s)``: the effective peak is ``f(s)`` (``peak_factor``). With
``cap_peak=False`` (or no ``total_steps``) the update size no longer holds the clock instead (stable updates advance
it by 1, the nominal pace, so the warmup does not stall for ever; the loss rules still apply) and the warmup goes on
to the peak it was given. Capping is the default because it is what helped, measured on held-out set-ups: issue 27's
two rounds (the seed CNN with Adam at 3x a fine peak: +4.4 points [+2.8, +6.0] over its nominal fixed warmup, where
going on to the peak lost 4.2 [-5.7, -2.8]) and this release's benchmark (``benchmarks/results/peak``).

The warmup ends at update ``k_w`` when ``s`` reaches ``W``, at the latest at ``cap =
min(max(max_warmup_factor * W, max_warmup_fraction * T), max(W, T / 2))`` (at most half the run unless
the nominal warmup is longer, so never past ``T`` and the decay keeps its room): the clock never falls behind
``W - (cap - k) * W / max(cap - W, W)`` (the nominal warmup, started at update ``W`` and stretched
to end at the cap). After it the decay runs over the remaining updates,
``s = s_d + (k - k_w) * (T - s_d) / (T - k_w)`` (``s_d = W`` unless capped), so the schedule still
ends at ``T``. The warmup length a run really took is ``warmup_done_at`` (also kept in a training
record's ``meta['warmup_updates']``, with :meth:`report` in ``meta['adaptive']``).

An update that moved no weight (a ``GradScaler`` skip, zero gradients) or that brings neither a loss nor a
measurement gives no evidence: the clock advances by one (the nominal pace, never ``max_rate``), counted in
``skips``. Under ``torch.distributed`` the signals are reduced over the ranks once per warmup update (the mean
loss and gradient norm, the largest update size; one ``all_gather`` of 6 float64 per rank), so every rank
takes the same decision.

Everything is plain arithmetic on the observed values: the same feedback gives the same clock, and
the state dict (plain numbers, format ``'version'`` 3) resumes it exactly. The weight snapshot the next
measurement needs is not saved: it is re-taken from the parameters when the state is loaded, so load the
model first (as hosts do: model, optimizer, then scheduler). At most one copy of the weights is held, only
during the warmup. One ``AdaptiveWarmup`` serves one scheduler: a second scheduler (or callback) given it
raises at construction.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar

from .._errors import named
from ..core import _checks
from ..core.schedule import WarmupSchedule
from .update_size import UpdateProbe, UpdateSize

__all__ = ["AdaptiveWarmup"]

_BISECTIONS = 48
STATE_VERSION = 3  # of the adaptive sub-state: 39dcdd3 (1), 7bf4816 (2, with a weight snapshot), this (3)


def _migrate(state: object) -> dict[str, Any]:
    """A saved adaptive state in today's keys (no ``'version'``): 7bf4816's loses its weight snapshot (re-taken
    from the loaded parameters); 39dcdd3's (another rule) is refused."""
    if not isinstance(state, dict):
        raise TypeError(f"expected a dict, got {type(state).__name__}")
    state = dict(state)
    version = state.pop("version", None)
    if version is None and {"burn_in", "stable_seen"} <= set(state):
        raise ValueError(
            "this adaptive state was saved by release 39dcdd3, whose warmup followed "
            "another rule that cannot be continued exactly; resume from the model and optimizer with a new "
            "AdaptiveWarmup(), or finish the run with the release that saved it"
        )
    if version is None:
        state.pop("snapshot", None)  # 7bf4816: the weights after the last update, re-taken from the loaded model
        state.setdefault("skips", 0)
    elif version != STATE_VERSION:
        raise ValueError(
            f"unknown adaptive state version {version!r} (this release reads "
            f"{STATE_VERSION} and the unversioned 7bf4816 states); load it with the release that saved it"
        )
    return state


@dataclass
class AdaptiveWarmup:
    """Feedback-driven warmup progress; see the module docs for the rules."""

    spike_factor: float = 1.5
    severe_factor: float = 3.0
    grad_factor: float = 5.0
    rollback_fraction: float = 0.1
    ema_beta: float = 0.9
    max_warmup_factor: float = 1.0
    max_warmup_fraction: float = 0.25
    update_target: float | None = 0.05
    max_rate: float = 4.0
    measure_every: int = 1
    probe: bool = False
    probe_updates: int = 8
    cap_peak: bool | None = None
    stall_level: float = 0.5
    stall_patience: int = 20
    updates: int = field(default=0, init=False)
    clock: float = field(default=0, init=False)
    loss_ref: float | None = field(default=None, init=False)
    loss_ema: float | None = field(default=None, init=False)
    grad_ema: float | None = field(default=None, init=False)
    warmup_done_at: int | None = field(default=None, init=False)
    holds: int = field(default=0, init=False)
    rollbacks: int = field(default=0, init=False)
    size_holds: int = field(default=0, init=False)
    skips: int = field(default=0, init=False)
    rate: float = field(default=1.0, init=False)
    last_update_size: float | None = field(default=None, init=False)
    probing: bool = field(default=False, init=False)
    probe_clocks: list[float] = field(default_factory=list, init=False)
    start_factor: float | None = field(default=None, init=False)
    stalls: int = field(default=0, init=False)
    peak_too_high_at: int | None = field(default=None, init=False)
    suggested_peak_factor: float | None = field(default=None, init=False)
    decay_start: float | None = field(default=None, init=False)
    peak_factor: float | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        for name, value in _checked_settings({f.name: getattr(self, f.name) for f in fields(self) if f.init}).items():
            setattr(self, name, value)
        self._schedule: WarmupSchedule | None = None
        self._warmup, self._total = 0.0, math.inf
        self._probe: UpdateProbe | None = None  # measures the update sizes of the optimizer's param groups

    # ------------------------------------------------------------------ binding
    def bind(self, schedule: WarmupSchedule, param_groups: object = None) -> AdaptiveWarmup:
        """Attach to ``schedule`` (its ``W``, ``T`` and shape) and, if given, the optimizer's
        ``param_groups`` whose update sizes it measures (kept when None); returns self."""
        _check_schedule(schedule)
        if self.cap_peak and schedule.total_steps is None:
            raise ValueError("AdaptiveWarmup(cap_peak=True) needs a schedule with total_steps (the decay it lowers)")
        if param_groups is not None:
            self._probe = UpdateProbe(param_groups, self.measure_every)
        self._schedule = schedule
        self._warmup = float(schedule.warmup_steps)
        self._total = math.inf if schedule.total_steps is None else float(schedule.total_steps)
        if self.updates == 0:
            self.start_factor = float(schedule(0))
            self.probing = self.probe and self._warmup > 0
        if self._warmup == 0 and self.warmup_done_at is None:
            self.warmup_done_at = 0
        if param_groups is not None and self._measuring:
            self._probe.prepare(self.updates)  # type: ignore[union-attr]  # the weights the next update starts from
        return self

    REPORT_KEY: ClassVar[str] = "adaptive"  # where a training record keeps report()

    def where(self) -> tuple[float, float]:
        """``(s, c) = (clock, 1)``: the next update uses ``f(clock)`` of each group's base value (the Driver
        writes it)."""
        return self.clock, 1.0

    @property
    def _measuring(self) -> bool:
        return self._probe is not None and self.update_target is not None and self.warmup_done_at is None

    @property
    def in_warmup(self) -> bool:
        return self.warmup_done_at is None

    @property
    def peak_too_high(self) -> bool:
        """True once the warmup stalled ``stall_patience`` times near the peak (at update ``peak_too_high_at``)."""
        return self.peak_too_high_at is not None

    @property
    def cap(self) -> float:
        """The update by which the warmup ends at the latest."""
        cap = self.max_warmup_factor * self._warmup
        if math.isfinite(self._total):
            cap = min(max(cap, self.max_warmup_fraction * self._total), max(self._warmup, self._total / 2))
        return cap

    # ------------------------------------------------------------------ the clock
    def observe(self, loss: float | None = None, grad_norm: float | None = None) -> float:
        """Record one finished update's loss and gradient norm; return the clock for the next update.

        Under ``torch.distributed`` every rank passes its own values; during the warmup they are reduced
        (the mean loss and gradient norm, the largest update size) in one all-reduce, so every rank takes
        the same decision."""
        loss, grad_norm = _checks.scalar("loss", loss), _checks.scalar("grad_norm", grad_norm)
        self.updates += 1
        if self.warmup_done_at is None:
            from .distributed import reduce_signals  # imports torch: not at package import

            size = self._measure()
            loss, grad_norm, size = reduce_signals(loss, grad_norm, size, self._device())
            self._warmup_step(loss, grad_norm, size)
        else:
            self.clock = self._decay_clock()
        return self.clock

    def _device(self) -> object:
        return None if self._probe is None else self._probe.device

    def _warmup_step(self, loss: float | None, grad_norm: float | None, size: float | None) -> None:
        before = self.clock
        if size == 0 or (size is None and loss is None and grad_norm is None):
            # no weight moved (a GradScaler skip, zero gradients) or nothing observed: no evidence
            self.skips += 1
            self.clock = min(self._warmup, self.clock + 1)
        else:
            self._judged_step(self._judge(loss, grad_norm), size)
            self._check_stall(before)
        self.clock = max(self.clock, self._floor())
        if self.warmup_done_at is None and self.clock >= self._warmup:
            self._finish(self._warmup)

    def _judged_step(self, verdict: str, size: float | None) -> None:
        if self.probing:
            self._probe_step(verdict, size)
        elif verdict == "severe":
            self.rollbacks += 1
            self.clock = max(0.0, self.clock - max(1, round(self.rollback_fraction * self._warmup)))
        elif verdict == "spike":
            self.holds += 1
        else:
            if self.peak_too_high_at is not None:
                self.rate = 1.0  # reported: the nominal pace from here on, not a stall for ever
            elif size is not None:
                self.rate = self._rate(size)
                self.size_holds += self.rate == 0
            self.clock = min(self._warmup, self.clock + self.rate)

    def _floor(self) -> float:
        """The slowest clock allowed: the nominal warmup shape, started at update ``W`` and stretched to end
        at the cap, ``W - (cap - k) * W / max(cap - W, W)``."""
        w = self._warmup
        return w - (self.cap - self.updates) * w / max(self.cap - w, w) if w > 0 else 0.0

    def _judge(self, loss: float | None, grad_norm: float | None) -> str:
        if (loss is not None and not math.isfinite(loss)) or (grad_norm is not None and not math.isfinite(grad_norm)):
            return "severe"
        if loss is not None and self.loss_ref is not None:
            reference = min(self.loss_ref, self.loss_ema)  # type: ignore[type-var]
            if loss > self.severe_factor * reference:
                return "severe"
            if loss > self.spike_factor * reference:
                return "spike"
        if grad_norm is not None and self.grad_ema is not None and grad_norm > self.grad_factor * self.grad_ema:
            return "spike"
        if loss is not None and self.loss_ref is None:
            self.loss_ref = loss
        self.loss_ema = _ema(self.loss_ema, loss, self.ema_beta)
        self.grad_ema = _ema(self.grad_ema, grad_norm, self.ema_beta)
        return "stable"

    def _measure(self) -> float | None:
        """This update's relative size when one is due (None otherwise)."""
        if not self._measuring:
            return None
        size = self._probe.measure(self.updates)  # type: ignore[union-attr]
        if size is not None:
            self.last_update_size = size
        return size

    def _rate(self, size: float) -> float:
        """How far the clock may move so that the next update's relative size stays under the target."""
        allowed = self.update_target / size if size > 0 else math.inf  # type: ignore[operator]
        if allowed < 1:
            return 0.0
        hi = min(self._warmup, self.clock + self.max_rate)
        return (
            _clock_for(self._schedule, _factor(self._schedule, self.clock) * allowed, self.clock, hi, rising=True)
            - self.clock
        )

    # ------------------------------------------------------------------ the probe and the too-high-peak watch
    def _probe_step(self, verdict: str, size: float | None) -> None:
        target = self.update_target
        safe = verdict == "stable" and (size is None or target is None or size <= target)
        if safe:
            self.probe_clocks.append(self.clock)
            self.clock = _clock_for(
                self._schedule, 2 * _factor(self._schedule, self.clock), self.clock, self._warmup, rising=True
            )
            if len(self.probe_clocks) < self.probe_updates and self.clock < self._warmup:
                return
        else:
            history = self.probe_clocks
            self.clock = history[-2] if len(history) >= 2 else 0.0
        self.probing = False
        self.start_factor = float(_factor(self._schedule, self.clock))

    def _check_stall(self, before: float) -> None:
        peak = _factor(self._schedule, self._warmup)
        if self.clock > before or peak <= 0 or _factor(self._schedule, self.clock) < self.stall_level * peak:
            return
        self.stalls += 1
        if self.stalls < self.stall_patience or self.peak_too_high_at is not None:
            return
        self.peak_too_high_at = self.updates
        self.suggested_peak_factor = float(_factor(self._schedule, self.clock) / peak)
        if self.cap_peak or (self.cap_peak is None and math.isfinite(self._total)):
            self._finish(self.clock)

    def _finish(self, at: float) -> None:
        """End the warmup at clock ``at``: the decay starts where it first falls to ``f(at)``."""
        self.warmup_done_at = self.updates
        self._probe_release()
        if at >= self._warmup:
            self.decay_start = self._warmup
        else:
            self.peak_factor = float(_factor(self._schedule, at))
            self.decay_start = _clock_for(self._schedule, self.peak_factor, self._warmup, self._total, rising=False)
        self.clock = self.decay_start if self.updates < self._total else self._total

    def _decay_clock(self) -> float:
        done, start = self.warmup_done_at, self.decay_start
        start = self._warmup if start is None else start
        rest = self._total - done  # type: ignore[operator]
        if not math.isfinite(rest):
            return start + (self.updates - done)  # type: ignore[operator]
        if rest <= 0:
            return self._total + (self.updates - done)  # type: ignore[operator]
        return start + (self.updates - done) * (self._total - start) / rest  # type: ignore[operator]

    def _probe_release(self) -> None:
        if self._probe is not None:
            self._probe.release()  # the warmup is over (or a state replaces it): no copy kept

    # ------------------------------------------------------------------ report and state (plain numbers)
    def report(self) -> dict[str, Any]:
        """What the warmup did, as plain data (kept in a training record's ``meta['adaptive']``)."""
        return {
            "warmup_updates": self.warmup_done_at,
            "nominal_warmup": self._warmup,
            "start_factor": self.start_factor,
            "holds": self.holds,
            "rollbacks": self.rollbacks,
            "size_holds": self.size_holds,
            "skips": self.skips,
            "stalls": self.stalls,
            "peak_too_high_at": self.peak_too_high_at,
            "suggested_peak_factor": self.suggested_peak_factor,
            "peak_factor": self.peak_factor,
        }

    def check_state(self, state: object, schedule: WarmupSchedule) -> None:
        """Raise as a fresh instance's ``bind(schedule)`` then ``load_state_dict(state)`` would, changing nothing;
        and where the state could not run on ``schedule``: the warmup ended at an update not yet made, or the decay
        starting outside ``[W, T]`` (its clock would go below 0 after ``T``)."""
        _check_schedule(schedule)
        running = _decoded(state)[1]
        for name in ("warmup_done_at", "peak_too_high_at"):
            if running[name] is not None and running[name] > running["updates"]:
                raise ValueError(f"{name} ({running[name]}) must be at most updates ({running['updates']})")
        start, w = running["decay_start"], schedule.warmup_steps
        total = math.inf if schedule.total_steps is None else schedule.total_steps
        if start is not None and not w <= start <= total:
            raise ValueError(f"decay_start ({start!r}) must lie in the schedule's decay, [{w}, {total}]")

    def state_dict(self) -> dict[str, Any]:
        """The settings and the running state: plain numbers (a few hundred bytes, whatever the model size),
        with the sub-state's format under ``'version'``."""
        return {**asdict(self), "version": STATE_VERSION}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a state of this format, or of 7bf4816's (its weight snapshot dropped). The weight snapshot the
        next measurement needs is re-taken from the parameters as they are now: load the model first (as the
        hosts do: model, optimizer, then scheduler) and the resume is exact."""
        settings, running = _decoded(state)  # all checked before any is applied
        for name, value in {**settings, **running}.items():
            setattr(self, name, value)
        self._probe_release()
        if self._probe is not None:
            self._probe.every = self.measure_every  # the saved setting
        if self._measuring:
            self._probe.prepare(self.updates)  # type: ignore[union-attr]  # the weights the next update starts from


def _check_schedule(schedule: object) -> None:
    """The schedule ``bind`` needs: one ``WarmupSchedule`` with a prefix warmup."""
    if not isinstance(schedule, WarmupSchedule):
        raise TypeError(
            f"AdaptiveWarmup needs one WarmupSchedule shared by all param groups, got {type(schedule).__name__}"
        )
    if not schedule.warmup_prefix:
        raise ValueError("AdaptiveWarmup needs a prefix warmup (warmup_prefix=True)")


def _decoded(state: object) -> tuple[dict[str, Any], dict[str, Any]]:
    """A saved state's settings and running state, every value checked (and converted); nothing applied. Its errors
    are named ``AdaptiveWarmup.load_state_dict``, whoever checks (the adapters check it before they apply a state)."""
    with named("AdaptiveWarmup.load_state_dict"):
        return _decoded_unnamed(state)


def _decoded_unnamed(state: object) -> tuple[dict[str, Any], dict[str, Any]]:
    state = _migrate(state)
    expected = {f.name for f in fields(AdaptiveWarmup)}
    missing, extra = sorted(expected - set(state)), sorted(set(state) - expected)
    if missing or extra:
        raise KeyError(f"missing keys {missing}, unexpected keys {extra}")
    settings = _checked_settings({f.name: state[f.name] for f in fields(AdaptiveWarmup) if f.init})
    return settings, _check_running(state)  # the running state is the init=False fields


def _checked_settings(given: dict[str, Any]) -> dict[str, Any]:
    """An ``AdaptiveWarmup``'s settings, checked and converted, naming the one at fault."""
    n, s = _checks.number, dict(given)
    s["spike_factor"] = n("spike_factor", s["spike_factor"], low=1, low_open=True)
    s["severe_factor"] = n("severe_factor", s["severe_factor"], low=s["spike_factor"])
    s["grad_factor"] = n("grad_factor", s["grad_factor"], low=1, low_open=True)
    s["rollback_fraction"] = n("rollback_fraction", s["rollback_fraction"], low=0, high=1)
    s["ema_beta"] = n("ema_beta", s["ema_beta"], low=0, high=1, high_open=True)
    s["max_warmup_factor"] = n("max_warmup_factor", s["max_warmup_factor"], low=1)
    s["max_warmup_fraction"] = n("max_warmup_fraction", s["max_warmup_fraction"], low=0, high=1)
    if s["update_target"] is not None:
        s["update_target"] = n("update_target", s["update_target"], low=0, low_open=True)
    s["max_rate"] = n("max_rate", s["max_rate"], low=1)
    s["measure_every"] = _checks.integer("measure_every", s["measure_every"], low=1)
    s["probe"] = _checks.boolean("probe", s["probe"])
    s["probe_updates"] = _checks.integer("probe_updates", s["probe_updates"], low=1)
    s["cap_peak"] = None if s["cap_peak"] is None else _checks.boolean("cap_peak", s["cap_peak"])
    s["stall_level"] = n("stall_level", s["stall_level"], low=0, high=1)
    s["stall_patience"] = _checks.integer("stall_patience", s["stall_patience"], low=1)
    return s


def _factor(schedule: WarmupSchedule | None, clock: float) -> float:
    return float(schedule(clock)) if schedule is not None else 1.0


def _clock_for(schedule: WarmupSchedule | None, factor: float, lo: float, hi: float, *, rising: bool) -> float:
    """Where ``f`` crosses ``factor`` in ``[lo, hi]``, by bisection: in the warmup (``rising``, ``f`` goes up) the
    largest clock with ``f <= factor``; in the decay (``f`` goes down) the first clock with ``f <= factor``."""
    if rising:
        if _factor(schedule, hi) <= factor:
            return hi
        if _factor(schedule, lo) > factor:
            return lo
    elif _factor(schedule, hi) > factor:
        return hi
    for _ in range(_BISECTIONS):
        mid = (lo + hi) / 2
        if (_factor(schedule, mid) <= factor) == rising:
            lo = mid
        else:
            hi = mid
    return lo if rising else hi


def _check_running(state: dict[str, Any]) -> dict[str, Any]:
    """The running state of a saved ``AdaptiveWarmup``, checked (counts are ints >= 0, the clock a number >= 0)."""
    out: dict[str, Any] = {"clock": _checks.number("clock", state["clock"], low=0)}
    out["rate"] = _checks.number("rate", state["rate"], low=0)
    for name in ("updates", "holds", "rollbacks", "size_holds", "skips", "stalls"):
        out[name] = _checks.integer(name, state[name], low=0)
    out["probing"] = _checks.boolean("probing", state["probing"])
    for name in ("warmup_done_at", "peak_too_high_at"):
        out[name] = None if state[name] is None else _checks.integer(name, state[name], low=0)
    optional = ("loss_ref", "loss_ema", "grad_ema", "last_update_size", "start_factor", "suggested_peak_factor")
    for name in (*optional, "decay_start", "peak_factor"):
        out[name] = None if state[name] is None else float(_checks.number(name, state[name]))
    clocks = state["probe_clocks"]
    if not isinstance(clocks, list):
        raise TypeError(f"probe_clocks must be a list of numbers, got {type(clocks).__name__}")
    out["probe_clocks"] = [float(_checks.number("probe_clocks[]", c, low=0)) for c in clocks]
    return out


def _ema(current: float | None, value: float | None, beta: float) -> float | None:
    if value is None:
        return current
    return value if current is None else beta * current + (1 - beta) * value


def _check_kind(adaptive: object) -> None:
    from .peak import PeakFinder

    if not isinstance(adaptive, (AdaptiveWarmup, PeakFinder)):
        raise TypeError(f"adaptive must be an AdaptiveWarmup, a PeakFinder or None, got {type(adaptive).__name__}")


def _claim_adaptive(adaptive: object, owner: object) -> None:
    """Make ``owner`` (a scheduler or callback) the one user of ``adaptive``: a second one raises."""
    if adaptive is None:
        return
    _check_kind(adaptive)
    taken = getattr(adaptive, "_owner", None)
    if taken is not None and taken != id(owner):
        raise ValueError(
            "this AdaptiveWarmup already serves another scheduler (one clock cannot follow two): give each "
            "scheduler a new AdaptiveWarmup(...)"
        )
    adaptive._owner = id(owner)  # type: ignore[attr-defined]


def _bind_adaptive(
    adaptive: object, schedule: object, param_groups: object = None, owner: object = None
) -> AdaptiveWarmup | None:
    """``adaptive`` bound to the adapter's schedule (and optimizer ``param_groups``), or None; a clear
    error for anything else, and for an adaptive warmup that serves another scheduler (``owner``, when given)."""
    if owner is not None:
        _claim_adaptive(adaptive, owner)
    if adaptive is None:
        return None
    _check_kind(adaptive)
    if isinstance(adaptive, AdaptiveWarmup) and adaptive.updates > 0 and param_groups is not None:
        ours = adaptive._probe
        if ours is None or not ours.sizes.same_params(UpdateSize(param_groups)):
            raise ValueError(
                f"this AdaptiveWarmup already ran {adaptive.updates} updates for another optimizer; it would "
                "carry that state (and no warmup) over: give each scheduler a new AdaptiveWarmup(...)"
            )
    return adaptive.bind(schedule, param_groups)  # type: ignore[union-attr]

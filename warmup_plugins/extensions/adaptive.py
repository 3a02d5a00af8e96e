"""``AdaptiveWarmup``: a warmup whose progress responds to the training loss and gradient norm.

The schedule is evaluated at a clock ``s`` instead of the update index ``k``. During warmup
(``s < W``) each observed update moves the clock by a verdict on that update's loss ``L`` (and
gradient norm ``g``), judged against exponential moving averages of the stable updates so far:

* stable: ``s += 1``;
* spike, ``L > spike_factor * EMA(L)`` or ``g > grad_factor * EMA(g)``: ``s`` holds;
* severe, ``L > severe_factor * EMA(L)`` or a non-finite ``L`` or ``g``:
  ``s -= max(1, round(rollback_fraction * W))`` (not below 0).

Spikes are judged only after ``burn_in`` stable updates. ``max_warmup_factor`` caps the warmup: the
clock never falls behind ``W - (cap - k)`` with ``cap = max_warmup_factor * W``, so the peak is
reached by update ``cap`` whatever the feedback. Once the warmup ends at update ``k_w``, the decay
runs over the remaining updates: ``s = W + (k - k_w) * (T - W) / (T - k_w)``, so the schedule still
ends at ``T``. Everything is plain arithmetic on the observed values: the same feedback gives the
same clock, and the state dict (plain numbers) resumes it exactly.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from ..core import _checks
from ..core.schedule import WarmupSchedule

__all__ = ["AdaptiveWarmup"]

_STATE = ("updates", "clock", "loss_ema", "grad_ema", "stable_seen", "warmup_done_at", "holds", "rollbacks")


@dataclass
class AdaptiveWarmup:
    """Feedback-driven warmup progress; see the module docs for the rules."""

    spike_factor: float = 1.5
    severe_factor: float = 3.0
    grad_factor: float = 5.0
    rollback_fraction: float = 0.1
    ema_beta: float = 0.9
    burn_in: int = 10
    max_warmup_factor: float = 3.0
    updates: int = field(default=0, init=False)
    clock: float = field(default=0, init=False)
    loss_ema: float | None = field(default=None, init=False)
    grad_ema: float | None = field(default=None, init=False)
    stable_seen: int = field(default=0, init=False)
    warmup_done_at: int | None = field(default=None, init=False)
    holds: int = field(default=0, init=False)
    rollbacks: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        n = _checks.number
        self.spike_factor = n("spike_factor", self.spike_factor, low=1, low_open=True)
        self.severe_factor = n("severe_factor", self.severe_factor, low=self.spike_factor)
        self.grad_factor = n("grad_factor", self.grad_factor, low=1, low_open=True)
        self.rollback_fraction = n("rollback_fraction", self.rollback_fraction, low=0, high=1)
        self.ema_beta = n("ema_beta", self.ema_beta, low=0, high=1, high_open=True)
        self.burn_in = _checks.integer("burn_in", self.burn_in, low=0)
        self.max_warmup_factor = n("max_warmup_factor", self.max_warmup_factor, low=1)
        self._warmup, self._total = 0.0, math.inf

    def bind(self, schedule: WarmupSchedule) -> AdaptiveWarmup:
        """Attach to ``schedule`` (its warmup length ``W`` and total ``T``); returns self."""
        if not isinstance(schedule, WarmupSchedule):
            raise TypeError(
                f"AdaptiveWarmup needs one WarmupSchedule shared by all param groups, got {type(schedule).__name__}"
            )
        if not schedule.warmup_prefix:
            raise ValueError("AdaptiveWarmup needs a prefix warmup (warmup_prefix=True)")
        self._warmup = float(schedule.warmup_steps)
        self._total = math.inf if schedule.total_steps is None else float(schedule.total_steps)
        if self._warmup == 0:
            self.warmup_done_at = 0
        return self

    @property
    def in_warmup(self) -> bool:
        return self.warmup_done_at is None

    def observe(self, loss: float | None = None, grad_norm: float | None = None) -> float:
        """Record one finished update's loss and gradient norm; return the clock for the next update."""
        loss, grad_norm = _plain(loss), _plain(grad_norm)
        self.updates += 1
        if self.warmup_done_at is None:
            verdict = self._judge(loss, grad_norm)
            if verdict == "stable":
                self.clock += 1
            elif verdict == "spike":
                self.holds += 1
            else:
                self.rollbacks += 1
                self.clock = max(0.0, self.clock - max(1, round(self.rollback_fraction * self._warmup)))
            cap = self.max_warmup_factor * self._warmup
            self.clock = max(self.clock, self._warmup - (cap - self.updates))
            if self.clock >= self._warmup:
                self.clock, self.warmup_done_at = self._warmup, self.updates
        else:
            done = self.warmup_done_at
            rest = self._total - done
            stretch = (self._total - self._warmup) / rest if math.isfinite(rest) and rest > 0 else 1.0
            self.clock = self._warmup + (self.updates - done) * stretch
        return self.clock

    def _judge(self, loss: float | None, grad_norm: float | None) -> str:
        if (loss is not None and not math.isfinite(loss)) or (grad_norm is not None and not math.isfinite(grad_norm)):
            return "severe"
        judged = self.stable_seen >= self.burn_in
        if judged and loss is not None and self.loss_ema is not None:
            if loss > self.severe_factor * self.loss_ema:
                return "severe"
            if loss > self.spike_factor * self.loss_ema:
                return "spike"
        grad_ema = self.grad_ema
        if judged and grad_norm is not None and grad_ema is not None and grad_norm > self.grad_factor * grad_ema:
            return "spike"
        self.loss_ema = _ema(self.loss_ema, loss, self.ema_beta)
        self.grad_ema = _ema(self.grad_ema, grad_norm, self.ema_beta)
        self.stable_seen += 1
        return "stable"

    def state_dict(self) -> dict[str, Any]:
        """Plain data: the settings and the running state."""
        return asdict(self)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if not isinstance(state, dict):
            raise TypeError(f"AdaptiveWarmup.load_state_dict: expected a dict, got {type(state).__name__}")
        expected = {f for f in asdict(self)}
        missing, extra = sorted(expected - set(state)), sorted(set(state) - expected)
        if missing or extra:
            raise KeyError(f"AdaptiveWarmup.load_state_dict: missing keys {missing}, unexpected keys {extra}")
        settings = AdaptiveWarmup(**{k: state[k] for k in expected if k not in _STATE})  # validates; self untouched
        running = _check_running(state)
        for name in expected - set(_STATE):
            setattr(self, name, getattr(settings, name))
        for name, value in running.items():
            setattr(self, name, value)


def _check_running(state: dict[str, Any]) -> dict[str, Any]:
    """The running state of a saved ``AdaptiveWarmup``, checked (counts are ints >= 0, the clock a number >= 0)."""
    out: dict[str, Any] = {"clock": _checks.number("clock", state["clock"], low=0)}
    for name in ("updates", "stable_seen", "holds", "rollbacks"):
        out[name] = _checks.integer(name, state[name], low=0)
    done = state["warmup_done_at"]
    out["warmup_done_at"] = None if done is None else _checks.integer("warmup_done_at", done, low=0)
    for name in ("loss_ema", "grad_ema"):
        out[name] = None if state[name] is None else float(_checks.number(name, state[name]))
    return out


def _plain(value: object) -> float | None:
    if value is None:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if not _checks.is_real(value):
        raise TypeError(f"loss and grad_norm must be numbers or None, got {type(value).__name__}")
    return float(value)


def _ema(current: float | None, value: float | None, beta: float) -> float | None:
    if value is None:
        return current
    return value if current is None else beta * current + (1 - beta) * value


def bind_adaptive(adaptive: object, schedule: object) -> AdaptiveWarmup | None:
    """``adaptive`` bound to the adapter's schedule, or None; a clear error for anything else."""
    if adaptive is None:
        return None
    if not isinstance(adaptive, AdaptiveWarmup):
        raise TypeError(f"adaptive must be an AdaptiveWarmup or None, got {type(adaptive).__name__}")
    return adaptive.bind(schedule)  # type: ignore[arg-type]


def load_adaptive(adaptive: AdaptiveWarmup | None, state: object, schedule: object, owner: str) -> None:
    """Restore an adaptive warmup's state; the saved and the live scheduler must agree on having one."""
    if (adaptive is None) != (state is None):
        raise ValueError(
            f"{owner}.load_state_dict: the saved state {'has' if state is not None else 'has no'} adaptive warmup "
            "and this scheduler does not match; build it with the same adaptive= setting"
        )
    if adaptive is not None:
        AdaptiveWarmup().bind(schedule).load_state_dict(state)  # type: ignore[arg-type]  # a dry run: raises first
        adaptive.bind(schedule)  # type: ignore[arg-type]
        adaptive.load_state_dict(state)  # type: ignore[arg-type]

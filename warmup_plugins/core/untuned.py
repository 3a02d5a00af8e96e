"""The untuned warmup rule (Ma & Yarats, 2021): a warmup length read from Adam's ``beta2``.

``W = 2 / (1 - beta2)`` updates (2000 for ``beta2 = 0.999``), rounded to a whole update.

* ``untuned_linear``: the paper's ``w_t = min(1, t / W)`` for updates ``t = 1, 2, ...``, i.e.
  ``f(k) = (k + 1) / W`` for update ``k`` from 0: a linear warmup of ``W - 1`` updates from
  ``1 / W``, exactly.
* ``untuned_exponential``: this library's exponential shape over ``W`` updates (from the start
  factor). The paper's ``1 - exp(-(1 - beta2) t)`` never reaches the peak; this one does, at ``W``.

A :class:`~warmup_plugins.core.request.ScheduleRequest` with such a ``warmup_type`` resolves it with the
optimizer's ``beta2`` (read by :func:`warmup_plugins.extensions.untuned.beta2_of`).

>>> untuned_fields("untuned_linear", 0.99)
{'warmup_type': 'linear', 'warmup_steps': 199, 'start_factor': 0.005}
"""

from __future__ import annotations

from typing import Any

from . import _checks

__all__ = ["UNTUNED_TYPES", "untuned_fields", "untuned_warmup_steps"]

UNTUNED_TYPES: tuple[str, ...] = ("untuned_linear", "untuned_exponential")
SETS: dict[str, tuple[str, ...]] = {
    "untuned_linear": ("warmup_steps", "start_factor"),
    "untuned_exponential": ("warmup_steps",),
}
"""The fields each untuned warmup sets itself from ``beta2`` (the user may not pass them)."""


def untuned_warmup_steps(beta2: float) -> int:
    """``round(2 / (1 - beta2))``, at least 1."""
    beta2 = _checks.number("beta2", beta2, low=0, high=1, high_open=True)
    return max(1, round(2 / (1 - beta2)))


def untuned_fields(warmup_type: str, beta2: float) -> dict[str, Any]:
    """The :class:`~warmup_plugins.WarmupSchedule` warmup fields ``warmup_type`` stands for with Adam's ``beta2``."""
    w = untuned_warmup_steps(beta2)
    if _checks.choice("warmup_type", warmup_type, UNTUNED_TYPES) == "untuned_linear":
        return {"warmup_type": "linear" if w > 1 else "none", "warmup_steps": w - 1, "start_factor": 1 / w}
    return {"warmup_type": "exponential", "warmup_steps": w}

"""Untuned warmup (Ma & Yarats, 2021): a warmup length read from Adam's ``beta2``.

``W = 2 / (1 - beta2)`` updates (2000 for ``beta2 = 0.999``), rounded to a whole update.

* ``untuned_linear``: the paper's ``w_t = min(1, t / W)`` for updates ``t = 1, 2, ...``, i.e.
  ``f(k) = (k + 1) / W`` for update ``k`` from 0: a linear warmup of ``W - 1`` updates from
  ``1 / W``, exactly.
* ``untuned_exponential``: this library's exponential shape over ``W`` updates (from the start
  factor). The paper's ``1 - exp(-(1 - beta2) t)`` never reaches the peak; this one does, at ``W``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..core import _checks
from ..core.choices import CHOICES

__all__ = ["ADAPTER_CHOICES", "UNTUNED_TYPES", "beta2_of", "untuned_warmup_steps"]

UNTUNED_TYPES = ("untuned_linear", "untuned_exponential")
ADAPTER_CHOICES: dict[str, tuple[str, ...]] = {**CHOICES, "warmup_type": (*CHOICES["warmup_type"], *UNTUNED_TYPES)}
"""The core's :data:`~warmup_plugins.core.choices.CHOICES` plus the untuned warmups, which the CLI and
the fastai adapter accept and resolve (with ``beta2``) before building the schedule."""


def beta2_of(groups: Sequence[Mapping[str, Any]], owner: str = "untuned warmup") -> float:
    """The ``beta2`` shared by all groups: torch's ``betas[1]`` or fastai's ``sqr_mom``."""
    values = []
    for i, group in enumerate(groups):
        if "betas" in group:
            value = group["betas"][1]
        elif "sqr_mom" in group:
            value = group["sqr_mom"]
        else:
            keys = sorted(k for k in group if k != "params")
            raise ValueError(
                f"{owner}: needs an Adam-type optimizer with betas (beta2); param_groups[{i}] has only {keys}"
            )
        values.append(float(value.item() if hasattr(value, "item") else value))
    if not values:
        raise ValueError(f"{owner}: the optimizer has no param groups")
    if len(set(values)) > 1:
        raise ValueError(f"{owner}: the param groups have different beta2 values {values}; give warmup_steps instead")
    return float(_checks.number("beta2", values[0], low=0, high=1, high_open=True))


def untuned_warmup_steps(beta2: float) -> int:
    """``round(2 / (1 - beta2))``, at least 1."""
    beta2 = _checks.number("beta2", beta2, low=0, high=1, high_open=True)
    return max(1, round(2 / (1 - beta2)))


def _resolve_untuned(kwargs: Mapping[str, Any], groups: Sequence[Mapping[str, Any]], owner: str) -> dict[str, Any]:
    """Replace an untuned ``warmup_type`` with the concrete warmup it stands for."""
    out = dict(kwargs)
    kind = out.get("warmup_type")
    if kind not in UNTUNED_TYPES:
        return out
    given = sorted(k for k in ("warmup_steps", "warmup_epochs", "warmup_pct") if k in out)
    if given:
        raise TypeError(f"{owner}: warmup_type={kind!r} derives the warmup length from beta2; do not pass {given}")
    w = untuned_warmup_steps(beta2_of(groups, owner))
    if kind == "untuned_linear":
        if "start_factor" in out:
            raise TypeError(f"{owner}: warmup_type='untuned_linear' starts at 1 / W; do not pass start_factor")
        out.update(warmup_type="linear" if w > 1 else "none", warmup_steps=w - 1, start_factor=1 / w)
    else:
        out.update(warmup_type="exponential", warmup_steps=w)
    return out

"""Untuned warmup (Ma & Yarats, 2021), the optimizer's side: Adam's ``beta2`` read from the param groups.

The rule itself, ``W = 2 / (1 - beta2)`` updates and the warmup each ``untuned_*`` type stands for, is in the
core (:mod:`warmup_plugins.core.untuned`), where a :class:`~warmup_plugins.core.request.ScheduleRequest`
resolves it with the ``beta2`` that :func:`beta2_of` reads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..core import _checks
from ..core.untuned import UNTUNED_TYPES, untuned_warmup_steps

__all__ = ["UNTUNED_TYPES", "beta2_of", "untuned_warmup_steps"]


def beta2_of(groups: Sequence[Mapping[str, Any]]) -> float:
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
                f"an untuned warmup needs an Adam-type optimizer with betas (beta2); param_groups[{i}] has only {keys}"
            )
        values.append(float(value.item() if hasattr(value, "item") else value))
    if not values:
        raise ValueError("an untuned warmup needs the optimizer's beta2, but the optimizer has no param groups")
    if len(set(values)) > 1:
        raise ValueError(
            f"an untuned warmup needs one beta2, but the param groups have different beta2 values {values}; "
            "give warmup_steps instead"
        )
    return float(_checks.number("beta2", values[0], low=0, high=1, high_open=True))

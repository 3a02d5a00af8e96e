"""The adapters' reprs: the schedule they follow, the base values, the adaptive warmup and the position."""

from __future__ import annotations

import dataclasses
from typing import Any

__all__ = ["adapter_repr", "adaptive_repr"]


def adaptive_repr(adaptive: Any) -> str:
    """``AdaptiveWarmup(...)`` with only the settings that differ from their defaults (its running state is in
    its ``state_dict``)."""
    changed = [
        f"{f.name}={getattr(adaptive, f.name)!r}"
        for f in dataclasses.fields(adaptive)
        if f.init and getattr(adaptive, f.name) != f.default
    ]
    return f"{type(adaptive).__name__}({', '.join(changed)})"


def adapter_repr(owner: object, driver: Any, bases_name: str = "base_lrs", **position: object) -> str:
    """``Name(WarmupSchedule(...), base_lrs=[...], adaptive=..., record=True, <position>)`` for an adapter whose
    values come from ``driver`` (a ``_seam.Driver``; None while the adapter is being built)."""
    name = type(owner).__name__
    if driver is None:
        return f"{name}(<being built>)"
    parts = [repr(driver.schedule), f"{bases_name}={[float(b) for b in driver.bases]!r}"]
    if driver.adaptive is not None:
        parts.append(f"adaptive={adaptive_repr(driver.adaptive)}")
    if driver.record is not None:
        parts.append("record=True")
    parts += [f"{key}={value!r}" for key, value in position.items()]
    return f"{name}({', '.join(parts)})"

"""Checking a schedule's fields once, at construction: common checks, then the decay family's own check.

:func:`validate` takes the fields as given and returns them checked, with each option the chosen
decay reads filled with its default. An option the decay does not read must be left unset (None):
setting it is an error naming the decays that use it.
"""

from __future__ import annotations

from typing import Any

from . import _checks
from ._parts import decay_span
from .choices import WARMUP_ENDS
from .decays import DECAY_OPTIONS, FAMILIES, decays_reading
from .warmups import WARMUP_SHAPES

__all__ = ["DECAY_OPTIONS", "decay_span", "validate"]

Fields = dict[str, Any]
n = _checks.number


def validate(fields: Fields) -> Fields:
    """The fields checked and filled; raises ``TypeError``/``ValueError`` naming the field at fault."""
    out = {**fields, **_common(fields)}
    decay = out["decay_type"]
    family = FAMILIES[decay]
    for name in dict.fromkeys(option for other in FAMILIES.values() for option in other.options):
        if out[name] is not None and name not in family.options:
            used_by = decays_reading(name)
            raise ValueError(f"{name} is not used by decay_type={decay!r}; it applies to decay_type in {used_by}")
    if family.needs_total and out["total_steps"] is None:
        raise ValueError(f"total_steps is required for decay_type={decay!r}")
    out.update(family.check(out))
    return out


def _common(f: Fields) -> Fields:
    out: Fields = {"warmup_type": _checks.choice("warmup_type", f["warmup_type"], (*WARMUP_SHAPES, "none"))}
    warmup = out["warmup_steps"] = n("warmup_steps", f["warmup_steps"], low=0)
    if out["warmup_type"] == "none" and warmup != 0:
        raise ValueError(f"warmup_steps must be 0 with warmup_type='none', got {warmup!r}")
    if f["total_steps"] is not None:
        out["total_steps"] = n("total_steps", f["total_steps"], low=0)
        if out["total_steps"] < warmup:
            raise ValueError(
                f"warmup_steps ({warmup}) is longer than total_steps ({out['total_steps']}); "
                "both count optimizer updates unless you use WarmupSchedule.from_epochs"
            )
    start = out["start_factor"] = n("start_factor", f["start_factor"], low=0)
    shape = WARMUP_SHAPES.get(out["warmup_type"])
    for name in dict.fromkeys(option for other in WARMUP_SHAPES.values() for option in other.options):
        if f[name] is not None and (shape is None or name not in shape.options):
            used_by = [w for w, other in WARMUP_SHAPES.items() if name in other.options]
            raise ValueError(f"{name} is not used by warmup_type={out['warmup_type']!r}; it applies to {used_by}")
    if shape is not None and shape.check is not None:
        out.update(shape.check(f))
    if shape is not None and shape.positive_start:
        kind = f"warmup_type={out['warmup_type']!r}"
        if start == 0:
            raise ValueError(f"start_factor must be > 0 for {kind} (0 * anything stays 0)")
        _checks.reciprocal_fits("start_factor", start, f"for {kind}")
    out["decay_type"] = _checks.choice("decay_type", f["decay_type"], tuple(FAMILIES))
    out["warmup_prefix"] = _checks.boolean("warmup_prefix", f["warmup_prefix"])
    out["warmup_end"] = _checks.choice("warmup_end", f["warmup_end"], WARMUP_ENDS)
    if out["warmup_end"] == "decay" and out["warmup_prefix"]:
        raise ValueError("warmup_end='decay' needs warmup_prefix=False (a prefix warmup always ends at the peak)")
    return out

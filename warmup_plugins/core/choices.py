"""The names each named-choice field of :class:`WarmupSchedule` accepts: one table.

Derived from the registries (:data:`~.warmups.WARMUP_SHAPES`, :data:`~.decays.FAMILIES`,
:data:`~.cooldowns.COOLDOWNS`), which the schedule's own checks read; the CLI's options and the
requests' checks read this table, so a new warmup, decay or cooldown is one registry entry. A request also
takes the untuned warmups (``untuned_*``, resolved from Adam's ``beta2``): :data:`REQUEST_CHOICES`.
"""

from __future__ import annotations

from .cooldowns import COOLDOWN_TYPES
from .decays import DECAY_TYPES
from .untuned import UNTUNED_TYPES
from .warmups import WARMUP_TYPES, WARMUPS

__all__ = ["CHOICES", "PLAIN_WARMUPS", "REQUEST_CHOICES", "WARMUP_ENDS"]

WARMUP_ENDS: tuple[str, ...] = ("peak", "decay")
"""``warmup_end``: the warmup rises to the peak, or (timm's overlap) to the decay's value at ``W``."""
CHOICES: dict[str, tuple[str, ...]] = {
    "warmup_type": WARMUP_TYPES,
    "decay_type": DECAY_TYPES,
    "cooldown_type": COOLDOWN_TYPES,
    "warmup_end": WARMUP_ENDS,
}
"""The accepted names, by :class:`WarmupSchedule` field."""
REQUEST_CHOICES: dict[str, tuple[str, ...]] = {**CHOICES, "warmup_type": (*WARMUP_TYPES, *UNTUNED_TYPES)}
"""What a :class:`~warmup_plugins.core.request.ScheduleRequest` accepts (so every adapter, the CLI and tune):
:data:`CHOICES` plus the untuned warmups, which the request resolves with the optimizer's ``beta2``."""
PLAIN_WARMUPS: tuple[str, ...] = tuple(name for name in CHOICES["warmup_type"] if name in WARMUPS)
"""The warmup shapes of the progress alone, with no options of their own (what timm's factory can take)."""

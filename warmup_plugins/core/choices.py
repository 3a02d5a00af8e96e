"""The names each named-choice field of :class:`WarmupSchedule` accepts: one table.

Derived from the registries (:data:`~.warmups.WARMUP_SHAPES`, :data:`~.decays.FAMILIES`,
:data:`~.cooldowns.COOLDOWNS`), which the schedule's own checks read; the CLI's options and the
adapters' early checks read this table, so a new warmup, decay or cooldown is one registry entry.
The untuned warmups (``untuned_*``, resolved from Adam's ``beta2`` by the adapters) are joined in
:data:`warmup_plugins.extensions.untuned.ADAPTER_CHOICES`, outside the core.
"""

from __future__ import annotations

from .cooldowns import COOLDOWN_TYPES
from .decays import DECAY_TYPES
from .warmups import WARMUP_TYPES, WARMUPS

__all__ = ["CHOICES", "PLAIN_WARMUPS", "WARMUP_ENDS"]

WARMUP_ENDS: tuple[str, ...] = ("peak", "decay")
"""``warmup_end``: the warmup rises to the peak, or (timm's overlap) to the decay's value at ``W``."""
CHOICES: dict[str, tuple[str, ...]] = {
    "warmup_type": WARMUP_TYPES,
    "decay_type": DECAY_TYPES,
    "cooldown_type": COOLDOWN_TYPES,
    "warmup_end": WARMUP_ENDS,
}
"""The accepted names, by :class:`WarmupSchedule` field."""
PLAIN_WARMUPS: tuple[str, ...] = tuple(name for name in CHOICES["warmup_type"] if name in WARMUPS)
"""The warmup shapes of the progress alone, with no options of their own (what timm's factory can take)."""

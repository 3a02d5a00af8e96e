"""The core: schedule math on the optimizer-update index, knowing nothing of any framework.

:class:`WarmupSchedule` describes a whole warmup + decay; :mod:`.warmups`, :mod:`.decays` and
:mod:`.restarts` hold the shapes it is built from.
"""

from .decays import COOLDOWN_TYPES, DECAY_TYPES
from .schedule import DEFAULT_START_FACTOR, WarmupSchedule
from .warmups import WARMUP_TYPES

__all__ = ["COOLDOWN_TYPES", "DECAY_TYPES", "DEFAULT_START_FACTOR", "WARMUP_TYPES", "WarmupSchedule"]

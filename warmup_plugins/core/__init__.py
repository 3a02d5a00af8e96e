"""The core: schedule math on the optimizer-update index, knowing nothing of any framework.

:class:`WarmupSchedule` describes a whole warmup + decay; :mod:`.warmups`, :mod:`.decays` and
:mod:`.restarts` hold the shapes it is built from. :class:`ScheduleRequest` is the user's keyword arguments
(lengths in epochs or fractions of a fit, untuned warmups), checked once and resolved once into one.
"""

from .decays import COOLDOWN_TYPES, DECAY_TYPES
from .request import ScheduleRequest
from .schedule import DEFAULT_START_FACTOR, WarmupSchedule
from .warmups import WARMUP_TYPES

__all__ = ["COOLDOWN_TYPES", "DECAY_TYPES", "DEFAULT_START_FACTOR", "WARMUP_TYPES", "ScheduleRequest", "WarmupSchedule"]

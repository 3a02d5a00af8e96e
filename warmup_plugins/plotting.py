"""Alias of :mod:`warmup_plugins.monitoring.plotting` (the path ``warmup_plugins.plotting`` keeps working)."""

from .monitoring.plotting import *  # noqa: F403
from .monitoring.plotting import __all__  # noqa: F401

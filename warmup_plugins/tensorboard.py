"""Alias of :mod:`warmup_plugins.monitoring.tensorboard` (the path ``warmup_plugins.tensorboard`` keeps working)."""

from .monitoring.tensorboard import *  # noqa: F403
from .monitoring.tensorboard import __all__  # noqa: F401

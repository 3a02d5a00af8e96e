"""Alias of :mod:`warmup_plugins.extensions.distributed` (the path ``warmup_plugins.distributed`` keeps working)."""

from .extensions.distributed import *  # noqa: F403
from .extensions.distributed import __all__  # noqa: F401

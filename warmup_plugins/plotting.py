"""Deprecated alias of :mod:`warmup_plugins.monitoring.plotting` (goes in the next release)."""

import warnings

from .monitoring.plotting import *  # noqa: F403
from .monitoring.plotting import __all__  # noqa: F401

warnings.warn(
    "warmup_plugins.plotting is deprecated: import from warmup_plugins.monitoring.plotting",
    DeprecationWarning,
    stacklevel=2,
)

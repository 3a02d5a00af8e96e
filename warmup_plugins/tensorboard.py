"""Deprecated alias of :mod:`warmup_plugins.monitoring.tensorboard` (goes in the next release)."""

import warnings

from .monitoring.tensorboard import *  # noqa: F403
from .monitoring.tensorboard import __all__  # noqa: F401

warnings.warn(
    "warmup_plugins.tensorboard is deprecated: import from warmup_plugins.monitoring.tensorboard",
    DeprecationWarning,
    stacklevel=2,
)

"""Deprecated alias of :mod:`warmup_plugins.extensions.distributed` (goes in the next release)."""

import warnings

from .extensions.distributed import *  # noqa: F403
from .extensions.distributed import __all__  # noqa: F401

warnings.warn(
    "warmup_plugins.distributed is deprecated: import from warmup_plugins.extensions.distributed",
    DeprecationWarning,
    stacklevel=2,
)

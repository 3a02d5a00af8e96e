"""Deprecated alias of :mod:`warmup_plugins.monitoring.tensorboard`.

Imports with a ``DeprecationWarning`` in 0.2.0; removed in 0.3.0 (see CHANGELOG.md).
"""

import warnings

from .monitoring.tensorboard import *  # noqa: F403
from .monitoring.tensorboard import __all__  # noqa: F401

warnings.warn(
    "warmup_plugins.tensorboard is deprecated and goes in 0.3.0: import from warmup_plugins.monitoring.tensorboard",
    DeprecationWarning,
    stacklevel=2,
)

"""Deprecated alias of :mod:`warmup_plugins.extensions.distributed`.

Imports with a ``DeprecationWarning`` in 0.2.0; removed in 0.3.0 (see CHANGELOG.md).
"""

import warnings

from .extensions.distributed import *  # noqa: F403
from .extensions.distributed import __all__  # noqa: F401

warnings.warn(
    "warmup_plugins.distributed is deprecated and goes in 0.3.0: import from warmup_plugins.extensions.distributed",
    DeprecationWarning,
    stacklevel=2,
)

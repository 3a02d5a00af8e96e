"""Learning-rate warmup (and the decay after it) for plain PyTorch, timm and fastai.

The core, :class:`WarmupSchedule`, is pure math on the optimizer-update index; the adapters
``warmup_plugins.torch``, ``warmup_plugins.timm`` and ``warmup_plugins.fastai`` only map their
framework's notion of time onto it and write the values.
"""

from .core.decays import COOLDOWN_TYPES, DECAY_TYPES
from .core.schedule import DEFAULT_START_FACTOR, WarmupSchedule
from .core.warmups import WARMUP_TYPES
from .extensions.adaptive import AdaptiveWarmup
from .monitoring.diagnosis import Diagnosis, diagnose
from .monitoring.record import TrainingRecord

__all__ = [
    "COOLDOWN_TYPES",
    "DECAY_TYPES",
    "DEFAULT_START_FACTOR",
    "WARMUP_TYPES",
    "AdaptiveWarmup",
    "Diagnosis",
    "TrainingRecord",
    "WarmupSchedule",
    "diagnose",
]
__version__ = "0.1.0"

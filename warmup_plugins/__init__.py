"""Learning-rate warmup (and the decay after it) for plain PyTorch, timm and fastai.

The core, :class:`WarmupSchedule` (``warmup_plugins.core``), is pure math on the optimizer-update
index; the adapters ``warmup_plugins.torch``, ``warmup_plugins.timm`` and ``warmup_plugins.fastai``
only map their framework's notion of time onto it and write the values. Monitoring lives in
``warmup_plugins.monitoring``, the adaptive and untuned warmups and LR scaling in
``warmup_plugins.extensions``.
"""

from .core.schedule import WarmupSchedule
from .extensions.adaptive import AdaptiveWarmup
from .extensions.peak import PeakFinder
from .monitoring.diagnosis import Diagnosis, diagnose
from .monitoring.record import TrainingRecord

__all__ = ["AdaptiveWarmup", "Diagnosis", "PeakFinder", "TrainingRecord", "WarmupSchedule", "diagnose"]
__version__ = "0.1.0"

"""Extensions on top of the core: adaptive warmup, untuned warmup (from Adam's beta2) and
data-parallel LR scaling."""

from .adaptive import AdaptiveWarmup
from .peak import PeakFinder

__all__ = ["AdaptiveWarmup", "PeakFinder"]

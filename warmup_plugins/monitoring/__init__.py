"""Monitoring: the per-update :class:`TrainingRecord` every adapter writes, its diagnosis, plots and
TensorBoard export (the last two import matplotlib / tensorboard only when used)."""

from .diagnosis import DiagnoseOptions, Diagnosis, diagnose
from .record import TrainingRecord

__all__ = ["DiagnoseOptions", "Diagnosis", "TrainingRecord", "diagnose"]

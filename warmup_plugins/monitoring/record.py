"""``TrainingRecord``: the one record format every adapter writes while training.

Per optimizer update: the update index, the LR it used (first param group), the training loss
and, where known, the gradient norm. Per epoch: train/valid loss, accuracy (a fraction) and
``metric``, whatever value the framework's epoch hook passed (timm's ``step(epoch, metric)``). ``meta`` holds
plain facts about the run (the adapter, the schedule's fields, the base LR). It saves to and
loads from JSON (``NaN``/``Infinity`` are written as Python's ``json`` does, so a diverged run
round-trips).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core import _checks

__all__ = ["EPOCH_FIELDS", "UPDATE_FIELDS", "TrainingRecord"]

FORMAT = "warmup_plugins.record/1"
UPDATE_FIELDS = ("step", "lr", "loss", "grad_norm")
EPOCH_FIELDS = ("epoch", "train_loss", "valid_loss", "accuracy", "metric")


def _optional(name: str, value: object) -> float | None:
    if value is None:
        return None
    if hasattr(value, "item"):  # a Tensor or numpy value: only a one-element one is a number
        size = value.numel() if hasattr(value, "numel") else getattr(value, "size", 1)
        if size != 1:
            raise TypeError(f"{name} must be a number or None, got a {type(value).__name__} of {size} elements")
        value = value.item()
    if not _checks.is_real(value):
        raise TypeError(f"{name} must be a number or None, got {type(value).__name__}")
    try:
        return float(value)  # NaN/inf are kept: they are what the diagnosis looks for
    except OverflowError:
        raise ValueError(f"{name} must fit in a float, got a {type(value).__name__} too large for one") from None


@dataclass
class TrainingRecord:
    """Columns of per-update and per-epoch values, plus ``meta``; ``None`` marks a missing value."""

    updates: dict[str, list[float | None]] = field(default_factory=lambda: {k: [] for k in UPDATE_FIELDS})
    epochs: dict[str, list[float | None]] = field(default_factory=lambda: {k: [] for k in EPOCH_FIELDS})
    meta: dict[str, Any] = field(default_factory=dict)

    def log_update(self, step: float, lr: float, loss: float | None = None, grad_norm: float | None = None) -> None:
        """One optimizer update: its index, the LR it used, its loss and gradient norm."""
        row = (
            _checks.number("step", step, low=0),
            _optional("lr", lr),
            _optional("loss", loss),
            _optional("grad_norm", grad_norm),
        )
        for name, value in zip(UPDATE_FIELDS, row):
            self.updates[name].append(value)

    def log_epoch(
        self,
        epoch: int,
        train_loss: float | None = None,
        valid_loss: float | None = None,
        accuracy: float | None = None,
        metric: float | None = None,
    ) -> None:
        """One finished epoch (``epoch`` counts from 0)."""
        row = (
            _checks.integer("epoch", epoch, low=0),
            _optional("train_loss", train_loss),
            _optional("valid_loss", valid_loss),
            _optional("accuracy", accuracy),
            _optional("metric", metric),
        )
        for name, value in zip(EPOCH_FIELDS, row):
            self.epochs[name].append(value)

    def __len__(self) -> int:
        return len(self.updates["step"])

    @property
    def warmup_steps(self) -> float | None:
        """The warmup length in updates: the one an adaptive warmup really took (``meta['warmup_updates']``),
        else the schedule's, if the record knows its schedule."""
        if self.meta.get("warmup_updates") is not None:
            return self.meta["warmup_updates"]
        schedule = self.meta.get("schedule")
        return schedule.get("warmup_steps") if isinstance(schedule, dict) else None

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "meta": self.meta, "updates": self.updates, "epochs": self.epochs}

    @classmethod
    def from_dict(cls, data: object) -> TrainingRecord:
        """Check the layout and rebuild; a clear error names what is wrong."""
        if not isinstance(data, dict) or not isinstance(data.get("format"), str) or data["format"] != FORMAT:
            raise ValueError(f"not a training record: expected a JSON object with format {FORMAT!r}")
        meta = data.get("meta")
        if meta is not None and not isinstance(meta, dict):
            raise ValueError(f"training record: 'meta' must be a JSON object, got {type(meta).__name__}")
        record = cls(meta=dict(meta or {}))
        for part, names in (("updates", UPDATE_FIELDS), ("epochs", EPOCH_FIELDS)):
            columns = data.get(part)
            if not isinstance(columns, dict) or set(columns) != set(names):
                raise ValueError(f"training record: {part!r} must have exactly the columns {list(names)}")
            lengths = {len(columns[n]) if isinstance(columns[n], list) else -1 for n in names}
            if len(lengths) != 1 or -1 in lengths:
                raise ValueError(f"training record: the {part!r} columns must be lists of one length")
            for name in names:
                getattr(record, part)[name] = [_optional(f"{part}.{name}", v) for v in columns[name]]
        return record

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(json.dumps(self.to_dict()))
        return path

    @classmethod
    def load(cls, path: str | Path) -> TrainingRecord:
        try:
            data = json.loads(Path(path).read_text())
        except json.JSONDecodeError as error:
            raise ValueError(f"{path} is not JSON: {error}") from error
        return cls.from_dict(data)

    def finite_losses(self) -> list[float]:
        """The per-update losses that were logged and are finite."""
        return [v for v in self.updates["loss"] if v is not None and math.isfinite(v)]


def new_record(record: object, adapter: str, schedule: object) -> TrainingRecord | None:
    """An empty record for an adapter built with ``record=True`` (its first schedule in ``meta``)."""
    if not _checks.boolean("record", record):
        return None
    first = schedule if hasattr(schedule, "to_dict") else schedule[0]  # type: ignore[index]
    return TrainingRecord(meta={"adapter": adapter, "schedule": first.to_dict()})


def note_adaptive(record: TrainingRecord | None, adaptive: object) -> None:
    """Keep in ``meta['warmup_updates']`` when an adaptive warmup finished (the diagnosis judges by it),
    and its ``report()`` in ``meta['adaptive']`` (a too-high peak, the start it chose)."""
    if record is None:
        return
    done = getattr(adaptive, "warmup_done_at", None)
    if done is not None:
        record.meta["warmup_updates"] = done
    report = getattr(adaptive, "report", None)
    if callable(report):
        record.meta["adaptive"] = report()

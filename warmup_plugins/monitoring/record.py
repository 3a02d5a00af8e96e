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
import numbers
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core import _checks

__all__ = ["EPOCH_FIELDS", "UPDATE_FIELDS", "TrainingRecord"]

FORMAT = "warmup_plugins.record/1"
UPDATE_FIELDS = ("step", "lr", "loss", "grad_norm")
EPOCH_FIELDS = ("epoch", "train_loss", "valid_loss", "accuracy", "metric")


def _loaded(part: str, name: str, row: int, value: object) -> float | int | None:
    """One loaded value, checked as the adapters check what they log: the update index ``step`` is a finite
    number >= 0, ``epoch`` a whole number >= 0, the rest a number (NaN/inf kept) or None."""
    where = f"training record: {part}.{name}[{row}]"
    if name == "epoch" and isinstance(value, float) and value.is_integer():  # JSON may hand back 3.0
        value = int(value)
    if name in ("step", "epoch"):
        kind = int if name == "epoch" else numbers.Real
        if not _checks.is_real(value) or not isinstance(value, kind) or not 0 <= value <= sys.float_info.max:
            wanted = "a whole number" if name == "epoch" else "a finite number"
            raise ValueError(f"{where} must be {wanted} >= 0, got {_shown(value)}")
        return value  # type: ignore[return-value]
    if value is None:
        return None
    if not _checks.is_real(value):
        raise ValueError(f"{where} must be a number or null, got {_shown(value)}")
    try:
        return float(value)  # NaN/inf are kept: they are what the diagnosis looks for
    except OverflowError:
        raise ValueError(f"{where} must fit in a float, got an integer of {int(value).bit_length()} bits") from None


def _shown(value: object) -> str:
    """The value as a message shows it: its type and (at most 40 characters of) its repr; None as JSON's null."""
    if value is None:
        return "null"
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 40 else text[:37] + '...'}"


def _checked(part: str, names: tuple[str, ...], columns: object) -> dict[str, list[Any]]:
    """The columns of ``part`` (``'updates'`` or ``'epochs'``), every value checked (see :func:`_loaded`)."""
    if not isinstance(columns, dict) or set(columns) != set(names):
        raise ValueError(f"training record: {part!r} must have exactly the columns {list(names)}")
    lengths = {len(columns[n]) if isinstance(columns[n], list) else -1 for n in names}
    if len(lengths) != 1 or -1 in lengths:
        raise ValueError(f"training record: the {part!r} columns must be lists of one length")
    return {name: [_loaded(part, name, i, v) for i, v in enumerate(columns[name])] for name in names}


def _plain(value: object) -> float | None:
    """A logged value as a plain float (a one-element Tensor or numpy value included); None stays None."""
    if value is None:
        return None
    return float(value.item() if hasattr(value, "item") else value)  # type: ignore[union-attr,arg-type]


@dataclass
class TrainingRecord:
    """Columns of per-update and per-epoch values, plus ``meta``; ``None`` marks a missing value."""

    updates: dict[str, list[float | None]] = field(default_factory=lambda: {k: [] for k in UPDATE_FIELDS})
    epochs: dict[str, list[float | None]] = field(default_factory=lambda: {k: [] for k in EPOCH_FIELDS})
    meta: dict[str, Any] = field(default_factory=dict)

    def log_update(self, step: float, lr: float, loss: float | None = None, grad_norm: float | None = None) -> None:
        """One optimizer update: its index, the LR it used, its loss and gradient norm.

        The per-update hot path: the values are stored as plain floats, unchecked (the adapters pass checked
        values). A record is checked where it enters: :meth:`from_dict`/:meth:`load`, and :meth:`validate`,
        which :func:`~warmup_plugins.diagnose`, the plots and the TensorBoard export call.
        """
        row = (step, _plain(lr), _plain(loss), _plain(grad_norm))
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
            _checks.scalar("train_loss", train_loss),
            _checks.scalar("valid_loss", valid_loss),
            _checks.scalar("accuracy", accuracy),
            _checks.scalar("metric", metric),
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

    @property
    def warmup_source(self) -> str:
        """Where :attr:`warmup_steps` comes from, as an error message names it."""
        if self.meta.get("warmup_updates") is not None:
            return "record.meta['warmup_updates']"
        return "record.meta['schedule']['warmup_steps']"

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
        updates = _checked("updates", UPDATE_FIELDS, data.get("updates"))
        epochs = _checked("epochs", EPOCH_FIELDS, data.get("epochs"))
        return cls(updates=updates, epochs=epochs, meta=dict(meta or {}))

    def validate(self) -> TrainingRecord:
        """Check every row as :meth:`from_dict` does (a clear ``ValueError`` names the column and row);
        returns the record."""
        _checked("updates", UPDATE_FIELDS, self.updates)
        _checked("epochs", EPOCH_FIELDS, self.epochs)
        if not isinstance(self.meta, dict):
            raise ValueError(f"training record: meta must be a dict, got {type(self.meta).__name__}")
        return self

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(json.dumps(self.to_dict()))
        return path

    @classmethod
    def load(cls, path: str | Path) -> TrainingRecord:
        """Read a record saved with :meth:`save`; a file that is not one is a ``ValueError`` naming the path."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except UnicodeDecodeError:
            raise ValueError(f"{path} is not JSON: not UTF-8 text") from None
        except RecursionError:
            raise ValueError(f"{path} is not a training record: its JSON is nested too deeply") from None
        except ValueError as error:  # a JSONDecodeError, or an integer too long to read
            raise ValueError(f"{path} is not JSON: {error}") from None
        try:
            return cls.from_dict(data)
        except ValueError as error:
            raise ValueError(f"{path}: {error}") from None

    def finite_losses(self) -> list[float]:
        """The per-update losses that were logged and are finite."""
        return [v for v in self.updates["loss"] if v is not None and math.isfinite(v)]

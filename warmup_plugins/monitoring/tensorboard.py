"""TensorBoard scalars from a :class:`~warmup_plugins.TrainingRecord`, through ``torch.utils.tensorboard``.

Tags (missing values are skipped; NaN and inf are written as they are):

* per update, at ``global_step = k``: ``train/lr``, ``train/loss``, ``train/grad_norm``;
* per epoch, at ``global_step = epoch``: ``epoch/train_loss``, ``epoch/valid_loss``,
  ``epoch/accuracy``, ``epoch/metric``.

:class:`RecordWriter` writes only the rows added since its last :meth:`~RecordWriter.write`, so
calling it at every epoch end of a run that records as it trains gives live curves;
:func:`write_tensorboard` writes a whole record once. Needs the ``tensorboard`` package
(``pip install tensorboard``); without it a clear ``ImportError`` says so.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType
from typing import Any

from .record import EPOCH_FIELDS, UPDATE_FIELDS, TrainingRecord

__all__ = ["RecordWriter", "write_tensorboard"]

INT64_MAX = 2**63 - 1
MISSING = "TensorBoard logging needs the tensorboard package: pip install tensorboard"


def _summary_writer(log_dir: str) -> Any:
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as error:
        raise ImportError(MISSING) from error
    return SummaryWriter(log_dir=log_dir)


def _global_step(column: str, row: int, value: float) -> int:
    """A checked row's step or epoch, rounded, as TensorBoard's int64 ``global_step``."""
    step = round(value)
    if step > INT64_MAX:
        raise ValueError(
            f"training record: {column}[{row}] = {value:g} is beyond TensorBoard's steps (at most 2**63 - 1)"
        )
    return step


class RecordWriter:
    """Write a record's new rows as TensorBoard scalars into ``log_dir`` (created if missing).

    ``prefix`` is put in front of every tag (``'run1/'`` gives ``run1/train/lr``). Use it as a
    context manager, or call :meth:`close`.
    """

    def __init__(self, log_dir: str | os.PathLike[str], *, prefix: str = "") -> None:
        if not isinstance(log_dir, (str, os.PathLike)):
            raise TypeError(f"log_dir must be a str or path-like, got {type(log_dir).__name__}")
        if not isinstance(prefix, str):
            raise TypeError(f"prefix must be a string, got {type(prefix).__name__}")
        self.log_dir = Path(log_dir)
        self.prefix = prefix
        self._writer = _summary_writer(str(self.log_dir))
        self._updates = self._epochs = 0

    def write(self, record: TrainingRecord) -> None:
        """Write the update and epoch rows added to ``record`` since the last call, then flush.

        The record is checked first (:meth:`TrainingRecord.validate`), and so is every new row's
        ``global_step``, a TensorBoard int64: nothing is written when a row is not valid.
        """
        if not isinstance(record, TrainingRecord):
            raise TypeError(f"record must be a TrainingRecord, got {type(record).__name__}")
        u, e = record.validate().updates, record.epochs
        steps = [_global_step("updates.step", i, u["step"][i]) for i in range(self._updates, len(u["step"]))]
        epochs = [_global_step("epochs.epoch", i, e["epoch"][i]) for i in range(self._epochs, len(e["epoch"]))]
        for i, step in enumerate(steps, self._updates):
            for name in UPDATE_FIELDS[1:]:
                self._scalar(f"train/{name}", u[name][i], step)
        for i, epoch in enumerate(epochs, self._epochs):
            for name in EPOCH_FIELDS[1:]:
                self._scalar(f"epoch/{name}", e[name][i], epoch)
        self._updates, self._epochs = len(u["step"]), len(e["epoch"])
        self._writer.flush()

    def _scalar(self, tag: str, value: float | None, step: int) -> None:
        if value is not None:
            self._writer.add_scalar(self.prefix + tag, value, global_step=step)

    def close(self) -> None:
        self._writer.close()

    def __enter__(self) -> RecordWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


def write_tensorboard(record: TrainingRecord, log_dir: str | os.PathLike[str], *, prefix: str = "") -> Path:
    """Write all of ``record`` as TensorBoard scalars into ``log_dir``; returns ``log_dir``.

    View them with ``tensorboard --logdir LOG_DIR``.
    """
    if not isinstance(record, TrainingRecord):
        raise TypeError(f"record must be a TrainingRecord, got {type(record).__name__}")
    with RecordWriter(log_dir, prefix=prefix) as writer:
        writer.write(record)
    return writer.log_dir

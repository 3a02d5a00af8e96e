"""Learning-rate scaling for data-parallel training, to pair with a warmup.

A data-parallel run with ``world_size`` processes, ``per_device_batch`` samples per process and
micro-batch and ``accumulation_steps`` micro-batches per optimizer update trains on a global batch of

    B = per_device_batch * accumulation_steps * world_size      samples per optimizer update.

An LR tuned at a reference batch ``B_ref`` (256 by default, ImageNet's usual) is rescaled to ``B``:

* ``'linear'`` (Goyal et al. 2017, for SGD): ``lr = base_lr * B / B_ref``;
* ``'sqrt'`` (Krizhevsky 2014; Hoffer et al. 2017; common for Adam-type optimizers):
  ``lr = base_lr * sqrt(B / B_ref)``.

A large scaled LR is unstable in the first updates, so it is the *peak* of a warmup, not the LR
of update 0. Goyal et al. train ImageNet with ``B = 8192`` by starting at the reference LR and
rising linearly to the scaled one over the first 5 epochs ("gradual warmup")::

    peak = scale_lr(0.1, per_device_batch=32)          # 0.1 * 8192 / 256 = 3.2 with 256 processes
    WarmupLR(optimizer, warmup_epochs=5, total_epochs=90, steps_per_epoch=updates_per_epoch,
             start_factor=min(1.0, 0.1 / peak), decay_type="cosine")

with the optimizer built at ``lr=peak``. The schedule counts optimizer updates, so with gradient
accumulation ``steps_per_epoch`` is the number of *updates* per epoch, and every process steps its
scheduler once per update: all ranks then hold the same LR at every update.
"""

from __future__ import annotations

import math

import torch

from ..core import _checks

__all__ = ["SCALING_RULES", "current_world_size", "global_batch_size", "reduce_signals", "scale_lr"]

SCALING_RULES: tuple[str, ...] = ("linear", "sqrt")


def current_world_size() -> int:
    """The number of processes of the default ``torch.distributed`` group, or 1 when it is not initialized."""
    distributed = torch.distributed
    if distributed.is_available() and distributed.is_initialized():
        return distributed.get_world_size()
    return 1


def global_batch_size(per_device_batch: int, *, accumulation_steps: int = 1, world_size: int | None = None) -> int:
    """``B = per_device_batch * accumulation_steps * world_size``: samples per optimizer update.

    ``world_size=None`` reads it from ``torch.distributed`` (1 when not initialized).
    """
    batch = _checks.integer("per_device_batch", per_device_batch, low=1)
    accumulation = _checks.integer("accumulation_steps", accumulation_steps, low=1)
    processes = current_world_size() if world_size is None else _checks.integer("world_size", world_size, low=1)
    return batch * accumulation * processes


def scale_lr(
    base_lr: float,
    per_device_batch: int,
    *,
    accumulation_steps: int = 1,
    world_size: int | None = None,
    reference_batch: int = 256,
    rule: str = "linear",
) -> float:
    """The LR for the global batch ``B`` (see :func:`global_batch_size`), from ``base_lr`` tuned at ``reference_batch``.

    ``rule='linear'``: ``base_lr * B / reference_batch``; ``rule='sqrt'``:
    ``base_lr * sqrt(B / reference_batch)``. Use the result as the warmup's peak (see the module docs).
    Raises ``TypeError``/``ValueError`` naming the argument for a wrong type, a non-positive batch or
    step count, a negative or non-finite LR, or a result too large to be a finite float.
    """
    lr = _checks.number("base_lr", base_lr, low=0)
    rule = _checks.choice("rule", rule, SCALING_RULES)
    reference = _checks.integer("reference_batch", reference_batch, low=1)
    batch = global_batch_size(per_device_batch, accumulation_steps=accumulation_steps, world_size=world_size)
    try:
        ratio = batch / reference
        scaled = lr * (ratio if rule == "linear" else math.sqrt(ratio))
    except OverflowError:
        scaled = math.inf
    if not math.isfinite(scaled):
        raise ValueError(
            f"scale_lr: base_lr {lr!r} scaled to a global batch of {batch} (reference_batch {reference}) "
            "is not a finite float"
        )
    return scaled


def reduce_signals(
    loss: float | None, grad_norm: float | None, size: float | None, device: object = None
) -> tuple[float | None, float | None, float | None]:
    """One update's adaptive-warmup signals, the same on every rank: the mean loss and gradient norm over the
    ranks that gave one, the largest update size (None where no rank gave one). Under an initialized
    ``torch.distributed`` group of more than one process it costs one ``all_gather`` of 3 float64 per rank
    (``None`` sent as NaN-free flags); without one, the values come back as given.

    ``device`` is where the parameters live (the current CUDA device under NCCL)."""
    if current_world_size() == 1:
        return loss, grad_norm, size
    distributed = torch.distributed
    if distributed.get_backend() == "nccl":
        device = torch.device("cuda", torch.cuda.current_device())
    mine = [math.nan if v is None else float(v) for v in (loss, grad_norm, size)]
    given = [v is not None for v in (loss, grad_norm, size)]
    packed = torch.tensor(mine + [float(g) for g in given], dtype=torch.float64, device=device or "cpu")
    gathered = [torch.empty_like(packed) for _ in range(distributed.get_world_size())]
    distributed.all_gather(gathered, packed)
    rows = torch.stack(gathered).cpu().tolist()  # the same rows in the same order on every rank
    losses = [r[0] for r in rows if r[3]]
    norms = [r[1] for r in rows if r[4]]
    sizes = [r[2] for r in rows if r[5]]
    return (
        math.fsum(losses) / len(losses) if losses else None,
        math.fsum(norms) / len(norms) if norms else None,
        max(sizes) if sizes else None,
    )

"""Data-parallel training with a warmup under ``torchrun``: every rank uses the same LR at every update.

    torchrun --nproc_per_node=2 examples/ddp_torchrun.py --device cpu     # gloo; seconds on a CPU
    torchrun --nproc_per_node=8 examples/ddp_torchrun.py --device cuda    # nccl, one GPU per process

A small MLP on synthetic data, sharded by ``DistributedSampler``, wrapped in
``DistributedDataParallel``, with gradient accumulation (``no_sync`` on all but the last micro-batch
of an update). The peak LR comes from :func:`warmup_plugins.extensions.distributed.scale_lr` for the global
batch ``per_device_batch * accumulation_steps * world_size`` and the warmup rises to it from the
reference LR (Goyal et al.'s gradual warmup). It trains twice: with ``WarmupLR`` stepped once per
optimizer update, then (when timm is installed) with timm's loop pattern, ``step_update(num_updates)``
after every update and ``step(epoch + 1)`` at each epoch end on every rank. Each rank records the LR
of every update; rank 0 gathers the traces (``all_gather_object``), asserts that they are identical
and equal to ``peak * f(k)``, and that the ranks' parameters agree, and prints the result.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
from collections.abc import Callable

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

from warmup_plugins import WarmupSchedule
from warmup_plugins.extensions.distributed import current_world_size, global_batch_size, scale_lr
from warmup_plugins.torch import WarmupLR

N_FEATURES, N_CLASSES = 16, 4


def synthetic_dataset(n: int, seed: int = 0) -> TensorDataset:
    """The same ``n`` labelled points on every rank (the sampler shards them): labels from a random linear map."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, N_FEATURES, generator=g)
    y = (x @ torch.randn(N_FEATURES, N_CLASSES, generator=g)).argmax(1)
    return TensorDataset(x, y)


def make_model(device: torch.device) -> DistributedDataParallel:
    torch.manual_seed(0)  # the same initial weights everywhere (DDP also broadcasts rank 0's)
    model = torch.nn.Sequential(torch.nn.Linear(N_FEATURES, 32), torch.nn.ReLU(), torch.nn.Linear(32, N_CLASSES))
    return DistributedDataParallel(model.to(device), device_ids=[device.index] if device.type == "cuda" else None)


def train(
    model: DistributedDataParallel,
    optimizer: torch.optim.Optimizer,
    loader: DataLoader,
    epochs: int,
    accumulation_steps: int,
    after_update: Callable[[int], None],
    after_epoch: Callable[[int], None],
) -> list[float]:
    """Train; return the LR each optimizer update used. ``after_update(num_updates)`` runs after
    every update, ``after_epoch(epoch)`` after every epoch (the scheduler calls)."""
    device = next(model.parameters()).device
    lrs, num_updates = [], 0
    updates_per_epoch = len(loader) // accumulation_steps
    for epoch in range(epochs):
        loader.sampler.set_epoch(epoch)
        micro_batches = iter(loader)
        for _ in range(updates_per_epoch):
            lrs.append(float(optimizer.param_groups[0]["lr"]))
            for j in range(accumulation_steps):
                x, y = next(micro_batches)
                last = j == accumulation_steps - 1
                with contextlib.nullcontext() if last else model.no_sync():  # all-reduce once per update
                    loss = torch.nn.functional.cross_entropy(model(x.to(device)), y.to(device))
                    (loss / accumulation_steps).backward()
            optimizer.step()
            optimizer.zero_grad()
            num_updates += 1
            after_update(num_updates)
        after_epoch(epoch)
    return lrs


def check_on_rank_0(name: str, lrs: list[float], expected: list[float], model: torch.nn.Module) -> None:
    """Gather every rank's LR trace and parameters; on rank 0, assert they agree and print it."""
    traces: list[list[float] | None] = [None] * dist.get_world_size()
    dist.all_gather_object(traces, lrs)
    flat = torch.cat([p.detach().reshape(-1).cpu() for p in model.parameters()])
    weights: list[torch.Tensor | None] = [None] * dist.get_world_size()
    dist.all_gather_object(weights, flat)
    if dist.get_rank() != 0:
        return
    for rank, trace in enumerate(traces):
        assert trace == traces[0], f"{name}: rank {rank} used different LRs from rank 0"
    assert traces[0] == expected, f"{name}: the LRs differ from peak * f(k)"
    assert all(torch.equal(w, weights[0]) for w in weights), f"{name}: the ranks' parameters diverged"
    print(
        f"{name}: {len(traces)} ranks x {len(expected)} updates: every rank used the same LR at every update "
        f"(= peak * f(k); first {expected[0]:.4g}, max {max(expected):.4g}, last {expected[-1]:.4g}); "
        "parameters identical across ranks"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu", choices=("cpu", "cuda"))
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--warmup-epochs", type=float, default=1)
    parser.add_argument("--samples", type=int, default=256, help="synthetic training points")
    parser.add_argument("--per-device-batch", type=int, default=8)
    parser.add_argument("--accumulation-steps", type=int, default=2)
    parser.add_argument("--base-lr", type=float, default=0.05, help="LR tuned at the reference batch")
    parser.add_argument(
        "--reference-batch", type=int, default=8, help="batch the base LR was tuned at (256 for ImageNet recipes)"
    )
    parser.add_argument("--rule", default="linear", choices=("linear", "sqrt"))
    parser.add_argument("--no-timm", action="store_true", help="skip the timm pass")
    args = parser.parse_args(argv)

    dist.init_process_group(backend="nccl" if args.device == "cuda" else "gloo")
    try:
        if args.device == "cuda":
            local_rank = int(os.environ.get("LOCAL_RANK", 0))
            torch.cuda.set_device(local_rank)
            device = torch.device("cuda", local_rank)
        else:
            device = torch.device("cpu")
        run(args, device)
        gc.collect()  # free the DDP models (their hooks form reference cycles) while the group still exists
        dist.barrier()  # and let no rank tear the group down while another still uses it
    finally:
        dist.destroy_process_group()


def run(args: argparse.Namespace, device: torch.device) -> None:
    rank = dist.get_rank()
    dataset = synthetic_dataset(args.samples)
    sampler = DistributedSampler(dataset, shuffle=True, seed=0, drop_last=True)
    loader = DataLoader(dataset, batch_size=args.per_device_batch, sampler=sampler, drop_last=True)
    updates_per_epoch = len(loader) // args.accumulation_steps
    if updates_per_epoch == 0:
        raise SystemExit("no optimizer update per epoch: use more --samples or a smaller batch")
    batch = global_batch_size(args.per_device_batch, accumulation_steps=args.accumulation_steps)
    peak = scale_lr(
        args.base_lr,
        args.per_device_batch,
        accumulation_steps=args.accumulation_steps,
        reference_batch=args.reference_batch,
        rule=args.rule,
    )
    start_factor = min(1.0, args.base_lr / peak)  # Goyal et al.: warm up from the reference LR
    schedule = WarmupSchedule.from_epochs(
        warmup_epochs=args.warmup_epochs,
        total_epochs=args.epochs,
        steps_per_epoch=updates_per_epoch,
        start_factor=start_factor,
        decay_type="cosine",
    )
    n_updates = args.epochs * updates_per_epoch
    expected = [peak * schedule(k) for k in range(n_updates)]
    if rank == 0:
        print(
            f"world size {current_world_size()} (read from torch.distributed), global batch {batch} = "
            f"{args.per_device_batch} per device x {args.accumulation_steps} accumulation steps x "
            f"{current_world_size()} ranks; {updates_per_epoch} updates per epoch; LR {args.base_lr:g} at batch "
            f"{args.reference_batch} -> peak {peak:g} ({args.rule} rule), warmup from {peak * start_factor:g}"
        )

    model = make_model(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=peak, momentum=0.9)
    scheduler = WarmupLR(optimizer, schedule)
    lrs = train(
        model,
        optimizer,
        loader,
        args.epochs,
        args.accumulation_steps,
        after_update=lambda num_updates: scheduler.step(),
        after_epoch=lambda epoch: None,
    )
    check_on_rank_0("torch WarmupLR", lrs, expected, model)

    if args.no_timm:
        return
    try:
        from warmup_plugins.timm import create_scheduler_v2
    except ImportError:
        if rank == 0:
            print("timm is not installed: skipped the timm pass")
        return
    model = make_model(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=peak, momentum=0.9)
    timm_scheduler, _ = create_scheduler_v2(
        optimizer,
        sched="cosine",
        num_epochs=args.epochs,
        warmup_epochs=args.warmup_epochs,
        warmup_lr=peak * start_factor,
        min_lr=0.0,
        decay_after_warmup=True,  # warm up to the peak, then decay over the rest (timm would overlap them)
        step_on_epochs=False,
        updates_per_epoch=updates_per_epoch,
    )
    lrs = train(
        model,
        optimizer,
        loader,
        args.epochs,
        args.accumulation_steps,
        after_update=lambda num_updates: timm_scheduler.step_update(num_updates=num_updates),
        after_epoch=lambda epoch: timm_scheduler.step(epoch + 1),
    )
    check_on_rank_0("timm WarmupScheduler", lrs, expected, model)


if __name__ == "__main__":
    main()

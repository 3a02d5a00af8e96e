"""DDP with an adaptive warmup: two gloo ranks on CPU, one rank's shard spikes; every rank must use the same LR at
every update and the replicas must keep identical weights."""

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from warmup_plugins import AdaptiveWarmup, WarmupSchedule
from warmup_plugins.torch import WarmupLR

UPDATES = 30


def _shard(rank: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    g = torch.Generator().manual_seed(100 + rank)
    data = [(torch.randn(8, 6, generator=g), torch.randint(0, 3, (8,), generator=g)) for _ in range(UPDATES)]
    if rank == 1:  # this rank's shard spikes: a few batches of outsized inputs
        for k in (4, 5, 11, 17):
            data[k] = (data[k][0] * 25, data[k][1])
    return data


def _worker(rank: int, store: str, out: str) -> None:
    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=2)
    try:
        torch.manual_seed(0)
        model = torch.nn.parallel.DistributedDataParallel(
            torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))
        )
        opt = torch.optim.Adam(model.parameters(), lr=0.05)
        schedule = WarmupSchedule(warmup_steps=12, total_steps=UPDATES, decay_type="cosine")
        sched = WarmupLR(opt, schedule, adaptive=AdaptiveWarmup())
        lrs = []
        for x, y in _shard(rank):
            lrs.append(opt.param_groups[0]["lr"])
            loss = torch.nn.functional.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step(loss=loss.item())  # each rank's own local loss, as users write it
        weights = [p.detach().clone() for p in model.parameters()]
        torch.save({"lrs": lrs, "weights": weights, "report": sched.adaptive.report()}, f"{out}.{rank}")
    finally:
        dist.destroy_process_group()


@pytest.mark.skipif(not dist.is_available(), reason="torch.distributed is not available")
def test_two_ranks_take_the_same_decision_at_every_update(tmp_path):
    out = str(tmp_path / "rank")
    mp.spawn(_worker, args=(str(tmp_path / "store"), out), nprocs=2, join=True)
    first, second = (torch.load(f"{out}.{rank}", weights_only=True) for rank in (0, 1))
    assert first["report"]["holds"] + first["report"]["rollbacks"] > 0  # the spikes did move the clock
    assert first["lrs"] == second["lrs"]
    assert all(torch.equal(a, b) for a, b in zip(first["weights"], second["weights"]))
    assert first["report"] == second["report"]

"""The DDP cost of the adaptive warmup: one ``reduce_signals`` (an ``all_gather`` of 6 float64 per rank) per
warmup update, timed on 2 gloo ranks on this CPU (median of ``--rounds`` calls, after 10 to warm up).

    python -m benchmarks.adaptive_ddp_cost --out benchmarks/results/adaptive
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import torch.distributed as dist
import torch.multiprocessing as mp

from warmup_plugins.extensions.distributed import reduce_signals


def _worker(rank: int, store: str, rounds: int, out: str) -> None:
    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=2)
    try:
        times = []
        for _ in range(rounds + 10):
            start = time.perf_counter()
            reduce_signals(2.0 + rank, 1.0, 0.01 * rank)
            times.append(time.perf_counter() - start)
        if rank == 0:
            Path(out).write_text(json.dumps({"median_ms": 1e3 * statistics.median(times[10:]), "rounds": rounds}))
    finally:
        dist.destroy_process_group()


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--out", type=Path, default=Path("runs/adaptive"))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        result_path = f"{tmp}/result.json"
        mp.spawn(_worker, args=(f"{tmp}/store", args.rounds, result_path), nprocs=2, join=True)
        result = {"backend": "gloo", "world_size": 2, **json.loads(Path(result_path).read_text())}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "adaptive_ddp_cost.json").write_text(json.dumps(result, indent=1))
    print(result)
    return result


if __name__ == "__main__":
    main()

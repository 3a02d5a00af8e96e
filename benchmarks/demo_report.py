"""The demo's committed measurement as Markdown: ``python -m benchmarks.demo_report``.

Reads ``benchmarks/results/demo.json`` (``python -m benchmarks.demo --out benchmarks/results``) and writes
``benchmarks/results/demo.md``, which the docs' Benchmarks page includes. Every number comes from the JSON.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import numpy as np

from benchmarks.demo import ADAPTERS, max_loss, peak_lr, summary
from benchmarks.loops import RunResult

RESULTS = Path("benchmarks/results")


def run_result(data: dict) -> RunResult:
    names = {f.name for f in dataclasses.fields(RunResult)}
    return RunResult(**{k: v for k, v in data.items() if k in names})


def markdown(result: dict) -> str:
    """A line on where and how long, then per model a table and the demo's own sentences."""
    env = result["environment"]
    load = result.get("load_average")
    where = (
        f"Measured on {env['device']} (torch {env['torch']}, timm {env['timm']}, fastai {env['fastai']}, "
        f"commit {env['git_commit']}): {result['wall_seconds']:.0f} s wall time for the whole demo"
    )
    where += f", load average {load[0]:.1f} at the start" if load else " (load average not recorded)"
    threads = result.get("torch_threads")
    where += f", {threads} torch thread{'' if threads == 1 else 's'}." if threads else "."
    parts = [where]
    for name, model in result["models"].items():
        runs = [run_result(r) for r in model["runs"]]
        torch_lrs = np.asarray(runs[0].lrs)
        rows = [
            "| run | peak LR | test accuracy | final train loss | max train loss | max \\|dLR\\| |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        for run in runs:
            delta = f"{np.abs(np.asarray(run.lrs) - torch_lrs).max():.3g}" if run.adapter in ADAPTERS else "-"
            accuracy, loss, peak = run.test_accuracy[-1], run.train_loss[-1], peak_lr(run)
            rows.append(f"| {run.label} | {peak:.3g} | {accuracy:.2%} | {loss:.4f} | {max_loss(run):.2f} | {delta} |")
        recipe = model["recipe"]
        head = (
            f"**{name}**: {recipe['epochs']} epochs, batch {recipe['batch_size']}, {len(runs[0].lrs)} updates, "
            f"warmup {recipe['warmup_epochs']:g} epochs."
        )
        parts += [head, "\n".join(rows), summary(runs, model["cross_check"]).replace("\n", " ")]
    return "\n\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path, default=RESULTS / "demo.json")
    parser.add_argument("--out", type=Path, default=RESULTS / "demo.md")
    args = parser.parse_args(argv)
    args.out.write_text(markdown(json.loads(args.json.read_text())))
    print(f"wrote {args.out}")
    return args.out


if __name__ == "__main__":
    main()

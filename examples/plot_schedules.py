"""Draw the warmup shapes and decays with the library itself: ``python examples/plot_schedules.py``.

Writes ``examples/figures/warmup_shapes.png`` and ``examples/figures/decays.png``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from warmup_plugins import WarmupSchedule

W, T = 200, 1000
WARMUPS = ("linear", "exponential", "cosine", "constant")
DECAYS = {
    "cosine": {},
    "linear": {},
    "polynomial": {"power": 2.0},
    "tanh": {},
    "exponential": {"end_factor": 0.05},
    "step": {"step_size": 200, "gamma": 0.5},
    "multistep": {"milestones": [500, 800]},
    "inverse_sqrt": {},
    "wsd": {"cooldown_fraction": 0.25},
}


def plot_warmups(path: Path) -> None:
    steps = np.arange(0, 2 * W)
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    for kind in WARMUPS:
        ax.plot(steps, WarmupSchedule(warmup_type=kind, warmup_steps=W, start_factor=0.05)(steps), label=kind)
    ax.axvspan(0, W, color="0.92", zorder=0)
    ax.axvline(W, color="0.5", lw=0.8, ls=":")
    ax.set(xlabel="optimizer update k", ylabel="factor f(k)", title=f"Warmup shapes (W = {W}, start factor 0.05)")
    ax.legend(frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_decays(path: Path) -> None:
    steps = np.arange(0, T + 100)
    fig, ax = plt.subplots(figsize=(7.6, 3.6))
    for kind, options in DECAYS.items():
        sched = WarmupSchedule(warmup_steps=W, total_steps=T, decay_type=kind, **options)
        ax.plot(steps, sched(steps), label=kind, lw=1.2)
    ax.axvspan(0, W, color="0.92", zorder=0)
    ax.axvline(T, color="0.5", lw=0.8, ls=":")
    ax.set(xlabel="optimizer update k", ylabel="factor f(k)", title=f"Decays after a linear warmup (W = {W}, T = {T})")
    ax.legend(frameon=False, fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))  # beside the curves
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("runs/plot_schedules"),
        help="default runs/plot_schedules; examples/figures is the committed one",
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    plot_warmups(args.out / "warmup_shapes.png")
    plot_decays(args.out / "decays.png")
    print(f"wrote {args.out / 'warmup_shapes.png'} and {args.out / 'decays.png'}")


if __name__ == "__main__":
    main()

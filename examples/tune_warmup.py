"""Tune a warmup with Optuna: a small classifier on synthetic data, pruned from the warmup diagnosis.

python examples/tune_warmup.py                      # 20 trials, into runs/tune/example.db
python examples/tune_warmup.py --trials 40          # run it again (or in a second shell): the study goes on
python examples/tune_warmup.py --trials 0           # only say how the study stands
python examples/tune_warmup.py --storage postgresql+psycopg://user:pw@host/db --seed 100 --heartbeat 30
                                                    # one of many workers (processes or machines) on one study
warmup-plugins tune-report --storage sqlite:///runs/tune/example.db --study example --out runs/tune/report
"""

from __future__ import annotations

import argparse

import optuna
import torch

from warmup_plugins.torch import WarmupLR
from warmup_plugins.tune import SearchSpace, TorchReporter, create_study, optimize, suggest_schedule
from warmup_plugins.tune.report import best_or_outcome

EPOCHS = 3


def data(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, list[tuple[torch.Tensor, torch.Tensor]]]:
    """512 points in 20 dimensions, 4 classes from a random linear map: 16 batches of 32."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(512, 20, generator=g)
    y = (x @ torch.randn(20, 4, generator=g)).argmax(1)
    return x, y, list(zip(x.split(32), y.split(32)))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=20, help="trials to add (0: only report the study)")
    parser.add_argument("--storage", default="sqlite:///runs/tune/example.db")
    parser.add_argument("--study", default="example")
    parser.add_argument(
        "--seed", type=int, default=0, help="the sampler's seed (a run that joins a study adds its size)"
    )
    parser.add_argument(
        "--heartbeat",
        type=int,
        default=0,
        metavar="S",
        help="beat every S s; a dead worker's trial is retried (0: off)",
    )
    args = parser.parse_args(argv)
    if args.trials < 0:
        parser.error(f"--trials must be >= 0, got {args.trials}")
    if args.heartbeat < 0:
        parser.error(f"--heartbeat must be >= 0 seconds, got {args.heartbeat}")
    x, y, loader = data()
    # Checked here, before any trial. No 'untuned': its 2000-update warmup (Adam's beta2 0.999) is longer than this run.
    space = SearchSpace(warmup_types=("none", "linear", "cosine", "exponential", "adaptive"), peak_lr=(1e-3, 1.0))

    def objective(trial) -> float:
        s = suggest_schedule(trial, total_steps=EPOCHS * len(loader), space=space)
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(20, 64), torch.nn.ReLU(), torch.nn.Linear(64, 4))
        optimizer = torch.optim.AdamW(model.parameters(), lr=s.peak_lr)
        reporter = TorchReporter(trial, WarmupLR(optimizer, record=True, **s.scheduler_kwargs()))
        for epoch in range(EPOCHS):
            for xb, yb in loader:
                loss = torch.nn.functional.cross_entropy(model(xb), yb)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                reporter.step(loss=loss)  # scheduler.step(), then prunes on a spike, a NaN or a divergence
            with torch.no_grad():
                accuracy = (model(x).argmax(1) == y).float().mean().item()
            reporter.report_epoch(epoch, accuracy)  # trial.report, then Optuna's pruner
        return accuracy

    study = create_study(args.study, storage=args.storage, heartbeat_interval=args.heartbeat or None)
    # Seeded; a run that joins the study offsets the seed by its size, so it does not replay the first run's trials.
    study.sampler = optuna.samplers.TPESampler(seed=args.seed + len(study.trials))
    if args.trials:
        optimize(study, objective, n_trials=args.trials)
    print(best_or_outcome(study))  # the best trial, or (all pruned or failed) how many and why


if __name__ == "__main__":
    main()

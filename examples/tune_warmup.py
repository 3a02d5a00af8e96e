"""Tune a warmup with Optuna: a small classifier on synthetic data, pruned from the warmup diagnosis.

python examples/tune_warmup.py                      # 20 trials, into runs/tune/example.db
python examples/tune_warmup.py --trials 40          # run it again (or in a second shell): the study goes on
warmup-plugins tune-report --storage sqlite:///runs/tune/example.db --study example --out runs/tune/report
"""

from __future__ import annotations

import argparse

import torch

from warmup_plugins.torch import WarmupLR
from warmup_plugins.tune import SearchSpace, TorchReporter, create_study, optimize, suggest_schedule

EPOCHS = 3


def data(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, list[tuple[torch.Tensor, torch.Tensor]]]:
    """512 points in 20 dimensions, 4 classes from a random linear map: 16 batches of 32."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(512, 20, generator=g)
    y = (x @ torch.randn(20, 4, generator=g)).argmax(1)
    return x, y, list(zip(x.split(32), y.split(32)))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--storage", default="sqlite:///runs/tune/example.db")
    parser.add_argument("--study", default="example")
    args = parser.parse_args(argv)
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

    study = create_study(args.study, storage=args.storage)
    optimize(study, objective, n_trials=args.trials)
    best = study.best_trial
    print(f"best of {len(study.trials)} trials: trial {best.number}, accuracy {best.value:.3f}, {best.params}")


if __name__ == "__main__":
    main()

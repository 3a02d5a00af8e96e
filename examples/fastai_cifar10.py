"""The seed CNN on CIFAR-10 with fastai, trained twice: ``learn.fit`` with ``WarmupCallback``, then ``fit_warmup``.

Both warm the LR up linearly over the first 10% of the optimizer updates, from 1% of the peak,
then decay it with a cosine to 0; fastai's default Adam, batch 64. ``fit_warmup`` also cycles
Adam's momentum 0.95 -> 0.85 -> 0.95 along the schedule, as ``fit_one_cycle`` does.

    python examples/fastai_cifar10.py --quick                    # seconds on CPU, synthetic data
    python examples/fastai_cifar10.py --quick --data PATH        # a small subset of the real data
    python examples/fastai_cifar10.py --data /tmp/data/cifar10   # the real run (5 epochs)

``PATH``: an ImageFolder root with ``train/`` and ``test/`` class folders, or torchvision's root
holding ``cifar-10-batches-py``.
"""

from __future__ import annotations

import argparse
import time

import torch
from _cifar10 import datasets_for, seed_cnn
from fastai.basics import Callback, CrossEntropyLossFlat, DataLoaders, Learner, accuracy
from torch.utils.data import DataLoader, Dataset

from warmup_plugins.fastai import WarmupCallback

SCHEDULE = {"warmup_type": "linear", "warmup_pct": 0.1, "decay_type": "cosine"}


def make_dls(train: Dataset, test: Dataset, bs: int, workers: int) -> DataLoaders:
    """Plain torch DataLoaders wrapped for fastai; ``drop_last`` keeps every training batch full."""
    train_dl = DataLoader(train, bs, shuffle=True, drop_last=True, num_workers=workers)
    return DataLoaders(train_dl, DataLoader(test, 4 * bs, num_workers=workers))


class LossAndLR(Callback):
    """Shows the smoothed loss and the LR on fastai's progress bar (which already shows the ETA)."""

    order = 61  # after ProgressCallback (60)

    def after_batch(self) -> None:
        progress = getattr(self.learn, "progress", None)
        if self.training and progress is not None and getattr(progress, "pbar", None) is not None:
            progress.pbar.comment = f"loss {self.smooth_loss.item():.4f} lr {self.opt.hypers[-1]['lr']:.2e}"


def make_learner(dls: DataLoaders, cbs: list | None = None) -> Learner:
    torch.manual_seed(0)
    cbs = [LossAndLR(), *(cbs or [])]
    return Learner(dls, seed_cnn(), loss_func=CrossEntropyLossFlat(), metrics=accuracy, cbs=cbs)


def report(name: str, learn: Learner, seconds: float) -> None:
    """One line: final validation loss and accuracy, and the LR trace the recorder kept (``plot_sched``'s)."""
    valid_loss, acc = learn.recorder.values[-1][1:3]
    lrs = learn.recorder.hps["lr"]
    print(
        f"{name:<22} valid loss {valid_loss:.4f}  accuracy {acc:.4f}  "
        f"lr {lrs[0]:.2e} -> {max(lrs):.2e} -> {lrs[-1]:.2e} over {len(lrs)} updates  ({seconds:.1f} s)"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="CIFAR-10 root (ImageFolder train/test, or torchvision's)")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--lr", type=float, default=1e-3, help="peak LR")
    parser.add_argument("--bs", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2, help="DataLoader workers (0 with --quick)")
    parser.add_argument("--quick", action="store_true", help="2 short epochs on a small (synthetic) set")
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs, args.workers = 2, 0

    train, test = datasets_for(args.data, args.quick)
    dls = make_dls(train, test, args.bs, args.workers)
    print(f"{len(train)} training / {len(test)} test images, {len(dls.train)} batches of {args.bs} per epoch")

    learn = make_learner(dls, cbs=[WarmupCallback(**SCHEDULE)])
    start = time.perf_counter()
    learn.fit(args.epochs, args.lr)
    report("fit + WarmupCallback", learn, time.perf_counter() - start)

    learn = make_learner(dls)
    start = time.perf_counter()
    learn.fit_warmup(args.epochs, args.lr, **SCHEDULE)
    report("fit_warmup", learn, time.perf_counter() - start)


if __name__ == "__main__":
    main()

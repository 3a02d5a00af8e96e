"""A timm model on CIFAR-10 with the timm adapter, in the shape of timm's ``train.py``.

The one-line swap: ``from warmup_plugins.timm import create_scheduler_v2`` instead of timm's,
then ``warmup_type=`` picks the warmup shape. The loop calls ``step_update(num_updates)`` after
every optimizer update and ``step(epoch + 1)`` at each epoch end, as ``train.py`` does.

    python examples/timm_train.py --quick                        # seconds on a CPU, synthetic data
    python examples/timm_train.py --data /tmp/data/cifar10 --device cuda
"""

from __future__ import annotations

import argparse
import time

import timm
import torch
from _cifar10 import datasets_for
from timm.optim import create_optimizer_v2
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from warmup_plugins.timm import create_scheduler_v2


def cifar_resnet(name: str = "resnet18") -> torch.nn.Module:
    """A timm ResNet with a CIFAR stem (3x3 stride-1 first conv, no max-pool) where it has a
    single-conv stem; deep-stem variants (``resnet10t``, the quick mode's) keep theirs."""
    model = timm.create_model(name, num_classes=10)
    if isinstance(model.conv1, torch.nn.Conv2d):
        model.conv1 = torch.nn.Conv2d(3, model.conv1.out_channels, 3, stride=1, padding=1, bias=False)
        model.maxpool = torch.nn.Identity()
    return model


QUICK_NOTE = (
    "--quick: 2 epochs of 4 updates on 128 random images check that the loop runs and the LR follows the schedule;"
    " the accuracies are noise (chance is 10%), not a measure of the warmup. Give --data for a real run."
)


def main(argv: list[str] | None = None) -> list[float]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="CIFAR-10 root (ImageFolder train/test, or torchvision's)")
    parser.add_argument("--model", default="resnet18")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--warmup-epochs", type=int, default=1)
    parser.add_argument("--warmup-type", default="linear", choices=("linear", "exponential", "cosine", "constant"))
    parser.add_argument("--sched", default="cosine")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--quick", action="store_true", help="2 tiny epochs of resnet10t on synthetic data")
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs, args.model, args.batch_size = 2, "resnet10t", 32
        print(QUICK_NOTE)

    torch.manual_seed(0)
    train, test = datasets_for(args.data, args.quick, n_quick=128)
    loader = DataLoader(train, batch_size=args.batch_size, shuffle=True, drop_last=True)
    test_loader = DataLoader(test, batch_size=256)
    model = cifar_resnet(args.model).to(args.device)
    optimizer = create_optimizer_v2(model, "sgd", lr=args.lr, momentum=0.9, weight_decay=5e-4)
    lr_scheduler, num_epochs = create_scheduler_v2(
        optimizer,
        sched=args.sched,
        num_epochs=args.epochs,
        warmup_epochs=args.warmup_epochs,
        warmup_lr=args.lr / 100,
        warmup_type=args.warmup_type,  # new: the warmup shape
        decay_after_warmup=True,  # new: reach the peak, then decay (timm overlaps warmup and decay)
        step_on_epochs=False,
        updates_per_epoch=len(loader),
    )
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=0.1)
    accuracies, num_updates = [], 0
    for epoch in range(num_epochs):
        model.train()
        start = time.perf_counter()
        bar = tqdm(loader, desc=f"epoch {epoch + 1}/{num_epochs}", leave=False, disable=None)
        for x, y in bar:
            loss = loss_fn(model(x.to(args.device)), y.to(args.device))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            num_updates += 1
            lr_scheduler.step_update(num_updates=num_updates, metric=loss.item())
            bar.set_postfix(loss=f"{loss.item():.3f}", lr=f"{optimizer.param_groups[0]['lr']:.2e}", refresh=False)
        lr_scheduler.step(epoch + 1)
        model.eval()
        with torch.no_grad():
            correct = sum(
                (model(x.to(args.device)).argmax(1) == y.to(args.device)).sum().item() for x, y in test_loader
            )
        accuracies.append(correct / len(test))
        print(
            f"epoch {epoch + 1:2d}  loss {loss.item():.3f}  test acc {accuracies[-1]:.2%}  "
            f"lr {optimizer.param_groups[0]['lr']:.2e}  ({time.perf_counter() - start:.1f}s)"
        )
    return accuracies


if __name__ == "__main__":
    main()

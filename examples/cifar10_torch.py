"""The seed's CIFAR-10 example, done right with ``WarmupLR``.

A 5-epoch linear warmup from 1e-4 to the peak 1e-3, stepped after every optimizer update (not
per epoch, so no epoch runs at LR 0), then cosine decay. Adam, batch 64, the seed CNN.

    python examples/cifar10_torch.py --quick                       # seconds on CPU, synthetic data
    python examples/cifar10_torch.py --data /tmp/data/cifar10      # the real run (20 epochs)
"""

from __future__ import annotations

import argparse
import time

import torch
from _cifar10 import datasets_for, seed_cnn
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from warmup_plugins.torch import WarmupLR


def evaluate(model: torch.nn.Module, loader: DataLoader, device: str) -> float:
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for x, y in loader:
            correct += (model(x.to(device)).argmax(1) == y.to(device)).sum().item()
            total += len(y)
    return correct / total


def main(argv: list[str] | None = None) -> dict[str, list[float]]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="CIFAR-10 root (ImageFolder train/test, or torchvision's)")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--warmup-epochs", type=float, default=5)
    parser.add_argument("--lr", type=float, default=1e-3, help="peak LR")
    parser.add_argument("--start-lr", type=float, default=1e-4, help="LR of the first update")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--quick", action="store_true", help="2 short epochs on a small (synthetic) set")
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs, args.warmup_epochs = 2, 1

    torch.manual_seed(0)
    train, test = datasets_for(args.data, args.quick)
    train_loader = DataLoader(train, batch_size=64, shuffle=True, num_workers=0)
    test_loader = DataLoader(test, batch_size=256)
    model = seed_cnn().to(args.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    scheduler = WarmupLR(
        optimizer,
        warmup_type="linear",
        warmup_epochs=args.warmup_epochs,
        total_epochs=args.epochs,
        steps_per_epoch=len(train_loader),
        start_factor=args.start_lr / args.lr,
        decay_type="cosine",
    )
    history: dict[str, list[float]] = {"loss": [], "accuracy": [], "lr": []}
    for epoch in range(args.epochs):
        model.train()
        start, total_loss = time.perf_counter(), 0.0
        bar = tqdm(train_loader, desc=f"epoch {epoch + 1}/{args.epochs}", leave=False, disable=None)
        for i, (x, y) in enumerate(bar):
            loss = torch.nn.functional.cross_entropy(model(x.to(args.device)), y.to(args.device))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()  # once per update: the warmup counts optimizer updates
            total_loss += loss.item()
            bar.set_postfix(loss=f"{total_loss / (i + 1):.3f}", lr=f"{scheduler.get_last_lr()[0]:.2e}", refresh=False)
        history["loss"].append(total_loss / len(train_loader))
        history["accuracy"].append(evaluate(model, test_loader, args.device))
        history["lr"].append(scheduler.get_last_lr()[0])
        print(
            f"epoch {epoch + 1:2d}  loss {history['loss'][-1]:.4f}  test acc {history['accuracy'][-1]:.2%}  "
            f"next lr {history['lr'][-1]:.2e}  ({time.perf_counter() - start:.1f}s)"
        )
    return history


if __name__ == "__main__":
    main()

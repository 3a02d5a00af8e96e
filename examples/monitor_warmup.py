"""Monitor a warmup: record, diagnose and plot a run at a too-high peak LR, then follow the diagnosis.

The seed CNN with Adam at a peak LR of 0.03 (thirty times the seed's 1e-3) and a cosine decay.
First with no warmup; its diagnosis suggests a warmup length, and the second run uses it (a
linear warmup from 1% of the peak); the same initial weights and the same batches. Each update's
LR, loss and gradient norm and each epoch's losses and test accuracy go into a ``TrainingRecord``
(logged by hand here; the adapters can do it for you), which is diagnosed, plotted and saved as
JSON (for ``warmup-plugins diagnose`` / ``plot-record``).

    python examples/monitor_warmup.py --quick                        # seconds on CPU, synthetic data
    python examples/monitor_warmup.py --data /tmp/data/cifar10       # the docs' figure (about a minute)
    python examples/monitor_warmup.py --data /tmp/data/cifar10 --out examples/figures   # redraw the committed one
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import torch
from _cifar10 import load_cifar10, seed_cnn, synthetic_cifar10
from torch.utils.data import DataLoader, Dataset, TensorDataset
from tqdm.auto import tqdm

from warmup_plugins import Diagnosis, TrainingRecord, WarmupSchedule, diagnose
from warmup_plugins.monitoring.plotting import plot_record
from warmup_plugins.torch import WarmupLR

OUT = Path("runs/monitor_warmup")  # git-ignored; --out examples/figures redraws the committed figure and records


QUICK_NOTE = (
    "--quick: 16 updates on 128 random images show the workflow (record, diagnose, plot); they are too few and"
    " too random to show what the warmup does, so either run may end ahead. Give --data for the real comparison."
)


def preload(dataset: Dataset, n: int, seed: int) -> TensorDataset:
    """``n`` random samples, decoded once into tensors (JPEG decoding would dominate otherwise)."""
    idx = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed))[:n].tolist()  # type: ignore[arg-type]
    x, y = zip(*(dataset[i] for i in idx))
    return TensorDataset(torch.stack(x), torch.tensor(y))


def evaluate(model: torch.nn.Module, loader: DataLoader) -> tuple[float, float]:
    """Mean cross-entropy and accuracy on ``loader``."""
    model.eval()
    total_loss = correct = count = 0.0
    with torch.no_grad():
        for x, y in loader:
            out = model(x)
            total_loss += torch.nn.functional.cross_entropy(out, y, reduction="sum").item()
            correct += (out.argmax(1) == y).sum().item()
            count += len(y)
    model.train()
    return total_loss / count, correct / count


def train(
    label: str, schedule: WarmupSchedule, args: argparse.Namespace, train_set: Dataset, test: DataLoader
) -> TrainingRecord:
    """One run; every update's LR, loss and gradient norm, and every epoch's metrics, into a record."""
    torch.manual_seed(0)
    model = seed_cnn()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    scheduler = WarmupLR(optimizer, schedule)
    loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True, generator=torch.Generator().manual_seed(1))
    record = TrainingRecord(
        meta={
            "adapter": "by hand",
            "schedule": schedule.to_dict(),
            "base_lrs": [args.lr],
            "steps_per_epoch": len(loader),
            "num_classes": 10,
        }
    )
    k = 0
    for epoch in range(args.epochs):
        start, losses = time.perf_counter(), []
        for x, y in tqdm(loader, desc=f"{label} epoch {epoch + 1}/{args.epochs}", leave=False, disable=None):
            loss = torch.nn.functional.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), math.inf)  # measures, does not clip
            record.log_update(k, optimizer.param_groups[0]["lr"], loss.item(), grad_norm.item())
            optimizer.step()
            scheduler.step()
            losses.append(loss.item())
            k += 1
        valid_loss, accuracy = evaluate(model, test)
        record.log_epoch(epoch, sum(losses) / len(losses), valid_loss, accuracy)
        print(
            f"{label:>9}  epoch {epoch + 1}  train loss {sum(losses) / len(losses):.3f}  max {max(losses):.3g}  "
            f"test loss {valid_loss:.3f}  test acc {accuracy:.1%}  ({time.perf_counter() - start:.0f}s)"
        )
    return record


def main(argv: list[str] | None = None) -> dict[str, TrainingRecord]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="CIFAR-10 root (ImageFolder train/test, or torchvision's)")
    parser.add_argument("--quick", action="store_true", help="2 short epochs of batch 16 on a small synthetic set")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.03, help="peak LR (default 0.03)")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--n-train", type=int, default=12800, help="training images used from --data")
    parser.add_argument("--n-test", type=int, default=2000, help="test images used from --data")
    parser.add_argument("--out", type=Path, default=OUT, help=f"where the figure and the records go (default {OUT})")
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs, args.batch_size = 2, 16
        torch.set_num_threads(1)  # tiny batches: threads only add synchronisation
        train_set, test_set = synthetic_cifar10(128, 64)
        print(QUICK_NOTE)
    elif args.data is None:
        parser.error("--data is required without --quick")
    else:
        train_full, test_full = load_cifar10(args.data)
        train_set, test_set = preload(train_full, args.n_train, 0), preload(test_full, args.n_test, 1)
    test_loader = DataLoader(test_set, batch_size=500)
    steps_per_epoch = math.ceil(len(train_set) / args.batch_size)  # type: ignore[arg-type]
    total = args.epochs * steps_per_epoch
    args.out.mkdir(parents=True, exist_ok=True)

    def run(label: str, name: str, schedule: WarmupSchedule) -> tuple[TrainingRecord, Diagnosis]:
        record = train(label, schedule, args, train_set, test_loader)
        diagnosis = diagnose(record)
        print(f"\n== diagnose: {label}\n{diagnosis}\n")
        record.save(args.out / f"{name}.json")
        return record, diagnosis

    no_warmup = WarmupSchedule(warmup_type="none", total_steps=total, decay_type="cosine")
    first, diagnosis = run("no warmup", "monitor_no_warmup", no_warmup)
    suggested = [s.value for f in diagnosis for s in f.suggestions if s.action == "extend_warmup"]
    warmup = int(suggested[0]) if suggested else steps_per_epoch  # one epoch when nothing is suggested
    label = f"warmup {warmup}" + (" (suggested)" if suggested else "")
    with_warmup = WarmupSchedule(warmup_steps=warmup, total_steps=total, decay_type="cosine")
    second, _ = run(label, "monitor_warmup", with_warmup)

    where = "synthetic data" if args.quick else f"CIFAR-10, {len(train_set)} images"  # type: ignore[arg-type]
    title = f"Seed CNN, Adam, peak LR {args.lr:g}, cosine decay ({where})"
    path = plot_record({"no warmup": first, label: second}, args.out / "monitor_warmup.png", title=title)
    if args.quick:
        print(QUICK_NOTE)
    print(f"wrote {path} and the records monitor_no_warmup.json, monitor_warmup.json in {args.out}")
    return {"no warmup": first, label: second}


if __name__ == "__main__":
    main()

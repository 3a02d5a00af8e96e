"""CIFAR-10 for the examples: either on-disk layout, or a small synthetic stand-in for ``--quick``.

Accepted roots: an ImageFolder root with ``train/`` and ``test/`` class folders (fastai's
``URLs.CIFAR`` layout), or torchvision's root holding ``cifar-10-batches-py``.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch.utils.data import Dataset, Subset, TensorDataset
from torchvision import datasets, transforms

SEED_TRANSFORM = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,) * 3, (0.5,) * 3)])
LAYOUTS = "an ImageFolder root with train/ and test/ class folders, or torchvision's root with cifar-10-batches-py"


def load_cifar10(root: str | Path, transform=SEED_TRANSFORM) -> tuple[Dataset, Dataset]:
    """(train, test) datasets from ``root`` in either layout; a clear error for anything else."""
    root = Path(root)
    if (root / "train").is_dir() and (root / "test").is_dir():
        return datasets.ImageFolder(root / "train", transform), datasets.ImageFolder(root / "test", transform)
    if (root / "cifar-10-batches-py").is_dir():
        return (
            datasets.CIFAR10(root, train=True, transform=transform),
            datasets.CIFAR10(root, train=False, transform=transform),
        )
    raise FileNotFoundError(f"no CIFAR-10 at {root}: expected {LAYOUTS}")


def synthetic_cifar10(n_train: int = 512, n_test: int = 128, seed: int = 0) -> tuple[Dataset, Dataset]:
    """Random 3x32x32 images whose class shifts the mean of one channel: learnable in seconds."""
    g = torch.Generator().manual_seed(seed)

    def make(n: int) -> TensorDataset:
        y = torch.randint(0, 10, (n,), generator=g)
        x = torch.randn(n, 3, 32, 32, generator=g) * 0.5
        x[:, 0] += (y.float() - 4.5)[:, None, None] / 4.5
        return TensorDataset(x, y)

    return make(n_train), make(n_test)


def datasets_for(data: str | None, quick: bool, n_quick: int = 512) -> tuple[Dataset, Dataset]:
    """Real data (a subset in quick mode) when ``data`` is given, else the synthetic stand-in."""
    if data is None:
        if not quick:
            raise SystemExit(f"--data is required without --quick ({LAYOUTS})")
        return synthetic_cifar10(n_quick, n_quick // 4)
    train, test = load_cifar10(data)
    if quick:
        g = torch.Generator().manual_seed(0)
        train = Subset(train, torch.randperm(len(train), generator=g)[:n_quick].tolist())
        test = Subset(test, torch.randperm(len(test), generator=g)[: n_quick // 4].tolist())
    return train, test


def seed_cnn() -> torch.nn.Module:
    """The seed's CNN: Conv2d 3->64 3x3 pad 1, ReLU, MaxPool 2, Flatten, Linear 64*16*16 -> 10."""
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 64, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(64 * 16 * 16, 10),
    )

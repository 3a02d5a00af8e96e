"""The set-ups of the peak-finding benchmark: small CIFAR-10 models, each trained for 1,560 updates.

Every set-up trains on a class-balanced subset of CIFAR-10's training split (``images``), batch ``batch``, for
``epochs`` epochs, and is tested on ``test_images`` class-balanced test images. The sizes make one run take a
few minutes on 2 CPU cores (one thread per run, two runs side by side) while keeping at least 1,500 updates per
run and 10 epochs (the AutoWU rule tests once per epoch and needs three tests in a row).

=================  ========================  ======================================  ============  ==========
set-up             model                     optimizer                               role          grid peaks
=================  ========================  ======================================  ============  ==========
``cnn-adam``       the seed CNN (166k)        Adam                                    development   1e-3..3e-2
``resnet-sgd``     a CIFAR ResNet-8 (78k)     SGD, momentum 0.9, nesterov, wd 5e-4    development   0.03..1.0
``vit-adamw``      a ViT, 4x4 patches (141k)  AdamW, wd 0.05                          held out      3e-4..1e-2
``convmixer-lamb`` a ConvMixer (86k)          timm's LAMB, wd 0.02                    held out      3e-3..0.1
=================  ========================  ======================================  ============  ==========

Held-out set-ups were never run while the peak-finding rule and its defaults were chosen.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch

from benchmarks.data import Split, augment, balanced_subset, batch_order, normalize

CIFAR_MEAN, CIFAR_STD = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)


@dataclass(frozen=True)
class Setup:
    """One model, optimizer and data size; ``peaks`` is the reference grid's peak LRs (spanning 30x)."""

    name: str
    model: str
    optimizer: str
    peaks: tuple[float, ...]
    role: str  # "development" or "held out"
    images: int = 5_000
    test_images: int = 5_000
    batch: int = 32
    epochs: int = 10
    augment: bool = True

    @property
    def steps_per_epoch(self) -> int:
        return self.images // self.batch

    @property
    def total_steps(self) -> int:
        return self.epochs * self.steps_per_epoch

    @property
    def bound(self) -> float:
        """The peak finder's upper bound (the optimizer's LR): 3x the grid's highest peak."""
        return 3 * max(self.peaks)

    def build_model(self) -> torch.nn.Module:
        return MODELS[self.model]()

    def build_optimizer(self, model: torch.nn.Module, lr: float) -> torch.optim.Optimizer:
        return OPTIMIZERS[self.optimizer](model, lr)


SETUPS: dict[str, Setup] = {
    s.name: s
    for s in (
        Setup("cnn-adam", "seed_cnn", "adam", (1e-3, 3e-3, 1e-2, 3e-2), "development", augment=False),
        Setup("resnet-sgd", "resnet8", "sgd", (0.03, 0.1, 0.3, 1.0), "development"),
        Setup("vit-adamw", "vit", "adamw", (3e-4, 1e-3, 3e-3, 1e-2), "held out"),
        Setup("convmixer-lamb", "convmixer", "lamb", (3e-3, 1e-2, 3e-2, 0.1), "held out"),
    )
}


# ------------------------------------------------------------------------------------------------ models
def seed_cnn() -> torch.nn.Module:
    """The seed's CNN: Conv2d 3->64 3x3 pad 1, ReLU, MaxPool 2, Flatten, Linear 64*16*16 -> 10."""
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 64, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(64 * 16 * 16, 10),
    )


class _Block(torch.nn.Module):
    """A basic residual block (two 3x3 convs with batch norm), a 1x1 projection where the shape changes."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        nn = torch.nn
        self.body = nn.Sequential(
            nn.Conv2d(cin, cout, 3, stride, 1, bias=False),
            nn.BatchNorm2d(cout),
            nn.ReLU(),
            nn.Conv2d(cout, cout, 3, 1, 1, bias=False),
            nn.BatchNorm2d(cout),
        )
        same = stride == 1 and cin == cout
        self.shortcut = (
            nn.Identity() if same else nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + self.shortcut(x))


def resnet8(width: int = 16) -> torch.nn.Module:
    """A CIFAR ResNet-8: a 3x3 stem, three stages of one basic block (widths 16, 32, 64), global pooling."""
    nn = torch.nn
    layers: list[nn.Module] = [nn.Conv2d(3, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU()]
    cin = width
    for stage in range(3):
        cout = width * 2**stage
        layers.append(_Block(cin, cout, 1 if stage == 0 else 2))
        cin = cout
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, 10)]
    return nn.Sequential(*layers)


def vit() -> torch.nn.Module:
    """timm's VisionTransformer for 32x32 inputs: 4x4 patches (64 tokens), width 64, depth 4, 2 heads."""
    from timm.models.vision_transformer import VisionTransformer

    return VisionTransformer(img_size=32, patch_size=4, num_classes=10, embed_dim=64, depth=4, num_heads=2, mlp_ratio=2)


def convmixer() -> torch.nn.Module:
    """timm's ConvMixer: 4x4 patches, width 96, depth 6, 5x5 depthwise kernels."""
    from timm.models.convmixer import ConvMixer

    return ConvMixer(dim=96, depth=6, kernel_size=5, patch_size=4, num_classes=10)


MODELS = {"seed_cnn": seed_cnn, "resnet8": resnet8, "vit": vit, "convmixer": convmixer}


# ------------------------------------------------------------------------------------------------ optimizers
def _decay_groups(model: torch.nn.Module, weight_decay: float) -> list[dict]:
    """Weight decay on matrices and kernels only (not on norms, biases, tokens): two groups, one LR."""
    decay = [p for p in model.parameters() if p.ndim > 1]
    rest = [p for p in model.parameters() if p.ndim <= 1]
    return [{"params": decay, "weight_decay": weight_decay}, {"params": rest, "weight_decay": 0.0}]


def _lamb(model: torch.nn.Module, lr: float) -> torch.optim.Optimizer:
    from timm.optim import Lamb

    return Lamb(_decay_groups(model, 0.02), lr=lr)


OPTIMIZERS = {
    "adam": lambda model, lr: torch.optim.Adam(model.parameters(), lr=lr),
    "sgd": lambda model, lr: torch.optim.SGD(_decay_groups(model, 5e-4), lr=lr, momentum=0.9, nesterov=True),
    "adamw": lambda model, lr: torch.optim.AdamW(_decay_groups(model, 0.05), lr=lr),
    "lamb": _lamb,
}


# ------------------------------------------------------------------------------------------------ data
class Data:
    """A set-up's seeded training subset and test subset, batches in a seeded order (the same for every method)."""

    def __init__(self, setup: Setup, train: Split, test: Split, seed: int) -> None:
        self.setup, self.seed = setup, seed
        self.train = balanced_subset(train, setup.images, seed=0)  # the same images for every seed
        self.test = balanced_subset(test, setup.test_images, seed=0)

    def epoch(self, epoch: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        s = self.setup
        generator = torch.Generator().manual_seed(self.seed * 1_000 + epoch) if s.augment else None
        for idx in batch_order(len(self.train), s.batch, epoch, self.seed)[: s.steps_per_epoch]:
            images = self.train.images[idx]
            if generator is not None:
                images = augment(images, generator)
            yield normalize(images, CIFAR_MEAN, CIFAR_STD), self.train.labels[idx]

    def batches(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Every training batch of the run, epoch after epoch."""
        for epoch in range(self.setup.epochs):
            yield from self.epoch(epoch)

    @torch.no_grad()
    def accuracy(self, model: torch.nn.Module) -> float:
        """Test accuracy in percent."""
        model.eval()
        correct = 0
        for start in range(0, len(self.test), 1000):
            x = normalize(self.test.images[start : start + 1000], CIFAR_MEAN, CIFAR_STD)
            correct += int((model(x).argmax(1) == self.test.labels[start : start + 1000]).sum())
        model.train()
        return 100 * correct / len(self.test)

"""The two CIFAR-10 recipes: the seed's CNN and a timm ResNet-18 with a CIFAR stem."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch

from warmup_plugins import WarmupSchedule

SEED_MEAN = SEED_STD = (0.5, 0.5, 0.5)
CIFAR_MEAN, CIFAR_STD = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)


@dataclass(frozen=True)
class Recipe:
    """Everything a run needs besides the adapter: model, optimizer, loss, schedule, data handling."""

    name: str
    epochs: int
    batch_size: int
    peak_lr: float
    start_lr: float
    warmup_epochs: float
    decay: str
    augment: bool
    bf16: bool
    channels_last: bool
    label_smoothing: float
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    warmup_type: str = "linear"

    def with_(self, **changes: object) -> Recipe:
        return dataclasses.replace(self, **changes)

    def model(self) -> torch.nn.Module:
        if self.name == "seed_cnn":
            return seed_cnn()
        return cifar_resnet18()

    def optimizer(self, model: torch.nn.Module) -> torch.optim.Optimizer:
        if self.name == "seed_cnn":
            return torch.optim.Adam(model.parameters(), lr=self.peak_lr)
        decay, no_decay = [], []
        for p in model.parameters():
            (no_decay if p.ndim <= 1 else decay).append(p)  # no weight decay on norm weights and biases
        groups = [{"params": decay, "weight_decay": 5e-4}, {"params": no_decay, "weight_decay": 0.0}]
        return torch.optim.SGD(groups, lr=self.peak_lr, momentum=0.9, nesterov=True)

    def loss(self) -> torch.nn.Module:
        return torch.nn.CrossEntropyLoss(label_smoothing=self.label_smoothing)

    def schedule(self, steps_per_epoch: int) -> WarmupSchedule:
        """Warmup over ``warmup_epochs`` from ``start_lr`` to the peak, per update, then the decay."""
        return WarmupSchedule.from_epochs(
            warmup_type=self.warmup_type if self.warmup_epochs else "none",
            warmup_epochs=self.warmup_epochs,
            total_epochs=self.epochs,
            steps_per_epoch=steps_per_epoch,
            start_factor=self.start_lr / self.peak_lr,
            decay_type=self.decay,
        )


def seed_cnn() -> torch.nn.Module:
    """The seed's CNN: Conv2d 3->64 3x3 pad 1, ReLU, MaxPool 2, Flatten, Linear 64*16*16 -> 10."""
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 64, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(64 * 16 * 16, 10),
    )


def cifar_resnet18() -> torch.nn.Module:
    """``timm.create_model('resnet18', num_classes=10)`` with a 3x3 stride-1 stem and no max-pool."""
    import timm

    model = timm.create_model("resnet18", num_classes=10)
    model.conv1 = torch.nn.Conv2d(3, 64, 3, stride=1, padding=1, bias=False)
    model.maxpool = torch.nn.Identity()
    return model


SEED_CNN = Recipe(
    name="seed_cnn",
    epochs=20,
    batch_size=64,
    peak_lr=1e-3,
    start_lr=1e-4,
    warmup_epochs=5,
    decay="cosine",
    augment=False,
    bf16=False,
    channels_last=False,
    label_smoothing=0.0,
    mean=SEED_MEAN,
    std=SEED_STD,
)
RESNET18 = Recipe(
    name="resnet18",
    epochs=10,
    batch_size=512,
    peak_lr=0.4,
    start_lr=0.004,
    warmup_epochs=1,
    decay="cosine",
    augment=True,
    bf16=True,
    channels_last=True,
    label_smoothing=0.1,
    mean=CIFAR_MEAN,
    std=CIFAR_STD,
)
RECIPES = {r.name: r for r in (SEED_CNN, RESNET18)}

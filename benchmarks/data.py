"""CIFAR-10 for the benchmarks: decoded once to uint8 arrays, then kept whole on the device.

Accepted roots: an ImageFolder root with ``train/`` and ``test/`` class folders (fastai's
``URLs.CIFAR`` layout, what ``cifar10-jpeg.tar.gz`` unpacks to), or torchvision's root holding
``cifar-10-batches-py`` (``download=True`` fetches it where the machine is online). The decoded
arrays are cached as ``cifar10-<hash of the root>.npz`` in the cache directory (``cache_dir()``:
``$WARMUP_PLUGINS_CACHE``, else ``$XDG_CACHE_HOME/warmup_plugins``, else ``~/.cache/warmup_plugins``),
never in the data folder; delete it freely, it is rebuilt on the next run.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

LAYOUTS = (
    "an ImageFolder root with train/ and test/ class folders (fastai's URLs.CIFAR layout), "
    "or torchvision's root holding cifar-10-batches-py"
)
DOWNLOAD_HOST = ("www.cs.toronto.edu", 443)  # where torchvision's CIFAR10(download=True) fetches from


@dataclass
class Split:
    """Images as uint8 ``[N, 3, 32, 32]`` and int64 labels, on one device."""

    images: torch.Tensor
    labels: torch.Tensor

    def __len__(self) -> int:
        return len(self.labels)

    def to(self, device: str | torch.device) -> Split:
        return Split(self.images.to(device), self.labels.to(device))

    def subset(self, n: int, seed: int = 0) -> Split:
        index = torch.randperm(len(self), generator=torch.Generator().manual_seed(seed))[:n]
        return Split(self.images[index], self.labels[index])


def _decode(path: str) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"), dtype=np.uint8)


def _read_image_folder(folder: Path, workers: int) -> tuple[np.ndarray, np.ndarray]:
    classes = sorted(p.name for p in folder.iterdir() if p.is_dir())
    if not classes:
        raise FileNotFoundError(f"{folder} has no class folders; expected {LAYOUTS}")
    paths, labels = [], []
    for index, name in enumerate(classes):
        files = sorted(str(p) for p in (folder / name).iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
        paths += files
        labels += [index] * len(files)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        images = list(pool.map(_decode, paths, chunksize=512))
    return np.stack(images), np.asarray(labels, dtype=np.int64)


def _read_torchvision(root: Path, train: bool) -> tuple[np.ndarray, np.ndarray]:
    from torchvision.datasets import CIFAR10

    data = CIFAR10(str(root), train=train)
    return np.asarray(data.data, dtype=np.uint8), np.asarray(data.targets, dtype=np.int64)


def cache_dir() -> Path:
    """Where downloads and decoded arrays go: ``$WARMUP_PLUGINS_CACHE``, ``$XDG_CACHE_HOME/warmup_plugins``
    or ``~/.cache/warmup_plugins``."""
    if os.environ.get("WARMUP_PLUGINS_CACHE"):
        return Path(os.environ["WARMUP_PLUGINS_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "warmup_plugins"


def cached_arrays_path(root: Path, cache: Path) -> Path:
    """The decoded-array cache of one data root: ``cache/cifar10-<first 12 hex of sha1(resolved root)>.npz``."""
    return cache / f"cifar10-{hashlib.sha1(str(root.resolve()).encode()).hexdigest()[:12]}.npz"


def is_reachable(host: tuple[str, int], timeout: float = 5.0) -> bool:
    """Whether a TCP connection to ``host`` opens within ``timeout`` seconds."""
    try:
        socket.create_connection(host, timeout=timeout).close()
    except OSError:
        return False
    return True


def find_or_download(data: str | Path | None, cache: Path, host: tuple[str, int] = DOWNLOAD_HOST) -> Path:
    """The CIFAR-10 root to read: ``data``, else ``$CIFAR10_ROOT``, else torchvision's download into
    ``cache/cifar10`` (reused once there). Offline with no copy: ``SystemExit`` saying how to get one."""
    data = data or os.environ.get("CIFAR10_ROOT")
    if data:
        return Path(data)
    root = cache / "cifar10"
    if (root / "cifar-10-batches-py").is_dir():
        return root
    if not is_reachable(host):
        raise SystemExit(
            f"no CIFAR-10 copy given and {host[0]} is unreachable (offline?), so it cannot be downloaded.\n"
            "Get a copy on a machine that is online:\n"
            "  python -c \"from torchvision.datasets import CIFAR10; CIFAR10('cifar10', download=True)\"\n"
            "copy the cifar10 folder here, then pass it: --data cifar10 (make demo DEMO_ARGS='--data cifar10')\n"
            f"or export CIFAR10_ROOT=cifar10. Accepted: {LAYOUTS}."
        )
    from torchvision.datasets import CIFAR10

    for train in (True, False):
        CIFAR10(str(root), train=train, download=True)
    return root


def load_arrays(
    root: str | Path, *, download: bool = False, workers: int | None = None, cache: Path | None = None
) -> dict[str, np.ndarray]:
    """``{'x_train', 'y_train', 'x_test', 'y_test'}`` as NHWC uint8 / int64 arrays, from the cache if any."""
    root = Path(root)
    if download:
        from torchvision.datasets import CIFAR10

        CIFAR10(str(root), train=True, download=True)
        CIFAR10(str(root), train=False, download=True)
    if not root.is_dir():
        raise FileNotFoundError(f"CIFAR-10 root {root} does not exist; expected {LAYOUTS}")
    cache = cached_arrays_path(root, cache or cache_dir())
    if cache.exists():
        with np.load(cache) as data:
            return {k: data[k] for k in data.files}
    workers = workers or min(16, os.cpu_count() or 1)
    if (root / "train").is_dir() and (root / "test").is_dir():
        (x_train, y_train), (x_test, y_test) = (_read_image_folder(root / s, workers) for s in ("train", "test"))
    elif (root / "cifar-10-batches-py").is_dir():
        (x_train, y_train), (x_test, y_test) = (_read_torchvision(root, train) for train in (True, False))
    else:
        raise FileNotFoundError(f"no CIFAR-10 under {root}: expected {LAYOUTS}")
    arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
    if any(a.shape[1:] != (32, 32, 3) for a in (x_train, x_test)):
        raise ValueError(f"images under {root} are not 32x32 RGB; expected CIFAR-10 in {LAYOUTS}")
    with contextlib.suppress(OSError):  # a read-only cache: decode again next time
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, **arrays)
    return arrays


def load_cifar10(
    root: str | Path, device: str | torch.device, *, download: bool = False, cache: Path | None = None
) -> tuple[Split, Split]:
    """(train, test) splits, whole, on ``device``; decoded arrays cached under ``cache`` (default ``cache_dir()``)."""
    a = load_arrays(root, download=download, cache=cache)

    def split(x: np.ndarray, y: np.ndarray) -> Split:
        return Split(torch.from_numpy(x).permute(0, 3, 1, 2).contiguous(), torch.from_numpy(y)).to(device)

    return split(a["x_train"], a["y_train"]), split(a["x_test"], a["y_test"])


def synthetic_cifar10(n_train: int, n_test: int, device: str | torch.device, seed: int = 0) -> tuple[Split, Split]:
    """Random uint8 images whose class shifts one channel's mean: learnable, for ``--quick`` runs."""
    g = torch.Generator().manual_seed(seed)

    def make(n: int) -> Split:
        labels = torch.randint(0, 10, (n,), generator=g)
        images = torch.randint(0, 160, (n, 3, 32, 32), generator=g, dtype=torch.int64)
        images[:, 0] += labels[:, None, None] * 9
        return Split(images.to(torch.uint8), labels).to(device)

    return make(n_train), make(n_test)


def batch_order(n: int, batch_size: int, epoch: int, seed: int) -> list[torch.Tensor]:
    """Index batches for one epoch (full batches only): the same for every adapter and run."""
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed * 100_003 + epoch))
    return list(perm[: n - n % batch_size].split(batch_size))


def normalize(images: torch.Tensor, mean: tuple[float, ...], std: tuple[float, ...]) -> torch.Tensor:
    """uint8 ``[B, 3, H, W]`` to normalized float."""
    m = torch.tensor(mean, device=images.device).view(1, 3, 1, 1)
    s = torch.tensor(std, device=images.device).view(1, 3, 1, 1)
    return (images.float() / 255 - m) / s


def augment(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random crop with 4-pixel zero padding and a horizontal flip, per image, on the device."""
    b, _, h, w = images.shape
    padded = torch.nn.functional.pad(images, (4, 4, 4, 4))
    dy = torch.randint(0, 9, (b,), generator=generator, device=generator.device).to(images.device)
    dx = torch.randint(0, 9, (b,), generator=generator, device=generator.device).to(images.device)
    flip = torch.rand(b, generator=generator, device=generator.device).to(images.device) < 0.5
    rows = (dy[:, None] + torch.arange(h, device=images.device))[:, None, :, None]
    cols = (dx[:, None] + torch.arange(w, device=images.device))[:, None, None, :]
    cols = torch.where(flip[:, None, None, None], cols.flip(-1), cols)
    batch = torch.arange(b, device=images.device)[:, None, None, None]
    channel = torch.arange(3, device=images.device)[None, :, None, None]
    return padded[batch, channel, rows, cols]


def balanced_subset(split: Split, n: int, seed: int = 0) -> Split:
    """``n`` images, as many of each class as ``n`` allows (a seeded choice within each class)."""
    g = torch.Generator().manual_seed(seed)
    classes = sorted(set(split.labels.tolist()))
    per_class = n // len(classes)
    index = []
    for c in classes:
        members = (split.labels == c).nonzero().flatten()
        index.append(members[torch.randperm(len(members), generator=g)[:per_class]])
    chosen = torch.cat(index).sort().values
    return Split(split.images[chosen], split.labels[chosen])

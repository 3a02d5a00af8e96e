"""What every benchmark stores: where it ran (device, library versions, git commit) and its JSON."""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

import torch


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    dirty = subprocess.run(["git", "status", "--porcelain"], capture_output=True, text=True, timeout=10).stdout
    return out.stdout.strip() + ("-dirty" if dirty.strip() else "")


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def device_name(device: str = "cpu") -> str:
    if device.startswith("cuda") and torch.cuda.is_available():
        return torch.cuda.get_device_name(torch.device(device))
    return f"CPU: {_cpu_model()}, {os.cpu_count()} cores"


def environment(device: str = "cpu") -> dict[str, str | None]:
    return {
        "device": device_name(device),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "timm": _version("timm"),
        "fastai": _version("fastai"),
        "warmup_plugins": _version("warmup_plugins"),
        "git_commit": _git_commit(),
    }


def save_result(result: dict, out: Path, name: str, quick: bool) -> Path:
    """Write ``result`` to ``out/<name>.json`` (``<name>_quick.json`` for a smoke run) and return the path."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / (f"{name}_quick.json" if quick else f"{name}.json")
    path.write_text(json.dumps(result, indent=1))
    return path


RUNS = Path(
    "runs/benchmarks"
)  # default output folder (git-ignored); --out benchmarks/results updates the committed one


def device_argument(device: str) -> str:
    """``--device``'s type: ``device`` if torch can use it, else argparse's one-line error and exit status 2 (before
    any data is read), as for every other bad flag."""
    try:
        kind = torch.device(device).type
    except (RuntimeError, TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"{device!r} is not a torch device; use cpu, cuda or cuda:N") from None
    if kind == "cuda" and not torch.cuda.is_available():
        build = f"built for CUDA {torch.version.cuda}" if torch.version.cuda else "a CPU-only build"
        raise argparse.ArgumentTypeError(
            f"no CUDA device is available (torch {torch.__version__}, {build}); use --device cpu"
        )
    return device


def add_device_argument(parser: argparse.ArgumentParser) -> None:
    """``--device``, checked by :func:`device_argument`; default ``cuda`` where there is one, else ``cpu``."""
    parser.add_argument(
        "--device", type=device_argument, default="cuda" if torch.cuda.is_available() else "cpu", help="a torch device"
    )


def timing_parser(description: str | None) -> argparse.ArgumentParser:
    """The options every micro-benchmark takes: ``--out``, ``--rounds``, ``--quick``."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--out",
        type=Path,
        default=RUNS,
        help=f"output folder (default {RUNS}; benchmarks/results is the committed one)",
    )
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="few repetitions (a smoke test)")
    return parser

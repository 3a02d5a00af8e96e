"""``examples/fastai_cifar10.py --quick`` runs end to end: synthetic data, and real data when CIFAR10_ROOT is set."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("fastai")
pytest.importorskip("torchvision")

ROOT = Path(__file__).resolve().parents[2]
CIFAR10_ROOT = os.environ.get("CIFAR10_ROOT")


def run_quick(*args: str) -> dict[str, tuple[float, int]]:
    """Run the example; (accuracy, LR updates recorded) for each of its two trainings."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "fastai_cifar10.py"), "--quick", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    found = {}
    for name in ("fit + WarmupCallback", "fit_warmup"):
        line = re.search(rf"^{re.escape(name)} .*accuracy ([\d.]+) .* over (\d+) updates", result.stdout, re.M)
        assert line, f"no line for {name} in:\n{result.stdout}"
        found[name] = (float(line.group(1)), int(line.group(2)))
    return found


def test_quick_mode_on_synthetic_data():
    for accuracy, updates in run_quick().values():
        assert updates == 2 * 512 // 64  # two epochs of 8 full batches, one LR per update
        assert accuracy > 0.2  # 10 classes: well above chance


@pytest.mark.skipif(not CIFAR10_ROOT, reason="set CIFAR10_ROOT to an unpacked CIFAR-10 to run this")
def test_quick_mode_on_real_data():
    for _, updates in run_quick("--data", CIFAR10_ROOT).values():
        assert updates == 16

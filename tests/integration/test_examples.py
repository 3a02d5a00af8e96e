"""The examples run end to end (``--quick``), on synthetic data and, when CIFAR10_ROOT is set, on real data."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CIFAR10_ROOT = os.environ.get("CIFAR10_ROOT")
needs_cifar = pytest.mark.skipif(not CIFAR10_ROOT, reason="set CIFAR10_ROOT to an unpacked CIFAR-10 to run this")


def run(script: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / script), *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_torch_example_quick():
    out = run("cifar10_torch.py", "--quick")
    assert "epoch  2" in out
    assert "next lr 1.00e-03" in out  # the warmup ends exactly at the peak after epoch 1


def test_timm_example_quick():
    pytest.importorskip("timm")
    out = run("timm_train.py", "--quick")
    assert "epoch  2" in out
    assert "lr 1.00e-01" in out  # after the 1-epoch warmup the peak, not a decayed value
    assert "the accuracies are noise" in out  # the quick run says what it cannot show


@needs_cifar
def test_torch_example_quick_on_real_data():
    out = run("cifar10_torch.py", "--quick", "--data", CIFAR10_ROOT)
    assert "epoch  2" in out


def test_missing_data_root_is_a_clear_error(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "cifar10_torch.py"), "--data", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode != 0
    assert "expected an ImageFolder root with train/ and test/" in result.stderr


def test_plot_schedules_writes_pngs(tmp_path):
    run("plot_schedules.py", "--out", str(tmp_path))
    for name in ("warmup_shapes.png", "decays.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_step_cost_benchmark_quick(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.scheduler_step_cost", "--quick", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "scheduler_step_cost_quick.json").exists()

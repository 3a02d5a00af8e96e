"""Data-parallel training: the LR scaling helper, and 2 gloo ranks under torchrun using the same LR at every update."""

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from warmup_plugins.extensions.distributed import current_world_size, global_batch_size, scale_lr

ROOT = Path(__file__).resolve().parents[2]


def test_linear_rule_is_goyal_et_al():
    # 256 GPUs x 32 images: 8192 images per update, LR 0.1 at 256 -> 3.2
    assert scale_lr(0.1, 32, world_size=256) == pytest.approx(3.2, rel=1e-15)
    assert scale_lr(0.1, 256, world_size=1) == 0.1


def test_sqrt_rule():
    assert scale_lr(1e-3, 64, world_size=4, rule="sqrt") == pytest.approx(1e-3, rel=1e-15)
    assert scale_lr(1e-3, 64, world_size=16, rule="sqrt") == pytest.approx(2e-3, rel=1e-15)


def test_accumulation_and_world_size_multiply_the_batch():
    assert global_batch_size(16, accumulation_steps=4, world_size=8) == 512
    assert scale_lr(0.1, 16, accumulation_steps=4, world_size=8, reference_batch=128) == pytest.approx(0.4)


def test_world_size_is_read_from_torch_distributed_else_one():
    assert current_world_size() == 1  # not initialized in this process
    assert global_batch_size(32) == 32
    assert scale_lr(0.1, 32, reference_batch=32) == 0.1


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"base_lr": -0.1}, ValueError, r"base_lr must be in \[0, inf\)"),
        ({"base_lr": math.nan}, ValueError, "base_lr must be finite"),
        ({"base_lr": "0.1"}, TypeError, "base_lr must be a real number"),
        ({"per_device_batch": 0}, ValueError, "per_device_batch must be an integer >= 1"),
        ({"per_device_batch": 8.0}, TypeError, "per_device_batch must be an integer"),
        ({"accumulation_steps": 0}, ValueError, "accumulation_steps must be an integer >= 1"),
        ({"world_size": 0}, ValueError, "world_size must be an integer >= 1"),
        ({"world_size": True}, TypeError, "world_size must be an integer"),
        ({"reference_batch": 0}, ValueError, "reference_batch must be an integer >= 1"),
        ({"rule": "lin"}, ValueError, "rule must be one of 'linear', 'sqrt'"),
        ({"base_lr": 1e308, "per_device_batch": 10**6}, ValueError, "not a finite float"),
        ({"per_device_batch": 10**400}, ValueError, "per_device_batch must be an integer within the float range"),
    ],
)
def test_bad_input_names_the_argument(kwargs, error, match):
    kwargs = {"base_lr": 0.1, "per_device_batch": 32, **kwargs}
    with pytest.raises(error, match=match):
        scale_lr(**kwargs)


def test_two_gloo_ranks_use_the_same_lr_at_every_update():
    """``torchrun --nproc_per_node=2 examples/ddp_torchrun.py --device cpu``: WarmupLR and timm's loop pattern."""
    pytest.importorskip("timm")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    result = subprocess.run(
        [*command, str(ROOT / "examples" / "ddp_torchrun.py"), "--device", "cpu"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "world size 2 (read from torch.distributed), global batch 32" in out
    assert "peak 0.2 (linear rule), warmup from 0.05" in out
    for name in ("torch WarmupLR", "timm WarmupScheduler"):
        assert f"{name}: 2 ranks x 24 updates: every rank used the same LR at every update" in out
    assert out.count("parameters identical across ranks") == 2

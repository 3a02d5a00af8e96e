"""``python -m benchmarks.fastai_callback_cost --quick`` runs and writes its JSON (a smoke test, not a timing)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("fastai")

ROOT = Path(__file__).resolve().parents[2]


def test_callback_cost_benchmark_quick(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.fastai_callback_cost", "--quick", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    data = json.loads((tmp_path / "fastai_callback_cost_quick.json").read_text())
    assert data["benchmark"] == "fastai_callback_cost" and data["environment"]["fastai"]
    assert {(r["groups"], r["hypers"]) for r in data["rows"]} == {(g, h) for g in (1, 50) for h in ("lr", "lr+mom")}
    for row in data["rows"]:
        assert set(row["us_per_batch"]) >= {"WarmupCallback.before_batch", "ParamScheduler.before_batch"}
        assert row["ratio_before_batch"] > 0

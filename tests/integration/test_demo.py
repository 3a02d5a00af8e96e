"""``make demo`` (``python -m benchmarks.demo``): the table, the figure, and its errors before any data is read."""

import argparse
import json
import os
import re

import numpy as np
import pytest
import torch

pytest.importorskip("timm")
pytest.importorskip("fastai")

from benchmarks import cifar10, demo, demo_report, sweep
from benchmarks.data import find_or_download

CIFAR10_ROOT = os.environ.get("CIFAR10_ROOT")


def image_folder(root, per_class: int) -> None:
    """A CIFAR-10-shaped ImageFolder with two learnable classes (one channel's mean shifts)."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for split, count in (("train", per_class), ("test", per_class // 4)):
        for label, shift in (("airplane", 0), ("cat", 80)):
            folder = root / split / label
            folder.mkdir(parents=True)
            for i in range(count):
                pixels = rng.integers(0, 170, (32, 32, 3)) + np.array([shift, 0, 0])
                Image.fromarray(pixels.astype(np.uint8)).save(folder / f"{i:04d}.png")


def test_demo_prints_its_table_and_draws_its_figure(tmp_path, capsys):
    image_folder(tmp_path / "cifar10", per_class=80)
    out, cache = tmp_path / "out", tmp_path / "cache"
    args = ["--data", str(tmp_path / "cifar10"), "--device", "cpu", "--out", str(out), "--cache", str(cache)]
    result = demo.main([*args, "--epochs", "2", "--size", "cpu"])
    printed = capsys.readouterr().out
    assert result["pass"]
    runs = result["models"]["seed_cnn"]["runs"]
    assert [r["adapter"] for r in runs] == ["torch", "timm", "fastai", "no warmup", "warmup"]
    assert runs[0]["lrs"] == runs[1]["lrs"] == runs[2]["lrs"]  # the three adapters, bit for bit
    assert runs[3]["lrs"][0] == 0.01 and runs[4]["lrs"][0] == pytest.approx(1e-3)  # the pair at peak 0.01
    assert max(runs[4]["lrs"]) == pytest.approx(0.01)
    for line in ("torch WarmupLR", "timm WarmupScheduler", "fastai WarmupCallback", "peak 0.01, no warmup"):
        assert line in printed
    assert "max |dLR|" in printed and "max loss" in printed and "PASS" in printed
    assert "The three adapters gave the same LR at every update" in printed
    assert "At peak 0.01, no warmup spikes the train loss to" in printed
    assert (out / "demo.png").stat().st_size > 10_000
    assert json.loads((out / "demo.json").read_text())["environment"]["device"].startswith("CPU")
    assert [p.suffix for p in cache.iterdir()] == [".npz"]  # the decoded arrays: in the cache, not the data
    report = demo_report.main(["--json", str(out / "demo.json"), "--out", str(out / "demo.md")]).read_text()
    assert "| fastai WarmupCallback: linear warmup + cosine |" in report and "load average" in report
    assert f"{max(runs[3]['losses']):.2f} |" in report  # the max train loss of no warmup, from the JSON


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error on a machine without CUDA")
@pytest.mark.parametrize("main", [demo.main, cifar10.main, sweep.main])
def test_cuda_without_cuda_is_an_error_before_any_data_is_read(main, tmp_path):
    with pytest.raises(SystemExit, match="no CUDA device is available.*use --device cpu"):
        main(["--device", "cuda", "--data", str(tmp_path / "does-not-exist")])


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--data", "MISSING"], "--data .*missing: no such directory"),
        (["--epochs", "-1"], "--epochs -1: give at least 1 epoch"),
        (["--epochs", "0"], "--epochs 0: give at least 1 epoch"),
        (["--train-images", "-5"], "--train-images -5: give a positive number of images"),
        (["--train-images", "0"], "--train-images 0: give a positive number of images"),
        (["--train-images", "10"], "--train-images 10: fewer than one batch"),
        (["--test-images", "0"], "--test-images 0: give a positive number of images"),
        (["--models", "seed-cnn", "--epochs", "0"], "--epochs 0"),
    ],
)
def test_a_bad_flag_is_one_line_and_exit_2_before_any_data_is_read(flags, message, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(demo, "find_or_download", lambda *a: pytest.fail("read data despite a bad flag"))
    flags = [f.replace("MISSING", str(tmp_path / "missing")) for f in flags]
    with pytest.raises(SystemExit) as exit_:
        demo.main([*flags, "--device", "cpu", "--cache", str(tmp_path)])
    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert re.search(message, err), err


def test_a_missing_cifar10_root_is_one_line_and_exit_2(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CIFAR10_ROOT", str(tmp_path / "gone"))
    with pytest.raises(SystemExit) as exit_:
        demo.main(["--device", "cpu", "--cache", str(tmp_path)])
    assert exit_.value.code == 2 and "CIFAR10_ROOT=" in capsys.readouterr().err


def test_models_takes_the_tune_spelling_and_the_old_one():
    assert demo.model_name("seed-cnn") == demo.model_name("seed_cnn") == "seed_cnn"
    with pytest.raises(argparse.ArgumentTypeError, match="choose from seed-cnn, resnet18"):
        demo.model_name("vgg")


def test_progress_lines_when_the_output_is_not_a_terminal(tmp_path, capsys, monkeypatch):
    from benchmarks import loops

    monkeypatch.setattr(loops, "LOG_EVERY", 0.0)
    bar = loops.EpochBar("torch WarmupLR", 1, 3, 10)
    bar.update(4, torch.ones(10), 1e-3)
    printed = capsys.readouterr().out
    assert re.fullmatch(r"  torch WarmupLR: epoch 2/3, update 4/10, \d+ s elapsed\n", printed), printed


def test_offline_without_a_copy_stops_at_once_and_says_how_to_get_one(tmp_path, monkeypatch):
    monkeypatch.delenv("CIFAR10_ROOT", raising=False)
    with pytest.raises(SystemExit, match=r"(?s)unreachable.*download=True.*--data cifar10.*CIFAR10_ROOT"):
        find_or_download(None, tmp_path, host=("127.0.0.1", 9))  # nothing listens on the discard port
    assert not any(tmp_path.iterdir())


def test_a_given_copy_or_cifar10_root_is_used_without_any_download(tmp_path, monkeypatch):
    monkeypatch.setenv("CIFAR10_ROOT", str(tmp_path / "env"))
    assert find_or_download(None, tmp_path, host=("127.0.0.1", 9)) == tmp_path / "env"
    assert find_or_download(tmp_path / "given", tmp_path, host=("127.0.0.1", 9)) == tmp_path / "given"


@pytest.mark.skipif(not CIFAR10_ROOT, reason="set CIFAR10_ROOT to an unpacked CIFAR-10 to run this")
def test_demo_on_real_cifar10_small(tmp_path):
    result = demo.main(
        [
            *("--data", CIFAR10_ROOT, "--device", "cpu", "--out", str(tmp_path), "--epochs", "1"),
            *("--train-images", "640", "--test-images", "200"),
        ]
    )
    assert result["pass"]

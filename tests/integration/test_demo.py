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

from benchmarks import cifar10, demo, demo_pair, demo_report, loops, sweep
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
    assert runs[3]["lrs"][0] == 0.03 and runs[4]["lrs"][0] == pytest.approx(3e-3)  # the reference rows at 0.03
    assert max(runs[4]["lrs"]) == pytest.approx(0.03)
    for line in ("torch WarmupLR", "timm WarmupScheduler", "fastai WarmupCallback", "peak 0.03, no warmup"):
        assert line in printed
    assert "peak LR" in printed and "max |dLR|" in printed and "max loss" in printed and "PASS" in printed
    rows = {line[:48].strip(): line[48:].split() for line in printed.splitlines() if "warmup" in line[:48]}
    assert rows["torch WarmupLR: linear warmup + cosine"][0] == "0.001" and rows["peak 0.03, no warmup"][0] == "0.03"
    assert "The three adapters gave the same LR at every update" in printed
    assert "At peak 0.03 (30x the adapters' 0.001), no warmup spikes the train loss to" in printed
    # "training i of 5", each with the time left from the rate so far (none is known before the first update)
    starts = [line for line in printed.splitlines() if line.startswith("training ")]
    assert [line.split(":")[0] for line in starts] == [f"training {i} of 5" for i in range(1, 6)]
    assert starts[0].endswith("time left: known after the first updates")
    assert all(re.search(r"; \d+\.\d\d updates/s, about \d+ s left$", line) for line in starts[1:]), starts
    assert (out / "demo.png").stat().st_size > 10_000
    assert json.loads((out / "demo.json").read_text())["environment"]["device"].startswith("CPU")
    assert [p.suffix for p in cache.iterdir()] == [".npz"]  # the decoded arrays: in the cache, not the data
    report = demo_report.main(["--json", str(out / "demo.json"), "--out", str(out / "demo.md")]).read_text()
    assert "| fastai WarmupCallback: linear warmup + cosine | 0.001 |" in report and "load average" in report
    assert "| peak 0.03, no warmup | 0.03 |" in report
    assert f"{max(runs[3]['losses']):.2f} |" in report  # the max train loss of no warmup, from the JSON


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error on a machine without CUDA")
@pytest.mark.parametrize("main", [demo.main, cifar10.main, sweep.main])
def test_cuda_without_cuda_is_an_error_before_any_data_is_read(main, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--device", "cuda", "--data", str(tmp_path / "does-not-exist")])
    err = capsys.readouterr().err.splitlines()
    assert exit_.value.code == 2 and err[0].startswith("usage: ") and "Traceback" not in err, err
    assert re.search(r": error: argument --device: no CUDA device is available.*use --device cpu", err[-1]), err


@pytest.mark.parametrize("main", [demo.main, cifar10.main, sweep.main])
@pytest.mark.parametrize("device", ["xyz", "cuda:x", ""])
def test_a_device_torch_does_not_know_is_a_bad_flag_exit_2(main, device, tmp_path, capsys):
    """Issue 28 case 9: --device xyz exited 1 with a bare message, without the 'error:' of every other bad flag."""
    with pytest.raises(SystemExit) as exit_:
        main(["--device", device, "--data", str(tmp_path / "does-not-exist")])
    err = capsys.readouterr().err.splitlines()
    assert exit_.value.code == 2 and err[0].startswith("usage: ") and "Traceback" not in err, err
    assert f": error: argument --device: {device!r} is not a torch device; use cpu, cuda or cuda:N" in err[-1], err


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
    monkeypatch.setattr(loops, "LOG_EVERY", 0.0)
    monkeypatch.setattr(loops, "PROGRESS", loops.Progress())
    bar = loops.EpochBar("torch WarmupLR", 1, 3, 10)
    bar.update(4, torch.ones(10), 1e-3)
    printed = capsys.readouterr().out
    assert re.fullmatch(r"  torch WarmupLR: epoch 2/3, update 4/10, \d+ s elapsed\n", printed), printed


def test_planned_progress_says_which_training_runs_and_the_time_left(capsys, monkeypatch):
    """Issue 29 item 4: under load the demo printed only "N s elapsed", so 4 minutes could not be told from an hour."""
    clock = iter([100.0, 130.0, 130.0, 130.0, 160.0])  # plan, begin, left, begin, left
    monkeypatch.setattr(loops.time, "monotonic", lambda: next(clock))
    progress = loops.Progress()
    progress.plan(runs=5, updates=5000)  # at 100 s
    progress.begin("torch WarmupLR")
    progress.advance(900)
    assert progress.where() == "training 1 of 5"
    assert progress.left() == "30.00 updates/s, about 2 min left"  # 900 updates in 30 s; 4,100 to go: 137 s
    progress.begin("timm WarmupScheduler")
    progress.advance(100)
    assert progress.left() == "16.67 updates/s, about 4 min left"  # 1,000 in 60 s; 4,000 to go: 240 s
    printed = capsys.readouterr().out.splitlines()
    assert printed == [
        "training 1 of 5: torch WarmupLR; time left: known after the first updates",
        "training 2 of 5: timm WarmupScheduler; 30.00 updates/s, about 2 min left",
    ]
    assert [loops.duration(s) for s in (40, 89, 90, 5399, 5400)] == ["40 s", "89 s", "2 min", "90 min", "1.5 h"]


def test_quick_mode_is_the_cpu_size_smaller_and_writes_beside_the_committed_result(tmp_path, capsys):
    image_folder(tmp_path / "cifar10", per_class=80)
    out = tmp_path / "out"
    args = ["--data", str(tmp_path / "cifar10"), "--device", "cpu", "--out", str(out), "--cache", str(tmp_path)]
    result = demo.main([*args, "--quick", "--models", "seed-cnn", "--train-images", "128", "--test-images", "40"])
    assert result["config"]["quick"] and result["config"]["epochs"] == demo.QUICK_SIZE["epochs"] == 2
    assert len(result["models"]["seed_cnn"]["runs"][0]["lrs"]) == 2 * (128 // 64)
    assert sorted(p.name for p in out.iterdir()) == ["demo_quick.json", "demo_quick.png"]
    assert demo.apply_quick(argparse.Namespace(quick=False)) is None
    with pytest.raises(SystemExit) as exit_:
        demo.main([*args, "--quick", "--size", "full"])
    assert exit_.value.code == 2 and "--quick with --size full" in capsys.readouterr().err


def test_the_reference_rows_over_seeds_report_the_paired_gain(tmp_path, monkeypatch):
    image_folder(tmp_path / "cifar10", per_class=80)
    monkeypatch.setattr(demo, "CPU_SIZE", {**demo.CPU_SIZE, "train_images": 128, "test_images": 40, "epochs": 2})
    monkeypatch.setenv("WARMUP_PLUGINS_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "out"
    result = demo_pair.main(
        ["--data", str(tmp_path / "cifar10"), "--peaks", "0.03", "--seeds", "0", "1", "--out", str(out)]
    )
    assert [(c["peak"], c["seed"], sorted(c["rows"])) for c in result["cells"]] == [
        (0.03, 0, ["no warmup", "warmup"]),
        (0.03, 1, ["no warmup", "warmup"]),
    ]
    report = (out / "demo_pair.md").read_text()
    gains = [
        100 * (c["rows"]["warmup"]["test_accuracy"][-1] - c["rows"]["no warmup"]["test_accuracy"][-1])
        for c in result["cells"]
    ]
    assert f"mean {sum(gains) / 2:+.2f} points, 95% interval" in report and "(2 seeds)" in report
    assert demo.PAIR_PEAK == {"seed_cnn": 0.03}  # restored
    (out / "demo_pair.md").unlink()
    assert demo_pair.main(["--render", str(out / "demo_pair.json")]) == result
    assert (out / "demo_pair.md").read_text() == report


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


def test_a_reference_row_is_one_entry_and_the_plan_counts_it(monkeypatch):
    from benchmarks.recipes import RECIPES

    seed_cnn = RECIPES["seed_cnn"]
    assert demo.reference_count(seed_cnn) == 2
    assert demo.reference_count(seed_cnn.with_(peak_lr=0.03)) == 1  # at its own peak the adapters' rows warm up
    monkeypatch.setattr(demo, "REFERENCES", (*demo.REFERENCES, demo.Reference(demo.no_warmup)))
    assert demo.reference_count(seed_cnn) == 3

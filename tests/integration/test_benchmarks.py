"""The CIFAR-10 benchmark and the warmup sweep run end to end on a CPU (``--quick``)."""

import json
import os

import numpy as np
import pytest
import torch

pytest.importorskip("timm")
pytest.importorskip("fastai")

from benchmarks import cifar10, fastai_batch_cost, report, sweep
from benchmarks.data import augment, batch_order, cached_arrays_path, load_arrays, load_cifar10

CIFAR10_ROOT = os.environ.get("CIFAR10_ROOT")


@pytest.fixture(scope="module")
def quick_cifar10(tmp_path_factory):
    out = tmp_path_factory.mktemp("results")
    return out, cifar10.main(["--quick", "--out", str(out), "--device", "cpu"])


def test_cross_check_passes_and_is_bitwise_on_cpu(quick_cifar10):
    out, result = quick_cifar10
    assert result["pass"]
    saved = json.loads((out / "cifar10_quick.json").read_text())
    assert saved["environment"]["device"].startswith("CPU")
    for name in ("seed_cnn", "resnet18"):
        model = saved["models"][name]
        for pair in model["cross_check"]["pairs"]:
            assert pair["max_abs_lr_delta"] == 0
            assert pair["bitwise_equal_update_losses"] == pair["updates"]  # CPU kernels are deterministic
        labels = [run["label"] for run in model["runs"]]
        assert any("fit_one_cycle" in label for label in labels)
        assert any("SequentialLR" in label for label in labels)
        assert any("CosineLRScheduler" in label for label in labels)
    seed_runs = {run["label"]: run for run in saved["models"]["seed_cnn"]["runs"]}
    lambda_run = seed_runs["seed LambdaLR per epoch (reference)"]
    assert lambda_run["lr_trace"]["sample_lr"][0] == 0.0  # the seed's schedule: epoch 0 at LR 0


def test_report_renders_quick_results(quick_cifar10, tmp_path):
    out, _ = quick_cifar10
    sweep.main(
        [
            "--quick",
            "--out",
            str(out),
            "--device",
            "cpu",
            "--warmup-types",
            "none",
            "linear",
            "--peak-lrs",
            "0.4",
            "--seeds",
            "0",
            "1",
        ]
    )
    text = report.render(out, include_quick=True)
    assert "Cross-check: **PASS**" in text
    assert "| linear | 1 | " in text and "| adaptive | 0.25 | " in text
    for png in ("cifar10_quick_seed_cnn_lr.png", "cifar10_quick_resnet18_curves.png", "sweep_quick.png"):
        assert (out / png).read_bytes()[:4] == b"\x89PNG"


def test_sweep_grid_and_summary(tmp_path):
    result = sweep.main(
        [
            "--quick",
            "--out",
            str(tmp_path),
            "--device",
            "cpu",
            "--model",
            "seed_cnn",
            "--warmup-types",
            "none",
            "exponential",
            "--peak-lrs",
            "0.001",
            "--seeds",
            "3",
        ]
    )
    cells = {(c["warmup_type"], c["warmup_epochs"]) for c in result["cells"]}
    assert cells == {("none", 0.0), ("exponential", 1.0), ("linear", 0.25), ("adaptive", 0.25)}
    for cell in result["cells"]:
        assert cell["runs"] == 1 and 0.0 <= cell["accuracy_mean"] <= 1.0
    adaptive = next(c for c in result["cells"] if c["warmup_type"] == "adaptive")
    assert adaptive["warmup_updates"][0] is not None  # the adaptive warmup finished (the cap guarantees it)


def test_fastai_batch_cost_quick_writes_json_and_renders(tmp_path):
    """The fastai per-batch cost benchmark: a real fit per group count, its JSON (device, torch, commit), its
    section in RESULTS.md and its figure."""
    result = fastai_batch_cost.main(["--quick", "--out", str(tmp_path)])
    saved = json.loads((tmp_path / "fastai_batch_cost_quick.json").read_text())
    assert saved == result
    env = saved["environment"]
    assert env["device"].startswith("CPU") and env["torch"] == torch.__version__ and "git_commit" in env
    assert [row["groups"] for row in saved["rows"]] == [1, 50]
    for row in saved["rows"]:
        events = row["callback_events"]
        assert events[0] == "before_batch" and set(events) <= set(saved["per_batch_events"])
        assert row["callback_us_per_batch"] > 0 and row["batches_per_fit"] == 20
        assert row["ratio_to_step"]["in_loop"] == row["callback_us_per_batch"] / row["warmup_lr_step_us_in_loop"]
        assert row["within_target"]["tight"] == (row["ratio_to_step"]["tight"] <= saved["target_ratio"] == 3.0)
    text = report.render(tmp_path, include_quick=True)
    assert "## fastai callback per-batch cost in a real fit" in text
    assert f"| 50 | {saved['rows'][1]['callback_us_per_batch']:.2f} |" in text
    assert (tmp_path / "fastai_batch_cost_quick.png").read_bytes()[:4] == b"\x89PNG"


def test_missing_or_malformed_data_root_names_the_layouts(tmp_path):
    with pytest.raises(FileNotFoundError, match="ImageFolder root with train/ and test/"):
        load_arrays(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="cifar-10-batches-py"):
        load_arrays(tmp_path)


def test_image_folder_layout_decodes_and_caches(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    for split in ("train", "test"):
        for label in ("airplane", "cat"):
            folder = tmp_path / split / label
            folder.mkdir(parents=True)
            for i in range(3):
                Image.fromarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(folder / f"{i:04d}.png")
    cache = tmp_path / "cache"
    train, _ = load_cifar10(tmp_path, "cpu", cache=cache)
    assert train.images.shape == (6, 3, 32, 32) and train.images.dtype == torch.uint8
    assert train.labels.tolist() == [0, 0, 0, 1, 1, 1]
    assert [p.name for p in cache.iterdir()] == [cached_arrays_path(tmp_path, cache).name]  # nothing in the data
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    again, _ = load_cifar10(tmp_path, "cpu", cache=cache)
    assert torch.equal(again.images, train.images)


def test_augment_is_a_padded_crop_or_its_mirror():
    images = torch.randint(0, 255, (64, 3, 32, 32), dtype=torch.uint8)
    out = augment(images, torch.Generator().manual_seed(0))
    assert out.shape == images.shape
    assert torch.equal(out, augment(images, torch.Generator().manual_seed(0)))
    padded = torch.nn.functional.pad(images, (4, 4, 4, 4))
    for i in range(64):
        windows = [padded[i, :, y : y + 32, x : x + 32] for y in range(9) for x in range(9)]
        assert any(torch.equal(out[i], w) or torch.equal(out[i], w.flip(-1)) for w in windows)


def test_batch_order_is_seeded_and_drops_the_last_partial_batch():
    a, b = batch_order(100, 32, epoch=2, seed=5), batch_order(100, 32, epoch=2, seed=5)
    assert [x.tolist() for x in a] == [x.tolist() for x in b]
    assert len(a) == 3 and all(len(x) == 32 for x in a)
    assert [x.tolist() for x in batch_order(100, 32, epoch=3, seed=5)] != [x.tolist() for x in a]


@pytest.mark.skipif(not CIFAR10_ROOT, reason="set CIFAR10_ROOT to an unpacked CIFAR-10 to run this")
def test_real_cifar10_quick(tmp_path):
    result = cifar10.main(
        [
            "--quick",
            "--data",
            CIFAR10_ROOT,
            "--out",
            str(tmp_path),
            "--device",
            "cpu",
            "--models",
            "seed_cnn",
            "--no-references",
        ]
    )
    assert result["pass"]
    train, test = load_cifar10(CIFAR10_ROOT, "cpu")
    assert (len(train), len(test)) == (50_000, 10_000)

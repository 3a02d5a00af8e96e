"""PNG figures and TensorBoard event files are actually written; the monitoring example runs (--quick)."""

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from warmup_plugins import TrainingRecord, WarmupSchedule
from warmup_plugins.monitoring.plotting import (
    MAX_POINTS,
    _updates_to_draw,
    describe,
    plot_record,
    plot_schedule,
    smooth,
)

ROOT = Path(__file__).resolve().parents[2]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def make_record(n=120, warmup=20, epochs=3, nan_at=None):
    schedule = WarmupSchedule(warmup_steps=warmup, total_steps=n, decay_type="cosine")
    record = TrainingRecord(meta={"schedule": schedule.to_dict(), "steps_per_epoch": n // max(epochs, 1)})
    for k in range(n):
        loss = math.nan if nan_at is not None and k >= nan_at else 2.3 * math.exp(-k / 40) + 0.1
        record.log_update(k, 0.1 * schedule(k), loss, 1.0 + k % 3)
    for e in range(epochs):
        record.log_epoch(e, 2.0 - 0.5 * e, 2.1 - 0.4 * e, 0.3 + 0.2 * e)
    return record


def png_size(path):
    """(width, height) in pixels, read from the PNG header."""
    data = Path(path).read_bytes()
    assert data[:8] == PNG_SIGNATURE, f"{path} is not a PNG"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


# ---------------------------------------------------------------------- matplotlib
def test_plot_record_writes_a_png_with_an_epoch_row(tmp_path):
    with_epochs = plot_record(make_record(), tmp_path / "a.png")
    without = plot_record(make_record(epochs=0), tmp_path / "b.png")
    assert with_epochs == tmp_path / "a.png"
    (w1, h1), (w2, h2) = png_size(with_epochs), png_size(without)
    assert w1 == w2 and h1 > h2  # three rows of panels against two


def test_plot_record_draws_several_records_nans_and_creates_folders(tmp_path):
    records = {"no warmup": make_record(warmup=0, nan_at=60), "warmup": make_record()}
    path = plot_record(records, tmp_path / "deep" / "er" / "c.png", title="compare", loss_scale="log")
    assert png_size(path)[0] > 0


def test_plot_record_accepts_the_warmup_and_epoch_length_as_arguments(tmp_path):
    record = make_record()
    del record.meta["schedule"], record.meta["steps_per_epoch"]
    path = plot_record(record, str(tmp_path / "d.png"), warmup_steps=30, steps_per_epoch=40, smooth_beta=0)
    assert png_size(path)[0] > 0


def test_plot_schedule_writes_factors_or_lrs(tmp_path):
    schedule = WarmupSchedule(warmup_steps=50, total_steps=500, decay_type="cosine")
    assert png_size(plot_schedule(schedule, tmp_path / "f.png"))[0] > 0
    assert png_size(plot_schedule(schedule, tmp_path / "lr.png", base_lr=0.1, steps=600, title="x"))[0] > 0
    endless = WarmupSchedule(warmup_steps=10, decay_type="inverse_sqrt")
    assert png_size(plot_schedule(endless, tmp_path / "e.png"))[0] > 0


def test_the_returned_path_is_the_file_written(tmp_path):
    """Issue 10, case 18: a folder gets a file inside it, a name without an extension gets .png."""
    schedule = WarmupSchedule(warmup_steps=5, total_steps=20)
    assert plot_schedule(schedule, tmp_path) == tmp_path / "schedule.png"
    assert plot_record(make_record(), f"{tmp_path}/new/") == tmp_path / "new" / "record.png"
    assert plot_schedule(schedule, tmp_path / "lr") == tmp_path / "lr.png"
    assert plot_schedule(schedule, tmp_path / "lr.pdf") == tmp_path / "lr.pdf"
    written = {p.name for p in tmp_path.rglob("*") if p.is_file()}
    assert written == {"schedule.png", "record.png", "lr.png", "lr.pdf"}
    assert png_size(tmp_path / "lr.png")[0] > 0 and (tmp_path / "lr.pdf").read_bytes()[:4] == b"%PDF"


def test_a_long_schedule_is_drawn_at_most_max_points(tmp_path):
    """Issue 10, case 17: 10**12 updates were drawn one by one (MemoryError)."""
    schedule = WarmupSchedule(warmup_steps=10**9, total_steps=10**12, decay_type="cosine")
    assert png_size(plot_schedule(schedule, tmp_path / "long.png"))[0] > 0
    drawn = _updates_to_draw(10**12 + 1, 10**9, 10**12)
    assert len(drawn) <= MAX_POINTS + 4 and drawn[0] == 0 and drawn[-1] == 10**12
    assert {10**9 - 1, 10**9, 10**12 - 1} <= set(drawn.tolist())
    assert _updates_to_draw(30, 10, 20).tolist() == list(range(30))


def test_a_fractional_steps_per_epoch_is_drawn(tmp_path):
    record = make_record()
    record.meta["steps_per_epoch"] = 2.5  # fastai under GradientAccumulation
    assert png_size(plot_record(record, tmp_path / "r.png"))[0] > 0


def test_describe():
    assert describe(WarmupSchedule(warmup_steps=10, total_steps=100, decay_type="cosine")) == (
        "linear warmup 10, cosine decay to 100"
    )
    assert describe(WarmupSchedule()) == "no warmup, constant decay"


def test_smooth_is_a_bias_corrected_ema_that_skips_gaps():
    assert np.allclose(smooth([3.0] * 5, 0.9), 3.0)  # bias correction: no ramp up from 0
    out = smooth([1.0, None, math.nan, math.inf, 3.0], 0.5)
    assert out[0] == 1.0 and np.isnan(out[1:4]).all()
    assert out[4] == pytest.approx((0.5 * 0.5 * 1.0 + 0.5 * 3.0) / (1 - 0.25))
    assert list(smooth([1.0, 2.0], 0)) == [1.0, 2.0]


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda p: plot_record({}, p), TypeError, "non-empty mapping"),
        (lambda p: plot_record({"a": 1}, p), TypeError, r"record\['a'\] must be a TrainingRecord, got int"),
        (lambda p: plot_record(TrainingRecord(), p), ValueError, "has no per-update rows"),
        (lambda p: plot_record(make_record(), p, loss_scale="symlog"), ValueError, "loss_scale must be one of"),
        (lambda p: plot_record(make_record(), p, smooth_beta=1), ValueError, "smooth_beta must be in"),
        (lambda p: plot_record(make_record(), 3), TypeError, "path must be a str or path-like, got int"),
        (lambda p: plot_schedule({"warmup_steps": 3}, p), TypeError, "schedule must be a WarmupSchedule"),
        (lambda p: plot_schedule(WarmupSchedule(), p, base_lr=0), ValueError, "base_lr must be in"),
        (lambda p: plot_schedule(WarmupSchedule(), p, steps=0), ValueError, "steps must be an integer >= 1"),
        (lambda p: plot_schedule(WarmupSchedule(), ""), ValueError, "path must name a file or a folder, got an empty"),
        (lambda p: plot_schedule(WarmupSchedule(), p.with_suffix(".v2")), ValueError, "cannot write '.v2' files"),
        (lambda p: plot_record(make_record(), p, steps_per_epoch=0), ValueError, r"steps_per_epoch must be in \(0"),
    ],
)
def test_bad_plot_arguments_are_clear_errors(tmp_path, call, error, match):
    with pytest.raises(error, match=match):
        call(tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


def test_importing_the_package_loads_no_plotting_or_tensorboard():
    code = (
        "import sys, warmup_plugins, warmup_plugins.cli\n"
        "import warmup_plugins.monitoring.plotting, warmup_plugins.monitoring.tensorboard\n"
        "print(sorted(m for m in ('matplotlib', 'tensorboard', 'torch', 'timm', 'fastai') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


# ---------------------------------------------------------------------- TensorBoard
def read_scalars(log_dir):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(log_dir))
    events.Reload()
    return {tag: [(e.step, e.value) for e in events.Scalars(tag)] for tag in events.Tags()["scalars"]}


def test_tensorboard_scalars_are_written_per_update_and_per_epoch(tmp_path):
    pytest.importorskip("tensorboard")
    from warmup_plugins.monitoring.tensorboard import write_tensorboard

    record = make_record(n=30, epochs=2)
    record.log_update(30, 0.05)  # no loss, no grad norm: skipped, not written as 0
    assert write_tensorboard(record, tmp_path / "tb") == tmp_path / "tb"
    files = list((tmp_path / "tb").glob("events.out.tfevents.*"))
    assert len(files) == 1 and files[0].stat().st_size > 0
    scalars = read_scalars(tmp_path / "tb")
    assert set(scalars) == {
        "train/lr",
        "train/loss",
        "train/grad_norm",
        "epoch/train_loss",
        "epoch/valid_loss",
        "epoch/accuracy",
    }
    assert [s for s, _ in scalars["train/lr"]] == list(range(31))
    assert [s for s, _ in scalars["train/loss"]] == list(range(30))
    assert scalars["train/lr"][5][1] == pytest.approx(record.updates["lr"][5])
    assert scalars["epoch/accuracy"] == [(0, pytest.approx(0.3)), (1, pytest.approx(0.5))]


def test_the_record_writer_writes_only_new_rows(tmp_path):
    pytest.importorskip("tensorboard")
    from warmup_plugins.monitoring.tensorboard import RecordWriter

    record = TrainingRecord()
    with RecordWriter(tmp_path, prefix="run1/") as writer:
        record.log_update(0, 0.1, 2.0)
        writer.write(record)
        record.log_update(1, 0.2, math.nan)
        record.log_epoch(0, train_loss=2.0)
        writer.write(record)
        writer.write(record)
    scalars = read_scalars(tmp_path)
    assert scalars["run1/train/lr"] == [(0, pytest.approx(0.1)), (1, pytest.approx(0.2))]
    assert math.isnan(scalars["run1/train/loss"][1][1])
    assert scalars["run1/epoch/train_loss"] == [(0, 2.0)]


def test_tensorboard_bad_arguments(tmp_path):
    pytest.importorskip("tensorboard")
    from warmup_plugins.monitoring.tensorboard import RecordWriter, write_tensorboard

    with pytest.raises(TypeError, match="record must be a TrainingRecord, got list"):
        write_tensorboard([], tmp_path / "tb")
    assert not (tmp_path / "tb").exists()
    with pytest.raises(TypeError, match="log_dir must be a str or path-like"):
        RecordWriter(None)


def test_a_missing_tensorboard_is_a_clear_import_error(tmp_path):
    code = (
        "import sys\n"
        "sys.modules['tensorboard'] = None\n"
        "from warmup_plugins import TrainingRecord\n"
        "from warmup_plugins.monitoring.tensorboard import write_tensorboard\n"
        "try:\n"
        f"    write_tensorboard(TrainingRecord(), {str(tmp_path / 'tb')!r})\n"
        "except ImportError as error:\n"
        "    print(error)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "TensorBoard logging needs the tensorboard package: pip install tensorboard"


# ---------------------------------------------------------------------- the example
def test_monitor_example_quick(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "monitor_warmup.py"), "--quick", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "== diagnose: no warmup" in result.stdout
    assert "[spike] update 1" in result.stdout  # LR 0.03 from the first update: the loss spikes at once
    assert "(suggested)" in result.stdout  # the second run follows the diagnosis
    png_size(tmp_path / "monitor_warmup.png")
    for name in ("monitor_no_warmup.json", "monitor_warmup.json"):
        assert len(TrainingRecord.load(tmp_path / name)) == 16


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("plotting", "monitoring.plotting"),
        ("tensorboard", "monitoring.tensorboard"),
        ("distributed", "extensions.distributed"),
    ],
)
def test_an_old_module_path_imports_for_one_release_with_a_deprecation_warning(old, new):
    import importlib

    sys.modules.pop(f"warmup_plugins.{old}", None)
    with pytest.warns(DeprecationWarning, match=f"import from warmup_plugins.{new}"):
        module = importlib.import_module(f"warmup_plugins.{old}")
    assert module.__all__ == importlib.import_module(f"warmup_plugins.{new}").__all__

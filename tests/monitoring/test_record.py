"""TrainingRecord: written by every adapter, saved and loaded as JSON, checked where it enters."""

import json
import math
import re

import numpy as np
import pytest
import torch

from tests.helpers import batches, tiny_model
from warmup_plugins import TrainingRecord, WarmupSchedule
from warmup_plugins.torch import WarmupLR


def test_torch_record_logs_every_update_and_round_trips(tmp_path):
    model = tiny_model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    sched = WarmupLR(opt, warmup_steps=4, total_steps=10, decay_type="linear", record=True)
    losses = []
    for x, y in batches(10):
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1e9)
        opt.step()
        sched.step(loss=loss.item(), grad_norm=norm)
        losses.append(loss.item())
    record = sched.record
    assert record.updates["step"] == list(range(10))
    assert record.updates["lr"] == [0.1 * sched.schedule(k) for k in range(10)]
    assert record.updates["loss"] == losses
    assert all(g > 0 for g in record.updates["grad_norm"])
    record.log_epoch(0, train_loss=sum(losses) / 10, accuracy=0.5)
    path = record.save(tmp_path / "run.json")
    again = TrainingRecord.load(path)
    assert again.updates["lr"] == record.updates["lr"] and again.warmup_steps == 4
    assert again.meta["adapter"] == "torch" and again.meta["base_lrs"] == [0.1]


def test_timm_record_uses_the_metric_arguments():
    pytest.importorskip("timm")
    from warmup_plugins.timm import WarmupScheduler

    opt = torch.optim.SGD(tiny_model().parameters(), lr=0.1)
    sched = WarmupScheduler(opt, WarmupSchedule(warmup_steps=3, total_steps=8), t_in_epochs=False, record=True)
    for n in range(1, 5):
        sched.step_update(n, metric=1.0 / n)
    sched.step(1, metric=72.5)
    assert sched.record.updates["step"] == [0, 1, 2, 3]
    assert sched.record.updates["loss"] == [1.0, 0.5, 1 / 3, 0.25]
    assert sched.record.epochs["metric"] == [72.5]


def test_fastai_record_reads_the_recorder():
    pytest.importorskip("fastai")
    from fastai.data.core import DataLoaders
    from fastai.learner import Learner
    from fastai.metrics import accuracy

    from warmup_plugins.fastai import WarmupCallback

    data = batches(12, bs=8)
    dls = DataLoaders(data[:10], data[10:], device=torch.device("cpu"))
    cb = WarmupCallback(warmup_steps=5, decay_type="cosine", record=True)
    learn = Learner(dls, tiny_model(), loss_func=torch.nn.functional.cross_entropy, metrics=accuracy, cbs=cb)
    with learn.no_bar(), learn.no_logging():
        learn.fit(2, 1e-2)
    record = cb.record
    assert len(record) == 20 and record.epochs["epoch"] == [0, 1]
    assert record.epochs["valid_loss"][1] == pytest.approx(learn.recorder.values[1][1])
    assert record.epochs["accuracy"][1] == pytest.approx(learn.recorder.values[1][2])
    assert record.updates["lr"][5] == 1e-2  # the peak at the end of warmup
    json.dumps(record.to_dict())


def test_record_validation(tmp_path):
    with pytest.raises(ValueError, match="not a training record"):
        TrainingRecord.from_dict({"updates": {}})
    bad = TrainingRecord().to_dict()
    bad["updates"]["lr"].append(0.1)
    with pytest.raises(ValueError, match="one length"):
        TrainingRecord.from_dict(bad)
    (tmp_path / "x.json").write_text("{")
    with pytest.raises(ValueError, match="is not JSON"):
        TrainingRecord.load(tmp_path / "x.json")


# ---------------------------------------------------------------------- checked where it enters (issue 10, case 16)
def saved(**columns):
    """A saved record of three updates and one epoch, with the given columns replaced."""
    record = TrainingRecord(meta={"adapter": "torch"})
    for k in range(3):
        record.log_update(k, 0.1, 2.0 - k / 10, 1.0)
    record.log_epoch(0, 1.9, 2.0, 0.5)
    data = record.to_dict()
    for name, values in columns.items():
        data["updates" if name in data["updates"] else "epochs"][name] = values
    return data


@pytest.mark.parametrize(
    ("bad", "shown"),
    [
        (None, "null"),
        (math.nan, "float nan"),
        (math.inf, "float inf"),
        (-1, "int -1"),
        ("1", "str '1'"),
        (True, "bool True"),
    ],
)
def test_loading_refuses_an_update_index_log_update_would_not_get(bad, shown):
    with pytest.raises(
        ValueError, match=re.escape(f"training record: updates.step[1] must be a finite number >= 0, got {shown}")
    ):
        TrainingRecord.from_dict(saved(step=[0, bad, 2]))


def test_loading_refuses_bad_values_naming_the_column_and_row(tmp_path):
    cases = [
        (saved(lr=[0.1, 0.1, "0.1"]), "updates.lr[2] must be a number or null, got str '0.1'"),
        (saved(loss=[1.0, [2.0], 3.0]), "updates.loss[1] must be a number or null, got list [2.0]"),
        (saved(grad_norm=[1.0, 2.0, 10**400]), "updates.grad_norm[2] must fit in a float, got an integer of 1329 bits"),
        (saved(epoch=[0.5]), "epochs.epoch[0] must be a whole number >= 0, got float 0.5"),
        (saved(accuracy=[False]), "epochs.accuracy[0] must be a number or null, got bool False"),
    ]
    for data, message in cases:
        with pytest.raises(ValueError, match=re.escape(f"training record: {message}")):
            TrainingRecord.from_dict(data)
    path = tmp_path / "nan_step.json"
    path.write_text(json.dumps(saved(step=[0, 1, math.nan])))  # written by Python's json as NaN
    with pytest.raises(ValueError, match=re.escape(f"{path}: training record: updates.step[2] must be a finite")):
        TrainingRecord.load(path)


def test_loading_keeps_what_a_run_can_log():
    data = saved(loss=[math.nan, math.inf, None], step=[0, 1.5, 2], epoch=[3.0])
    record = TrainingRecord.from_dict(json.loads(json.dumps(data)))
    assert record.updates["step"] == [0, 1.5, 2] and record.epochs["epoch"] == [3]
    assert math.isnan(record.updates["loss"][0]) and record.updates["loss"][1:] == [math.inf, None]


def test_loading_a_file_that_is_not_a_record_is_a_value_error(tmp_path):
    files = {
        "deep.json": ("[" * 100_000 + "]" * 100_000, "is not a training record: its JSON is nested too deeply"),
        "digits.json": ('{"format": ' + "9" * 5000 + "}", "is not JSON: Exceeds the limit"),
        "binary.json": (b"\xff\xfe\x00", "is not JSON: not UTF-8 text"),
    }
    for name, (content, message) in files.items():
        path = tmp_path / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        with pytest.raises(ValueError, match=re.escape(f"{path} {message}")):
            TrainingRecord.load(path)


def test_log_update_stores_plain_floats_without_checks():
    """The per-update hot path (issue 11, item 3): the adapters pass checked values; validate() checks."""
    record = TrainingRecord()
    record.log_update(0, torch.tensor(0.1), torch.tensor(2.5), np.float32(1.5))
    assert record.updates == {"step": [0], "lr": [pytest.approx(0.1)], "loss": [2.5], "grad_norm": [1.5]}
    assert all(type(v) is float for v in record.updates["loss"] + record.updates["grad_norm"])
    assert record.validate() is record
    record.log_update(-1, 0.1)
    with pytest.raises(ValueError, match=re.escape("training record: updates.step[1] must be a finite number >= 0")):
        record.validate()
    with pytest.raises(ValueError, match="could not convert"):  # the row is refused whole: nothing is added
        record.log_update(2, 0.1, "high")
    assert [len(column) for column in record.updates.values()] == [2, 2, 2, 2]


def test_tensorboard_refuses_a_bad_record_before_writing(tmp_path):
    pytest.importorskip("tensorboard")
    from warmup_plugins.monitoring.tensorboard import write_tensorboard

    record = TrainingRecord()
    record.log_update(0, 0.1, 2.0)
    record.log_update(None, 0.1, 2.0)
    with pytest.raises(ValueError, match=re.escape("training record: updates.step[1] must be a finite number >= 0")):
        write_tensorboard(record, tmp_path / "a")
    record.updates["step"][1] = 2**63  # a finite step, beyond TensorBoard's int64 global_step
    with pytest.raises(ValueError, match=re.escape("updates.step[1] = 9.22337e+18 is beyond TensorBoard's steps")):
        write_tensorboard(record, tmp_path / "b")

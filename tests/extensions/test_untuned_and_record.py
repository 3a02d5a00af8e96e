"""Untuned warmup (Ma & Yarats 2021) and TrainingRecord through the adapters."""

import json

import pytest
import torch

from tests.helpers import batches, tiny_model
from warmup_plugins import TrainingRecord, WarmupSchedule
from warmup_plugins.extensions.untuned import untuned_warmup_steps
from warmup_plugins.torch import WarmupLR


def adam(beta2=0.999):
    return torch.optim.Adam(tiny_model().parameters(), lr=1e-3, betas=(0.9, beta2))


def test_untuned_linear_is_min_1_t_over_w():
    opt = adam(0.99)  # W = 2 / (1 - 0.99) = 200
    sched = WarmupLR(opt, warmup_type="untuned_linear", total_steps=1000, decay_type="cosine")
    assert sched.schedule.warmup_steps == 199 and sched.schedule.start_factor == 1 / 200
    for k in (0, 1, 99, 198):
        assert sched.schedule(k) == pytest.approx((k + 1) / 200, rel=1e-12)
    assert sched.schedule(199) == 1.0


def test_untuned_exponential_uses_the_beta2_length():
    sched = WarmupLR(adam(0.999), warmup_type="untuned_exponential")
    assert sched.schedule.warmup_type == "exponential" and sched.schedule.warmup_steps == 2000
    assert untuned_warmup_steps(0.999) == 2000 and untuned_warmup_steps(0.0) == 2


def test_untuned_needs_betas_and_no_length():
    sgd = torch.optim.SGD(tiny_model().parameters(), lr=0.1)
    with pytest.raises(ValueError, match="needs an Adam-type optimizer with betas"):
        WarmupLR(sgd, warmup_type="untuned_linear")
    with pytest.raises(TypeError, match="derives the warmup length from beta2"):
        WarmupLR(adam(), warmup_type="untuned_linear", warmup_steps=10)
    groups = [{"params": [torch.zeros(1, requires_grad=True)], "betas": (0.9, b)} for b in (0.99, 0.999)]
    with pytest.raises(ValueError, match="different beta2"):
        WarmupLR(torch.optim.Adam(groups, lr=1e-3), warmup_type="untuned_linear")


def test_untuned_through_timm_and_fastai():
    pytest.importorskip("timm")
    pytest.importorskip("fastai")
    from fastai.optimizer import Adam as FastaiAdam

    from warmup_plugins.fastai import WarmupCallback, _untuned
    from warmup_plugins.timm import WarmupScheduler

    timm_sched = WarmupScheduler(adam(0.99), warmup_type="untuned_linear", t_in_epochs=False)
    assert timm_sched.schedule.warmup_steps == 199
    fastai_opt = FastaiAdam([torch.zeros(1, requires_grad=True)], lr=1e-3, sqr_mom=0.99)
    spec = _untuned({"warmup_type": "untuned_linear"}, list(fastai_opt.hypers))
    assert spec["warmup_steps"] == 199
    WarmupCallback(warmup_type="untuned_exponential")  # accepted at construction, resolved at before_fit


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
    with pytest.raises(TypeError, match="loss must be a number"):
        TrainingRecord().log_update(0, 0.1, loss="high")

"""Untuned warmup (Ma & Yarats 2021): the warmup length from Adam's beta2, through every adapter."""

import pytest
import torch

from tests.helpers import tiny_model
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

    from warmup_plugins.core.request import ScheduleRequest
    from warmup_plugins.extensions.untuned import beta2_of
    from warmup_plugins.fastai import WarmupCallback
    from warmup_plugins.timm import WarmupScheduler

    timm_sched = WarmupScheduler(adam(0.99), warmup_type="untuned_linear", t_in_epochs=False)
    assert timm_sched.schedule.warmup_steps == 199
    fastai_opt = FastaiAdam([torch.zeros(1, requires_grad=True)], lr=1e-3, sqr_mom=0.99)
    request = ScheduleRequest({"warmup_type": "untuned_linear"}, within_fit=True)
    assert request.resolve(fit_updates=1000, beta2=beta2_of(list(fastai_opt.hypers))).warmup_steps == 199
    WarmupCallback(warmup_type="untuned_exponential")  # accepted at construction, resolved at before_fit

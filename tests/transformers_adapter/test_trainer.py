"""The drop-in inside a real HF ``Trainer(optimizers=(opt, get_scheduler(...)))``: the LR of every optimizer
update equals the one transformers' own ``get_scheduler`` gives in the same Trainer, and
``train(resume_from_checkpoint=...)`` in the warmup and after it continues with the uninterrupted run's LRs.
The Trainer set-up (gradient accumulation 2, a checkpoint every 4 updates) is the host tests' own."""

from __future__ import annotations

import pytest

from tests.integration.test_hosts import HOST_N, RESUME_POINTS, assert_same_trace, hf_train
from warmup_plugins.torch import WarmupLR
from warmup_plugins.transformers import get_scheduler

hf = pytest.importorskip("transformers.optimization", reason="transformers is not installed: pip install transformers")

ARGS = ("cosine", 6, HOST_N)  # the cosine ends at the last update: transformers' LRs hold at every update


def drop_in(opt):
    scheduler = get_scheduler(ARGS[0], opt, num_warmup_steps=ARGS[1], num_training_steps=ARGS[2])
    assert isinstance(scheduler, WarmupLR)
    return scheduler


def transformers_own(opt):
    return hf.get_scheduler(ARGS[0], opt, num_warmup_steps=ARGS[1], num_training_steps=ARGS[2])


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("dropin")
    return tmp_path, hf_train(tmp_path, drop_in)


def test_drop_in_gives_transformers_lr_at_every_update_in_the_trainer(full_run, tmp_path):
    _, lrs = full_run
    reference = hf_train(tmp_path, transformers_own)
    assert list(lrs) == list(range(HOST_N))
    assert list(lrs.values()) == list(reference.values())
    assert lrs[0] == 0.0  # transformers' start, kept by default


@pytest.mark.parametrize("resume_at", RESUME_POINTS.values(), ids=RESUME_POINTS.keys())
def test_drop_in_resumes_from_checkpoint_with_the_uninterrupted_lrs(full_run, resume_at, tmp_path):
    run_dir, full = full_run
    lrs = hf_train(tmp_path, drop_in, resume_from=str(run_dir / "hf" / f"checkpoint-{resume_at}"))
    assert list(lrs) == list(range(resume_at, HOST_N))
    assert_same_trace([full[k] for k in range(resume_at)] + list(lrs.values()), list(full.values()), resume_at)

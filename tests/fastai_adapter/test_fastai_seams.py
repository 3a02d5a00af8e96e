"""WarmupCallback at its seams: re-fits and save/load resumes with an adaptive warmup."""

import pytest

pytest.importorskip("fastai")

from fastai.callback.tracker import SaveModelCallback

from tests.fastai_adapter.common import make_learner, quiet_fit
from warmup_plugins import AdaptiveWarmup, WarmupSchedule
from warmup_plugins.fastai import WarmupCallback

N_ITER = 8  # make_dls: 64 items, bs 8


def test_a_second_fit_starts_a_fresh_adaptive_warmup():
    adaptive = AdaptiveWarmup()
    learn = make_learner(cbs=[WarmupCallback(warmup_pct=0.25, decay_type="cosine", adaptive=adaptive)])
    first = quiet_fit(learn, 2, 0.1).lrs("batches")
    second = quiet_fit(learn, 2, 0.1).lrs("batches")
    schedule = WarmupSchedule(warmup_steps=0.25 * 2 * N_ITER, total_steps=2 * N_ITER, decay_type="cosine")
    assert first[0] == second[0] == [0.1 * schedule(0)]  # was: the second fit at f(T) = 0 throughout
    assert min(lr for (lr,) in second[:-1]) > 0


def test_learn_save_and_load_resume_the_adaptive_warmup(tmp_path):
    def learner():
        cb = WarmupCallback(warmup_pct=0.5, decay_type="linear", end_factor=0.1, adaptive=AdaptiveWarmup())
        return make_learner(cbs=[cb], path=tmp_path), cb

    learn, cb = learner()
    saver = SaveModelCallback(every_epoch=True, fname="m", with_opt=True)  # the optimizer state holds it
    full = quiet_fit(learn, 3, 0.1, cbs=[saver]).lrs("batches")
    assert (tmp_path / "models" / "m_0.pth").exists()

    again, cb2 = learner()
    again.load("m_0")
    resumed = quiet_fit(again, 3, 0.1, start_epoch=1).lrs("batches")
    assert cb2.adaptive.updates == cb.adaptive.updates  # it went on from update N_ITER, not from 0
    assert resumed[0] == full[N_ITER]  # the first resumed batch continues the warmup (was: restarted at f(0))

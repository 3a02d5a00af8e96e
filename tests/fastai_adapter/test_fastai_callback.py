"""warmup_plugins.fastai.WarmupCallback in real fastai ``Learner.fit`` runs on synthetic data."""

import math
import pickle
import warnings

import pytest

pytest.importorskip("fastai")

import numpy as np
import torch
from fastai.basics import SGD, CancelStepException, OptimWrapper, load_learner
from fastai.callback.core import Callback
from fastai.callback.schedule import ParamScheduler, SchedLin
from fastai.callback.training import GradientAccumulation
from fastcore.basics import even_mults, partialler
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fastai_adapter.common import make_dls, make_learner, quiet_fit, warmup_lr_trace
from warmup_plugins import WarmupSchedule
from warmup_plugins.fastai import WarmupCallback

N_ITER = 8  # make_dls(): 64 training items, bs 8, drop_last
SCHED = WarmupSchedule(warmup_type="cosine", warmup_steps=5, total_steps=24, decay_type="cosine", end_factor=0.05)


def torch_opt(cls, **kwargs):
    return partialler(OptimWrapper, opt=cls, **kwargs)


OPTIMIZERS = {
    "fastai-Adam": None,
    "fastai-SGD": partialler(SGD, mom=0.9),
    "torch-SGD": torch_opt(torch.optim.SGD, momentum=0.9),
    "torch-AdamW": torch_opt(torch.optim.AdamW),
}


# ---------------------------------------------------------------------------- agreement with WarmupLR
@pytest.mark.parametrize("opt", OPTIMIZERS)
def test_lr_of_every_update_equals_warmup_lr_bit_for_bit(opt):
    learn = make_learner(3, cbs=[WarmupCallback(SCHED)], opt_func=OPTIMIZERS[opt])
    trace = quiet_fit(learn, 3, 0.1)
    assert len(trace.steps) == 3 * N_ITER == 24
    assert trace.bases["lr"] == [0.1, 0.1, 0.1]
    assert trace.lrs() == warmup_lr_trace([0.1] * 3, SCHED, 24)
    assert learn.recorder.hps["lr"] == [lrs[-1] for lrs in trace.lrs("batches")]


def test_fraction_lengths_resolve_against_the_fit():
    learn = make_learner(cbs=[WarmupCallback(warmup_pct=0.3, decay_type="linear", end_factor=0.1)])
    trace = quiet_fit(learn, 2, 0.05)
    n = 2 * N_ITER
    expected = WarmupSchedule(warmup_steps=0.3 * n, total_steps=n, decay_type="linear", end_factor=0.1)
    assert learn.warmup.schedules["lr"] == expected
    assert trace.lrs() == warmup_lr_trace([0.05], expected, n)


def test_epoch_lengths_are_whole_epochs_of_updates():
    by_epochs = make_learner(cbs=[WarmupCallback(warmup_epochs=1, total_epochs=2, decay_type="cosine")])
    by_steps = make_learner(cbs=[WarmupCallback(warmup_steps=N_ITER, total_steps=2 * N_ITER, decay_type="cosine")])
    assert quiet_fit(by_epochs, 3).lrs() == quiet_fit(by_steps, 3).lrs()
    assert by_epochs.warmup.schedules["lr"].total_steps == 2 * N_ITER


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    warmup_type=st.sampled_from(["linear", "exponential", "cosine", "constant"]),
    decay_type=st.sampled_from(["cosine", "linear", "polynomial", "wsd", "step"]),
    warmup_pct=st.floats(0, 0.6),
    n_epoch=st.integers(1, 3),
    n_acc=st.sampled_from([None, 8, 16, 20, 24]),
    lr=st.floats(1e-4, 1.0),
)
def test_random_fits_match_warmup_lr_bit_for_bit(warmup_type, decay_type, warmup_pct, n_epoch, n_acc, lr):
    extra = {"step_size": 3} if decay_type == "step" else {}
    cbs = [WarmupCallback(warmup_type=warmup_type, warmup_pct=warmup_pct, decay_type=decay_type, **extra)]
    if n_acc is not None:
        cbs.append(GradientAccumulation(n_acc))
    learn = make_learner(cbs=cbs)
    trace = quiet_fit(learn, n_epoch, lr)
    a = 1 if n_acc is None else math.ceil(n_acc / 8)  # fastai steps once count (+8 a batch) reaches n_acc
    n = n_epoch * N_ITER // a
    schedule = WarmupSchedule(
        warmup_type=warmup_type, warmup_steps=warmup_pct * n, total_steps=n, decay_type=decay_type, **extra
    )
    assert trace.lrs() == warmup_lr_trace([lr], schedule, n)


# ---------------------------------------------------------------------------- base values
def test_discriminative_lrs_from_a_slice():
    learn = make_learner(3, cbs=[WarmupCallback(SCHED)])
    trace = quiet_fit(learn, 3, slice(1e-3, 1e-1))
    bases = [float(b) for b in even_mults(1e-3, 1e-1, 3)]
    assert trace.bases["lr"] == bases
    assert trace.lrs() == warmup_lr_trace(bases, SCHED, 24)


def test_slice_with_only_a_stop_and_per_group_arrays():
    learn = make_learner(3, cbs=[WarmupCallback(SCHED)])
    assert quiet_fit(learn, 3, slice(0.3)).bases["lr"] == [0.03, 0.03, 0.3]
    bases = [0.01, 0.02, 0.05]
    trace = quiet_fit(learn, 3, np.array(bases))
    assert trace.lrs() == warmup_lr_trace(bases, SCHED, 24)


def test_one_schedule_per_group():
    schedules = [SCHED, SCHED.replace(warmup_type="linear"), WarmupSchedule(warmup_steps=2)]
    learn = make_learner(3, cbs=[WarmupCallback(schedules)])
    assert quiet_fit(learn, 3, [0.1, 0.2, 0.3]).lrs() == warmup_lr_trace([0.1, 0.2, 0.3], schedules, 24)


def test_per_group_keyword_schedules_are_resolved_each():
    specs = [{"warmup_pct": 0.5}, {"warmup_epochs": 1, "decay_type": "linear"}, {}]
    learn = make_learner(3, cbs=[WarmupCallback(specs)])
    quiet_fit(learn, 2)
    n = 2 * N_ITER
    assert learn.warmup.schedules["lr"] == (
        WarmupSchedule(warmup_steps=0.5 * n, total_steps=n),
        WarmupSchedule(warmup_steps=N_ITER, total_steps=n, decay_type="linear"),
        WarmupSchedule(total_steps=n),
    )


@pytest.mark.parametrize(("opt", "key"), [("fastai-Adam", "mom"), ("torch-SGD", "momentum"), ("torch-AdamW", "betas")])
def test_momentum_and_weight_decay_schedules(opt, key):
    mom = WarmupSchedule(warmup_steps=5, start_factor=0.95 / 0.85, total_steps=24, decay_type="cosine", end_factor=1.1)
    wd = WarmupSchedule(warmup_steps=0, total_steps=24, decay_type="linear", end_factor=0.5)
    learn = make_learner(3, cbs=[WarmupCallback(SCHED, mom=mom, wd=wd)], opt_func=OPTIMIZERS[opt])
    quiet_fit(learn, 3)  # a first fit leaves the bases where they were: the next one starts from them too
    trace = quiet_fit(learn, 3, 0.1, wd=0.01)
    assert trace.bases["mom"] == [0.9] * 3  # every optimizer here starts at momentum (or beta1) 0.9
    assert [s["mom"] for s in trace.steps] == warmup_lr_trace([0.9] * 3, mom, 24)
    assert [s["wd"] for s in trace.steps] == warmup_lr_trace([0.01] * 3, wd, 24)
    assert [h["mom"] for h in learn.opt.hypers] == [0.9] * 3  # restored after the fit
    if key == "betas":
        assert all(type(g["betas"]) is tuple and g["betas"][1] == 0.999 for g in learn.opt.opt.param_groups)


class TensorLR(Callback):
    """Puts a Tensor LR into the torch param groups after ``fit`` set float ones (as a capturable optimizer has)."""

    order = 0

    def before_fit(self):
        self.tensor = torch.tensor(0.1)
        self.seen = []
        self.learn.opt.opt.param_groups[0]["lr"] = self.tensor

    def before_step(self):
        self.seen.append(self.learn.opt.opt.param_groups[0]["lr"])


def test_tensor_lrs_are_filled_in_place():
    learn = make_learner(cbs=[WarmupCallback(SCHED), TensorLR()], opt_func=OPTIMIZERS["torch-SGD"])
    quiet_fit(learn, 3)
    tensor = learn.tensor_lr.tensor
    assert len(learn.tensor_lr.seen) == 24 and all(lr is tensor for lr in learn.tensor_lr.seen)
    assert learn.warmup.hps["lr"] == [float(torch.tensor(0.1)) * SCHED(k) for k in range(24)]
    assert learn.opt.opt.param_groups[0]["lr"] is tensor and tensor.item() == pytest.approx(0.1)


# ---------------------------------------------------------------------------- the training loop around it
@pytest.mark.parametrize("start_epoch", [1, 2])
def test_resume_with_start_epoch_equals_the_uninterrupted_fit(start_epoch):
    full = quiet_fit(make_learner(cbs=[WarmupCallback(warmup_pct=0.4, decay_type="cosine")]), 3, 0.1)
    learn = make_learner(cbs=[WarmupCallback(warmup_pct=0.4, decay_type="cosine")])
    resumed = quiet_fit(learn, 3, 0.1, start_epoch=start_epoch)
    assert resumed.positions[0] == (start_epoch, 0)
    assert resumed.lrs() == full.lrs()[start_epoch * N_ITER :]


def test_gradient_accumulation_follows_optimizer_updates():
    learn = make_learner(cbs=[WarmupCallback(warmup_pct=0.4, decay_type="cosine"), GradientAccumulation(24)])
    trace = quiet_fit(learn, 2, 0.1)
    n = 2 * N_ITER // 3  # bs 8, n_acc 24: a step every 3 batches, counted across epochs
    assert len(trace.steps) == n == 5
    schedule = WarmupSchedule(warmup_steps=0.4 * n, total_steps=n, decay_type="cosine")
    assert trace.lrs() == warmup_lr_trace([0.1], schedule, n)
    batch_lrs = [lrs[0] for lrs in trace.lrs("batches")]  # the batches feeding update k all see f(k)
    assert batch_lrs == [0.1 * schedule(j // 3) for j in range(2 * N_ITER)]


def test_gradient_accumulation_with_epoch_lengths():
    learn = make_learner(cbs=[WarmupCallback(warmup_epochs=1, decay_type="linear"), GradientAccumulation(16)])
    trace = quiet_fit(learn, 3, 0.1)
    assert learn.warmup.schedules["lr"] == WarmupSchedule(warmup_steps=4, total_steps=12, decay_type="linear")
    assert len(trace.steps) == 12


class SkipSteps(Callback):
    """Cancels some optimizer steps the way ``MixedPrecision`` does when the grad scaler finds an overflow."""

    order = 10

    def before_step(self):
        if self.learn.iter in (1, 4):
            raise CancelStepException()


def test_a_skipped_step_still_advances_the_schedule():
    plain = quiet_fit(make_learner(cbs=[WarmupCallback(SCHED)]), 3)
    skipping = quiet_fit(make_learner(cbs=[WarmupCallback(SCHED), SkipSteps()]), 3)
    assert skipping.lrs("batches") == plain.lrs("batches")
    assert len(skipping.steps) == 24 - 2 * 3


@pytest.mark.filterwarnings("ignore:.*CUDA is not available:UserWarning")
def test_to_fp16_gives_the_same_schedule():  # on a CPU fastai runs MixedPrecision with autocast and scaler off
    plain = quiet_fit(make_learner(cbs=[WarmupCallback(SCHED)]), 3)
    learn = make_learner(cbs=[WarmupCallback(SCHED)]).to_fp16()
    assert quiet_fit(learn, 3).lrs("batches") == plain.lrs("batches")


def test_progress_bar_and_logging_do_not_change_it(capsys):
    quiet = quiet_fit(make_learner(cbs=[WarmupCallback(SCHED)]), 3)
    learn = make_learner(cbs=[WarmupCallback(SCHED)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        learn.fit(3)
    assert learn.trace.lrs() == quiet.lrs()
    assert "epoch" in capsys.readouterr().out


def test_records_for_plot_sched(tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    learn = make_learner(cbs=[WarmupCallback(SCHED, mom=WarmupSchedule(start_factor=1.1, warmup_steps=5))])
    trace = quiet_fit(learn, 3, 0.1)
    assert learn.recorder.hps == {
        "lr": [s["lr"][-1] for s in trace.batches],
        "mom": [s["mom"][-1] for s in trace.batches],
    }
    learn.recorder.plot_sched()
    plt.savefig(tmp_path / "sched.png")
    assert len(plt.gcf().axes) == 2
    plt.close("all")


def test_repeated_fits_give_the_same_trace():
    learn = make_learner(cbs=[WarmupCallback(SCHED, mom=WarmupSchedule(start_factor=1.1, warmup_steps=5))])
    first = quiet_fit(learn, 3).steps
    assert quiet_fit(learn, 3).steps == first


@pytest.mark.filterwarnings("ignore:numpy.core is deprecated:DeprecationWarning")  # fastai's Learner.load
def test_validation_and_lr_find_leave_it_idle(tmp_path):
    learn = make_learner(cbs=[WarmupCallback(SCHED)], path=tmp_path)
    quiet_fit(learn, 3)
    hps = learn.recorder.hps
    with learn.no_bar():
        learn.validate()
        learn.get_preds()
    assert learn.recorder.hps is hps and learn.opt.hypers[0]["lr"] == 0.1
    with learn.no_bar(), learn.no_logging():
        learn.lr_find(num_it=20, stop_div=False, show_plot=False)  # no early stop: a fixed number of steps
    assert learn.recorder.hps is hps
    lrs = learn.recorder.lrs  # LRFinder's exponential ramp, untouched by the warmup
    assert lrs[1] / lrs[0] == pytest.approx(lrs[2] / lrs[1]) and lrs[1] > lrs[0]


# ---------------------------------------------------------------------------- pickling
@pytest.mark.filterwarnings("ignore:load_learner:UserWarning")
def test_export_and_load_learner_round_trip(tmp_path):
    dls = make_dls()
    callback = WarmupCallback(warmup_pct=0.25, decay_type="cosine", mom={"start_factor": 1.1, "warmup_epochs": 1})
    learn = make_learner(cbs=[callback], dls=dls, path=tmp_path)
    before = quiet_fit(learn, 3).steps
    learn.export("export.pkl")
    loaded = load_learner(tmp_path / "export.pkl")
    assert loaded.warmup.specs == callback.specs
    assert loaded.warmup._drivers is None
    loaded.dls = dls
    assert quiet_fit(loaded, 3).steps == before


def test_pickles_without_per_fit_state():
    callback = WarmupCallback(SCHED, wd={"warmup_pct": 0.5})
    learn = make_learner(cbs=[callback])
    quiet_fit(learn, 3)
    learn.remove_cb(callback)
    copy = pickle.loads(pickle.dumps(callback))
    assert copy.specs == callback.specs and copy.schedules == callback.schedules and copy.hps == callback.hps
    assert copy._drivers is None and copy._fit is None


# ---------------------------------------------------------------------------- bad input
class CountBatches(Callback):
    order = -20

    def before_fit(self):
        self.n = 0

    def before_batch(self):
        self.n += 1


@pytest.mark.parametrize(
    ("callback", "extra", "match"),
    [
        (WarmupCallback(warmup_steps=30), [], r"'lr' schedule does not fit .* warmup_steps \(30\) is longer"),
        (WarmupCallback(SCHED.replace(total_steps=40)), [], r"total_steps \(40\) is longer than the fit"),
        (WarmupCallback(warmup_epochs=4), [], r"3 epochs x 8 batches = 24 optimizer updates"),
        (  # named as the user gave them (issue 30)
            WarmupCallback(warmup_pct=0.2, total_pct=0.1),
            [],
            r": warmup_pct=0.2 \(4.8 updates\) is longer than total_pct=0.1 \(2.4 updates\)$",
        ),
        (WarmupCallback(warmup_epochs=4), [], r"warmup_epochs=4 \(32 updates\) is longer than the fit"),
        (WarmupCallback(decay_type="step"), [], r"step_size is required"),
        (WarmupCallback([SCHED, SCHED]), [], r"got 2 schedules for 1 param groups"),
        (WarmupCallback(warmup_epochs=1), [GradientAccumulation(24)], r"whole number of optimizer updates per epoch"),
        (WarmupCallback(), [GradientAccumulation(10 * 24 * 8)], r"makes no optimizer update"),
        (WarmupCallback(), [ParamScheduler({"lr": SchedLin(0.1, 0.01)})], r"ParamScheduler also schedules \['lr'\]"),
        (WarmupCallback(), [WarmupCallback(SCHED)], r"WarmupCallback also schedules \['lr'\]"),
    ],
)
def test_a_schedule_that_does_not_fit_raises_at_before_fit(callback, extra, match):
    learn = make_learner(cbs=[callback, CountBatches()])
    weights = [p.detach().clone() for p in learn.model.parameters()]
    with pytest.raises(ValueError, match=match):
        quiet_fit(learn, 3, cbs=extra)
    assert learn.count_batches.n == 0
    assert all(torch.equal(w, p) for w, p in zip(weights, learn.model.parameters()))


def test_accumulation_needs_a_constant_batch_size():
    dls = make_dls(n_train=60, drop_last=False)  # a last batch of 4
    learn = make_learner(cbs=[WarmupCallback(), GradientAccumulation(16), CountBatches()], dls=dls)
    with pytest.raises(ValueError, match="constant batch size"):
        quiet_fit(learn, 2)
    assert learn.count_batches.n == 0


def test_a_hyper_parameter_the_optimizer_lacks():
    learn = make_learner(cbs=[WarmupCallback(mom=SCHED)], opt_func=torch_opt(torch.optim.Adagrad))
    with pytest.raises(ValueError, match=r"cannot schedule 'mom': the wrapped Adagrad"):
        quiet_fit(learn, 3)
    learn = make_learner(cbs=[WarmupCallback(mom=SCHED)], opt_func=partialler(SGD))  # fastai's SGD has mom=0
    assert quiet_fit(learn, 3).steps[0]["mom"] == [0.0]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"warmup_stepz": 3}, TypeError, r"^WarmupCallback: unknown schedule arguments \['warmup_stepz'\]; valid"),
        ({"mom": {"warmup_stepz": 3}}, TypeError, r"^WarmupCallback: the mom schedule: unknown schedule arguments"),
        ({"schedule": SCHED, "warmup_steps": 3}, TypeError, "not both"),
        ({"warmup_pct": 1.5}, ValueError, r"warmup_pct must be in \[0, 1\]"),
        ({"milestone_pcts": [0.5, 2]}, ValueError, r"milestone_pcts\[1\] must be in"),
        ({"warmup_pct": 0.1, "warmup_epochs": 1}, TypeError, r"give one of \['warmup_epochs', 'warmup_pct'\]"),
        ({"steps_per_epoch": 10}, TypeError, "derived from the fit"),
        ({"warmup_type": "cosin"}, ValueError, "did you mean 'cosine'"),
        ({"warmup_end": "middle"}, ValueError, "warmup_end must be one of 'peak', 'decay'"),
        ({"decay_type": 3}, TypeError, "decay_type must be a string"),
        ({"mom": 0.9}, TypeError, "mom must be a WarmupSchedule, a dict"),
        ({"wd": [{"warmup_pct": 0.1}, "x"]}, TypeError, r"wd\[1\] must be"),
        ({"schedule": []}, TypeError, "non-empty list"),
    ],
)
def test_bad_arguments_raise_at_construction(kwargs, error, match):
    with pytest.raises(error, match=match):
        WarmupCallback(**kwargs)


def test_a_fit_error_names_the_callback_once():
    """The whole message: the owner's name once, at the front (it read 'WarmupCallback: ... WarmupCallback:')."""
    learn = make_learner(cbs=[WarmupCallback(warmup_epochs=1)])
    with pytest.raises(ValueError) as caught:
        quiet_fit(learn, 3, cbs=[GradientAccumulation(24)])
    assert str(caught.value) == (  # fastai's own wrapper, then ours
        "Exception occured in `WarmupCallback` when calling event `before_fit`:\n\t"
        "WarmupCallback: the 'lr' schedule does not fit this fit call (3 epochs x 8 batches, one update every 3 "
        "batches = 8 optimizer updates): lengths in epochs need a whole number of optimizer updates per epoch, but "
        "an epoch of 8 batches with an update every 3 batches has 2.66667; give lengths in updates or as *_pct "
        "fractions of the fit"
    )

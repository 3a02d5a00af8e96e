"""Hostile input: every public constructor and function, fuzzed with hypothesis.

Wrong types, NaN/inf, huge numbers, zero lengths, empty optimizers, param groups without ``lr``, and
``load_state_dict`` with missing, extra or malformed keys. Every case must either

* raise ``ValueError``, ``TypeError`` or ``KeyError`` from an explicit ``raise`` in this library, with a
  message (naming the argument where one argument was corrupted), leaving a loaded object as it was; or
* succeed, and then every LR (or scheduled value) it writes is finite and non-negative.

Anything else (a NaN LR, an ``AttributeError``/``ZeroDivisionError``/``OverflowError``/``IndexError`` or a
``TypeError`` from deep inside, a hang) fails. Each target counts its cases; the last test prints the
counts (``FUZZ_EXAMPLES`` sets the examples per target, default 150).
"""

from __future__ import annotations

import collections
import copy
import linecache
import math
import os
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import warmup_plugins
from warmup_plugins import AdaptiveWarmup, TrainingRecord, WarmupSchedule
from warmup_plugins.core.decays import COOLDOWN_TYPES, DECAY_TYPES
from warmup_plugins.core.warmups import WARMUP_TYPES
from warmup_plugins.extensions.distributed import global_batch_size, scale_lr
from warmup_plugins.torch import WarmupLR, WarmupParam, WithWarmup

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "150"))
# Stepping schedulers with no optimizer step in between (WithWarmup forwards to a stock torch scheduler) is the point.
pytestmark = pytest.mark.filterwarnings("ignore:Detected call of `lr_scheduler.step\\(\\)` before:UserWarning")
fuzz = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
COUNTS: collections.Counter[str] = collections.Counter()
PACKAGE = Path(warmup_plugins.__file__).resolve().parent
# The base classes the adapters extend (torch's LRScheduler, timm's Scheduler) raise clear errors of their own too.
BASE_CLASSES = {Path(torch.optim.lr_scheduler.__file__).resolve()}
CLEAR = (ValueError, TypeError, KeyError)

# ---------------------------------------------------------------------------- values
SPECIAL = [math.nan, math.inf, -math.inf, -1.0, -0.0, 0.0, 5e-324, 1e-300, 1e300, 1.7976931348623157e308]
HUGE_INTS = [10**400, -(10**400), 2**63, 2**1100]
ODD = [
    None,
    True,
    False,
    "1",
    "",
    b"1",
    [1],
    (1, 2),
    {"a": 1},
    1 + 1j,
    Decimal("1.5"),
    Fraction(1, 3),
    np.float64(0.5),
    np.int64(3),
    np.float64("nan"),
    np.array([1.0, 2.0]),
    torch.tensor(0.5),
    torch.tensor([1.0, 2.0]),
    torch.tensor(math.nan),
]
hostile = st.one_of(
    st.sampled_from(SPECIAL + HUGE_INTS),
    st.sampled_from(ODD),
    st.floats(),
    st.integers(-(10**6), 10**6),
    st.text(max_size=3),
)
plausible = st.one_of(st.integers(0, 1000), st.floats(0, 1000), st.sampled_from([0, 0.5, 1, 2, 1e-9, 1e9]))
anything = st.one_of(plausible, hostile)


def mostly(good, bad=hostile):
    """``good`` three times in four, else ``bad``: enough valid input to reach the code behind the checks."""
    return st.integers(0, 3).flatmap(lambda i: bad if i == 0 else good)


ks = st.one_of(st.integers(0, 10**6), st.floats(0, 1e6), st.sampled_from([0.0, 1e300, 1.7976931348623157e308]))


# ---------------------------------------------------------------------------- the oracle
def attempt(target: str, call, names: tuple[str, ...] = ()):
    """Run ``call()``; return ``(result, None)`` or ``(None, error)`` for a clear error (else the test fails)."""
    COUNTS[target] += 1
    try:
        return call(), None
    except CLEAR as error:
        check_clear(error, names)
        return None, error


def check_clear(error: BaseException, names: tuple[str, ...]) -> None:
    """Raised by an explicit ``raise`` in this package (or in a base class it extends), with a message naming one
    of ``names`` (if given)."""
    message = str(error.args[0]) if isinstance(error, KeyError) and error.args else str(error)
    tb = error.__traceback__
    while tb.tb_next is not None:
        tb = tb.tb_next
    filename = Path(tb.tb_frame.f_code.co_filename).resolve()
    line = linecache.getline(str(filename), tb.tb_lineno).strip()
    where = f"{type(error).__name__} at {filename.name}:{tb.tb_lineno} ({line}): {message}"
    ours = PACKAGE in filename.parents or filename in BASE_CLASSES
    assert ours and line.startswith("raise"), f"not a deliberate error: {where}"
    assert len(message) > 8, f"no message: {where}"
    if names:
        assert any(name in message for name in names), f"message does not name {names}: {where}"


def check_values(values, what: str = "LR") -> None:
    for value in values:
        value = float(value)
        assert math.isfinite(value) and value >= 0, f"a {what} of {value!r}"


def check_schedule(schedule: WarmupSchedule, extra_k: float = 0.0) -> None:
    """A schedule that was built gives finite, non-negative factors everywhere (and survives its own dict)."""
    w = float(schedule.warmup_steps)
    t = schedule.total_steps
    points = [0, w / 2, w, math.nextafter(w, 0), extra_k, 1e300, 1.7976931348623157e308]
    if t is not None:
        points += [(w + t) / 2, t, math.nextafter(float(t), 0), t * 2 if t * 2 < math.inf else t]
    for k in points:
        check_values([schedule(k)], f"factor at k={k!r} of {schedule}")
    assert WarmupSchedule.from_dict(schedule.to_dict()) == schedule


# ---------------------------------------------------------------------------- schedules
CHOICES = {"warmup_type": WARMUP_TYPES, "decay_type": DECAY_TYPES, "cooldown_type": COOLDOWN_TYPES}
NUMERIC = (
    "warmup_steps",
    "total_steps",
    "start_factor",
    "end_factor",
    "power",
    "k_decay",
    "tanh_lb",
    "tanh_ub",
    "gamma",
    "step_size",
    "timescale",
    "cooldown_steps",
    "cooldown_fraction",
    "cooldown_power",
    "cooldown_ratio",
    "cycle_steps",
    "cycle_mul",
    "cycle_decay",
    "cycle_limit",
)
BOOLEANS = ("warmup_prefix", "cycle_warmup")


@st.composite
def schedule_kwargs(draw, corrupt: bool = True) -> dict:
    """Keyword arguments for ``WarmupSchedule``: a decay and its options, some corrupted when ``corrupt``."""
    value = anything if corrupt else plausible
    kwargs = {
        "warmup_type": draw(st.sampled_from(WARMUP_TYPES)),
        "decay_type": draw(st.sampled_from(DECAY_TYPES)),
        "warmup_steps": draw(value),
        "total_steps": draw(st.one_of(st.none(), value)),
    }
    # sorted: a set of strings iterates in hash order, which changes with PYTHONHASHSEED (and so would the draws)
    for name in sorted(draw(st.sets(st.sampled_from(NUMERIC + BOOLEANS + ("milestones", "warmup_end")), max_size=4))):
        if name in BOOLEANS:
            kwargs[name] = draw(st.booleans() | (hostile if corrupt else st.booleans()))
        elif name == "milestones":
            kwargs[name] = draw(st.lists(value, max_size=3) | (hostile if corrupt else st.lists(value, max_size=3)))
        elif name == "warmup_end":
            kwargs[name] = draw(st.sampled_from(["peak", "decay"]))
        else:
            kwargs[name] = draw(value)
    if corrupt and draw(st.booleans()):
        name = draw(st.sampled_from([*sorted(kwargs), "cooldown_type"]))
        kwargs[name] = draw(st.sampled_from(CHOICES[name]) | hostile if name in CHOICES else hostile)
    if not corrupt and kwargs["warmup_type"] == "none":
        kwargs["warmup_steps"] = 0
    return kwargs


@st.composite
def valid_schedules(draw) -> WarmupSchedule:
    """Schedules that build (plausible values only; those that fail validation are tried again)."""
    for _ in range(20):
        kwargs = draw(schedule_kwargs(corrupt=False))
        try:
            return WarmupSchedule(**kwargs)
        except CLEAR:
            continue
    return WarmupSchedule(warmup_steps=draw(st.integers(0, 50)), total_steps=100, decay_type="cosine")


@fuzz
@given(schedule_kwargs(), ks)
def test_schedule_constructor(kwargs, k):
    schedule, _ = attempt("WarmupSchedule(...)", lambda: WarmupSchedule(**kwargs))
    if schedule is not None:
        check_schedule(schedule, k)


# A corrupted field may be reported through the field it conflicts with (a cooldown needs total_steps, ...).
_COOLDOWN = ("cooldown_steps", "cooldown_fraction", "cooldown_type", "cooldown_power", "cooldown_ratio")
_CYCLE = ("cycle_steps", "cycle_mul", "cycle_decay", "cycle_limit", "cycle_warmup")
RELATED = {
    **{name: (*_COOLDOWN, "total_steps") for name in _COOLDOWN},
    **{name: (*_CYCLE, "warmup_steps", "warmup_prefix", "total_steps") for name in _CYCLE},
    "warmup_steps": ("total_steps", "warmup_type", "milestones", "cycle_steps"),
    "total_steps": ("warmup_steps", "cooldown_steps", "cycle_steps"),
    "start_factor": ("warmup_type",),
    "warmup_type": ("warmup_steps", "start_factor"),
    "tanh_lb": ("tanh_ub",),
    "tanh_ub": ("tanh_lb",),
    "warmup_prefix": ("warmup_end", "milestones", "cycle_warmup"),
    "milestones": ("warmup_steps",),
}


@fuzz
@given(valid_schedules(), st.sampled_from(sorted(NUMERIC + BOOLEANS + tuple(CHOICES) + ("milestones",))), hostile)
def test_schedule_one_corrupted_field_is_named(schedule, name, value):
    """``replace`` one field of a valid schedule with a hostile value: the error names that field."""
    replaced, error = attempt("WarmupSchedule(...) one field", lambda: schedule.replace(**{name: value}))
    if error is not None:
        assert any(n in str(error) for n in (name, *RELATED.get(name, ()))), (name, value, error, schedule)
    else:
        check_schedule(replaced)


@fuzz
@given(valid_schedules(), st.one_of(hostile, ks))
def test_schedule_call(schedule, k):
    factor, _ = attempt("schedule(k)", lambda: schedule(k), names=("step",))
    if factor is not None:
        check_values(np.ravel(factor), "factor")  # an array of steps gives an array of factors


EPOCH_NAMES = (
    "warmup_epochs",
    "total_epochs",
    "step_size_epochs",
    "timescale_epochs",
    "cycle_epochs",
    "cooldown_epochs",
)


@fuzz
@given(
    st.dictionaries(st.sampled_from(EPOCH_NAMES), anything, max_size=3),
    st.one_of(st.integers(1, 1000), hostile),
    st.sampled_from(DECAY_TYPES),
)
def test_schedule_from_epochs(kwargs, steps_per_epoch, decay_type):
    build = lambda: WarmupSchedule.from_epochs(steps_per_epoch=steps_per_epoch, decay_type=decay_type, **kwargs)  # noqa: E731
    schedule, _ = attempt("WarmupSchedule.from_epochs", build)
    if schedule is not None:
        check_schedule(schedule)


@st.composite
def mutated(draw, data: dict, keys: tuple[str, ...] = ()) -> object:
    """``data`` with one key deleted, one unknown key added or one value replaced; or something else entirely."""
    data = copy.deepcopy(data)
    how = draw(st.sampled_from(["delete", "add", "replace", "replace", "whole"]))
    if how == "whole" or not data:
        return draw(hostile)
    key = draw(st.sampled_from(sorted(data)))
    if how == "delete":
        del data[key]
    elif how == "add":
        data[draw(st.sampled_from(["extra", "lr", "", "schedule_"]))] = draw(anything)
    else:
        data[key] = draw(anything)
    return data


@fuzz
@given(st.data())
def test_schedule_from_dict(data):
    schedule = data.draw(valid_schedules())
    bad = data.draw(mutated(schedule.to_dict()))
    rebuilt, _ = attempt("WarmupSchedule.from_dict", lambda: WarmupSchedule.from_dict(bad))
    if rebuilt is not None:
        check_schedule(rebuilt)


# ---------------------------------------------------------------------------- optimizers
@st.composite
def optimizers(draw, corrupt: bool = True, key: str = "lr"):
    """A torch optimizer with 1-3 groups; when ``corrupt``, maybe a group value made hostile, a group without
    the key, no groups at all, or not an optimizer."""
    kind = draw(st.sampled_from(["sgd", "adam"]))
    n = draw(st.integers(1, 3))
    params = [torch.nn.Parameter(torch.zeros(2)) for _ in range(n)]
    lrs = [draw(st.floats(1e-6, 1.0)) for _ in range(n)]
    groups = [{"params": [p], "lr": lr} for p, lr in zip(params, lrs)]
    opt = torch.optim.SGD(groups, momentum=0.9) if kind == "sgd" else torch.optim.Adam(groups)
    if draw(st.booleans()):
        for group in opt.param_groups:
            group["lr"] = torch.tensor(group["lr"])
    if not corrupt:
        return opt
    how = draw(st.sampled_from(["none"] * 10 + ["value", "initial", "missing", "empty", "not"]))
    if how in ("value", "initial"):  # 'initial_lr': what torch's LRScheduler reads when resuming (last_epoch >= 0)
        target = "initial_lr" if how == "initial" else key if key != "beta1" else "betas"
        opt.param_groups[draw(st.integers(0, n - 1))][target] = draw(anything)
    elif how == "missing":
        opt.param_groups[draw(st.integers(0, n - 1))].pop(key if key != "beta1" else "betas", None)
    elif how == "empty":
        opt.param_groups.clear()
    elif how == "not":
        return draw(hostile)
    return opt


def group_values(opt, key: str = "lr") -> list[float]:
    return [float(g["betas"][0] if key == "beta1" else g[key]) for g in opt.param_groups]


schedule_args = mostly(valid_schedules(), st.lists(valid_schedules(), max_size=4) | hostile)
kwargs_args = mostly(st.just({}), schedule_kwargs() | st.dictionaries(st.text(max_size=4), anything, max_size=2))
untuned = st.fixed_dictionaries(
    {"warmup_type": st.sampled_from(["untuned_linear", "untuned_exponential"])},
    optional={"total_steps": plausible, "decay_type": st.sampled_from(DECAY_TYPES), "start_factor": anything},
)


@fuzz
@given(optimizers(), schedule_args, mostly(kwargs_args, untuned), mostly(st.just(-1)), ks)
def test_warmup_lr(opt, schedule, kwargs, last_epoch, k):
    default = type(last_epoch) is int and last_epoch == -1
    if isinstance(schedule, WarmupSchedule | list) and kwargs and default:
        kwargs = {}  # mostly one or the other; the "both" error is covered by the hostile draws
    extra = {} if default else {"last_epoch": last_epoch}
    scheduler, _ = attempt("WarmupLR(...)", lambda: WarmupLR(opt, schedule if not kwargs else None, **extra, **kwargs))
    if scheduler is None:
        return
    for _ in range(3):
        scheduler.step()
        check_values(group_values(opt))
    attempt("WarmupLR.step(k)", lambda: scheduler.step(k), names=("epoch",))
    check_values(group_values(opt))


@fuzz
@given(optimizers(), anything, st.sampled_from([*WARMUP_TYPES, "cosin"]) | hostile, anything)
def test_with_warmup(opt, warmup_steps, warmup_type, start_factor):
    if isinstance(opt, torch.optim.Optimizer) and opt.param_groups and "lr" in opt.param_groups[0]:
        try:
            inner = torch.optim.lr_scheduler.StepLR(opt, step_size=3)
        except Exception:  # torch's own validation of a hostile group: not this library's
            return
    else:
        inner = opt
    build = lambda: WithWarmup(inner, warmup_steps, warmup_type=warmup_type, start_factor=start_factor)  # noqa: E731
    scheduler, _ = attempt("WithWarmup(...)", build)
    if scheduler is not None:
        for _ in range(5):
            scheduler.step()
            check_values(group_values(opt))


@fuzz
@given(st.data())
def test_warmup_param(data):
    name = data.draw(st.sampled_from(["momentum", "weight_decay", "beta1", "lr", "dampening"]) | hostile)
    opt = data.draw(optimizers(key=name if isinstance(name, str) else "lr"))
    schedule, kwargs = data.draw(schedule_args), data.draw(kwargs_args)
    call = lambda: WarmupParam(opt, name, None if kwargs else schedule, **kwargs)  # noqa: E731
    scheduler, _ = attempt("WarmupParam(...)", call)
    if scheduler is not None:
        for _ in range(3):
            scheduler.step()
            check_values(group_values(opt, name), name)


# ---------------------------------------------------------------------------- timm
pytest.importorskip("timm")
import timm.scheduler.scheduler  # noqa: E402

from warmup_plugins.timm import SCHED_NAMES, WarmupScheduler, create_scheduler_v2  # noqa: E402

BASE_CLASSES.add(Path(timm.scheduler.scheduler.__file__).resolve())


@fuzz
@given(optimizers(), schedule_args, kwargs_args, mostly(st.booleans()), ks)
def test_timm_warmup_scheduler(opt, schedule, kwargs, t_in_epochs, k):
    call = lambda: WarmupScheduler(opt, None if kwargs else schedule, t_in_epochs=t_in_epochs, **kwargs)  # noqa: E731
    scheduler, _ = attempt("WarmupScheduler(...)", call)
    if scheduler is None:
        return
    for n in (1, 2, 3):
        scheduler.step_update(n)
        scheduler.step(n)
        check_values(group_values(opt))
    attempt("WarmupScheduler.step_update(k)", lambda: scheduler.step_update(k))
    check_values(group_values(opt))


@fuzz
@given(
    st.sampled_from(SCHED_NAMES),
    st.sampled_from(["linear", "exponential", "cosine", "constant"]) | hostile,
    st.booleans() | hostile,
    st.booleans() | hostile,
    st.booleans(),
    st.integers(0, 3),
)
def test_timm_create_scheduler_v2_new_options(sched, warmup_type, after, torch_milestones, on_epochs, warmup):
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    call = lambda: create_scheduler_v2(  # noqa: E731
        opt,
        sched=sched,
        num_epochs=10,
        warmup_epochs=warmup,
        min_lr=1e-4,
        decay_epochs=3,
        decay_milestones=(4, 7),
        step_on_epochs=on_epochs,
        updates_per_epoch=5,
        warmup_type=warmup_type,
        decay_after_warmup=after,
        multistep_torch_milestones=torch_milestones,
    )
    result, _ = attempt("create_scheduler_v2(new options)", call)
    if result is not None and result[0] is not None:
        scheduler = result[0]
        for t in range(1, 60):
            scheduler.step_update(t)
            if t % 5 == 0:
                scheduler.step(t // 5, metric=1.0)
            check_values(group_values(opt))


# ---------------------------------------------------------------------------- load_state_dict
def sgd_with(n_groups: int = 2):
    params = [torch.nn.Parameter(torch.zeros(2)) for _ in range(n_groups)]
    return torch.optim.SGD([{"params": [p], "lr": 0.1 * (i + 1)} for i, p in enumerate(params)], momentum=0.9)


SCHED = WarmupSchedule(warmup_steps=4, total_steps=20, decay_type="cosine", end_factor=0.1)


def stateful(kind: str):
    """A stateful object a few steps in, and the optimizer it writes to."""
    opt = sgd_with()
    if kind == "WarmupLR":
        obj = WarmupLR(opt, SCHED)
    elif kind == "WarmupLR+adaptive":
        obj = WarmupLR(opt, SCHED, adaptive=AdaptiveWarmup())
    elif kind == "WarmupParam":
        obj = WarmupParam(opt, "momentum", [SCHED, SCHED.replace(start_factor=2.0)])
    elif kind == "WithWarmup":
        obj = WithWarmup(torch.optim.lr_scheduler.StepLR(opt, step_size=3), warmup_steps=2)
    elif kind == "WarmupScheduler":
        obj = WarmupScheduler(opt, SCHED, t_in_epochs=False)
    else:
        obj, _ = create_scheduler_v2(opt, sched="plateau", num_epochs=10, warmup_epochs=2, noise=0.5)
    for n in range(1, 6):
        if kind.startswith("WarmupLR"):
            obj.step(loss=1.0)
        elif kind in ("WarmupParam", "WithWarmup"):
            obj.step()
        elif kind == "WarmupScheduler":
            obj.step_update(n)
        else:
            obj.step(n, metric=1.0 / n)
    return obj, opt


STATEFUL = ("WarmupLR", "WarmupLR+adaptive", "WarmupParam", "WithWarmup", "WarmupScheduler", "PlateauWarmupScheduler")


def snapshot(obj, opt):
    groups = [{k: (float(v) if k == "lr" else v) for k, v in g.items() if k != "params"} for g in opt.param_groups]
    return copy.deepcopy(obj.state_dict()), groups


@pytest.mark.parametrize("kind", STATEFUL)
@fuzz
@given(data=st.data())
def test_load_state_dict(kind, data):
    obj, opt = stateful(kind)
    state = obj.state_dict()
    nested = {k: v for k, v in state.items() if isinstance(v, dict) and k not in ("scheduler", "plateau")}
    if nested and data.draw(st.booleans()):  # corrupt inside the schedule (or adaptive) state
        key = data.draw(st.sampled_from(sorted(nested)))
        bad = {**state, key: data.draw(mutated(state[key]))}
    elif isinstance(state.get("schedule"), list) and data.draw(st.booleans()):
        bad = {**state, "schedule": data.draw(st.lists(st.just(SCHED.to_dict()), max_size=3))}
    else:
        bad = data.draw(mutated(state))
    before = snapshot(obj, opt)
    _, error = attempt(f"{kind}.load_state_dict", lambda: obj.load_state_dict(bad))
    if error is not None:
        assert snapshot(obj, opt) == before, "a failed load changed the object"
    check_values(group_values(opt, "momentum" if kind == "WarmupParam" else "lr"))


# ---------------------------------------------------------------------------- fastai
fastai = pytest.importorskip("fastai")
from warmup_plugins.fastai import SchedDecay, SchedWarmup, SchedWarmupDecay, WarmupCallback  # noqa: E402

spec_args = st.one_of(
    st.none(), valid_schedules(), schedule_kwargs(), st.lists(schedule_kwargs(), min_size=1, max_size=2), hostile
)
pct_kwargs = st.dictionaries(st.sampled_from(["warmup_pct", "total_pct", "milestone_pcts", "cycle_pct"]), anything)


@fuzz
@given(spec_args, spec_args, spec_args, pct_kwargs)
def test_fastai_callback_constructor(schedule, mom, wd, pct):
    def build():
        if schedule is None or pct:
            return WarmupCallback(mom=mom, wd=wd, **pct)
        return WarmupCallback(schedule, mom=mom, wd=wd)

    attempt("WarmupCallback(...)", build)


@settings(max_examples=max(10, EXAMPLES // 5), deadline=None, suppress_health_check=list(HealthCheck))
@given(st.one_of(valid_schedules(), schedule_kwargs(), pct_kwargs), st.sampled_from([0.1, 1e-300]))
def test_fastai_callback_in_a_fit(spec, lr):
    """The numbers are checked at ``before_fit``, against the fit: a clear error there, or finite LRs."""
    from tests.fastai_adapter.common import make_dls, make_learner, quiet_fit

    callback = attempt(
        "WarmupCallback(...) in a fit",
        lambda: WarmupCallback(**spec) if isinstance(spec, dict) else WarmupCallback(spec),
    )[0]
    if callback is None:
        return
    learn = make_learner(cbs=[callback], dls=make_dls(n_train=16, n_valid=8))
    trace, _ = attempt("WarmupCallback(...) in a fit", lambda: quiet_fit(learn, 2, lr))
    if trace is not None:
        check_values([lr[0] for lr in trace.lrs("batches")])


@pytest.mark.parametrize("kind", ["warmup", "decay", "schedule"])  # each kind gets its own examples
@fuzz
@given(mostly(plausible), mostly(plausible), st.data())
def test_fastai_annealers(kind, start, end, data):
    if kind == "warmup":
        shape = data.draw(mostly(st.sampled_from(["linear", "exponential", "cosine", "constant"])))
        build = lambda: SchedWarmup(start, end, shape)  # noqa: E731
    elif kind == "decay":
        shape = data.draw(mostly(st.sampled_from(["cosine", "linear", "polynomial", "tanh"])))
        options = data.draw(
            mostly(st.just({}), st.dictionaries(st.sampled_from(["power", "tanh_lb", "tanh_ub"]), anything))
        )
        build = lambda: SchedDecay(start, end, shape, **options)  # noqa: E731
    else:
        schedule = data.draw(mostly(valid_schedules()))
        build = lambda: SchedWarmupDecay(schedule, start, end if data.draw(st.booleans()) else None)  # noqa: E731
    name = {"warmup": "SchedWarmup", "decay": "SchedDecay", "schedule": "SchedWarmupDecay"}[kind]
    annealer, _ = attempt(f"{name}(...)", build)
    if annealer is None:
        return
    pos = data.draw(mostly(st.floats(0, 1) | st.sampled_from([0.0, 1.0, 2.0])))
    value, _ = attempt(f"{name}(...)(pos)", lambda: annealer(pos), names=("pos",))
    if value is not None:
        assert np.all(np.isfinite(np.asarray(value, dtype=float))), value
        inputs = [start, end] if kind != "schedule" else [start]
        if all(np.all(np.asarray(v, dtype=float) >= 0) for v in inputs):
            assert np.all(np.asarray(value, dtype=float) >= 0), value


# ---------------------------------------------------------------------------- records and helpers
@fuzz
@given(anything, anything, anything, anything, st.one_of(st.integers(0, 100), hostile))
def test_training_record_logging(step, lr, loss, grad_norm, epoch):
    """log_update is the unchecked hot path (the adapters pass checked values): a row of hostile values is
    refused where a record enters, by from_dict and validate()."""
    record = TrainingRecord()
    attempt("TrainingRecord.log_epoch", lambda: record.log_epoch(epoch, loss, grad_norm, lr, step))
    assert len({len(v) for v in record.epochs.values()}) == 1  # a failed row adds nothing
    data = record.to_dict()
    for name, value in zip(("step", "lr", "loss", "grad_norm"), (step, lr, loss, grad_norm)):
        data["updates"][name].append(value)
    loaded, _ = attempt("TrainingRecord.from_dict(a row)", lambda: TrainingRecord.from_dict(data))
    if loaded is not None:
        assert loaded.validate() is loaded and len(loaded) == 1


@fuzz
@given(st.data())
def test_training_record_from_dict(data):
    record = TrainingRecord(meta={"adapter": "torch", "schedule": SCHED.to_dict()})
    for k in range(3):
        record.log_update(k, 0.1, 2.0, 1.0)
    record.log_epoch(0, 1.0, 1.0, 0.5)
    valid = record.to_dict()
    part = data.draw(st.sampled_from(["top", "updates", "epochs", "column"]))
    if part == "top":
        bad = data.draw(mutated(valid))
    elif part == "column":
        column = data.draw(st.sampled_from(["lr", "loss", "step"]))
        bad = copy.deepcopy(valid)
        bad["updates"][column] = data.draw(st.lists(anything, min_size=3, max_size=3) | hostile)
    else:
        bad = {**valid, part: data.draw(mutated(valid[part]))}
    loaded, _ = attempt("TrainingRecord.from_dict", lambda: TrainingRecord.from_dict(bad))
    if loaded is not None:
        assert len(loaded) == len(loaded.updates["lr"])


@fuzz
@given(anything, st.one_of(st.integers(1, 512), hostile), st.one_of(st.integers(1, 8), hostile), st.data())
def test_distributed_scale_lr(base_lr, batch, accumulation, data):
    options = data.draw(
        st.dictionaries(
            st.sampled_from(["world_size", "reference_batch", "rule"]),
            st.one_of(st.integers(1, 64), st.sampled_from(["linear", "sqrt"]), hostile),
            max_size=2,
        )
    )
    lr, _ = attempt("scale_lr", lambda: scale_lr(base_lr, batch, accumulation_steps=accumulation, **options))
    if lr is not None:
        check_values([lr])
    world = options.get("world_size")
    attempt("global_batch_size", lambda: global_batch_size(batch, accumulation_steps=accumulation, world_size=world))


ADAPTIVE_OPTIONS = (
    *("spike_factor", "severe_factor", "grad_factor", "rollback_fraction", "ema_beta", "max_warmup_fraction"),
    *("update_target", "max_rate", "measure_every", "probe", "probe_updates", "cap_peak"),
    *("stall_level", "stall_patience"),
)


@fuzz
@given(st.dictionaries(st.sampled_from((*ADAPTIVE_OPTIONS, "max_warmup_factor")), anything, max_size=3))
def test_adaptive_warmup_constructor(kwargs):
    adaptive, _ = attempt("AdaptiveWarmup(...)", lambda: AdaptiveWarmup(**kwargs))
    if adaptive is not None:
        opt = sgd_with()
        scheduler = WarmupLR(opt, SCHED, adaptive=adaptive)
        for loss in (1.0, 5.0, math.nan, 1.0):
            scheduler.step(loss=loss)
            check_values(group_values(opt))


# ---------------------------------------------------------------------------- the count
def test_report_case_counts(capsys):
    """Runs last: how many hostile cases each target took (all must have run when the whole module runs)."""
    if not COUNTS:
        pytest.skip("run the whole module to count its cases")
    total = sum(COUNTS.values())
    lines = [f"  {target}: {n}" for target, n in sorted(COUNTS.items())]
    with capsys.disabled():  # shown in the normal pytest output
        print(f"\nhostile-input fuzzing: {total} cases over {len(COUNTS)} targets\n" + "\n".join(lines))
    assert len(COUNTS) == 32 and min(COUNTS.values()) >= 1, "a target never ran (or never got past its checks)"

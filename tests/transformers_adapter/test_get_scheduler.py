"""``warmup_plugins.transformers`` against the real transformers: every LR over a grid, transformers' own
schedule table (``ScheduleInitTest``), its signatures, and the deliberate differences refused by name.

The grid: warmups 0, 1, 2, 5 and 37 updates, totals 1 to 250, two peaks, and 20 updates past the end.
Six families are bit-identical (``EXACT``); four differ in the last bits, because the core computes
the same formula in another order (``1 - (k - W) / D`` where transformers computes ``(T - k) / D``):
one ulp of the peak.
After the end, transformers' cosines rise again and this library holds the final value (``RISING``).
"""

from __future__ import annotations

import math
import warnings

import pytest
import torch

from warmup_plugins import transformers as dropin_module
from warmup_plugins.transformers import SCHEDULER_NAMES, get_scheduler, transformers_schedule

hf = pytest.importorskip("transformers.optimization", reason="transformers is not installed: pip install transformers")

WARMUPS = (0, 1, 2, 5, 37)
TOTALS = (1, 2, 10, 101, 250)
PEAKS = (0.1, 3e-4)
PAST_END = 20
REL = 1e-14  # of the peak LR; measured (pytest -s): 1.8e-16 (one ulp)

CASES: dict[str, list[dict]] = {
    "linear": [{}],
    "cosine": [
        {},
        {"num_cycles": 0.5},
        {"num_cycles": 0.25},
        {"num_cycles": 1},
        {"num_cycles": 1.7},
        {"num_cycles": 0},
    ],
    "cosine_with_restarts": [
        {},
        {"num_cycles": 2},
        {"num_cycles": 3.0},
        {"num_cycles": 7},
        {"num_cycles": 1.5},
        {"num_cycles": 0.3},
        {"num_cycles": 0},
    ],
    "polynomial": [{}, {"power": 2.0, "lr_end": 1e-5}, {"power": 0.5, "lr_end": 0.0}, {"power": 0, "lr_end": 1e-5}],
    "constant": [{}],
    "constant_with_warmup": [{}],
    "inverse_sqrt": [{}, {"timescale": 7}],
    "cosine_with_min_lr": [
        {"min_lr_rate": 0.1},
        {"min_lr": 1e-5},
        {"min_lr_rate": 0.1, "num_cycles": 1.25},
        {"min_lr_rate": 0.1, "num_cycles": 0},
    ],
    "cosine_warmup_with_min_lr": [
        {"min_lr_rate": 0.1},
        {"min_lr_rate": 0.0, "warmup_lr_rate": 0.05},
        {"min_lr_rate": 0.1, "num_cycles": 2.0},
        {"min_lr_rate": 0.1, "num_cycles": 0},
    ],
    "warmup_stable_decay": [
        {"num_decay_steps": d, "decay_type": shape, "warmup_type": warmup, "min_lr_ratio": ratio, **cycles}
        for d in (0, 1, 5, 40)  # 40: longer than most totals, the decay starts before the end of the warmup
        for shape in ("linear", "cosine", "1-sqrt")
        for warmup in ("linear", "cosine", "1-sqrt")
        for ratio in (0.0, 0.1)
        for cycles in ({}, {"num_cycles": 1.0}, {"num_cycles": 0.3}, {"num_cycles": 0})
        if shape == "cosine" or not cycles
    ],
}
EXACT = {
    "constant",
    "constant_with_warmup",
    "cosine",
    "cosine_with_restarts",
    "cosine_with_min_lr",
    "warmup_stable_decay",
}
RISING = {"cosine": 0, "cosine_with_min_lr": 0, "cosine_warmup_with_min_lr": 1}  # the cosine ends at T - this


def optimizer(lr: float) -> torch.optim.Optimizer:
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(2)), torch.nn.Parameter(torch.zeros(1))], lr=lr)


def trace(scheduler, n: int) -> list[float]:
    """The LR of each of ``n`` updates: read, then step, as a training loop does."""
    out = []
    for _ in range(n):
        out.append(scheduler.optimizer.param_groups[0]["lr"])
        scheduler.step()
    return out


def grid(name: str):
    for kwargs in CASES[name]:
        for w in WARMUPS:
            for t in TOTALS:
                for peak in PEAKS:
                    yield kwargs, w, t, peak


def off(a: float, b: float, peak: float) -> float:
    """The difference as a fraction of the peak LR (a relative error near LR 0 would only measure cancellation)."""
    return abs(a - b) / peak


DECAYING = ("linear", "cosine", "cosine_with_restarts", "polynomial", "cosine_with_min_lr", "cosine_warmup_with_min_lr")


def listed(name: str, w: int, t: int, kwargs: dict) -> bool:
    """The grid points docs/migrate_transformers.md lists as refused: no update left to decay over (``T <= W``), the
    ``_lr_rate`` form without a warmup, a WSD decay longer than the whole run after a warmup (``W < T < D``)."""
    if name in DECAYING and t <= w:
        return True
    if name == "cosine_warmup_with_min_lr" and w == 0:
        return True
    return name == "warmup_stable_decay" and w < t < kwargs["num_decay_steps"]


@pytest.mark.filterwarnings("ignore:Detected call of")
@pytest.mark.parametrize("name", list(CASES))
def test_every_lr_of_the_grid_is_transformers_lr(name):
    """Every grid point is either listed as refused (``listed``: a ``ValueError`` naming the argument) or gives
    transformers' LR at every update up to the end (bit for bit in ``EXACT``, within ``REL`` elsewhere) and after
    it (this library's final value; transformers' own where it holds too). Issue 28 case 8: num_cycles=0, power=0
    and a WSD decay that starts before the end of the warmup were refused though transformers runs them."""
    compared = worst = rising_after_end = 0
    for kwargs, w, t, peak in grid(name):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if listed(name, w, t, kwargs):
                with pytest.raises(ValueError, match=r"num_training_steps|num_warmup_steps|num_decay_steps"):
                    get_scheduler(name, optimizer(peak), w, t, dict(kwargs))
                continue
            ours = get_scheduler(name, optimizer(peak), w, t, dict(kwargs))
            theirs = hf.get_scheduler(name, optimizer(peak), w, t, dict(kwargs))
        n = t + PAST_END
        mine, ref = trace(ours, n), trace(theirs, n)
        end = t - RISING[name] if name in RISING else n
        for k in range(n):
            if k > end:  # transformers' cosine rises again; here the final value holds
                assert mine[k] == mine[end], (kwargs, w, t, peak, k)
                rising_after_end += mine[k] != ref[k]
                continue
            error = off(mine[k], ref[k], peak)
            assert error == 0 if name in EXACT else error <= REL, (kwargs, w, t, peak, k, mine[k], ref[k])
            worst = max(worst, error)
            compared += 1
    assert compared > 1000
    if name in RISING:
        assert rising_after_end > 0  # the documented difference after the end is real, not a claim
    print(f"{name}: {compared} LRs, largest difference {worst:.2g} of the peak")
    if name not in EXACT:
        assert worst > 0  # if this fails, the family became exact: move it to EXACT and update the docs


@pytest.mark.filterwarnings("ignore:Detected call of")
def test_restarts_end_at_0_where_the_cycle_length_is_not_an_exact_float():
    """(T - W) / n = 990 / 7 does not add back up to 990; hard_restarts counts cycles as transformers does,
    ``(n * p) mod 1``, and ends at 0 at T (the core's own restart cycles: tests/core/test_restart_end.py)."""
    ours = trace(get_scheduler("cosine_with_restarts", optimizer(0.1), 10, 1000, {"num_cycles": 7}), 1020)
    theirs = trace(hf.get_scheduler("cosine_with_restarts", optimizer(0.1), 10, 1000, {"num_cycles": 7}), 1020)
    assert ours[1000:] == theirs[1000:] == [0.0] * 20
    assert max(off(a, b, 0.1) for a, b in zip(ours, theirs)) <= REL


def test_every_param_group_gets_its_own_base_times_transformers_factor():
    model = torch.nn.Linear(3, 3)
    groups = [{"params": [model.weight], "lr": 0.5}, {"params": [model.bias]}]
    ours = get_scheduler("polynomial", torch.optim.AdamW(groups, lr=0.01), 3, 20, {"power": 2.0, "lr_end": 1e-4})
    theirs = hf.get_scheduler("polynomial", torch.optim.AdamW(groups, lr=0.01), 3, 20, {"power": 2.0, "lr_end": 1e-4})
    for _ in range(25):
        for mine, ref in zip(ours.optimizer.param_groups, theirs.optimizer.param_groups):
            assert off(mine["lr"], ref["lr"], 0.5) <= REL
        for scheduler in (ours, theirs):
            scheduler.optimizer.step()  # no gradients: the order of a real loop, weights unchanged
            scheduler.step()


@pytest.mark.filterwarnings("ignore:Detected call of")
@pytest.mark.parametrize("ratio", [1.0, 1.5])
def test_wsd_with_min_lr_ratio_at_or_above_1_holds_the_peak_through_the_stable_phase(ratio):
    """Issue 28 case 2: a min_lr_ratio above 1 held 1.5 times the peak through the stable phase (0.15 for 0.1)."""
    for w, t, d, shape in [(0, 10, 3, "cosine"), (3, 20, 5, "linear"), (5, 30, 0, "1-sqrt"), (2, 40, 38, "cosine")]:
        kwargs = {"num_decay_steps": d, "decay_type": shape, "min_lr_ratio": ratio}
        ours = trace(get_scheduler("warmup_stable_decay", optimizer(0.1), w, t, dict(kwargs)), t + 5)
        theirs = trace(hf.get_scheduler("warmup_stable_decay", optimizer(0.1), w, t, dict(kwargs)), t + 5)
        assert ours == theirs, (w, t, d, shape)
        assert ours[w : t - d] == [0.1] * (t - d - w)


# ---------------------------------------------------------------------------- transformers' own table
# tests/optimization/test_optimization.py, ScheduleInitTest.test_schedulers: one AdamW at lr 10 shared by
# every scheduler, 10 updates, LRs read with get_lr() and within 1e-2 of the table; then the same run with a
# torch.save/torch.load of the state dict after update 5 must give the same list. The first six rows are
# transformers' literal expectations; the rows for the schedulers its table gained later are taken from the
# installed transformers itself (None below).
COMMON = {"num_warmup_steps": 2, "num_training_steps": 10}
TABLE = [
    ("get_constant_schedule", {}, [10.0] * 10),
    ("get_constant_schedule_with_warmup", {"num_warmup_steps": 4}, [0.0, 2.5, 5.0, 7.5] + [10.0] * 6),
    ("get_linear_schedule_with_warmup", COMMON, [0.0, 5.0, 10.0, 8.75, 7.5, 6.25, 5.0, 3.75, 2.5, 1.25]),
    ("get_cosine_schedule_with_warmup", COMMON, [0.0, 5.0, 10.0, 9.61, 8.53, 6.91, 5.0, 3.08, 1.46, 0.38]),
    (
        "get_cosine_with_hard_restarts_schedule_with_warmup",
        {**COMMON, "num_cycles": 2},
        [0.0, 5.0, 10.0, 8.53, 5.0, 1.46, 10.0, 8.53, 5.0, 1.46],
    ),
    (
        "get_polynomial_decay_schedule_with_warmup",
        {**COMMON, "power": 2.0, "lr_end": 1e-7},
        [0.0, 5.0, 10.0, 7.656, 5.625, 3.906, 2.5, 1.406, 0.625, 0.156],
    ),
    ("get_inverse_sqrt_schedule", {"num_warmup_steps": 2}, None),
    ("get_cosine_with_min_lr_schedule_with_warmup", {**COMMON, "min_lr_rate": 0.05}, None),
    ("get_cosine_with_min_lr_schedule_with_warmup_lr_rate", {**COMMON, "min_lr_rate": 0.05}, None),
    (
        "get_cosine_with_min_lr_schedule_with_warmup_lr_rate",
        {**COMMON, "min_lr_rate": 0.05, "warmup_lr_rate": 0.1},
        None,
    ),
    *[
        (
            "get_wsd_schedule",
            {**COMMON, "num_decay_steps": 2, "warmup_type": warmup, "decay_type": decay, "min_lr_ratio": ratio},
            None,
        )
        for warmup in ("linear", "cosine")
        for decay in ("linear", "cosine", "1-sqrt")
        for ratio in (0.0, 0.1)
    ],
    ("get_wsd_schedule", {"num_warmup_steps": 2, "num_decay_steps": 3, "num_stable_steps": 4}, None),
]
dropin = vars(dropin_module)
SHARED = torch.optim.AdamW(torch.nn.Linear(50, 50).parameters(), lr=10.0)


def read_lr(scheduler) -> float:
    """``get_lr()[0]``, as transformers' test reads it (torch's own LambdaLR warns that ``get_last_lr`` is the
    public way outside ``step()``; that warning is about the test's reading, not about a schedule)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "To get the last learning rate computed by the scheduler", UserWarning)
        return scheduler.get_lr()[0]


def unwrap_schedule(scheduler, num_steps: int = 10) -> list[float]:
    lrs = []
    for _ in range(num_steps):
        lrs.append(read_lr(scheduler))
        scheduler.optimizer.step()  # no gradients: the order of a real loop, weights unchanged
        scheduler.step()
    return lrs


def unwrap_and_save_reload_schedule(scheduler, tmp_path, num_steps: int = 10) -> list[float]:
    lrs = []
    for step in range(num_steps):
        lrs.append(read_lr(scheduler))
        scheduler.optimizer.step()
        scheduler.step()
        if step == num_steps // 2:
            torch.save(scheduler.state_dict(), tmp_path / "schedule.bin")
            scheduler.load_state_dict(torch.load(tmp_path / "schedule.bin", weights_only=True))
    return lrs


@pytest.mark.parametrize(("function", "kwargs", "expected"), TABLE, ids=[f"{i}-{r[0]}" for i, r in enumerate(TABLE)])
def test_transformers_schedule_table(function, kwargs, expected, tmp_path):
    if expected is None:
        expected = unwrap_schedule(getattr(hf, function)(SHARED, **kwargs))
    scheduler = dropin[function](SHARED, **kwargs)
    assert len([scheduler.get_lr()[0]]) == 1
    lrs_1 = unwrap_schedule(scheduler)
    assert lrs_1 == pytest.approx(expected, abs=1e-2), function
    lrs_2 = unwrap_and_save_reload_schedule(dropin[function](SHARED, **kwargs), tmp_path)
    assert lrs_1 == lrs_2, function


def test_every_name_and_function_of_transformers_has_its_drop_in():
    assert set(SCHEDULER_NAMES) == {member.value for member in hf.SchedulerType}
    assert get_scheduler(hf.SchedulerType.COSINE, optimizer(0.1), 2, 10).lrs_at(2) == [0.1]
    functions = {name for name in vars(hf) if name.startswith("get_") and name.endswith(("_warmup", "_schedule"))}
    functions -= {"get_adafactor_schedule", "get_reduce_on_plateau_schedule", "get_greedy_schedule"}
    functions |= {"get_cosine_with_min_lr_schedule_with_warmup_lr_rate"}
    assert functions <= set(dropin), sorted(functions - set(dropin))


def test_reduce_on_plateau_is_torch_own_as_in_transformers():
    scheduler = get_scheduler("reduce_lr_on_plateau", optimizer(0.1), scheduler_specific_kwargs={"patience": 0})
    assert isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau)
    scheduler.step(1.0)
    scheduler.step(2.0)
    assert scheduler.optimizer.param_groups[0]["lr"] == pytest.approx(0.01)


def test_start_factor_is_the_explicit_departure_from_transformers_lr_0_at_update_0():
    assert trace(get_scheduler("linear", optimizer(0.1), 4, 10), 2) == [0.0, 0.025]
    first, second = trace(get_scheduler("linear", optimizer(0.1), 4, 10, start_factor=0.01), 2)
    assert first == 0.1 * 0.01
    assert second == pytest.approx(0.1 * (0.01 + 0.99 / 4))
    assert transformers_schedule("warmup_stable_decay", None, 2, 10, {"num_decay_steps": 2, "min_lr_ratio": 0.1})(
        0
    ) == pytest.approx(0.1)  # WSD's own start is min_lr_ratio


# ---------------------------------------------------------------------------- the deliberate differences, refused
REFUSED = [
    # (name, W, T, kwargs, the argument the message must name, with its value)
    ("warmup_stable_decay", 2, 10, {"num_decay_steps": 20}, "num_decay_steps=20"),
    ("cosine_warmup_with_min_lr", 0, 10, {"min_lr_rate": 0.1}, "num_warmup_steps=0"),
    ("greedy", 0, 10, {}, "name='greedy'"),
]


@pytest.mark.parametrize(("name", "w", "t", "kwargs", "named"), REFUSED, ids=[f"{r[0]}-{r[4]}" for r in REFUSED])
def test_what_cannot_be_expressed_is_refused_by_name(name, w, t, kwargs, named):
    with pytest.raises(ValueError, match="is not supported: ") as error:
        get_scheduler(name, optimizer(0.1), w, t, kwargs)
    assert named in str(error.value)


def lrs_of(make, name: str, lr, w: int, t: int, kwargs: dict) -> list[float]:
    """The LR of updates 0 .. T - 2, each read as a float when it is used (a Tensor LR is filled in place)."""
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(2))], lr=lr)
    scheduler, out = make(name, opt, w, t, dict(kwargs)), []
    for _ in range(t - 1):
        out.append(float(opt.param_groups[0]["lr"]))
        scheduler.step()
    return out


@pytest.mark.filterwarnings("ignore:Detected call of")
@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("polynomial", {"lr_end": 1e-5, "power": 2.0}),
        ("cosine_with_min_lr", {"min_lr": 1e-5}),
        ("cosine_warmup_with_min_lr", {"min_lr": 1e-5}),
    ],
)
def test_a_tensor_lr_reads_the_optimizer_default_as_transformers_does(name, kwargs):
    """Issue 28 case 8: with a Tensor LR, min_lr and lr_end failed with 'end_factor must be a real number, got
    Tensor', naming an argument the user never passed. Now a float64 Tensor LR gives transformers' LRs for the
    same float LR (transformers' own polynomial with a Tensor LR drifts: its lambda keeps dividing by
    ``optimizer.defaults["lr"]``, the very Tensor LambdaLR fills in place; docs/migrate_transformers.md)."""
    for peak in (0.1, 3e-4):
        tensor = torch.tensor(peak, dtype=torch.float64)
        ours, theirs = (
            lrs_of(get_scheduler, name, tensor, 3, 20, kwargs),
            lrs_of(hf.get_scheduler, name, peak, 3, 20, kwargs),
        )
        assert max(off(a, b, peak) for a, b in zip(ours, theirs)) <= REL, (peak, ours, theirs)
        if name != "polynomial":  # the min_lr forms divide once, at construction: transformers' Tensor LRs agree
            tensors = lrs_of(hf.get_scheduler, name, torch.tensor(peak, dtype=torch.float64), 3, 20, kwargs)
            assert max(off(a, b, peak) for a, b in zip(ours, tensors)) <= REL


FUNCTIONS = [name for name in dropin if name.startswith("get_") and name.endswith(("_warmup", "_schedule", "_rate"))]


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_function_takes_transformers_parameters_in_transformers_order(function):
    """Issue 28 case 8: a positional last_epoch (and get_wsd_schedule's num_stable_steps) was refused. Each drop-in
    has transformers' signature (same names, order and defaults), plus the keyword-only start_factor and adaptive."""
    import inspect

    theirs = inspect.signature(getattr(hf, function)).parameters
    ours = inspect.signature(dropin[function]).parameters
    extra = ("start_factor", "adaptive")
    assert [(p.name, p.default, p.kind) for p in theirs.values()] == [
        (p.name, p.default, p.kind) for p in ours.values() if p.name not in extra
    ]
    for name in extra:
        assert ours[name].kind is inspect.Parameter.KEYWORD_ONLY, name


@pytest.mark.filterwarnings("ignore:Detected call of")
def test_positional_arguments_mean_what_they_mean_in_transformers():
    for function, args in [
        ("get_constant_schedule", (-1,)),
        ("get_constant_schedule_with_warmup", (4, -1)),
        ("get_linear_schedule_with_warmup", (2, 10, -1)),
        ("get_cosine_schedule_with_warmup", (2, 10, 0.5, -1)),
        ("get_cosine_with_hard_restarts_schedule_with_warmup", (2, 10, 2, -1)),
        ("get_polynomial_decay_schedule_with_warmup", (2, 10, 1e-4, 2.0, -1)),
        ("get_inverse_sqrt_schedule", (2, 7, -1)),
        ("get_cosine_with_min_lr_schedule_with_warmup", (2, 10, 0.5, -1, None, 0.1)),
        ("get_cosine_with_min_lr_schedule_with_warmup_lr_rate", (2, 10, 0.5, -1, None, 0.1, 0.05)),
        ("get_wsd_schedule", (2, 3, None, 5, "cosine", "linear", 0.1, 0.5, -1)),
    ]:
        ours = trace(dropin[function](optimizer(0.1), *args), 10)  # up to T - 1: the cosines differ after their end
        theirs = trace(getattr(hf, function)(optimizer(0.1), *args), 10)
        assert max(off(a, b, 0.1) for a, b in zip(ours, theirs)) <= REL, function
    resumed = optimizer(0.1)
    for group in resumed.param_groups:
        group["initial_lr"] = 0.1  # as a resumed optimizer has it
    assert dropin["get_linear_schedule_with_warmup"](resumed, 2, 10, 4).last_epoch == 5  # last_epoch, positionally


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (
            lambda: get_scheduler("cosin", optimizer(0.1), 2, 10),
            ValueError,
            r"name must be one of .*\(did you mean 'cosine'\?\)",
        ),
        (lambda: get_scheduler("linear", optimizer(0.1), None, 10), ValueError, "requires `num_warmup_steps`"),
        (lambda: get_scheduler("linear", optimizer(0.1), 2, None), ValueError, "requires `num_training_steps`"),
        (lambda: get_scheduler("linear", optimizer(0.1), 2, 10, {"power": 2}), TypeError, "power"),
        (lambda: get_scheduler("linear", optimizer(0.1), -1, 10), ValueError, "num_warmup_steps"),
        (lambda: get_scheduler("linear", optimizer(0.1), 10, 10), ValueError, r"num_training_steps \(10\) must be >"),
        (lambda: get_scheduler("cosine", optimizer(0.1), 12, 10), ValueError, r"num_training_steps \(10\) must be >"),
        (lambda: get_scheduler("polynomial", optimizer(0.1), 5, 5), ValueError, r"num_training_steps \(5\) must be >"),
        (lambda: get_scheduler("polynomial", optimizer(0.1), 2, 9, {"lr_end": "0"}), TypeError, "lr_end"),
        (
            lambda: get_scheduler("cosine_with_restarts", optimizer(0.1), 2, 9, {"num_cycles": "2"}),
            TypeError,
            "num_cycles",
        ),
        (lambda: get_scheduler("cosine_with_min_lr", optimizer(0.1), 2, 10), ValueError, "min_lr"),
        (lambda: get_scheduler("polynomial", optimizer(0.1), 2, 10, {"lr_end": 0.2}), ValueError, "lr_end"),
        (lambda: dropin["get_linear_schedule_with_warmup"](optimizer(0.1), 2, 10, -1, 3), TypeError, "positional"),
        (lambda: get_scheduler("cosine", optimizer(0.1), 2, 10, {"num_cycles": -0.5}), ValueError, "num_cycles"),
        (lambda: get_scheduler("polynomial", optimizer(0.1), 2, 10, {"power": -1}), ValueError, "power"),
        (lambda: get_scheduler("polynomial", optimizer(0.1), 2, 10, {"lr_end": -1e-3}), ValueError, "lr_end"),
        (
            lambda: get_scheduler("cosine_with_min_lr", optimizer(0.1), 2, 10, {"min_lr_rate": -0.1}),
            ValueError,
            "min_lr_rate",
        ),
        (lambda: get_scheduler("linear", optimizer(0.1), 2.5, 10), TypeError, "num_warmup_steps must be an integer"),
    ],
)
def test_bad_input_names_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_the_module_imports_without_transformers():
    """No ``import transformers`` anywhere in the drop-in: it runs where transformers is not installed."""
    import inspect

    import warmup_plugins.transformers as module

    source = inspect.getsource(module)
    assert "import transformers" not in source and "from transformers" not in source
    assert math.isfinite(get_scheduler("constant", optimizer(0.1)).get_last_lr()[0])

"""The state-dict fuzz (issue 28 case 6): garbled saved states, loaded into every stateful adapter.

Every leaf of a real saved state (nested ones included: the wrapped torch scheduler's, the adaptive warmup's, the
schedule's fields) is replaced by each of a set of hostile values, deleted, or joined by an unknown key. Each load
must either

* fail with a clear ``ValueError``/``TypeError``/``KeyError`` and change nothing (the state dict, every param
  group value, the wrapped scheduler's state): the README promises that a failed load changes nothing; or
* be accepted, and then step on, past the schedule's end, without any error, writing finite values >= 0.

Seeded and fast: the mutations are enumerated, then a fixed ``random.Random`` sample of them is loaded per target.
The round-4 fuzz found 5 half-applied and 8 accepted-then-crashing loads this way (a ``WithWarmup`` whose wrapped
``StepLR`` state had ``_last_lr=None`` was applied before the error; ``base_lrs=None`` or ``_step_count=None`` crashed
in torch's ``step()``; an adaptive ``decay_start=1e300`` sent the clock negative after ``T``).
"""

from __future__ import annotations

import collections
import copy
import math
import random
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import torch

from warmup_plugins import AdaptiveWarmup, WarmupSchedule
from warmup_plugins.torch import WarmupLR, WarmupParam, WithWarmup

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # torch's step-order warning: no optimizer here

HOSTILE = [None, math.nan, math.inf, -math.inf, -1, -0.5, 0, 3, 1e300, 10**400, 2**63, True, "x", [], {}]
SCHED = WarmupSchedule(warmup_steps=4, total_steps=20, decay_type="cosine", end_factor=0.1)
PER_TARGET = 150  # mutations loaded per target and position: a seeded sample of its 650 to 1,600
PINNED = {  # always loaded where the state has them: the round-4 findings
    *(f"['scheduler', {key!r}] = None" for key in ("_last_lr", "base_lrs", "_step_count")),
    "['adaptive', 'decay_start'] = 1e+300",
    f"['adaptive', 'warmup_done_at'] = {2**63}",
}
COUNTS: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)


# ---------------------------------------------------------------------------- mutations of a nested state
Path = tuple[Any, ...]


def paths(state: Any, at: Path = ()) -> Iterator[Path]:
    """Every position in a nested state: each dict value and list item, the containers included."""
    items = state.items() if isinstance(state, dict) else enumerate(state) if isinstance(state, list) else ()
    for key, value in items:
        yield (*at, key)
        yield from paths(value, (*at, key))


def replaced(state: Any, path: Path, value: Any) -> Any:
    out = copy.deepcopy(state)
    parent = out
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return out


def removed(state: Any, path: Path) -> Any:
    out = copy.deepcopy(state)
    parent = out
    for key in path[:-1]:
        parent = parent[key]
    del parent[path[-1]]
    return out


def mutations(state: dict, rng: random.Random, n: int) -> list[tuple[str, Any]]:
    """Garbled copies of ``state``: each leaf replaced by each hostile value, each key deleted, an unknown key added
    to each dict; the :data:`PINNED` ones where ``state`` has their key, and a seeded sample of ``n`` of the others."""
    everything: list[tuple[str, Callable[[], Any]]] = []
    for path in paths(state):
        for value in HOSTILE:
            everything.append((f"{list(path)} = {value!r}", lambda p=path, v=value: replaced(state, p, v)))
        if isinstance(path[-1], str):
            everything.append((f"del {list(path)}", lambda p=path: removed(state, p)))
    for path in [(), *paths(state)]:
        target = state
        for key in path:
            target = target[key]
        if isinstance(target, dict):
            everything.append((f"{list(path)} + unknown key", lambda p=path: replaced(state, (*p, "surprise"), 1)))
    pinned = [m for m in everything if m[0] in PINNED]
    rest = [m for m in everything if m[0] not in PINNED]
    chosen = pinned + rng.sample(rest, min(n, len(rest)))
    return [(what, make()) for what, make in chosen]


# ---------------------------------------------------------------------------- the targets
@dataclass
class Target:
    """A stateful adapter a few updates in: how to step it and which group values it writes."""

    obj: Any
    opt: torch.optim.Optimizer
    step: Callable[[int], None]
    key: str = "lr"


def _sgd(groups: int = 2) -> torch.optim.Optimizer:
    params = [torch.nn.Parameter(torch.zeros(2)) for _ in range(groups)]
    return torch.optim.SGD([{"params": [p], "lr": 0.1 * (i + 1)} for i, p in enumerate(params)], momentum=0.9)


def _warmup_lr(adaptive: bool) -> Target:
    opt = _sgd()
    obj = WarmupLR(opt, SCHED, adaptive=AdaptiveWarmup() if adaptive else None, record=adaptive)
    return Target(obj, opt, lambda n: obj.step(loss=1.0 + 0.01 * n))


def _warmup_param() -> Target:
    opt = _sgd()
    obj = WarmupParam(opt, "momentum", [SCHED, SCHED.replace(start_factor=2.0)])
    return Target(obj, opt, lambda n: obj.step(), "momentum")


def _with_warmup(kind: str) -> Target:
    opt = _sgd()
    wrapped = {
        "StepLR": lambda: torch.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5),
        "CosineAnnealingLR": lambda: torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10, eta_min=0.001),
        "ReduceLROnPlateau": lambda: torch.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0),
    }[kind]()
    obj = WithWarmup(wrapped, warmup_steps=3)

    def step(n: int) -> None:
        obj.step()
        if kind == "ReduceLROnPlateau" and n % 3 == 0:
            obj.step(1.0)  # a metric that never improves: a reduction at every report

    return Target(obj, opt, step)


def _timm(adaptive: bool) -> Target:
    from warmup_plugins.timm import WarmupScheduler

    opt = _sgd()
    ada = AdaptiveWarmup() if adaptive else None
    noise = {} if adaptive else {"noise_range_t": 10, "noise_seed": 3}  # timm's noise takes a whole t
    obj = WarmupScheduler(opt, SCHED, t_in_epochs=False, adaptive=ada, **noise)
    return Target(obj, opt, lambda n: obj.step_update(n, metric=1.0 if adaptive else None))


def _timm_plateau() -> Target:
    from warmup_plugins.timm import create_scheduler_v2

    opt = _sgd()
    obj, _ = create_scheduler_v2(opt, sched="plateau", num_epochs=10, warmup_epochs=2, noise=0.5, patience_epochs=0)
    return Target(obj, opt, lambda n: obj.step(n, metric=1.0))


TARGETS: dict[str, Callable[[], Target]] = {
    "WarmupLR": lambda: _warmup_lr(False),
    "WarmupLR+adaptive": lambda: _warmup_lr(True),
    "WarmupParam": _warmup_param,
    "WithWarmup(StepLR)": lambda: _with_warmup("StepLR"),
    "WithWarmup(CosineAnnealingLR)": lambda: _with_warmup("CosineAnnealingLR"),
    "WithWarmup(ReduceLROnPlateau)": lambda: _with_warmup("ReduceLROnPlateau"),
    "WarmupScheduler": lambda: _timm(False),
    "WarmupScheduler+adaptive": lambda: _timm(True),
    "PlateauWarmupScheduler": _timm_plateau,
}
POSITIONS = (2, 9)  # saved in the warmup, and past it (the wrapped scheduler running, the adaptive decay clock)


def at(name: str, updates: int) -> Target:
    target = TARGETS[name]()
    for n in range(1, updates + 1):
        target.step(n)
    return target


def group_values(target: Target) -> list[Any]:
    return [{k: (float(v) if isinstance(v, torch.Tensor) else v) for k, v in g.items() if k != "params"}
            for g in target.opt.param_groups]  # fmt: skip


def snapshot(target: Target) -> tuple[Any, ...]:
    return copy.deepcopy(target.obj.state_dict()), group_values(target)


def same(a: Any, b: Any) -> bool:
    """Equal, NaN equal to NaN (a saved plateau state may hold one)."""
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def written(target: Target) -> list[float]:
    return [float(g["betas"][0] if target.key == "beta1" else g[target.key]) for g in target.opt.param_groups]


def load_and_step(name: str, target: Target, bad: Any, what: str) -> None:
    before = snapshot(target)
    try:
        target.obj.load_state_dict(bad)
    except (ValueError, TypeError, KeyError) as error:
        assert str(error), f"{name}: {what}: an error without a message"
        assert same(snapshot(target), before), f"{name}: {what}: the failed load changed the object ({error})"
        COUNTS[name]["refused"] += 1
        return
    COUNTS[name]["accepted"] += 1
    for n in range(10, 26):  # on past the schedule's end (T = 20)
        try:
            target.step(n)
        except Exception as error:  # anything at all is the failure looked for
            pytest.fail(f"{name}: {what}: accepted, then step {n} raised {type(error).__name__}: {error}")
        values = written(target)
        assert all(math.isfinite(v) and v >= 0 for v in values), f"{name}: {what}: accepted, then wrote {values}"


@pytest.mark.parametrize("updates", POSITIONS)
@pytest.mark.parametrize("name", list(TARGETS))
def test_a_garbled_state_is_refused_changing_nothing_or_steps_on(name, updates):
    if name.startswith(("WarmupScheduler", "Plateau")):
        pytest.importorskip("timm")
    rng = random.Random(f"{name}/{updates}")
    state = at(name, updates).obj.state_dict()
    for what, bad in mutations(state, rng, PER_TARGET):
        load_and_step(name, at(name, updates), bad, what)
    counts = COUNTS[name]
    assert counts["refused"] > 20 and counts["accepted"] > 5, counts  # both outcomes were exercised


# ---------------------------------------------------------------------------- fastai: the adaptive state it resumes
def test_fastai_resumes_from_a_garbled_adaptive_state_or_refuses_it_changing_nothing(tmp_path):
    """The fastai callback keeps the adaptive warmup's state in the optimizer (``learn.save(with_opt=True)``) and
    reads it back at ``fit(..., start_epoch=e)``; without an adaptive warmup it has no state to load."""
    pytest.importorskip("fastai")
    from fastai.callback.core import Callback

    from tests.fastai_adapter.common import make_dls, make_learner, quiet_fit
    from warmup_plugins.fastai import _ADAPTIVE_KEY, WarmupCallback

    class Keep(Callback):
        """The state ``learn.save`` would save at the end of epoch 0 (the callback stores it there)."""

        order = WarmupCallback.order + 1

        def after_epoch(self):
            if self.epoch == 0:
                self.kept = copy.deepcopy(self.opt.hypers[0][_ADAPTIVE_KEY])

    callback = WarmupCallback(warmup_pct=0.25, decay_type="linear", adaptive=AdaptiveWarmup(update_target=None))
    learn = make_learner(cbs=[callback, Keep()], dls=make_dls(n_train=32, n_valid=8), seed=0, path=tmp_path)
    quiet_fit(learn, 3, 0.1)
    group = learn.opt.hypers[0]  # a fastai Optimizer: the callback keeps the state in its hypers (learn.save's)
    saved = group[_ADAPTIVE_KEY] = learn.keep.kept
    assert saved["warmup_done_at"] == 3 and saved["updates"] == 4  # saved in the decay
    rng = random.Random("fastai")
    for what, bad in mutations(saved, rng, 20):
        group[_ADAPTIVE_KEY] = bad
        weights = [p.detach().clone() for p in learn.model.parameters()]
        hypers = copy.deepcopy([{k: v for k, v in h.items()} for h in learn.opt.hypers])
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                trace = quiet_fit(learn, 3, 0.1, start_epoch=1)
        except (ValueError, TypeError, KeyError) as error:
            assert all(torch.equal(a, b) for a, b in zip(weights, learn.model.parameters())), what
            assert [{k: v for k, v in h.items()} for h in learn.opt.hypers] == hypers, what
            assert group[_ADAPTIVE_KEY] is bad and str(error), what
            COUNTS["fastai"]["refused"] += 1
        else:
            lrs = [lr[0] for lr in trace.lrs("batches")]
            assert lrs and all(math.isfinite(v) and v >= 0 for v in lrs), (what, lrs)
            COUNTS["fastai"]["accepted"] += 1
        group[_ADAPTIVE_KEY] = copy.deepcopy(saved)
    assert COUNTS["fastai"]["refused"] > 5 and COUNTS["fastai"]["accepted"] > 0, COUNTS["fastai"]

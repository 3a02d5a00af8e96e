"""Shared pieces for the fastai tests (a helper module, not a test module): synthetic data, tiny learners, traces."""

from __future__ import annotations

import warnings

import pytest

pytest.importorskip("fastai")

import torch
from fastai.basics import Datasets, ItemGetter, Learner, MSELossFlat
from fastai.callback.core import Callback

from warmup_plugins.torch import WarmupLR

N_FEATURES = 4


def make_dls(n_train: int = 64, n_valid: int = 16, bs: int = 8, drop_last: bool = True, seed: int = 0):
    """fastai DataLoaders over a synthetic regression (y = sum of x); exportable (a fastai ``Datasets``)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n_train + n_valid, N_FEATURES, generator=g)
    items = list(zip(x, x.sum(1, keepdim=True)))
    splits = [list(range(n_train)), list(range(n_train, n_train + n_valid))]
    dss = Datasets(items, tfms=[[ItemGetter(0)], [ItemGetter(1)]], splits=splits)
    return dss.dataloaders(bs=bs, drop_last=drop_last, num_workers=0)


def tiny_model(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Linear(N_FEATURES, 6), torch.nn.ReLU(), torch.nn.Linear(6, 3), torch.nn.Linear(3, 1)
    )


def three_groups(model: torch.nn.Module) -> list[list[torch.nn.Parameter]]:
    """A splitter: one param group per Linear layer (module level, so exported learners can be loaded)."""
    return [list(model[i].parameters()) for i in (0, 2, 3)]


def one_group(model: torch.nn.Module) -> list[list[torch.nn.Parameter]]:
    return [list(model.parameters())]


class Trace(Callback):
    """Runs after the scheduler: the bases fastai set, each training batch's values and each real step's."""

    order, run_valid = 70, False
    keys = ("lr", "mom", "wd")

    def before_fit(self) -> None:
        self.bases = self._values()
        self.batches: list[dict[str, list[float]]] = []
        self.steps: list[dict[str, list[float]]] = []
        self.positions: list[tuple[int, int]] = []

    def _values(self) -> dict[str, list[float]]:
        hypers = self.learn.opt.hypers
        return {k: [float(h[k]) for h in hypers] for k in self.keys if k in hypers[0]}

    def before_batch(self) -> None:
        self.batches.append(self._values())
        self.positions.append((self.learn.epoch, self.learn.iter))

    def before_step(self) -> None:  # not reached when GradientAccumulation or the grad scaler skips the step
        self.steps.append(self._values())

    def lrs(self, where: str = "steps") -> list[list[float]]:
        return [v["lr"] for v in getattr(self, where)]


def make_learner(groups: int = 1, *, cbs=(), dls=None, opt_func=None, seed: int = 0, **kwargs) -> Learner:
    kwargs.setdefault("lr", 0.1)
    if opt_func is not None:
        kwargs["opt_func"] = opt_func
    return Learner(
        make_dls() if dls is None else dls,
        tiny_model(seed),
        loss_func=MSELossFlat(),
        splitter=three_groups if groups == 3 else one_group,
        cbs=[*cbs, Trace()],
        **kwargs,
    )


def quiet_fit(learn: Learner, *args, method: str = "fit", **kwargs) -> Trace:
    """Run ``learn.<method>(*args, **kwargs)`` without the progress bar and log; return the trace."""
    with learn.no_bar(), learn.no_logging(), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        getattr(learn, method)(*args, **kwargs)
    return learn.trace


def warmup_lr_trace(bases: list[float], schedule, n_updates: int, key: str = "lr") -> list[list[float]]:
    """The LRs ``WarmupLR`` gives update 0 .. n_updates-1 of a torch SGD with these base LRs."""
    params = [torch.nn.Parameter(torch.zeros(1)) for _ in bases]
    opt = torch.optim.SGD([{"params": [p], "lr": b} for p, b in zip(params, bases)])
    scheduler = WarmupLR(opt, schedule)
    trace = []
    for _ in range(n_updates):
        trace.append([g[key] for g in opt.param_groups])
        opt.step()
        scheduler.step()
    return trace

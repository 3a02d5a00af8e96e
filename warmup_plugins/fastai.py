"""fastai adapter: :class:`WarmupCallback`, ``Learner.fit_warmup`` and ParamScheduler-ready annealers.

The schedule is the core's factor ``f(k)`` of the integer optimizer-update index ``k``. fastai's
own schedulers use ``pct_train``, a float summed batch by batch; here ``k`` comes from the
learner's counters instead::

    k = (epoch * n_iter + iter) // a

with ``n_iter = len(dls.train)`` batches per epoch and ``a`` batches per optimizer update (1, or
``ceil(n_acc / bs)`` under ``GradientAccumulation``). Each hyper-parameter of each param group is
written as ``value = base * f(k)``, with ``base`` the value fastai set for the fit (``lr`` from
``learn.fit(n, lr)``, slices and per-group arrays included), so the LR of every batch equals
:class:`warmup_plugins.torch.WarmupLR`'s at the same update, bit for bit.

Importing this module patches ``Learner.fit_warmup``; it needs fastai
(``pip install fastai``).
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import sys
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

try:
    import fastai  # noqa: F401
except ImportError as error:
    raise ImportError("warmup_plugins.fastai needs fastai, which is not installed: pip install fastai") from error

import numpy as np
import torch
from fastai.callback.core import Callback
from fastai.callback.schedule import ParamScheduler
from fastai.callback.training import GradientAccumulation
from fastai.data.load import DataLoader as FastaiDataLoader
from fastai.learner import Learner, SkipToEpoch
from fastai.optimizer import OptimWrapper
from fastcore.basics import patch
from fastcore.foundation import L

from ._errors import owned
from ._param_groups import GroupWriter, read_value
from ._repr import adaptive_repr
from ._schedules import Schedules, per_group, shared
from ._seam import Driver
from .core import _checks, decays, warmups
from .core.choices import PLAIN_WARMUPS
from .core.decays import ANNEALING_TYPES
from .core.lengths import PCT_LENGTHS
from .core.request import ScheduleRequest, check_fits_the_fit
from .core.schedule import DEFAULT_START_FACTOR, WarmupSchedule
from .extensions.adaptive import AdaptiveWarmup, _claim_adaptive
from .extensions.peak import PeakFinder
from .extensions.untuned import beta2_of
from .monitoring.record import TrainingRecord

__all__ = [
    "PCT_LENGTHS",
    "SchedDecay",
    "SchedWarmup",
    "SchedWarmupDecay",
    "WarmupCallback",
    "mirror_moms",
]

_ADAPTIVE_KEY = "warmup_plugins_adaptive"  # where the adaptive warmup's state rides in the optimizer's state
UserSpec = WarmupSchedule | Mapping[str, Any]  # what the user passes: a schedule, or its keyword arguments
Spec = WarmupSchedule | ScheduleRequest  # what the callback keeps: the schedule, or the checked request


# ---------------------------------------------------------------------------- the fit's size
@dataclasses.dataclass(frozen=True)
class _FitSize:
    """One ``learn.fit`` call: ``n_epoch`` epochs of ``n_iter`` batches, an optimizer update every ``accumulate``."""

    n_epoch: int
    n_iter: int
    accumulate: int = 1

    @property
    def updates(self) -> int:
        """``N = (n_epoch * n_iter) // accumulate``: the optimizer updates this fit makes."""
        return self.n_epoch * self.n_iter // self.accumulate

    def update_index(self, epoch: int, iteration: int) -> int:
        """``k = (epoch * n_iter + iteration) // accumulate``: the update batch ``iteration`` of ``epoch`` feeds."""
        return (epoch * self.n_iter + iteration) // self.accumulate

    def updates_per_epoch(self) -> int:
        """``n_iter / accumulate`` as an int, for lengths in epochs; an error if it is fractional."""
        if self.n_iter % self.accumulate:
            raise ValueError(
                "lengths in epochs need a whole number of optimizer updates per epoch, but an epoch "
                f"of {self.n_iter} batches with an update every {self.accumulate} batches has "
                f"{self.n_iter / self.accumulate:g}; give lengths in updates or as *_pct fractions of the fit"
            )
        return self.n_iter // self.accumulate

    def describe(self) -> str:
        """The fit in words, for error messages."""
        per_update = f", one update every {self.accumulate} batches" if self.accumulate > 1 else ""
        return f"{self.n_epoch} epochs x {self.n_iter} batches{per_update} = {self.updates} optimizer updates"


def _accumulation_period(n_acc: object, batch_size: int) -> int:
    """``a = ceil(n_acc / bs)``: batches per update under ``GradientAccumulation(n_acc)``.

    fastai's rule: ``count += bs`` every batch and the optimizer steps (``count = 0``) once
    ``count >= n_acc``; with a constant ``bs`` that is every ``a``-th batch, counted over the whole fit.
    """
    n_acc = _checks.number("GradientAccumulation.n_acc", n_acc, low=0, low_open=True)
    return max(1, math.ceil(n_acc / batch_size))


def _constant_batch_size(dl: object) -> int | None:
    """The batch size if every batch of ``dl`` has it (full batches only), else ``None``."""
    if isinstance(dl, FastaiDataLoader):
        bs, n, drop_last = dl.bs, dl.n, dl.drop_last
    elif isinstance(dl, torch.utils.data.DataLoader):
        bs, drop_last = dl.batch_size, dl.drop_last
        n = len(dl.dataset) if hasattr(dl.dataset, "__len__") else None
    else:
        return None
    if bs is None or n is None:
        return None
    return bs if drop_last or n % bs == 0 else None


def _fit_size(learn: Learner) -> _FitSize:
    """Read ``n_epoch``, ``len(dls.train)`` and the accumulation period from the learner at ``before_fit``."""
    n_iter = len(learn.dls.train)
    accumulators = [cb for cb in learn.cbs if isinstance(cb, GradientAccumulation)]
    if len(accumulators) > 1:
        raise ValueError(f"the learner has {len(accumulators)} GradientAccumulation callbacks; use one")
    accumulate = 1
    if accumulators:
        bs = _constant_batch_size(learn.dls.train)
        if bs is None:
            raise ValueError(
                "with GradientAccumulation the update index is derived from the batch counters, which "
                "needs a constant batch size: use a training DataLoader with drop_last=True (or a dataset size "
                "divisible by bs) and a fixed bs"
            )
        accumulate = _accumulation_period(accumulators[0].n_acc, bs)
    fit = _FitSize(learn.n_epoch, n_iter, accumulate)
    if fit.updates == 0:
        raise ValueError(f"this fit makes no optimizer update ({fit.describe()})")
    return fit


def _start_epoch(learn: Learner) -> int:
    """The epoch ``learn.fit(n, start_epoch=e)`` resumes at (0 for a fresh fit), known at ``before_fit``.

    fastai keeps it only in the ``SkipToEpoch`` callback it adds, as the private ``_skip_to``: this is the one
    place that reads it (``tests/integration/test_host_private_api.py`` fails loudly if fastai renames it).
    """
    skip = [cb for cb in learn.cbs if isinstance(cb, SkipToEpoch)]
    return skip[0]._skip_to if skip else 0


# ---------------------------------------------------------------------------- schedule specs
def _check_spec(name: str, spec: object) -> Spec | tuple[Spec, ...]:
    """Check a schedule spec at construction: a WarmupSchedule, keyword arguments, or a list (one per group).

    Keyword arguments are one :class:`~warmup_plugins.core.request.ScheduleRequest` within the fit:
    :class:`WarmupSchedule` fields with lengths in optimizer updates, in epochs (``warmup_epochs=`` ...)
    or as fractions of the fit (``warmup_pct=`` ..., see :data:`PCT_LENGTHS`), resolved at ``before_fit``.
    """
    if isinstance(spec, WarmupSchedule):
        return spec
    if isinstance(spec, Mapping):
        try:
            return ScheduleRequest(spec, within_fit=True)
        except (TypeError, ValueError) as error:
            context = "" if name == "schedule" else f"the {name} schedule: "  # the LR's: the keyword arguments
            raise type(error)(f"{context}{error}") from None
    if isinstance(spec, Sequence) and not isinstance(spec, str) and spec:
        return tuple(_check_spec(f"{name}[{i}]", item) for i, item in enumerate(spec))
    raise TypeError(
        f"{name} must be a WarmupSchedule, a dict of its keyword arguments, or a non-empty list of "
        f"those (one per param group); got {type(spec).__name__}"
    )


def _as_given(spec: Spec | tuple[Spec, ...]) -> Any:
    """A spec as the user gave it: a request's keyword arguments as a dict (a list of them for one per group)."""
    if isinstance(spec, tuple):
        return [_as_given(item) for item in spec]
    return dict(spec.arguments) if isinstance(spec, ScheduleRequest) else spec


def _beta2(spec: Spec | tuple[Spec, ...], hypers: list[dict[str, Any]]) -> float | None:
    """The optimizer's ``sqr_mom`` (Adam's beta2) if an untuned warmup needs it, else None."""
    specs = spec if isinstance(spec, tuple) else (spec,)
    untuned = any(isinstance(s, ScheduleRequest) and s.untuned for s in specs)
    return beta2_of(hypers) if untuned else None


def _resolve(spec: Spec | tuple[Spec, ...], fit: _FitSize, name: str, hypers: list[dict[str, Any]]) -> Schedules:
    """One schedule per param group for ``fit``, each checked to fit in its ``N`` optimizer updates.

    ``*_pct`` lengths become ``pct * N`` updates (not rounded: fastai's positions are exact
    fractions too); epoch lengths become ``round(epochs * n_iter / a)`` updates, which needs a whole
    number of updates per epoch; ``total_steps`` defaults to ``N``.
    """
    beta2 = _beta2(spec, hypers)
    try:
        if isinstance(spec, tuple):
            return per_group([_resolve_one(item, fit, beta2) for item in spec], len(hypers))
        return per_group(_resolve_one(spec, fit, beta2), len(hypers))
    except ValueError as error:
        raise ValueError(f"the {name!r} schedule does not fit this fit call ({fit.describe()}): {error}") from error


def _resolve_one(spec: Spec, fit: _FitSize, beta2: float | None) -> WarmupSchedule:
    if isinstance(spec, WarmupSchedule):
        check_fits_the_fit({"warmup_steps": spec.warmup_steps, "total_steps": spec.total_steps}, fit.updates)
        return spec
    per_epoch = fit.updates_per_epoch() if spec.in_epochs else None
    return spec.resolve(steps_per_epoch=per_epoch, fit_updates=fit.updates, beta2=beta2)


# ---------------------------------------------------------------------------- writing into the optimizer
def _hyper_target(opt: Any, name: str) -> tuple[Any, str, str]:
    """Where to write ``name``: ``(source, attribute, key)``, resolved once per fit.

    ``OptimWrapper``: the torch ``param_groups``, under the torch key (``'momentum'``, ``'betas'[0]``
    ...); a fastai ``Optimizer``: its ``hypers``, under the fastai name.
    """
    if isinstance(opt, OptimWrapper):
        key = opt.bwd_map.get(name)
        if key is None or ("__" in key and key != "betas__0"):
            raise ValueError(
                f"cannot schedule {name!r}: the wrapped {type(opt.opt).__name__} has no such "
                f"hyper-parameter (its fastai names: {sorted(opt.bwd_map)})"
            )
        return opt.opt, "param_groups", "beta1" if key == "betas__0" else key
    missing = [i for i, h in enumerate(opt.hypers) if name not in h]
    if missing:
        raise ValueError(
            f"cannot schedule {name!r}: param groups {missing} of the {type(opt).__name__} have no such "
            f"hyper-parameter (their names: {sorted(opt.hypers[missing[0]])})"
        )
    return opt, "hypers", name


def _writer(opt: Any, name: str, schedules: Schedules) -> GroupWriter:
    """``value_i(k) = base_i * f_i(k)`` for hyper-parameter ``name``, bases read at ``before_fit``."""
    source, attribute, key = _hyper_target(opt, name)
    bases = [read_value(g, key, i) for i, g in enumerate(getattr(source, attribute))]
    try:
        return GroupWriter(source, key, bases, schedules, attribute)
    except ValueError as error:
        raise ValueError(f"the {name!r} schedule: {error}") from None


# ---------------------------------------------------------------------------- the callback
class WarmupCallback(Callback):
    """Warmup then decay for ``learn.fit``, from the core :class:`~warmup_plugins.WarmupSchedule`.

    ``Learner(dls, model, cbs=WarmupCallback(warmup_pct=0.1, decay_type='cosine'))`` then
    ``learn.fit(n, lr)``. Before every training batch it writes ``lr = base * f(k)`` into every
    param group, ``k = (epoch * n_iter + iter) // a`` the optimizer-update index (see the module
    docs), ``base`` the group's LR fastai set for this fit. ``mom=`` and ``wd=`` schedule momentum
    and weight decay the same way (``base`` is then the optimizer's value at ``before_fit``; a
    start or end factor above 1 makes a value fall during warmup).

    Each schedule is a :class:`WarmupSchedule`, a dict of its keyword arguments, or a list of
    either (one per param group); ``schedule=None`` with keyword arguments is the dict form for
    the LR. Keyword lengths may be in updates (``warmup_steps=``), epochs (``warmup_epochs=``) or
    fractions of the fit (``warmup_pct=``, see :data:`PCT_LENGTHS`); ``total_steps`` defaults to
    the whole fit, ``N = n_epoch * len(dls.train) // a`` updates. They are resolved, and the
    schedule checked against the fit, at ``before_fit``, before any batch runs.

    With ``GradientAccumulation`` the schedule follows optimizer updates (``a = ceil(n_acc /
    bs)``; needs a constant batch size). A step that ``to_fp16``'s grad scaler skips still
    advances the schedule: ``k`` follows the counters, like every fastai scheduler. Resume with
    ``fit(n, start_epoch=e)`` gives the same LR at every batch as the uninterrupted fit. At
    ``after_fit`` the scheduled values go back to their bases and ``learn.recorder.hps`` gets the
    per-batch values (last param group), so ``learn.recorder.plot_sched()`` works. Validation
    (``validate``, ``get_preds``) and ``lr_find`` leave it idle.
    """

    order, run_valid = 60, False
    _stateattrs = ("_drivers", "_fit")

    @owned
    def __init__(
        self,
        schedule: UserSpec | Sequence[UserSpec] | None = None,
        *,
        mom: UserSpec | Sequence[UserSpec] | None = None,
        wd: UserSpec | Sequence[UserSpec] | None = None,
        adaptive: AdaptiveWarmup | PeakFinder | None = None,
        record: bool = False,
        **schedule_kwargs: Any,
    ) -> None:
        super().__init__()
        if adaptive is not None and not isinstance(adaptive, (AdaptiveWarmup, PeakFinder)):
            raise TypeError(f"adaptive must be an AdaptiveWarmup, a PeakFinder or None, got {type(adaptive).__name__}")
        _claim_adaptive(adaptive, self)
        self.adaptive = adaptive
        self._adaptive_start = None if adaptive is None else adaptive.state_dict()  # every fit starts from it
        self.record = TrainingRecord(meta={"adapter": "fastai"}) if _checks.boolean("record", record) else None
        if schedule is not None and schedule_kwargs:
            extra = sorted(schedule_kwargs)
            raise TypeError(f"pass a schedule or its keyword arguments, not both (got {extra})")
        specs = {"lr": _check_spec("schedule", schedule_kwargs if schedule is None else schedule)}
        for name, spec in (("mom", mom), ("wd", wd)):
            if spec is not None:
                specs[name] = _check_spec(name, spec)
        self.specs = specs
        self.schedules: dict[str, WarmupSchedule | Schedules] = {}
        self.hps: dict[str, list[float]] = {}
        self._init_state()

    def __repr__(self) -> str:
        """``WarmupCallback(warmup_pct=0.1, decay_type='cosine', mom=...)``: the schedules as given, or, once a fit
        has resolved them, as ``WarmupSchedule``s in updates."""
        given = self.__dict__  # fastai's Callback looks a missing attribute up on the learner: read our own only
        resolved = given.get("schedules") or {}
        parts = []
        for name, spec in given.get("specs", {}).items():
            value = resolved.get(name, _as_given(spec))
            if name == "lr" and isinstance(value, dict):
                parts += [f"{key}={item!r}" for key, item in value.items()]
            else:
                parts.append(repr(value) if name == "lr" else f"{name}={value!r}")
        if given.get("adaptive") is not None:
            parts.append(f"adaptive={adaptive_repr(given['adaptive'])}")
        if given.get("record") is not None:
            parts.append("record=True")
        return f"{type(self).__name__}({', '.join(parts)})"

    def _init_state(self) -> None:
        """Per-fit state: not pickled, rebuilt at every ``before_fit``."""
        super()._init_state()
        self._drivers: dict[str, Driver] | None = None
        self._fit: _FitSize | None = None

    def _is_training_fit(self) -> bool:
        """False for the ``before_fit``/``after_fit`` fastai fires around ``validate``/``get_preds`` and ``lr_find``.

        ``validation_context`` holds ``learn.lock`` (and ``get_preds`` adds ``gather_preds``);
        ``lr_find`` adds ``lr_finder``; a learner without an optimizer cannot be training.
        """
        learn = self.learn
        lock = getattr(learn, "lock", None)
        in_validation = lock is not None and lock.locked()
        helpers = hasattr(learn, "lr_finder") or hasattr(learn, "gather_preds")
        return not (learn.opt is None or in_validation or helpers)

    def _check_no_other_scheduler(self) -> None:
        for cb in self.learn.cbs:
            if isinstance(cb, WarmupCallback) and cb is not self:
                others = set(cb.specs)
            elif isinstance(cb, ParamScheduler):
                others = set(cb.scheds)
            else:
                continue
            clash = sorted(set(self.specs) & others)
            if clash:
                raise ValueError(f"{type(cb).__name__} also schedules {clash}; use one scheduler per value")

    @owned(as_class=True)
    def before_fit(self) -> None:
        """Resolve the schedules against this fit and the optimizer's targets and bases, once."""
        if not self._is_training_fit():
            self.run = False  # fastai sets run back to True after this fit
            return
        self._check_no_other_scheduler()
        fit = _fit_size(self.learn)
        opt = self.learn.opt
        resolved = {name: _resolve(spec, fit, name, list(opt.hypers)) for name, spec in self.specs.items()}
        writers = {name: _writer(opt, name, schedules) for name, schedules in resolved.items()}
        lr = Driver(writers.pop("lr"), adaptive=self.adaptive, record=self.record, param_groups=opt.param_groups)
        drivers = {"lr": lr, **{name: Driver(writer) for name, writer in writers.items()}}
        self.schedules = {name: shared(schedules) for name, schedules in resolved.items()}
        if self.adaptive is not None:
            self._start_adaptive(lr, fit)
        self._drivers, self._fit = drivers, fit
        self.hps = {name: [] for name in drivers}
        if self.record is not None:
            self.record.meta["steps_per_epoch"] = fit.n_iter / fit.accumulate

    def _start_adaptive(self, driver: Driver, fit: _FitSize) -> None:
        """A fresh adaptive warmup for every fit; for ``fit(..., start_epoch=e)``, the state saved in the
        optimizer (by ``learn.save``) at the end of epoch ``e - 1``."""
        start_epoch = _start_epoch(self.learn)
        saved = driver.writer.groups[0].get(_ADAPTIVE_KEY) if start_epoch else None
        if start_epoch and saved is None:
            raise ValueError(
                f"fit(start_epoch={start_epoch}) resumes, but the optimizer holds no adaptive warmup state "
                "(the checkpoint was saved without the optimizer's state): save with learn.save(..., with_opt=True) "
                "or SaveModelCallback(with_opt=True), or start the fit from epoch 0"
            )
        state = self._adaptive_start if saved is None else saved
        expected = start_epoch * fit.n_iter // fit.accumulate
        if saved is not None and saved.get("updates", expected) != expected:
            raise ValueError(
                f"the adaptive warmup's state saved with the optimizer is at update {saved['updates']}, "
                f"but fit(start_epoch={start_epoch}) resumes at update {expected}; load the checkpoint saved at "
                f"the end of epoch {start_epoch - 1}"
            )
        driver.load_adaptive(state, self.learn.opt.param_groups)  # measures from here

    def _save_adaptive(self) -> None:
        """Keep the adaptive warmup's state in the optimizer's first group, so ``learn.save`` saves it."""
        if self.adaptive is not None and self._drivers is not None:
            self._drivers["lr"].writer.groups[0][_ADAPTIVE_KEY] = self.adaptive.state_dict()

    def before_batch(self) -> None:
        """Write ``base * f(k)`` for update ``k = (epoch * n_iter + iter) // a`` (training batches only);
        with an adaptive warmup, ``k`` is its clock instead."""
        learn = self.learn
        k = self._fit.update_index(learn.epoch, learn.iter)
        drivers, hps = self._drivers, self.hps  # no attribute is set here: fastai's Callback.__setattr__ is slow
        s = k if self.adaptive is None else drivers["lr"].position(k)[0]  # the other hypers follow the LR's position
        for name, driver in drivers.items():
            hps[name].append(driver.write(k if name == "lr" else s)[-1])

    def after_step(self) -> None:
        """After each optimizer update: feed ``learn.loss`` to the record and the adaptive warmup."""
        driver, learn = self._drivers["lr"], self.learn
        if driver.observing:
            k = self._fit.update_index(learn.epoch, learn.iter)  # the update, as the torch and timm adapters log it
            driver.observe(learn.loss, update=k, lr=driver.writer.last[0], name="learn.loss")

    def after_epoch(self) -> None:
        """Save the adaptive state with the optimizer; copy the epoch's train/valid loss (and an
        ``accuracy`` metric) from fastai's Recorder into the record."""
        self._save_adaptive()
        recorder = getattr(self.learn, "recorder", None)
        if self.record is None or recorder is None or not recorder.values:
            return
        row = dict(zip(recorder.metric_names[1:], recorder.values[-1]))
        self.record.log_epoch(self.learn.epoch, row.get("train_loss"), row.get("valid_loss"), row.get("accuracy"))

    def after_fit(self) -> None:
        """Restore the bases, hand the per-batch values to the recorder, drop the per-fit state."""
        if self._drivers is None:  # cancelled before our before_fit ran
            return
        self._save_adaptive()
        for driver in self._drivers.values():
            driver.write_values(driver.bases)
        if hasattr(self.learn, "recorder"):
            self.learn.recorder.hps = self.hps
        self._init_state()


# ---------------------------------------------------------------------------- Learner.fit_warmup
def _check_moms(moms: object) -> tuple[float, float, float]:
    if isinstance(moms, (str, bytes)) or not isinstance(moms, Sequence) or len(moms) != 3:
        raise TypeError(f"moms must be three numbers (start, peak-LR value, end), got {moms!r}")
    m0, m1, m2 = (_checks.number(f"moms[{i}]", m, low=0) for i, m in enumerate(moms))
    if m1 == 0:
        raise ValueError("moms[1] must be > 0: momentum is scheduled as moms[1] * f(k)")
    return m0, m1, m2


def _has_hyper(opt: Any, name: str) -> bool:
    if isinstance(opt, OptimWrapper):
        return name in opt.bwd_map
    return all(name in h for h in opt.hypers)


def mirror_moms(lr_spec: Mapping[str, Any], moms: tuple[float, float, float]) -> dict[str, Any]:
    """The momentum spec that mirrors an LR spec, as ``fit_one_cycle`` does: ``mom = moms[1] * g(k)``.

    ``g`` has the LR's warmup with start factor ``moms[0] / moms[1]``; decays that end at a final
    factor (cosine, linear, polynomial, tanh, wsd, exponential with end_factor) end at
    ``moms[2] / moms[1]``, the others keep ``moms[1]`` after warmup. Restarts restart the momentum too, each
    cycle from ``moms[1]`` at its LR peak: the LR's ``cycle_decay`` (lower LR peaks) is not copied, so the
    momentum stays between the ``moms``.
    """
    m0, m1, m2 = moms
    if decays.ends_at_end_factor(lr_spec):
        shape = {k: v for k, v in lr_spec.items() if k != "cycle_decay"}  # it scales the peaks, not a range
        return {**shape, "start_factor": m0 / m1, "end_factor": m2 / m1}
    warmup_keys = ("warmup_type", "warmup_steps", "warmup_epochs", "warmup_pct", "warmup_prefix", "warmup_end")
    warmup_keys += tuple(o for shape in warmups.WARMUP_SHAPES.values() for o in shape.options)  # e.g. warmup_tau
    return {**{k: lr_spec[k] for k in warmup_keys if k in lr_spec}, "start_factor": m0 / m1}


@patch
@owned
def fit_warmup(
    self: Learner,
    n_epoch: int,
    lr_max: float | slice | Sequence[float] | None = None,
    warmup_type: str = "linear",
    warmup_pct: float | None = None,
    start_factor: float = DEFAULT_START_FACTOR,
    decay_type: str = "cosine",
    end_factor: float | None = None,
    moms: Sequence[float] | None = None,
    wd: float | None = None,
    cbs: Callback | Sequence[Callback] | None = None,
    reset_opt: bool = False,
    start_epoch: int = 0,
    adaptive: AdaptiveWarmup | PeakFinder | None = None,
    **schedule_kwargs: Any,
) -> None:
    """Fit ``n_epoch`` epochs with a warmup then a decay, in ``fit_one_cycle``'s conventions.

    LR of update ``k``: ``lr_max * f(k)`` per param group (``lr_max`` defaults to ``learn.lr``;
    slices and per-group arrays as in ``fit_one_cycle``). ``f`` warms up from ``start_factor`` over
    ``warmup_pct`` of the fit (default 0.1, unless ``warmup_steps``/``warmup_epochs`` is given),
    then decays to ``end_factor`` (the core's default, 0, if None) at the end of the fit. Other
    :class:`WarmupSchedule` options go in ``schedule_kwargs``. Momentum, if the optimizer has one,
    follows :func:`mirror_moms` with ``moms`` (default ``learn.moms``, (0.95, 0.85, 0.95)).

    ``fit_warmup(n, lr_max, warmup_type='cosine', warmup_pct=0.25, start_factor=1/25,
    decay_type='cosine', end_factor=1e-5)`` is ``fit_one_cycle(n, lr_max)``: fastai's default
    ``div=25``, ``pct_start=0.25`` and ``div_final=1e5`` (it ends at ``lr_max / 1e5``).

    ``adaptive`` takes an :class:`~warmup_plugins.AdaptiveWarmup` or a :class:`~warmup_plugins.PeakFinder`;
    ``fit_warmup(n, lr_max, adaptive=PeakFinder())`` finds the peak during the fit, ``lr_max`` the bound (the
    finder ramps the warmup itself: no fixed warmup is added unless one is asked for).
    """
    asked = warmup_pct is not None or {"warmup_steps", "warmup_epochs"} & set(schedule_kwargs)
    if isinstance(adaptive, PeakFinder) and warmup_type == "linear" and not asked:
        warmup_type = "none"  # the finder's ramp is the warmup
    if reset_opt or self.opt is None:
        self.create_opt()
    self.opt.set_hyper("lr", self.lr if lr_max is None else lr_max)
    bases = [h["lr"] for h in self.opt.hypers]
    lr_spec: dict[str, Any] = {"warmup_type": warmup_type, "start_factor": start_factor, "decay_type": decay_type}
    if end_factor is not None:
        lr_spec["end_factor"] = end_factor
    if warmup_pct is not None:
        lr_spec["warmup_pct"] = warmup_pct
    elif warmup_type != "none" and not {"warmup_steps", "warmup_epochs"} & set(schedule_kwargs):
        lr_spec["warmup_pct"] = 0.1
    lr_spec.update(schedule_kwargs)
    mom_spec = None
    if moms is not None or _has_hyper(self.opt, "mom"):
        moms = _check_moms(self.moms if moms is None else moms)
        if not _has_hyper(self.opt, "mom"):
            raise ValueError(f"moms given, but the {type(self.opt).__name__} has no 'mom' hyper-parameter")
        mom_spec = mirror_moms(lr_spec, moms)
        self.opt.set_hyper("mom", moms[1])
    callback = WarmupCallback(mom=mom_spec, adaptive=adaptive, **lr_spec)
    self.fit(n_epoch, lr=bases, wd=wd, cbs=L(callback) + L(cbs), start_epoch=start_epoch)


# ---------------------------------------------------------------------------- ParamScheduler annealers
def _hyper_value(name: str, value: object) -> float | np.ndarray:
    """A real number, or per-group values as a 1-D float array (fastai's ``lr_max`` arrays)."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return _checks.number(name, value)
    if isinstance(value, (list, tuple, np.ndarray)):
        try:
            array = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            array = np.array([math.nan])
        if array.ndim == 1 and array.size and np.all(np.isfinite(array)):
            return array
    raise TypeError(f"{name} must be a finite number or a 1-D sequence of them (one per group), got {value!r}")


def _check_pos(pos: object) -> float:
    """fastai's training position: a finite number >= 0 (a one-element Tensor counts as its value)."""
    if isinstance(pos, torch.Tensor) and pos.numel() == 1:
        pos = pos.item()
    if not _checks.number("pos", pos) >= 0:
        raise ValueError(f"pos must be a training position >= 0, got {pos!r}")
    return pos


class SchedWarmup:
    """fastai annealer ``pos -> value``: the core's warmup shape from ``start`` (pos 0) to ``end`` (pos >= 1).

    ``linear``: ``start + (end - start) * pos``; ``exponential``: ``start * (end / start) ** pos``;
    ``cosine``: ``start + (end - start) * (1 - cos(pi * pos)) / 2``; ``constant``: ``start``
    (then ``end`` at pos 1). Picklable; use it in ``ParamScheduler`` or inside ``combine_scheds``.
    """

    def __init__(
        self, start: float | Sequence[float], end: float | Sequence[float], warmup_type: str = "linear"
    ) -> None:
        self.start, self.end = _hyper_value("start", start), _hyper_value("end", end)
        self.warmup_type = _checks.choice("warmup_type", warmup_type, PLAIN_WARMUPS)
        positive = np.all(np.asarray(self.start) > 0) and np.all(np.asarray(self.end) > 0)
        if self.warmup_type == "exponential" and not positive:
            raise ValueError("warmup_type='exponential' needs start > 0 and end > 0")

    def __call__(self, pos: float) -> float | np.ndarray:
        if _check_pos(pos) >= 1:
            return self.end
        return warmups.WARMUPS[self.warmup_type](pos, self.start, self.end)

    def __repr__(self) -> str:
        return f"SchedWarmup({self.start!r}, {self.end!r}, {self.warmup_type!r})"


class SchedDecay:
    """fastai annealer ``pos -> value``: the core's annealing decay from ``start`` (pos 0) to ``end`` (pos >= 1).

    For ``p = pos < 1``: ``cosine``: ``end + (start - end) * (1 + cos(pi * p)) / 2``; ``linear``:
    ``end + (start - end) * (1 - p)``; ``polynomial``: ``end + (start - end) * (1 - p) ** power``;
    ``tanh``: ``end + (start - end) * (1 - tanh(lb * (1 - p) + ub * p)) / 2`` (timm's). ``pos >= 1``
    gives ``end`` exactly, as the core's ``f(T)`` (``tanh`` only approaches it). Picklable.
    """

    def __init__(
        self,
        start: float | Sequence[float],
        end: float | Sequence[float],
        decay_type: str = "cosine",
        *,
        power: float = 1.0,
        tanh_lb: float = -7.0,
        tanh_ub: float = 3.0,
    ) -> None:
        self.start, self.end = _hyper_value("start", start), _hyper_value("end", end)
        self.decay_type = _checks.choice("decay_type", decay_type, ANNEALING_TYPES)
        power = _checks.number("power", power, low=0, low_open=True)
        lb, ub = _checks.number("tanh_lb", tanh_lb), _checks.number("tanh_ub", tanh_ub)
        if lb >= ub:
            raise ValueError(f"tanh_lb must be < tanh_ub, got {lb} and {ub}")
        self._args = {"polynomial": (power,), "tanh": (lb, ub)}.get(self.decay_type, ())

    def __call__(self, pos: float) -> float | np.ndarray:
        if _check_pos(pos) >= 1:
            return self.end
        return getattr(decays, self.decay_type)(pos, self.end, *self._args, self.start)

    def __repr__(self) -> str:
        return f"SchedDecay({self.start!r}, {self.end!r}, {self.decay_type!r})"


class SchedWarmupDecay:
    """fastai annealer ``pos -> base * f(pos * total)`` for a whole :class:`WarmupSchedule`.

    ``total`` (default ``schedule.total_steps``) is the length ``pos = 1`` stands for, in the
    schedule's units. fastai's ``pos`` is a float sum, so ``pos * total`` is only close to an
    integer; :class:`WarmupCallback` gives the exact index. ``base`` may be per-group values.
    Picklable; use it in ``ParamScheduler({'lr': ...})`` or inside ``combine_scheds``.
    """

    def __init__(
        self, schedule: WarmupSchedule, base: float | Sequence[float] = 1.0, total: float | None = None
    ) -> None:
        if not isinstance(schedule, WarmupSchedule):
            raise TypeError(f"schedule must be a WarmupSchedule, got {type(schedule).__name__}")
        if total is None and schedule.total_steps is None:
            raise ValueError("total is required when the schedule has no total_steps (what length pos = 1 means)")
        self.schedule = schedule
        self.base = _hyper_value("base", base)
        self.total = _checks.number("total", schedule.total_steps if total is None else total, low=0, low_open=True)

    def __call__(self, pos: float) -> float | np.ndarray:
        step = _check_pos(pos) * self.total
        return self.base * self.schedule(min(step, sys.float_info.max))  # past the float range: f(T), held

    def __repr__(self) -> str:
        return f"SchedWarmupDecay({self.schedule!r}, base={self.base!r}, total={self.total!r})"


def __getattr__(name: str) -> Any:
    """``SchedWarmupSchedule``, this annealer's old name, imports with a DeprecationWarning in 0.2.0; removed in
    0.3.0 (see CHANGELOG.md)."""
    if name == "SchedWarmupSchedule":
        warnings.warn(
            "warmup_plugins.fastai.SchedWarmupSchedule is deprecated and goes in 0.3.0: use SchedWarmupDecay",
            DeprecationWarning,
            2,
        )
        return SchedWarmupDecay
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""timm adapter: a ``timm.scheduler.Scheduler`` driven by the core, and a drop-in factory.

``from warmup_plugins.timm import create_scheduler`` is a one-line swap in timm's ``train.py``:
with no new options every LR equals timm's own; ``warmup_type=`` adds the core's warmup shapes
and ``sched=`` the decays timm lacks. timm's loop calls ``step_update(num_updates)`` after every
optimizer update and ``step(epoch + 1)`` at each epoch end; with ``t_in_epochs`` only the
matching call moves the LR, exactly as in timm.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

try:
    from timm.scheduler.scheduler import Scheduler
except ImportError as error:  # pragma: no cover - exercised in a subprocess test
    raise ImportError("warmup_plugins.timm needs timm: pip install warmup_plugins[timm]") from error

import torch
from torch.optim import Optimizer
from torch.optim.lr_scheduler import ReduceLROnPlateau

from . import _seam
from .core import _checks, restarts
from .core.schedule import WarmupSchedule
from .extensions.adaptive import AdaptiveWarmup, bind_adaptive, load_adaptive
from .monitoring.record import new_record, note_adaptive

__all__ = [
    "SCHED_NAMES",
    "PlateauWarmupScheduler",
    "WarmupScheduler",
    "add_scheduler_args",
    "create_scheduler",
    "create_scheduler_v2",
    "scheduler_kwargs",
]

TIMM_SCHEDS = ("cosine", "tanh", "step", "constant", "multistep", "plateau", "poly", "wsd", "rsqrt", "none")
NEW_SCHEDS = ("linear", "exponential")
SCHED_NAMES = TIMM_SCHEDS + NEW_SCHEDS
_CYCLIC = ("cosine", "tanh", "poly", "linear")
_STATE_KEYS = frozenset({"schedule", "base_values", "last_t", "adaptive"})


class WarmupScheduler(Scheduler):
    """A timm ``Scheduler`` whose LR at time ``t`` is ``base * f(t)`` for a ``WarmupSchedule`` ``f``.

    ``t`` is the epoch (``t_in_epochs=True``, moved by ``step(epoch)``) or the update count
    (moved by ``step_update(num_updates)``); the schedule's lengths are in that unit. Groups with
    timm's ``lr_scale`` (layer-wise decay) get ``base * f(t) * lr_scale``. Noise options are
    timm's. Tensor LRs are filled in place. The state dict is plain data.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        schedule: WarmupSchedule | Sequence[WarmupSchedule] | None = None,
        *,
        t_in_epochs: bool = True,
        noise_range_t: float | Sequence[float] | None = None,
        noise_type: str = "normal",
        noise_pct: float = 0.67,
        noise_std: float = 1.0,
        noise_seed: int | None = None,
        initialize: bool = True,
        adaptive: AdaptiveWarmup | None = None,
        record: bool = False,
        **schedule_kwargs: Any,
    ) -> None:
        if not isinstance(optimizer, Optimizer):
            kind = type(optimizer).__name__
            raise TypeError(f"WarmupScheduler: optimizer must be a torch.optim.Optimizer, got {kind}")
        if not optimizer.param_groups:
            raise ValueError("WarmupScheduler: the optimizer has no param groups")
        self.schedule = _seam.build_schedule(schedule, schedule_kwargs, "WarmupScheduler", optimizer.param_groups)
        self._factors = _seam.per_group(self.schedule, len(optimizer.param_groups), "WarmupScheduler")
        for i, group in enumerate(optimizer.param_groups):
            _seam.read_value(group, "lr", i, "WarmupScheduler")
            if initialize and isinstance(group["lr"], torch.Tensor):
                group.setdefault("initial_lr", group["lr"].clone())  # never alias the LR we fill in place
            if "initial_lr" in group:  # timm writes it into the groups in its __init__: check it first
                _seam.read_value(group, "initial_lr", i, "WarmupScheduler")
        _checks.boolean("t_in_epochs", t_in_epochs)
        super().__init__(
            optimizer,
            "lr",
            t_in_epochs=t_in_epochs,
            noise_range_t=noise_range_t,
            noise_type=noise_type,
            noise_pct=noise_pct,
            noise_std=noise_std,
            noise_seed=noise_seed,
            initialize=initialize,
        )
        self._bases = [  # timm's 'initial_lr' (a group may bring its own): checked like any base value
            _seam.read_value({"initial_lr": v}, "initial_lr", i, "WarmupScheduler")
            for i, v in enumerate(self.base_values)
        ]
        _seam.check_range(optimizer.param_groups, "lr", self._bases, self._factors, "WarmupScheduler")
        if adaptive is not None and t_in_epochs:
            raise ValueError("WarmupScheduler: an adaptive warmup follows updates; use t_in_epochs=False")
        self.adaptive = bind_adaptive(adaptive, self.schedule, optimizer.param_groups)
        self.record = new_record(record, "timm", self.schedule)
        if self.record is not None:
            self.record.meta["base_lrs"] = list(self._bases)
        self.last_t: float = 0
        self.update_groups(self._get_lr(0))

    def step_update(self, num_updates: int, metric: float | None = None) -> None:
        """timm's per-update call, after update ``num_updates - 1``; ``metric`` (its loss) feeds the
        record and the adaptive warmup, which then sets the schedule's clock instead of ``num_updates``."""
        if self.record is not None and not self.t_in_epochs:
            lr = self.optimizer.param_groups[0]["lr"]
            self.record.log_update(num_updates - 1, float(lr), metric)
        if self.adaptive is not None:
            num_updates = self.adaptive.observe(metric)
            note_adaptive(self.record, self.adaptive)
        super().step_update(num_updates, metric)

    def step(self, epoch: int, metric: float | None = None) -> None:
        """timm's epoch-end call ``step(epoch + 1, metric)``; the record keeps ``metric`` per epoch."""
        if self.record is not None:
            self.record.log_epoch(max(0, epoch - 1), metric=metric)
        super().step(epoch, metric)

    def _get_lr(self, t: float) -> list[float]:
        self.last_t = t
        schedule = self.schedule
        if schedule.__class__ is WarmupSchedule:
            factor = schedule(t)
            return [base * factor for base in self._bases]
        return [base * sched(t) for base, sched in zip(self._bases, self._factors)]

    def update_groups(self, values: float | list[float]) -> None:
        """timm's rule (``value * lr_scale`` where a group has one), writing Tensor LRs in place."""
        groups = self.optimizer.param_groups
        if not isinstance(values, (list, tuple)):
            values = [values] * len(groups)
        scaled = [value * group["lr_scale"] if "lr_scale" in group else value for group, value in zip(groups, values)]
        _seam.write_values(groups, self.param_group_field, scaled)

    def get_cycle_length(self, cycles: int = 0) -> float:
        """Length (in ``t`` units) of the first ``cycles`` cycles (default: the cycle limit) plus a
        prefix warmup; the whole schedule's length when it has no restarts."""
        first = self._factors[0]
        if first.cycle_steps is None:
            return first.total_steps if first.total_steps is not None else first.warmup_steps
        n = max(1, cycles or first.cycle_limit or 1)
        length = restarts.cycle_start(n, first.cycle_steps, first.cycle_mul)
        return length + (first.warmup_steps if first.warmup_prefix and not first.cycle_warmup else 0)

    def state_dict(self) -> dict[str, Any]:
        """Plain data: the schedule, the base LRs and the last ``t`` the LRs were set for."""
        return {
            "schedule": _seam.schedules_to_data(self.schedule),
            "base_values": list(self._bases),
            "last_t": self.last_t,
            "adaptive": None if self.adaptive is None else self.adaptive.state_dict(),
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the schedule and base LRs and set the LRs for the saved ``t``."""
        if not isinstance(state_dict, dict):
            raise TypeError(f"WarmupScheduler.load_state_dict: expected a dict, got {type(state_dict).__name__}")
        missing, extra = sorted(_STATE_KEYS - set(state_dict)), sorted(set(state_dict) - _STATE_KEYS)
        if missing or extra:
            raise KeyError(f"WarmupScheduler.load_state_dict: missing keys {missing}, unexpected keys {extra}")
        groups = self.optimizer.param_groups
        bases = state_dict["base_values"]
        if not isinstance(bases, (list, tuple)) or len(bases) != len(groups):
            raise ValueError(f"WarmupScheduler.load_state_dict: base_values must be {len(groups)} numbers, got {bases}")
        schedule = _seam.schedules_from_data(state_dict["schedule"])
        factors = _seam.per_group(schedule, len(groups), "WarmupScheduler")
        bases = [float(_checks.number(f"base_values[{i}]", b, low=0)) for i, b in enumerate(bases)]
        last_t = _checks.number("last_t", state_dict["last_t"], low=0)
        _seam.check_range(groups, "lr", bases, factors, "WarmupScheduler")
        load_adaptive(self.adaptive, state_dict["adaptive"], schedule, "WarmupScheduler")
        self.schedule, self._factors, self._bases = schedule, factors, bases  # all checked: nothing half-loaded
        self.update_groups(self._get_lr(last_t))

    def set_schedule(self, schedule: WarmupSchedule | Sequence[WarmupSchedule]) -> None:
        """Replace the schedule (one, or one per group) and write the LRs for the current ``t``, ``base * f_new(t)``.

        ``t`` and the base LRs stay, so the warmup is not repeated; an adaptive warmup is bound to the new
        ``W`` and ``T``. To extend a resumed run: ``load_state_dict``, then
        ``set_schedule(scheduler.schedule.replace(total_steps=new_total))``. Assigning ``scheduler.schedule``
        directly is not supported: the per-group factors and the current LRs would not follow.
        """
        owner = f"{type(self).__name__}.set_schedule"
        schedule, factors = _seam.new_schedule(schedule, self.optimizer.param_groups, "lr", self._bases, owner)
        if self.adaptive is not None:
            self.adaptive.bind(schedule)  # type: ignore[arg-type]
        self.schedule, self._factors = schedule, factors
        self._rewrite()

    def _rewrite(self) -> None:
        """Write the LRs of the current ``t`` (after a load or a new schedule)."""
        self.update_groups(self._get_lr(self.last_t))


class PlateauWarmupScheduler(WarmupScheduler):
    """timm's ``plateau`` schedule: a core warmup over epochs ``0..W``, then torch's
    ``ReduceLROnPlateau`` on the metric passed to ``step(epoch, metric)``.

    As in timm, epoch ``W`` still belongs to the warmup (the metric is ignored there) and
    ``step_update`` does nothing. Unlike timm, the plateau state (best metric, patience and
    cooldown counters) is in the state dict, so a resumed run continues it.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        schedule: WarmupSchedule | Sequence[WarmupSchedule],
        *,
        decay_rate: float = 0.1,
        patience_t: int = 10,
        threshold: float = 1e-4,
        cooldown_t: int = 0,
        lr_min: float = 0.0,
        mode: str = "max",
        **kwargs: Any,
    ) -> None:
        super().__init__(optimizer, schedule, t_in_epochs=True, **kwargs)
        self.plateau = ReduceLROnPlateau(
            optimizer,
            mode=mode,
            factor=decay_rate,
            patience=patience_t,
            threshold=threshold,
            cooldown=cooldown_t,
            min_lr=lr_min,
        )
        self.restore_lr: list[float] | None = None

    def step(self, epoch: int, metric: float | None = None) -> None:
        self.metric = metric
        if epoch <= self._factors[0].warmup_steps:
            self.update_groups(self._get_lr(epoch))
            return
        self.last_t = epoch
        if self.restore_lr is not None:  # undo last epoch's noise before the plateau logic reads the LR
            _seam.write_values(self.optimizer.param_groups, "lr", self.restore_lr)
            self.restore_lr = None
        if metric is not None:
            self.plateau.step(metric)
        if self._is_apply_noise(epoch):
            noise = self._calculate_noise(epoch)
            self.restore_lr = [float(group["lr"]) for group in self.optimizer.param_groups]
            _seam.write_values(self.optimizer.param_groups, "lr", [v + v * noise for v in self.restore_lr])

    def step_update(self, num_updates: int, metric: float | None = None) -> None:
        return None

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state["plateau"] = self.plateau.state_dict()
        state["restore_lr"] = self.restore_lr
        state["lrs"] = [float(group["lr"]) for group in self.optimizer.param_groups]  # the plateau's, after warmup
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the warmup, the plateau state and, past the warmup, the LRs the plateau had reached."""
        owner = "PlateauWarmupScheduler.load_state_dict"
        if not isinstance(state_dict, dict):
            raise TypeError(f"{owner}: expected a dict, got {type(state_dict).__name__}")
        state = dict(state_dict)
        plateau, restore, lrs = state.pop("plateau", None), state.pop("restore_lr", None), state.pop("lrs", None)
        if not isinstance(plateau, dict):
            raise KeyError(f"{owner}: missing the 'plateau' state")
        expected = set(self.plateau.state_dict())
        if set(plateau) != expected:
            missing, extra = sorted(expected - set(plateau)), sorted(set(plateau) - expected)
            raise KeyError(f"{owner}: 'plateau' has missing keys {missing}, unexpected keys {extra}")
        n_groups = len(self.optimizer.param_groups)
        lrs = _check_lrs("lrs", lrs, n_groups, owner)
        restore = None if restore is None else _check_lrs("restore_lr", restore, n_groups, owner)
        super().load_state_dict(state)
        self.plateau.load_state_dict(plateau)
        self.restore_lr = restore
        self._rewrite(lrs)

    def _rewrite(self, lrs: list[float] | None = None) -> None:
        """In the warmup, the LRs of the current epoch; past it, the plateau's (kept as they are, or ``lrs``)."""
        if self.last_t <= self._factors[0].warmup_steps:
            super()._rewrite()
        elif lrs is not None:
            _seam.write_values(self.optimizer.param_groups, "lr", lrs)


def _check_lrs(name: str, values: object, n_groups: int, owner: str) -> list[float]:
    if not isinstance(values, (list, tuple)) or len(values) != n_groups:
        raise ValueError(f"{owner}: {name} must be a list of {n_groups} numbers, got {values!r}")
    return [float(_checks.number(f"{name}[{i}]", v, low=0)) for i, v in enumerate(values)]


def _check_sched(sched: object) -> str:
    return _checks.choice("sched", sched, SCHED_NAMES)


def _group_schedules(
    bases: list[float], warmup_lr: float, min_lr: float | None, options: dict[str, Any], owner: str
) -> WarmupSchedule | tuple[WarmupSchedule, ...]:
    """One schedule per distinct base LR: timm's warmup_lr and min_lr are absolute LRs, the core's
    start and end factors are relative to each group's base. ``min_lr=None``: no end factor."""
    built: dict[float, WarmupSchedule] = {}
    for i, base in enumerate(bases):
        if base not in built:
            if base <= 0:
                raise ValueError(f"{owner}: param_groups[{i}] has lr {base}; a warmup needs a positive base LR")
            end = {} if min_lr is None else {"end_factor": min_lr / base}
            built[base] = WarmupSchedule(start_factor=warmup_lr / base, **options, **end)
    schedules = tuple(built[b] for b in bases)
    return schedules[0] if len(built) == 1 else schedules


def create_scheduler_v2(
    optimizer: Optimizer,
    sched: str = "cosine",
    num_epochs: int = 300,
    decay_epochs: float | None = None,
    decay_milestones: Sequence[int] = (90, 180, 270),
    cooldown_epochs: int = 0,
    patience_epochs: int = 10,
    decay_rate: float = 0.1,
    min_lr: float = 0.0,
    warmup_lr: float = 1e-5,
    warmup_epochs: int = 0,
    warmup_prefix: bool = False,
    noise: float | Sequence[float] | None = None,
    noise_pct: float = 0.67,
    noise_std: float = 1.0,
    noise_seed: int = 42,
    cycle_mul: float = 1.0,
    cycle_decay: float = 0.1,
    cycle_limit: int = 1,
    k_decay: float = 1.0,
    decay_fn: str | None = None,
    stable_timescale: float | None = None,
    plateau_mode: str = "max",
    step_on_epochs: bool = True,
    updates_per_epoch: int = 0,
    *,
    warmup_type: str = "linear",
    decay_after_warmup: bool = False,
    multistep_torch_milestones: bool = False,
) -> tuple[WarmupScheduler | None, int]:
    """timm's ``create_scheduler_v2``, same arguments, defaults and ``(scheduler, num_epochs)``.

    New keyword-only options (the defaults reproduce timm to 1e-9 relative):

    * ``warmup_type``: ``'linear'`` (timm's), ``'exponential'``, ``'cosine'`` or ``'constant'``.
    * ``sched='linear'`` / ``'exponential'``: decays timm lacks (to ``min_lr``; exponential needs
      ``min_lr > 0``); ``'linear'`` takes the cycle options like cosine.
    * ``decay_after_warmup=True``: with ``warmup_prefix=False`` timm overlaps the warmup with the
      decay, so the peak LR is never used; this starts the decay after the warmup instead while
      keeping ``num_epochs`` the total (for cosine, tanh, poly, linear, exponential, step).
    * ``multistep_torch_milestones=True``: timm's multistep decays one step before each milestone
      (``bisect_right(milestones, t + 1)``); this decays at the milestone, as torch's MultiStepLR.

    ``sched='none'`` returns ``(None, num_epochs)`` as timm does, because timm's ``train.py``
    checks for ``None`` and then leaves the optimizer's LR alone; any other unknown name raises a
    ``ValueError`` listing the valid ones.
    """
    sched = _check_sched(sched)
    for name, flag in (
        ("step_on_epochs", step_on_epochs),
        ("decay_after_warmup", decay_after_warmup),
        ("multistep_torch_milestones", multistep_torch_milestones),
    ):
        _checks.boolean(name, flag)
    if decay_epochs is None:
        decay_epochs = 0.2 if sched in ("wsd", "rsqrt") else 90
    t_initial, warmup_t, decay_t, cooldown_t, timescale_t = (
        num_epochs,
        warmup_epochs,
        decay_epochs,
        cooldown_epochs,
        stable_timescale,
    )
    if not step_on_epochs:
        if not updates_per_epoch > 0:
            raise ValueError("updates_per_epoch must be set to the number of optimizer updates per epoch")
        t_initial, warmup_t = t_initial * updates_per_epoch, warmup_t * updates_per_epoch
        decay_t, cooldown_t = decay_t * updates_per_epoch, cooldown_t * updates_per_epoch
        decay_milestones = [d * updates_per_epoch for d in decay_milestones]
        if timescale_t is not None:
            timescale_t = timescale_t * updates_per_epoch

    noise_range = None
    if noise is not None:
        noise_range = [n * t_initial for n in noise] if isinstance(noise, (list, tuple)) else noise * t_initial
        if isinstance(noise_range, list) and len(noise_range) == 1:
            noise_range = noise_range[0]
    noise_args = dict(noise_range_t=noise_range, noise_pct=noise_pct, noise_std=noise_std, noise_seed=noise_seed)

    if sched == "none":
        return None, num_epochs + (warmup_epochs if warmup_prefix else 0)

    prefix = warmup_prefix or decay_after_warmup
    # the decay spans t_initial after a prefix warmup, or fits inside it with decay_after_warmup
    span = t_initial - warmup_t if decay_after_warmup and not warmup_prefix else t_initial
    lead = warmup_t if prefix else 0  # where the decay clock starts
    uses_end = sched in (*_CYCLIC, "exponential", "wsd", "rsqrt")
    options: dict[str, Any] = {"warmup_type": warmup_type if warmup_t else "none", "warmup_steps": warmup_t}
    if sched in _CYCLIC:
        options.update(
            decay_type={"poly": "polynomial"}.get(sched, sched),
            warmup_prefix=prefix,
            warmup_end="decay" if sched == "tanh" and not prefix else "peak",
            total_steps=lead + restarts.cycle_start(cycle_limit, span, cycle_mul),
        )
        if cycle_limit != 1:  # a single cycle is the plain decay over the span (and the faster path)
            options.update(cycle_steps=span, cycle_mul=cycle_mul, cycle_decay=cycle_decay, cycle_limit=cycle_limit)
        if sched in ("cosine", "poly"):
            options["k_decay"] = k_decay
        if sched == "poly":
            options["power"] = decay_rate
    elif sched == "exponential":
        if not min_lr > 0:
            raise ValueError(f"sched='exponential' decays to min_lr, which must be > 0 (got {min_lr})")
        options.update(decay_type="exponential", warmup_prefix=prefix, total_steps=lead + span)
    elif sched in ("step", "constant"):
        if sched == "step":
            options.update(decay_type="step", step_size=decay_t, gamma=decay_rate)
        options["warmup_prefix"] = prefix
    elif sched == "multistep":
        shift = (warmup_t if warmup_prefix else 0) - (0 if multistep_torch_milestones else 1)
        options.update(
            decay_type="multistep",
            gamma=decay_rate,
            warmup_prefix=False,  # milestones are absolute in the core: the shift above places them
            milestones=[max(0, m + shift) for m in decay_milestones],
        )
    elif sched in ("wsd", "rsqrt"):
        t_sched = t_initial if warmup_prefix else t_initial - warmup_t
        if 0 < decay_epochs < 1:
            decay_t = decay_epochs * t_sched
        decay_t = round(decay_t)
        if not 0 < decay_t <= t_sched:
            raise ValueError(
                f"{sched} schedule requires 0 < decay_epochs <= epochs{'' if warmup_prefix else ' - warmup_epochs'}, "
                f"got decay {decay_t} and stable + decay length {t_sched}."
            )
        options.update(
            decay_type="inverse_sqrt" if sched == "rsqrt" else "wsd",
            total_steps=warmup_t + t_sched,
            cooldown_steps=decay_t,
            cooldown_type=decay_fn or ("linear" if sched == "rsqrt" else "1-sqrt"),
        )
        if sched == "rsqrt":
            options["timescale"] = timescale_t
    elif not step_on_epochs:  # plateau
        raise ValueError("sched='plateau' only supports stepping per epoch (step_on_epochs=True)")

    bases = [_seam.read_value(g, "lr", i, "create_scheduler_v2") for i, g in enumerate(optimizer.param_groups)]
    schedules = _group_schedules(bases, warmup_lr, min_lr if uses_end else None, options, "create_scheduler_v2")

    if sched == "plateau":
        scheduler: WarmupScheduler = PlateauWarmupScheduler(
            optimizer,
            schedules,
            decay_rate=decay_rate,
            patience_t=patience_epochs,
            lr_min=min_lr,
            mode=plateau_mode,
            **noise_args,
        )
    else:
        scheduler = WarmupScheduler(optimizer, schedules, t_in_epochs=step_on_epochs, **noise_args)
    if not warmup_t:  # timm leaves the base LR in place until the first step call when there is no warmup
        scheduler.update_groups(scheduler._bases)

    if sched in (*_CYCLIC, "wsd", "rsqrt"):
        if sched in _CYCLIC:  # timm's get_cycle_length(): whole updates/epochs
            cycles = restarts.cycle_start(cycle_limit, span, cycle_mul)
            length = lead + (span * cycle_limit if cycle_mul == 1 else math.floor(cycles))
        else:
            length = warmup_t + t_sched
        total = length + cooldown_t
        num_epochs = total if step_on_epochs else total // updates_per_epoch
    elif warmup_prefix:
        num_epochs += warmup_epochs
    return scheduler, num_epochs


def scheduler_kwargs(cfg: Any, decreasing_metric: bool | None = None) -> dict[str, Any]:
    """timm's ``scheduler_kwargs`` plus the new options, read with ``getattr`` defaults."""
    from timm.scheduler.scheduler_factory import scheduler_kwargs as timm_scheduler_kwargs

    kwargs = timm_scheduler_kwargs(cfg, decreasing_metric=decreasing_metric)
    kwargs["warmup_type"] = getattr(cfg, "warmup_type", "linear")
    kwargs["decay_after_warmup"] = getattr(cfg, "decay_after_warmup", False)
    kwargs["multistep_torch_milestones"] = getattr(cfg, "multistep_torch_milestones", False)
    return kwargs


def create_scheduler(args: Any, optimizer: Optimizer, updates_per_epoch: int = 0) -> tuple[WarmupScheduler | None, int]:
    """timm's ``create_scheduler(args, optimizer, updates_per_epoch)``, with the new options read
    from ``args`` when present (see :func:`add_scheduler_args`)."""
    return create_scheduler_v2(optimizer=optimizer, **scheduler_kwargs(args), updates_per_epoch=updates_per_epoch)


def add_scheduler_args(parser: Any) -> Any:
    """Add ``--warmup-type``, ``--decay-after-warmup`` and ``--multistep-torch-milestones`` to an
    argparse parser (timm's ``train.py`` one, say) and return the group."""
    group = parser.add_argument_group("warmup_plugins")
    group.add_argument(
        "--warmup-type",
        default="linear",
        choices=("linear", "exponential", "cosine", "constant"),
        help="warmup shape (default: linear, timm's)",
    )
    group.add_argument(
        "--decay-after-warmup",
        action="store_true",
        help="start the decay after the warmup instead of overlapping it (warmup_prefix off)",
    )
    group.add_argument(
        "--multistep-torch-milestones",
        action="store_true",
        help="multistep decays at each milestone, as torch's MultiStepLR (timm: one step before)",
    )
    return group

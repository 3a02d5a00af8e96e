"""The torch side of the seam: reading and writing the values of torch param groups.

* :func:`read_value` reads one hyper-parameter of a group as a float (``betas[0]`` for ``'beta1'``).
* :class:`GroupWriter` writes ``base * f(k)`` into the groups: floats assigned, Tensors filled in place
  (so ``torch.compile`` does not recompile), ``betas`` pairs rebuilt, fastcore's ``L`` (fastai's
  ``hypers``) read through its list.
* :func:`torch_scheduler` checks a wrapped torch scheduler's saved state before any of it is applied.

The framework-neutral part (the formula, the adaptive warmup, the record, the state codec) is
:class:`warmup_plugins._seam.Driver`; an adapter for a framework without torch writes its own writer.
"""

from __future__ import annotations

import copy
import math
import sys
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import torch

from ._codec import Decoder
from ._schedules import Schedules
from ._seam import Writer
from .core import _checks

__all__ = ["GroupWriter", "check_optimizer", "read_value", "torch_scheduler"]


def read_value(group: Mapping[str, Any], key: str, index: int) -> float:
    """``group[key]`` as a float (``betas[0]`` for ``key='beta1'``), or a clear error.

    A Tensor value must be a one-element floating-point Tensor: an integer one would truncate every
    scheduled value when filled in place.
    """
    if key == "beta1":
        betas = group.get("betas")
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise KeyError(f"param_groups[{index}] has no 'betas' pair for beta1 (got {betas!r})")
        value = betas[0]
    elif key not in group:
        raise KeyError(f"param_groups[{index}] has no {key!r} (its keys: {sorted(k for k in group if k != 'params')})")
    else:
        value = group[key]
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise ValueError(f"param_groups[{index}][{key!r}] must be a scalar Tensor, got shape {tuple(value.shape)}")
        if not value.is_floating_point():
            raise TypeError(
                f"param_groups[{index}][{key!r}] is a {value.dtype} Tensor: scheduled values written into it would "
                f"be truncated; use a floating-point Tensor (torch.tensor({value.item()}.0))"
            )
        value = value.item()
    return float(_checks.number(f"param_groups[{index}][{key!r}]", value, low=0))


def largest_value(current: Any) -> float:
    """The largest value a group entry can hold: its dtype's for a Tensor (filled in place), a float's otherwise."""
    return torch.finfo(current.dtype).max if isinstance(current, torch.Tensor) else sys.float_info.max


def _current(group: Mapping[str, Any], key: str) -> Any:
    return group.get("betas", (None,))[0] if key == "beta1" else group.get(key)


class GroupWriter(Writer):
    """:class:`~warmup_plugins._seam.Writer` for torch param groups (or fastai's ``hypers``).

    The groups are read from ``getattr(source, attribute)`` at every write (torch's
    ``optimizer.param_groups``, fastai's ``opt.hypers``), since loading an optimizer's state
    replaces that list; a group added later is refused at the next write, not left unscheduled.
    """

    __slots__ = ("_into", "attribute", "key", "source")

    def __init__(
        self, source: Any, key: str, bases: Sequence[float], schedules: Schedules, attribute: str = "param_groups"
    ) -> None:
        super().__init__(bases, schedules)
        groups = getattr(source, attribute)
        if len(bases) != len(groups) or len(schedules) != len(groups):
            raise ValueError(f"got {len(bases)} base values and {len(schedules)} schedules for {len(groups)} groups")
        for i, (group, base, schedule) in enumerate(zip(groups, bases, schedules)):
            limit = largest_value(_current(group, key))
            if base * schedule.max_factor > limit:
                raise ValueError(
                    f"param_groups[{i}]: the base {key} {base:g} times the schedule's largest factor "
                    f"{schedule.max_factor:g} exceeds {limit:g}, the largest value the group's {key!r} can hold"
                )
        self.source, self.attribute, self.key = source, attribute, key
        self._into: object = None  # the group list ``last`` was written into

    def __eq__(self, other: object) -> bool:
        """Same groups (the same source object), key, bases, schedules and last values (torch's state-dict check
        compares every attribute of a scheduler and of one loaded from its state)."""
        if not isinstance(other, GroupWriter):
            return NotImplemented
        mine = (self.attribute, self.key, self.bases, self.schedules, self.last)
        return self.source is other.source and mine == (
            other.attribute,
            other.key,
            other.bases,
            other.schedules,
            other.last,
        )

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    @property
    def groups(self) -> list[dict[str, Any]]:
        groups = getattr(self.source, self.attribute)
        return groups if groups.__class__ is list else groups.items  # fastcore's L (fastai's hypers) keeps a list

    def holds_last(self) -> bool:
        """True while the groups still hold exactly the values this writer last wrote: the optimizer's state was
        not loaded since (that replaces the group list) and no other scheduler wrote (a float value is still the
        very object written; a Tensor one still equal to it)."""
        groups = self.groups
        if not self.last or groups is not self._into or len(groups) != len(self.last):
            return False
        for group, value in zip(groups, self.last):
            current = _current(group, self.key)
            if isinstance(current, torch.Tensor):
                if current.item() != torch.tensor(value, dtype=current.dtype).item():
                    return False
            elif current is not value:
                return False
        return True

    def check_groups(self) -> None:
        """Refuse a param group added after the writer was built (torch's schedulers refuse it too)."""
        if len(self.groups) != len(self.bases):
            raise ValueError(
                f"the optimizer has {len(self.groups)} param groups but this scheduler was built for "
                f"{len(self.bases)}; a group added with add_param_group after the scheduler is not scheduled: "
                "build the scheduler after adding every group"
            )

    def write_values(self, values: Sequence[float]) -> None:
        """Write ``values`` (one per group): floats assigned, Tensors filled in place (keeping their identity)."""
        groups = getattr(self.source, self.attribute)
        if groups.__class__ is not list:
            groups = groups.items
        key = self.key
        if len(groups) != len(values):
            self.check_groups()
        if key == "beta1":
            for group, value in zip(groups, values):
                betas = group["betas"]
                if isinstance(betas[0], torch.Tensor):
                    betas[0].fill_(value)
                else:
                    group["betas"] = (value, *betas[1:])
        else:
            for group, value in zip(groups, values):
                current = group[key]
                if current.__class__ is float or not isinstance(current, torch.Tensor):  # float first: cheaper
                    group[key] = value
                else:
                    current.fill_(value)
        self.last, self._into = values, groups  # type: ignore[assignment]

    def with_schedules(self, schedules: Schedules, bases: Sequence[float] | None = None) -> GroupWriter:
        """A writer for the same groups with new schedules (and bases), checked as a new one is."""
        bases = self.bases if bases is None else bases
        return GroupWriter(self.source, self.key, bases, schedules, self.attribute)


def check_optimizer(optimizer: object) -> torch.optim.Optimizer:
    """``optimizer`` if it is a torch optimizer with at least one param group (the adapters' one check)."""
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
    if not optimizer.param_groups:
        raise ValueError("the optimizer has no param groups")
    return optimizer


# ---------------------------------------------------------------------------- a wrapped torch scheduler's state
TRIAL_STEPS = 32  # steps a wrapped scheduler takes on its loaded state, on trial, before the state is accepted


def torch_scheduler(scheduler: Any) -> Decoder:
    """A wrapped torch scheduler's saved state, checked whole before any of it is applied (public API only).

    The keys must be the scheduler's own (a state of another scheduler is refused) and every value shaped like the
    scheduler's own (a number where it has a number, a list of as many items where it has a list: ``base_lrs=None``
    is refused). Then the state is tried on the scheduler itself: loaded, its last LRs read, up to
    :data:`TRIAL_STEPS` steps taken (a plateau scheduler fed its worst metric; the first step must succeed, an error
    later is the schedule's own end, as ``OneCycleLR``'s past ``total_steps``), every LR checked finite and >= 0;
    and the scheduler's own state and the param groups' values are put back, whatever happens.
    """

    def decode_scheduler(key: str, state: object) -> dict[str, Any]:
        name = type(scheduler).__name__
        if not isinstance(state, Mapping):
            raise TypeError(f"the wrapped {name}'s state must be a dict, got {type(state).__name__}")
        own = scheduler.state_dict()
        if set(state) != set(own):
            missing, extra = sorted(set(own) - set(state)), sorted(set(state) - set(own))
            raise KeyError(f"not a state of the wrapped {name}: missing keys {missing}, unexpected keys {extra}")
        nan = sorted(k for k, v in state.items() if any(_is_nan(x) for x in (v if isinstance(v, list) else [v])))
        if nan:
            raise ValueError(f"the wrapped {name}'s state holds NaN in {nan}")
        for field in own:
            _shaped_like(own[field], state[field], f"the wrapped {name}'s {field!r}")
        problem = _on_trial(scheduler, copy.deepcopy(dict(state)))
        if problem:
            raise ValueError(f"the wrapped {name}'s state is invalid: {problem}")
        return dict(state)

    return decode_scheduler


def _shaped_like(own: object, saved: object, where: str) -> None:
    """``saved`` has the shape of the scheduler's ``own`` value: a number for a number (a one-element Tensor counts
    as one), True/False for a flag, a string for a string, as many items (or the same keys) for a list (a dict)."""
    if own is None:
        return
    if isinstance(own, (bool, str)):
        if type(saved) is not type(own):
            raise TypeError(f"{where} must be a {type(own).__name__}, got {type(saved).__name__} {saved!r}"[:300])
    elif _is_number(own):
        if not _is_number(saved):
            raise TypeError(f"{where} must be a number, got {type(saved).__name__} {saved!r}"[:300])
        if _as_float(saved) is None:
            raise ValueError(f"{where} must fit in a float, got an integer of {int(saved).bit_length()} bits")
    elif isinstance(own, (list, tuple)):
        if not isinstance(saved, (list, tuple)) or len(saved) != len(own):
            raise TypeError(f"{where} must be a list of {len(own)} items, as the scheduler's own; got {saved!r}"[:300])
        for i, (a, b) in enumerate(zip(own, saved)):
            _shaped_like(a, b, f"{where}[{i}]")
    elif isinstance(own, Mapping):
        if not isinstance(saved, Mapping) or set(saved) != set(own):
            raise TypeError(f"{where} must be a dict with the keys {sorted(own, key=str)}, got {saved!r}"[:300])
        for k in own:
            _shaped_like(own[k], saved[k], f"{where}[{k!r}]")


def _is_number(value: object) -> bool:
    if isinstance(value, torch.Tensor):
        return value.numel() == 1
    return _checks.is_real(value)


def _on_trial(scheduler: Any, state: dict[str, Any]) -> str | None:
    """What goes wrong when ``scheduler`` runs from ``state`` (None: nothing); the scheduler's own state and the
    param groups' values (the very objects, Tensors refilled) are restored afterwards."""
    own = copy.deepcopy(scheduler.state_dict())
    groups = scheduler.optimizer.param_groups
    held = [{k: (v, v.clone() if isinstance(v, torch.Tensor) else None) for k, v in g.items()} for g in groups]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # get_lr outside step(), a step before the optimizer's
            scheduler.load_state_dict(state)
            last = scheduler.get_last_lr() if hasattr(scheduler, "get_last_lr") else []
            if not isinstance(last, (list, tuple)) or len(last) != len(groups):
                return f"its last learning rates are {last!r}, not one per param group"[:300]
            lrs = [*last, *_next_lrs(scheduler)]
            plateau = isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau)
            for i in range(TRIAL_STEPS):
                try:
                    scheduler.step(scheduler.mode_worse) if plateau else scheduler.step()
                except Exception:
                    if i == 0:
                        raise
                    break  # the schedule's own end (OneCycleLR refuses a step past total_steps), as in training
                lrs += [g["lr"] for g in groups]
    except Exception as error:  # whatever the wrapped scheduler raises on its own state
        return f"{type(error).__name__}: {error}"[:300]
    finally:
        scheduler.load_state_dict(own)
        for group, values in zip(groups, held):
            for k in [k for k in group if k not in values]:
                del group[k]
            for k, (value, copied) in values.items():
                if copied is not None:
                    value.copy_(copied)
                group[k] = value
    bad = [v for v in map(_as_float, lrs) if not (v is not None and math.isfinite(v) and v >= 0)]
    if bad:
        return f"it would set the learning rates {bad[:4]}; every one must be a finite number >= 0"
    return None


def _as_float(value: object) -> float | None:
    if _is_number(value):
        try:
            return float(value)  # type: ignore[arg-type]
        except OverflowError:
            return None
    return None


def _is_nan(value: object) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _next_lrs(scheduler: Any) -> list[float]:
    """The LRs a loaded scheduler computes next (for ``ReduceLROnPlateau``, those of its next reduction), or none
    if it has no formula of its own (``SequentialLR``, ``ChainedScheduler``). Nothing is written."""
    groups = scheduler.optimizer.param_groups
    if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
        return [max(float(g["lr"]) * float(scheduler.factor), float(m)) for g, m in zip(groups, scheduler.min_lrs)]
    try:
        return [float(v) for v in scheduler.get_lr()]
    except NotImplementedError:
        return []

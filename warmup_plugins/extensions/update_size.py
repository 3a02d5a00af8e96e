"""``UpdateSize``: the relative size of the last optimizer update, per param group, batched.

For a param group with tensors ``w_i``, the update from the previous snapshot ``p_i`` is
``r = sqrt(sum ||w_i - p_i||^2) / sqrt(sum ||w_i||^2)`` (a plain ratio, no unit); :meth:`measure`
returns the largest ``r`` over the groups and takes a new snapshot. A group whose weights are near zero (a
zero-initialised bias group) is measured against ``max(||w||, ||W|| * sqrt(n / N))``, the norm it would have at
the whole model's RMS weight (``W`` all weights, ``N`` their count, ``n`` the group's), so it cannot hold the
warmup. It costs per update, all batched with ``torch._foreach_*`` (one kernel launch per op and device, no
Python loop over tensors): one in-place subtraction, two norms, one copy, and one host sync for the one scalar.
Those three private torch ops are used here only (torch has no public batched copy or subtraction, and its public
``get_total_norm`` combines half-precision norms in half precision, where overflow starts at 65504);
``tests/integration/test_host_private_api.py`` fails loudly if torch renames them.
The snapshot is a copy of the weights (the model's size again in memory), held only during the warmup and
never in a state dict.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # torch is imported where it is used: importing the package does not load it
    import torch

__all__ = ["UpdateProbe", "UpdateSize", "param_lists"]


def param_lists(param_groups: object) -> list[list[torch.Tensor]]:
    """The tensors of each group: torch's ``optimizer.param_groups`` (dicts with ``'params'``), fastai's
    ``opt.param_groups`` or ``opt.param_lists`` (lists of params); only tensors that require a gradient."""
    import torch

    if isinstance(param_groups, (torch.Tensor, str, bytes, Mapping)) or not isinstance(param_groups, Iterable):
        raise TypeError(
            "param_groups must be a sequence of param groups (optimizer.param_groups, or fastai's "
            f"opt.param_lists), got {type(param_groups).__name__}"
        )
    out = []
    for i, group in enumerate(param_groups):
        params = group["params"] if isinstance(group, Mapping) else group
        if isinstance(params, torch.Tensor) or not isinstance(params, Iterable):
            raise TypeError(f"param_groups[{i}] must hold a list of tensors, got {type(params).__name__}")
        tensors = list(params)
        for t in tensors:
            if not isinstance(t, torch.Tensor):
                raise TypeError(f"param_groups[{i}] holds a {type(t).__name__}, not a tensor")
        tensors = [t for t in tensors if t.requires_grad]
        if tensors:
            out.append(tensors)
    if not out:
        raise ValueError("param_groups has no trainable tensors to measure")
    return out


class UpdateSize:
    """Measures ``max over groups of ||w - w_prev|| / ||w||`` between two calls; see the module docs."""

    def __init__(self, param_groups: object) -> None:
        self.groups = param_lists(param_groups)
        self.snapshot: list[list[torch.Tensor]] | None = None

    def same_params(self, other: UpdateSize) -> bool:
        """True when both measure the very same tensors (the same optimizer's groups)."""
        mine = [id(t) for group in self.groups for t in group]
        return mine == [id(t) for group in other.groups for t in group]

    def take_snapshot(self) -> None:
        """Copy the current weights (allocated once; copied into in place afterwards)."""
        import torch

        with torch.no_grad():
            if self.snapshot is None:
                self.snapshot = [[t.detach().clone() for t in group] for group in self.groups]
            else:
                for prev, group in zip(self.snapshot, self.groups):
                    torch._foreach_copy_(prev, [t.detach() for t in group])

    def measure(self) -> float | None:
        """The relative update since the snapshot (None if there is none), then a new snapshot."""
        import torch

        if self.snapshot is None:
            self.take_snapshot()
            return None
        steps, sizes, counts = [], [], []
        with torch.no_grad():
            for prev, group in zip(self.snapshot, self.groups):
                weights = [t.detach() for t in group]
                torch._foreach_sub_(prev, weights)  # prev := prev - w = -(the update)
                steps.append(_total_norm(torch._foreach_norm(prev)))
                sizes.append(_total_norm(torch._foreach_norm(weights)))
                counts.append(sum(t.numel() for t in weights))
                torch._foreach_copy_(prev, weights)
            device = steps[0].device
            step, size = torch.stack([s.to(device) for s in steps]), torch.stack([s.to(device) for s in sizes])
            numel = torch.tensor(counts, dtype=size.dtype, device=device)
            # a group is measured against its norm, but at least the norm it would have at the model's RMS weight
            scale = torch.maximum(size, torch.linalg.vector_norm(size) * torch.sqrt(numel / numel.sum()))
            ratios = torch.where(scale > 0, step / scale, torch.where(step > 0, torch.inf, 0.0))
            return float(ratios.max().item())  # the one host sync


class UpdateProbe:
    """An :class:`UpdateSize` measured every ``every`` updates: it snapshots the weights just before an update that is
    due (update ``n`` is due when ``n % every == 0``, counting from 1) and measures it right after, so no copy is
    taken for the updates in between. Its state is the snapshot alone (never saved: re-taken by :meth:`prepare`)."""

    def __init__(self, param_groups: object, every: int) -> None:
        self.sizes, self.every = UpdateSize(param_groups), every

    @property
    def device(self) -> torch.device:
        return self.sizes.groups[0][0].device

    def prepare(self, done: int) -> None:
        """After ``done`` updates (a start or a resume): snapshot the weights if update ``done + 1`` is due."""
        if (done + 1) % self.every == 0:
            self.sizes.take_snapshot()

    def measure(self, done: int) -> float | None:
        """Update ``done`` just finished: its relative size if it was due (None otherwise), and a snapshot for the
        next due one."""
        if done % self.every == 0:
            return self.sizes.measure()
        self.prepare(done)
        return None

    def release(self) -> None:
        """No more measurements: drop the weight copy."""
        self.sizes.snapshot = None


def _total_norm(norms: Sequence[torch.Tensor]) -> torch.Tensor:
    """``sqrt(sum n_i^2)`` of per-tensor norms (on the first one's device, in float32 at least)."""
    import torch

    device, dtype = norms[0].device, torch.promote_types(norms[0].dtype, torch.float32)
    return torch.linalg.vector_norm(torch.stack([n.to(device, dtype) for n in norms]))

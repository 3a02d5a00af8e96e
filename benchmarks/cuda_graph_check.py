"""GPU check: an optimizer step captured in a CUDA graph follows the LRs the schedule writes in place.

    python benchmarks/cuda_graph_check.py            # on a machine with a CUDA GPU

A CUDA graph replays the kernels it captured with the memory addresses it captured, so a schedule
can only steer a captured step through a device tensor it updates *in place*. Here Adam runs with
``capturable=True`` and ``lr`` a CUDA tensor; forward, backward and ``optimizer.step()`` are captured
once; then, for every update ``k``, new data is copied into the static inputs, the graph is replayed
and the scheduler writes ``base * f(k + 1)`` into the same LR tensor. The check, per adapter
(``WarmupLR``, and timm's ``WarmupScheduler`` via ``step_update`` when timm is installed):

* the LR tensor keeps its identity and, before replay ``k``, holds ``base * f(k)``;
* after every replay the parameters equal those of an eager twin (same model, data and schedule,
  no graph) to float32 rounding: the replayed step used the new LR;
* a control graph whose LR is never updated drifts away from the twin, so the comparison would
  catch a step that ignored the new LR.

Exit status: 0 all checks passed, 1 a check failed, 2 no CUDA GPU here (nothing was checked).
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import torch

from warmup_plugins import WarmupSchedule
from warmup_plugins.torch import WarmupLR

SCHEDULE = WarmupSchedule(warmup_type="linear", warmup_steps=8, total_steps=30, decay_type="cosine", end_factor=0.1)
UPDATES = 36  # warmup, decay, and past T
BASE_LR = 1e-2
TOLERANCE = 1e-5  # relative, on the parameters after each update (graph and eager kernels may round differently)

Stepper = Callable[[torch.optim.Optimizer], Callable[[int], None]]  # optimizer -> after_update(num_updates)


def make_model(device: torch.device) -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(32, 64), torch.nn.ReLU(), torch.nn.Linear(64, 4)).to(device)


def make_optimizer(model: torch.nn.Module, device: torch.device) -> torch.optim.Adam:
    return torch.optim.Adam(model.parameters(), lr=torch.tensor(BASE_LR, device=device), capturable=True)


def data(device: torch.device) -> list[tuple[torch.Tensor, torch.Tensor]]:
    g = torch.Generator(device="cpu").manual_seed(1)
    return [(torch.randn(16, 32, generator=g).to(device), torch.randint(0, 4, (16,), generator=g).to(device))
            for _ in range(UPDATES)]  # fmt: skip


def loss_of(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.cross_entropy(model(x), y)


def eager_run(device: torch.device, stepper: Stepper) -> list[list[torch.Tensor]]:
    """The twin: the same updates without a graph; the parameters after each one."""
    model = make_model(device)
    opt = make_optimizer(model, device)
    after_update = stepper(opt)
    out = []
    for k, (x, y) in enumerate(data(device)):
        opt.zero_grad(set_to_none=True)
        loss_of(model, x, y).backward()
        opt.step()
        after_update(k + 1)
        out.append([p.detach().clone() for p in model.parameters()])
    return out


def graph_run(device: torch.device, stepper: Stepper, update_lr: bool = True) -> tuple[list[list[torch.Tensor]], str]:
    """Capture forward + backward + step once, then replay it for every update; the parameters after each one.

    Returns them and a description of any LR mismatch seen before a replay ('' if none)."""
    model = make_model(device)
    opt = make_optimizer(model, device)
    after_update = stepper(opt) if update_lr else (lambda n: None)
    lr = opt.param_groups[0]["lr"]
    batches = data(device)
    static_x, static_y = batches[0][0].clone(), batches[0][1].clone()

    # The documented recipe: a few warmup iterations on a side stream (they also build Adam's state), then
    # capture. They change the weights, so the twin is compared from a copy of the state taken before replays.
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    saved_lr = lr.clone()
    with torch.cuda.stream(stream):
        lr.zero_()  # warmup iterations with LR 0: they build the state without moving the weights
        for _ in range(3):
            opt.zero_grad(set_to_none=True)
            loss_of(model, static_x, static_y).backward()
            opt.step()
    torch.cuda.current_stream().wait_stream(stream)
    lr.copy_(saved_lr)
    for state in opt.state.values():  # forget the warmup iterations' moments and step counts
        for value in state.values():
            value.zero_()

    graph = torch.cuda.CUDAGraph()
    opt.zero_grad(set_to_none=True)
    with torch.cuda.graph(graph):
        loss_of(model, static_x, static_y).backward()
        opt.step()

    out, mismatch = [], ""
    for k, (x, y) in enumerate(batches):
        expected = float(torch.tensor(BASE_LR)) * SCHEDULE(k)
        if opt.param_groups[0]["lr"] is not lr:
            mismatch = mismatch or f"update {k}: the LR tensor was replaced (a captured graph would not see it)"
        elif update_lr and abs(lr.item() - expected) > 1e-6 * expected and not mismatch:
            mismatch = f"update {k}: LR tensor holds {lr.item():.8g}, schedule says {expected:.8g}"
        static_x.copy_(x)
        static_y.copy_(y)
        graph.replay()
        after_update(k + 1)
        out.append([p.detach().clone() for p in model.parameters()])
    torch.cuda.synchronize()
    return out, mismatch


def max_relative_difference(a: list[list[torch.Tensor]], b: list[list[torch.Tensor]]) -> float:
    worst = 0.0
    for params_a, params_b in zip(a, b):
        for pa, pb in zip(params_a, params_b):
            worst = max(worst, ((pa - pb).abs().max() / pb.abs().max().clamp_min(1e-12)).item())
    return worst


def warmup_lr(opt: torch.optim.Optimizer) -> Callable[[int], None]:
    scheduler = WarmupLR(opt, SCHEDULE)
    return lambda num_updates: scheduler.step()


def timm_scheduler(opt: torch.optim.Optimizer) -> Callable[[int], None]:
    from warmup_plugins.timm import WarmupScheduler

    scheduler = WarmupScheduler(opt, SCHEDULE, t_in_epochs=False)
    return lambda num_updates: scheduler.step_update(num_updates=num_updates)


def check(name: str, stepper: Stepper, device: torch.device) -> bool:
    eager = eager_run(device, stepper)
    replayed, mismatch = graph_run(device, stepper)
    frozen, _ = graph_run(device, stepper, update_lr=False)
    diff, control = max_relative_difference(replayed, eager), max_relative_difference(frozen, eager)
    ok = not mismatch and diff <= TOLERANCE and control > 100 * TOLERANCE
    lr_state = mismatch or "filled in place and on schedule"
    print(
        f"{'PASS' if ok else 'FAIL'} {name}: {UPDATES} replays; LR tensor {lr_state}; "
        f"max relative difference from the eager twin {diff:.2e} (tolerance {TOLERANCE:g}); "
        f"a graph with a frozen LR differs by {control:.2e} (must exceed {100 * TOLERANCE:g})"
    )
    return ok


def main() -> int:
    if not torch.cuda.is_available():
        print(
            "cuda_graph_check: needs a CUDA GPU (torch.cuda.is_available() is False here); nothing was checked",
            file=sys.stderr,
        )
        return 2
    device = torch.device("cuda")
    print(f"torch {torch.__version__}, {torch.cuda.get_device_name(device)}")
    steppers: dict[str, Stepper] = {"torch WarmupLR": warmup_lr}
    try:
        import timm  # noqa: F401

        steppers["timm WarmupScheduler.step_update"] = timm_scheduler
    except ImportError:
        print("timm is not installed: skipped the timm adapter")
    results = [check(name, stepper, device) for name, stepper in steppers.items()]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())

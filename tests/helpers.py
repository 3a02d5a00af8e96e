"""Small shared pieces for the tests: a tiny model, optimizers and a real training loop."""

import torch


def tiny_model(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))


def batches(n: int, seed: int = 1, bs: int = 4):
    g = torch.Generator().manual_seed(seed)
    return [(torch.randn(bs, 6, generator=g), torch.randint(0, 3, (bs,), generator=g)) for _ in range(n)]


def train_steps(model, opt, scheduler, data, *, step_fn=None):
    """A plain torch loop: forward, backward, optimizer step, scheduler step; returns the LR trace."""
    trace = []
    for x, y in data:
        trace.append([float(g["lr"]) for g in opt.param_groups])
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        (step_fn or scheduler.step)()
    return trace

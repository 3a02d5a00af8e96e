"""The AutoWU baseline (benchmarks/autowu.py): its decisions on synthetic loss curves with a known answer, its LR
path at every update, its GP against an independent implementation, and a real torch loop it drives."""

import math
import pickle
import statistics
import warnings

import numpy as np
import pytest
import torch

from benchmarks.autowu import AutoWU, GPFit, fit_gp, log_marginal_likelihood, past_minimum_probability, posterior

T, SPE = 1200, 30  # 40 epochs; the ramp: W = 600 updates from 1e-5 to 1, 120 updates a decade
BEST_LR = 1e-3  # the minimum of the noisy quadratic: at update 600 * log(1e-3/1e-5)/log(1e5) = 240


def quadratic(lr: float) -> float:
    """A loss with its minimum at BEST_LR, quadratic in log10(LR)."""
    return 0.5 * (math.log10(lr) - math.log10(BEST_LR)) ** 2 + 1.0


def one_param_optimizer(lr: float = 0.1) -> torch.optim.Optimizer:
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)


def replay(curve, seed: int, noise: float = 0.1, total: int = T, spe: int = SPE, **kwargs):
    """Feed ``curve(lr) + noise`` at the LR the scheduler set for each update; return it and the LR trace (the
    optimizer's LR before each update, and after the last: T + 1 values)."""
    optimizer = one_param_optimizer()
    scheduler = AutoWU(optimizer, total, spe, **kwargs)
    draws = np.random.default_rng(seed).standard_normal(total)
    trace = []
    for k in range(total):
        trace.append(optimizer.param_groups[0]["lr"])
        scheduler.step(curve(trace[-1]) + noise * float(draws[k]))
    trace.append(optimizer.param_groups[0]["lr"])
    return scheduler, trace


def expected_path(decision: int, peak: float, *, total: int = T, ramp: int = 600, cosine_from: int = 960):
    """The LR after k updates, k = 0..T, written out from the paper's description."""
    out = []
    for k in range(total + 1):
        if k < decision:
            out.append(1e-5 * (1.0 / 1e-5) ** (k / ramp))
        elif k < cosine_from:
            out.append(peak)
        else:
            out.append(peak * 0.5 * (1 + math.cos(math.pi * (k - cosine_from) / (total - cosine_from))))
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_noisy_quadratic_decides_after_exactly_three_positive_tests_near_the_minimum(seed):
    scheduler, _ = replay(quadratic, seed)
    report = scheduler.report()
    tests = report["tests"]
    outcomes = [t["positive"] for t in tests]
    assert report["decided"]
    assert report["decision_update"] == report["warmup_end_update"] == tests[-1]["update"]
    assert outcomes[-3:] == [True, True, True]
    assert not any(all(outcomes[i : i + 3]) for i in range(len(outcomes) - 3))  # no earlier run of 3
    assert [t["update"] for t in tests] == [SPE * (e + 1) for e in range(len(tests))]  # one test per epoch end
    assert all(t["update"] > 240 for t in tests if t["positive"])  # never before the true minimum (update 240)
    assert all(t["confidence"] > 0.95 for t in tests[-3:])
    assert report["peak_lr"] == pytest.approx(BEST_LR, rel=0.3)
    assert report["peak_lr"] == tests[-1]["lr_at_minimum"]
    assert report["updates_done"] == T and report["lr_path"]["lr_now"] == 0.0


def test_lr_path_is_exponential_then_held_then_cosine_and_zero_at_t():
    scheduler, trace = replay(quadratic, seed=0)
    decision, peak = scheduler.decision
    expected = expected_path(decision, peak)
    assert len(trace) == T + 1
    for k, (got, want) in enumerate(zip(trace, expected)):
        assert got == pytest.approx(want, rel=1e-12, abs=0), k
    ramp = np.array(trace[:decision])
    assert np.allclose(ramp[1:] / ramp[:-1], 1e5 ** (1 / 600), rtol=1e-12, atol=0)  # a constant ratio
    assert trace[0] == 1e-5
    assert set(trace[decision:960]) == {peak}  # held exactly, to the last 20% (update 960 = 0.8 T)
    assert trace[959] == trace[960] == peak and trace[961] < peak  # the cosine starts at 0.8 T
    assert trace[-2] > 0.0 and trace[-1] == 0.0  # no update at LR 0; 0 after the last
    path = scheduler.report()["lr_path"]
    assert path["hold"] == {"lr": peak, "from_update": decision, "to_update": 960}
    assert path["cosine"] == {"from_update": 960, "to_update": T, "from_lr": peak, "to_lr": 0.0}


def test_immediate_decay_starts_the_cosine_at_the_decision():
    held, _ = replay(quadratic, seed=0)
    scheduler, trace = replay(quadratic, seed=0, immediate_decay=True)
    decision, peak = scheduler.decision
    assert (decision, peak) == held.decision  # the decay does not change the warmup
    assert trace == pytest.approx(expected_path(decision, peak, cosine_from=decision), rel=1e-12, abs=0)
    assert trace[decision] == peak and trace[decision + 1] < peak and trace[-1] == 0.0
    assert scheduler.report()["lr_path"]["hold"] is None


def test_falling_loss_never_decides_and_holds_the_ramps_end():
    def falling(lr: float) -> float:
        return 0.5 + 2.0 * math.exp(-(math.log10(lr) + 5))  # falls all the way up the ramp

    scheduler, trace = replay(falling, seed=0, noise=0.05)
    report = scheduler.report()
    assert not report["decided"] and report["decision_update"] is None
    assert len(report["tests"]) == (600 - 1) // SPE  # every epoch end before the ramp's end, none after
    assert not any(t["positive"] for t in report["tests"])
    assert report["warmup_end_update"] == 600 and report["peak_lr"] == 1.0  # the ramp's end, max_lr
    assert trace == pytest.approx(expected_path(600, 1.0), rel=1e-12, abs=0)


def test_no_decision_while_still_ramping_reports_none():
    optimizer = one_param_optimizer()
    scheduler = AutoWU(optimizer, T, SPE)
    for _ in range(100):
        scheduler.step(1.0)
    report = scheduler.report()
    assert report["warmup_end_update"] is None and report["peak_lr"] is None and report["lr_path"]["hold"] is None
    assert optimizer.param_groups[0]["lr"] == pytest.approx(1e-5 * 1e5 ** (100 / 600), rel=1e-12)


def test_same_losses_give_the_same_lrs_and_the_same_report():
    first, trace_a = replay(quadratic, seed=3)
    second, trace_b = replay(quadratic, seed=3)
    assert trace_a == trace_b  # exactly
    strip = [{k: v for k, v in t.items() if k != "seconds"} for t in first.report()["tests"]]
    assert strip == [{k: v for k, v in t.items() if k != "seconds"} for t in second.report()["tests"]]
    restored = pickle.loads(pickle.dumps(first))
    assert restored.decision == first.decision


def test_more_than_condition_points_subsamples_votes_and_stays_deterministic():
    # a slow ramp: 1,000 losses by the decision, so each of the 5 votes conditions on its own 500-loss subset
    scheduler, trace = replay(quadratic, seed=0, total=4000, spe=100)
    tests = scheduler.report()["tests"]
    assert tests[-1]["points"] > 500
    assert all(len(set(t["probabilities"])) == 1 for t in tests if t["points"] <= 500)  # one subset: all data
    assert any(len(set(t["probabilities"])) > 1 for t in tests if t["points"] > 500)  # 5 subsets of 500
    assert scheduler.decision is not None and scheduler.decision[1] == pytest.approx(BEST_LR, rel=0.3)
    _, again = replay(quadratic, seed=0, total=4000, spe=100)
    assert trace == again


def test_non_finite_losses_are_left_out_of_the_fit():
    def spiky(lr: float) -> float:
        return math.nan if 3e-5 < lr < 4e-5 else quadratic(lr)

    scheduler, trace = replay(spiky, seed=0)
    report = scheduler.report()
    nans = sum(1 for lr in trace[: report["tests"][-1]["update"]] if 3e-5 < lr < 4e-5)
    assert nans > 0
    assert report["tests"][-1]["points"] == report["tests"][-1]["update"] - nans
    assert report["decided"] and report["peak_lr"] == pytest.approx(BEST_LR, rel=0.3)


# ---- the GP -----------------------------------------------------------------------------------------------
def _noisy_curve(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = np.arange(n) / n
    return x, np.exp(-4 * x) + 0.8 * (x - 0.6) ** 2 + 0.05 * rng.standard_normal(n)


def test_fit_maximises_the_marginal_likelihood():
    x, y = _noisy_curve(100)
    fit = fit_gp(x, y, 0.2)
    best = log_marginal_likelihood(fit, x, y)
    for field, step in (("mean", 0.01), ("outputscale", 0.05 * fit.outputscale), ("noise", 0.05 * fit.noise)):
        for sign in (-1, 1):
            moved = GPFit(**{**fit.__dict__, field: getattr(fit, field) + sign * step})
            assert log_marginal_likelihood(moved, x, y) < best, (field, sign)
    assert 0.03**2 < fit.noise < 0.07**2  # the noise drawn: 0.05


def test_posterior_agrees_with_scikit_learn():
    gaussian_process = pytest.importorskip("sklearn.gaussian_process")
    kernels = pytest.importorskip("sklearn.gaussian_process.kernels")
    x, y = _noisy_curve(200, seed=1)
    fit = fit_gp(x[::2], y[::2], 0.2)
    grid = np.linspace(0.0, x[-1], 50)
    mean, var_diff = posterior(fit, x, y, grid)
    kernel = kernels.ConstantKernel(fit.outputscale, "fixed") * kernels.RBF(fit.lengthscale, "fixed")
    reference = gaussian_process.GaussianProcessRegressor(kernel, alpha=fit.noise, optimizer=None)
    reference.fit(x[:, None], y - fit.mean)
    ref_mean, ref_cov = reference.predict(grid[:, None], return_cov=True)
    assert mean == pytest.approx(ref_mean + fit.mean, abs=1e-9)
    ref_var_diff = np.diag(ref_cov) + ref_cov[-1, -1] - 2 * ref_cov[:, -1]
    assert var_diff == pytest.approx(ref_var_diff, abs=1e-9)
    assert log_marginal_likelihood(fit, x, y) == pytest.approx(reference.log_marginal_likelihood_value_, rel=1e-9)


def test_past_minimum_probability_is_the_largest_pairwise_probability():
    mean = np.array([1.0, 0.2, 0.5, 0.6])
    var_diff = np.array([0.5, 0.04, 0.01, 0.0])
    probability, index = past_minimum_probability(mean, var_diff, jitter=1e-4)
    pairwise = [statistics.NormalDist(mean[i] - mean[-1], math.sqrt(var_diff[i] + 1e-4)).cdf(0.0) for i in range(3)]
    assert index == 1 and probability == pytest.approx(max(pairwise), rel=1e-12)


# ---- a real optimizer ---------------------------------------------------------------------------------------
def test_drives_a_real_torch_optimizer_and_finds_the_peak():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(640, 10, generator=g)
    y = x @ torch.randn(10, 1, generator=g) + 0.3 * torch.randn(640, 1, generator=g)
    model = torch.nn.Sequential(torch.nn.Linear(10, 32), torch.nn.Tanh(), torch.nn.Linear(32, 1))
    groups = [{"params": model[0].parameters(), "lr": 0.1}, {"params": model[2].parameters(), "lr": 0.01}]
    optimizer = torch.optim.Adam(groups)
    total, spe = 1000, 20
    with pytest.warns(UserWarning, match="one LR for every param group"):
        scheduler = AutoWU(optimizer, total, spe, max_lr=10.0)
    losses, used = [], []
    for _ in range(total // spe):
        order = torch.randperm(640, generator=g)
        for i in range(spe):
            batch = order[(i * 32) % 640 :][:32]
            used.append([group["lr"] for group in optimizer.param_groups])
            assert used[-1] == [scheduler.lr_at(len(losses))] * 2  # both groups, the schedule's LR
            loss = torch.nn.functional.mse_loss(model(x[batch]), y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            scheduler.step(loss.item())
    report = scheduler.report()
    assert report["decided"] and 3 * spe <= report["decision_update"] < 500
    epoch_means = np.array(losses[: report["decision_update"]]).reshape(-1, spe).mean(axis=1)
    best_epoch_lr = used[int(np.argmin(epoch_means)) * spe + spe // 2][0]  # mid-epoch LR of the best epoch
    assert best_epoch_lr / 3 < report["peak_lr"] < best_epoch_lr * 3
    assert np.mean(losses[-spe:]) < 0.2 * np.mean(losses[:spe])  # it trained
    assert optimizer.param_groups[0]["lr"] == optimizer.param_groups[1]["lr"] == 0.0  # at T


def test_tensor_lrs_are_filled_in_place():
    lr = torch.tensor(0.1)
    optimizer = torch.optim.Adam([torch.nn.Parameter(torch.zeros(2))], lr=lr)
    scheduler = AutoWU(optimizer, T, SPE)
    scheduler.step(1.0)
    assert optimizer.param_groups[0]["lr"] is lr and lr.item() == pytest.approx(1e-5 * 1e5 ** (1 / 600), rel=1e-6)


# ---- bad input ----------------------------------------------------------------------------------------------
def test_a_run_too_short_to_decide_names_total_steps():
    for total in (180, 181):  # W = 90 = 3 epochs: the third test would fall at W, where the ramp ends
        with pytest.raises(ValueError, match=rf"total_steps={total} .*total_steps must be >= 182"):
            AutoWU(one_param_optimizer(), total, 30)
    assert AutoWU(one_param_optimizer(), 182, 30).ramp_steps == 91


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"total_steps": 1200.0}, TypeError, "total_steps must be an int"),
        ({"steps_per_epoch": 0}, ValueError, "steps_per_epoch must be >= 1"),
        ({"min_lr": 0.0}, ValueError, "min_lr must be in"),
        ({"max_lr": 1e-6}, ValueError, "max_lr must be in"),
        ({"confidence": 1.0}, ValueError, "confidence must be in"),
        ({"max_warmup_fraction": 0.9}, ValueError, "their sum must be <= 1"),
        ({"immediate_decay": 1}, TypeError, "immediate_decay must be a bool"),
    ],
)
def test_bad_arguments_are_named(kwargs, error, match):
    arguments = {"total_steps": T, "steps_per_epoch": SPE, **kwargs}
    with pytest.raises(error, match=match):
        AutoWU(one_param_optimizer(), arguments.pop("total_steps"), arguments.pop("steps_per_epoch"), **arguments)


def test_bad_optimizer_and_loss_are_named():
    with pytest.raises(TypeError, match="optimizer must be a torch.optim.Optimizer"):
        AutoWU([{"params": [], "lr": 0.1}], T, SPE)
    scheduler = AutoWU(one_param_optimizer(), T, SPE)
    with pytest.raises(TypeError, match="loss must be a float"):
        scheduler.step("1.0")
    with pytest.raises(ValueError, match="loss must be one number"):
        scheduler.step(torch.ones(2))
    assert scheduler.updates == 0  # a refused step changes nothing
    scheduler.step(torch.tensor(1.0))
    assert scheduler.updates == 1


def test_steps_past_t_keep_the_final_lr():
    optimizer = one_param_optimizer()
    scheduler = AutoWU(optimizer, 200, 10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning with one param group
        for _ in range(205):
            scheduler.step(1.0)
    assert scheduler.updates == 200 and optimizer.param_groups[0]["lr"] == 0.0

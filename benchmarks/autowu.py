"""AutoWU, the automated warmup of Kim et al. (2021), written here from the paper and its repository as a
baseline for issue 27's benchmark. Not part of the library package.

Kim, Kim, Kim, Lee and Kim, "Automated Learning Rate Scheduler for Large-batch Training", 8th ICML Workshop on
AutoML, 2021 (arXiv 2107.05855); the authors' code: github.com/kakaobrain/autowu (``autowu.py``, commit 0760d21),
read but not copied. gpytorch is not needed: the exact Gaussian-process regression it uses there (constant mean,
scaled RBF kernel, Gaussian noise) is the few lines of numpy and float64 torch below.

The rule (paper: its abstract; repo: the README, its diagram ``assets/autowu-alg.png``, and ``autowu.py``'s
``AutoWU.step``, ``maybe_switch``, ``regress``, ``past_minimum_prob``):

* **Ramp.** ``lr(k) = min_lr * (max_lr / min_lr) ** (k / W)`` after ``k`` updates, ``W = int(0.5 * T)``: an
  exponential ramp over at most half the run.
* **Test, once per epoch** (after updates ``e * steps_per_epoch`` while ``k < W``). A GP is fitted to every
  finite training loss of the ramp so far, at ``x = i / n`` (``i``: the update's index from 0, ``n``: the losses
  so far). It tests whether the minimum of the smoothed loss curve is already behind: ``p = max_{s < t}
  P(f(s) < f(t))`` under the GP posterior of the noise-free curve ``f`` on a grid of 500 points up to the
  current update ``t`` (a lower bound of ``P(min_{s<t} f(s) < f(t))``). A *vote* is ``p > 0.95``; the test is
  positive when most of 5 votes are (5 GP conditionings on independent random subsets of at most 500 losses:
  identical when there are fewer; so the test is positive exactly when the votes' median ``p``, reported as
  the test's confidence, is above 0.95).
* **Decision** after 3 positive tests in a row (so never before the end of epoch 3): the LR becomes the ramp's
  LR at the argmin of the posterior mean (the mean over the 5 votes of that LR), held until ``C = ceil(0.8 T)``,
  then ``lr(k) = peak * (1 + cos(pi (k - C) / (T - C))) / 2``, ``lr(T) = 0``. ``immediate_decay=True`` is
  the other decay the README reports using (the repo's ``immediate_cooldown``): the same cosine from the
  decision to ``T``.
* **No decision by the ramp's end** (``k = W``): as the repo does, the ramp's last LR is held (``max_lr``) and
  decayed the same way (cosine over the last 20%, or from ``W`` with ``immediate_decay``).

Where this differs from the repo (none of these details is in the paper text available here, its abstract; the
brief asks for hyper-parameters fitted by maximising the marginal likelihood):

* GP hyper-parameters: maximised at every test (mean and output scale in closed form, the noise-to-signal
  ratio by a grid and golden-section search of the profile likelihood: exact and deterministic). The repo takes
  100 Adam steps (LR 0.01) per test, warm-started from the previous test, from noise 1e-3, under gpytorch's
  noise floor 1e-4; its hyper-parameters therefore move slowly and each test depends on the earlier ones.
* The subsets are drawn by a generator seeded with ``(seed, epoch)``, so each test is a function of its own
  losses; the repo draws them from one torch generator seeded 0 across the run.
* The test grid ends at the current update ``x = (n - 1) / n``; the repo's ends one update beyond, at ``x = 1``.
  The LR at the argmin is the ramp's LR at that (fractional) update; the repo interpolates
  ``min_lr * (lr_now / min_lr) ** x``, which is up to one ramp step lower.
* Closed-form LRs: the ramp reaches ``max_lr`` at ``W`` (the repo's ``ExponentialLR`` holds
  ``max_lr / gamma`` when the ramp ends undecided), and the cosine reaches 0 at ``T``, after the last update
  (the repo's ``CosineAnnealingLR`` is one update ahead, ``k - C + 1`` for ``k - C``, so its last update runs
  at LR 0; past ``T`` it would rise again, here the LR stays 0).
* A run whose ramp ends before the 3rd epoch's test raises ``ValueError`` (the repo would ramp to ``max_lr``
  without ever testing enough), and ``step`` takes a float (the repo's takes a tensor).
* Only the variances of ``f(s) - f(t)`` are computed (the diagonal and last column of the posterior
  covariance), not the repo's whole 500 x 500 covariance: the same numbers for less work.

Kept from the repo, and limits of the method: one LR for every param group (a warning when there are several);
decisions once per epoch; no ``state_dict`` (no resume); no agreement between DDP ranks beyond a shared seed.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import asdict, dataclass

import numpy as np
import torch

# Log noise-to-signal ratios searched by the fit (noise variance / output scale); the golden-section refinement
# runs inside the best grid cell.
_LOG_RATIO_GRID = np.linspace(math.log(1e-6), math.log(1e4), 101)
_GOLDEN_STEPS = 40


@dataclass(frozen=True)
class GPFit:
    """Hyper-parameters of ``y = mean + f(x) + noise``, ``f ~ GP(0, outputscale * exp(-(x - x')^2 / (2 l^2)))``,
    ``noise ~ N(0, noise)``; ``lengthscale`` in the units of ``x``."""

    mean: float
    outputscale: float
    noise: float
    lengthscale: float


def rbf(a: np.ndarray, b: np.ndarray, lengthscale: float) -> np.ndarray:
    """The RBF correlation ``exp(-(a_i - b_j)^2 / (2 lengthscale^2))``, shape ``(len(a), len(b))``."""
    d = (a[:, None] - b[None, :]) / lengthscale
    return np.exp(-0.5 * d * d)


def log_marginal_likelihood(fit: GPFit, x: np.ndarray, y: np.ndarray) -> float:
    """``log N(y; mean, outputscale * R + noise * I)``, the quantity :func:`fit_gp` maximises."""
    cov = fit.outputscale * rbf(x, x, fit.lengthscale) + fit.noise * np.eye(len(x))
    chol = np.linalg.cholesky(cov)
    z = np.linalg.solve(chol, y - fit.mean)
    return float(-0.5 * z @ z - np.log(np.diag(chol)).sum() - 0.5 * len(x) * math.log(2 * math.pi))


def fit_gp(x: np.ndarray, y: np.ndarray, lengthscale: float) -> GPFit:
    """Mean, output scale and noise maximising the marginal likelihood of ``y`` at ``x`` (lengthscale fixed).

    With ``A = R + r I`` (``r`` = noise / output scale), the best mean is ``1'A^-1 y / 1'A^-1 1`` and the best
    output scale ``(y - mean)' A^-1 (y - mean) / n``; what is left is ``-n/2 log(outputscale) - 1/2 log|A|``, a
    function of ``r`` alone, maximised over ``r`` in [1e-6, 1e4] (a grid of 101 log-spaced values, then 40
    golden-section steps). One eigendecomposition of ``R`` makes each evaluation O(n)."""
    n = len(x)
    eigenvalues, vectors = (t.numpy() for t in torch.linalg.eigh(torch.from_numpy(rbf(x, x, lengthscale))))
    eigenvalues = np.clip(eigenvalues, 0.0, None)
    y_rot = vectors.T @ y
    ones_rot = vectors.sum(axis=0)

    def profile(log_ratio: float) -> tuple[float, float, float]:
        weights = 1.0 / (eigenvalues + math.exp(log_ratio))
        mean = float(weights @ (ones_rot * y_rot) / (weights @ (ones_rot * ones_rot)))
        residual = y_rot - mean * ones_rot
        scale = float(weights @ (residual * residual)) / n
        value = -0.5 * n * math.log(max(scale, 1e-300)) + 0.5 * float(np.log(weights).sum())
        return value, mean, scale

    values = [profile(u)[0] for u in _LOG_RATIO_GRID]
    best = int(np.argmax(values))
    lo = _LOG_RATIO_GRID[max(best - 1, 0)]
    hi = _LOG_RATIO_GRID[min(best + 1, len(_LOG_RATIO_GRID) - 1)]
    golden = (math.sqrt(5) - 1) / 2
    a, b = hi - golden * (hi - lo), lo + golden * (hi - lo)
    fa, fb = profile(a)[0], profile(b)[0]
    for _ in range(_GOLDEN_STEPS):
        if fa >= fb:
            hi, b, fb = b, a, fa
            a = hi - golden * (hi - lo)
            fa = profile(a)[0]
        else:
            lo, a, fa = a, b, fb
            b = lo + golden * (hi - lo)
            fb = profile(b)[0]
    candidates = [(values[best], float(_LOG_RATIO_GRID[best])), (fa, a), (fb, b)]
    log_ratio = max(candidates)[1]  # never worse than the best grid point
    _, mean, scale = profile(log_ratio)
    return GPFit(mean=mean, outputscale=scale, noise=scale * math.exp(log_ratio), lengthscale=lengthscale)


def posterior(fit: GPFit, x: np.ndarray, y: np.ndarray, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The posterior of the noise-free curve ``f`` on ``grid`` given ``y`` at ``x``: its mean, and the variance
    of ``f(grid_i) - f(grid_last)`` for every ``i``."""
    # torch for the triangular solves (numpy has none); float64 on the CPU, so the same inputs give the same bits
    a = torch.from_numpy(rbf(x, x, fit.lengthscale) + (fit.noise / fit.outputscale) * np.eye(len(x)))
    chol = torch.linalg.cholesky(a)
    cross = torch.from_numpy(rbf(x, grid, fit.lengthscale))  # (n, m)
    alpha = torch.cholesky_solve(torch.from_numpy(y - fit.mean)[:, None], chol)[:, 0]
    mean = (fit.mean + cross.T @ alpha).numpy()
    v = torch.linalg.solve_triangular(chol, cross, upper=False)  # the posterior covariance: outputscale (R - v'v)
    var = fit.outputscale * (1.0 - (v * v).sum(dim=0).numpy())
    cov_last = fit.outputscale * (rbf(grid, grid[-1:], fit.lengthscale)[:, 0] - (v.T @ v[:, -1]).numpy())
    return mean, np.clip(var + var[-1] - 2.0 * cov_last, 0.0, None)


def past_minimum_probability(mean: np.ndarray, var_diff: np.ndarray, jitter: float) -> tuple[float, int]:
    """``max_{i < last} P(f_i < f_last)`` for ``f_i - f_last ~ N(mean_i - mean_last, var_diff_i + jitter)``,
    and the ``i`` attaining it. ``jitter`` is the repo's 1e-4 (loss units squared) added for stability."""
    z = (mean[-1] - mean[:-1]) / np.sqrt(var_diff[:-1] + jitter)
    i = int(np.argmax(z))
    return 0.5 * math.erfc(-float(z[i]) / math.sqrt(2.0)), i


@dataclass(frozen=True)
class EpochTest:
    """One epoch-end test: positive when most votes' probability exceeds the confidence."""

    epoch: int
    update: int
    positive: bool
    confidence: float  # the median of the votes' probabilities
    probabilities: tuple[float, ...]
    votes_positive: int
    lr_at_minimum: float
    update_at_minimum: float
    points: int
    fit: GPFit
    seconds: float

    def to_json(self) -> dict:
        data = asdict(self)
        data["probabilities"] = list(self.probabilities)
        return data


def _positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
    return value


def _in_range(name: str, value: object, low: float, high: float, *, closed_high: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a float, got {type(value).__name__} {value!r}")
    ok = low < value <= high if closed_high else low < value < high
    if not ok:
        raise ValueError(f"{name} must be in ({low}, {high}{']' if closed_high else ')'}, got {value}")
    return float(value)


class AutoWU:
    """AutoWU's LR schedule driving ``optimizer``: call :meth:`step` once after every optimizer update with that
    update's training loss. See the module docstring for the rule and where it comes from.

    Arguments (defaults from the repo's ``autowu.py``, ``AutoWU.__init__``, ``Regressor`` and ``regress``; the
    paper's abstract gives no numbers):

    * ``total_steps`` ``T``: optimizer updates in the run; ``steps_per_epoch``: updates between tests.
    * ``min_lr=1e-5``, ``max_lr=1.0``: the ramp's ends (repo ``min_lr``, ``max_lr``).
    * ``max_warmup_fraction=0.5``: the ramp lasts ``W = int(0.5 T)`` updates (repo, same name).
    * ``decay_fraction=0.2``: the cosine covers the last 20% (repo ``cooldown_fraction``).
    * ``immediate_decay=False``: hold, then cosine (repo ``immediate_cooldown=False``, its class default; its
      ``train.py`` defaults to ``True``, the cosine at once; the README shows both).
    * ``confidence=0.95``, ``patience=3``, ``votes=5`` (repo ``warmup_phase_states``).
    * ``lengthscale=0.2``: the RBF lengthscale, fixed, in units of the ramp so far (repo ``Regressor``).
    * ``fit_points=100``, ``condition_points=500``, ``grid_points=500``: the subset the hyper-parameters are fitted
      on, each vote's subset, the prediction grid (repo ``regress``).
    * ``jitter=1e-4``: added to each difference's variance (repo ``past_minimum_prob``).
    * ``seed=0``: the subsets' generator (repo ``Regressor._rng_generator``).

    A run whose ramp is shorter than ``patience`` epochs could never decide: a ``ValueError`` names
    ``total_steps``. Non-finite losses are left out of the fit (as in the repo). After ``T`` the LR stays 0.
    """

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        total_steps: int,
        steps_per_epoch: int,
        *,
        min_lr: float = 1e-5,
        max_lr: float = 1.0,
        max_warmup_fraction: float = 0.5,
        decay_fraction: float = 0.2,
        immediate_decay: bool = False,
        confidence: float = 0.95,
        patience: int = 3,
        votes: int = 5,
        lengthscale: float = 0.2,
        fit_points: int = 100,
        condition_points: int = 500,
        grid_points: int = 500,
        jitter: float = 1e-4,
        seed: int = 0,
    ) -> None:
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
        self.total_steps = _positive_int("total_steps", total_steps)
        self.steps_per_epoch = _positive_int("steps_per_epoch", steps_per_epoch)
        self.min_lr = _in_range("min_lr", min_lr, 0.0, math.inf)
        self.max_lr = _in_range("max_lr", max_lr, self.min_lr, math.inf)
        self.max_warmup_fraction = _in_range("max_warmup_fraction", max_warmup_fraction, 0.0, 1.0)
        self.decay_fraction = _in_range("decay_fraction", decay_fraction, 0.0, 1.0, closed_high=True)
        if not isinstance(immediate_decay, bool):
            raise TypeError(f"immediate_decay must be a bool, got {type(immediate_decay).__name__}")
        self.immediate_decay = immediate_decay
        self.confidence = _in_range("confidence", confidence, 0.5, 1.0)
        self.patience = _positive_int("patience", patience)
        self.votes = _positive_int("votes", votes)
        self.lengthscale = _in_range("lengthscale", lengthscale, 0.0, math.inf)
        self.fit_points = _positive_int("fit_points", fit_points)
        self.condition_points = _positive_int("condition_points", condition_points)
        self.grid_points = _positive_int("grid_points", grid_points)
        self.jitter = _in_range("jitter", jitter, 0.0, math.inf)
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise TypeError(f"seed must be an int, got {type(seed).__name__} {seed!r}")
        if seed < 0:
            raise ValueError(f"seed must be >= 0, got {seed}")
        self.seed = seed

        self.ramp_steps = int(self.max_warmup_fraction * self.total_steps)  # W
        self.decay_start = self.total_steps - math.floor(self.decay_fraction * self.total_steps + 1e-9)  # C
        needed = self.patience * self.steps_per_epoch
        if self.ramp_steps <= needed:
            shortest = math.ceil((needed + 1) / self.max_warmup_fraction) - 1
            while int(self.max_warmup_fraction * shortest) <= needed:
                shortest += 1
            raise ValueError(
                f"total_steps={total_steps} gives a ramp of {self.ramp_steps} updates (max_warmup_fraction="
                f"{max_warmup_fraction}); AutoWU tests once per epoch (steps_per_epoch={steps_per_epoch}) and "
                f"decides after {self.patience} positive tests, so it could never decide: total_steps must be "
                f">= {shortest}"
            )
        if self.decay_start >= self.total_steps:
            raise ValueError(
                f"decay_fraction={decay_fraction} leaves no update for the cosine of a {total_steps}-update run"
            )
        if not self.immediate_decay and self.ramp_steps > self.decay_start:
            raise ValueError(
                f"max_warmup_fraction={max_warmup_fraction} and decay_fraction={decay_fraction} overlap: "
                "their sum must be <= 1 (or pass immediate_decay=True)"
            )

        self.optimizer = optimizer
        if len(optimizer.param_groups) > 1:
            warnings.warn(
                "AutoWU sets one LR for every param group (a limit of the method): the groups' LR ratios are lost",
                UserWarning,
                stacklevel=2,
            )
        self.updates = 0
        self.losses: list[float] = []  # the ramp's losses, one per update
        self.tests: list[EpochTest] = []
        self.decision: tuple[int, float] | None = None  # (update, peak LR)
        self._ramp_over = False
        self._apply(self.lr_at(0))

    # ---- the schedule -------------------------------------------------------------------------------------
    def ramp_lr(self, k: float) -> float:
        """The ramp's LR after ``k`` updates (``k`` may be fractional): ``min_lr * (max_lr/min_lr)^(k/W)``."""
        return self.min_lr * (self.max_lr / self.min_lr) ** (k / self.ramp_steps)

    def lr_at(self, k: int) -> float:
        """The LR for update ``k + 1`` (after ``k`` updates), given what has been decided so far."""
        k = min(max(k, 0), self.total_steps)
        # undecided: the ramp runs to W, then max_lr is held (what the repo does when the ramp ends undecided)
        start, peak = self.decision if self.decision is not None else (self.ramp_steps, self.max_lr)
        if k < start:
            return self.ramp_lr(k)
        cos_start = start if self.immediate_decay else self.decay_start
        if k < cos_start:
            return peak
        return peak * 0.5 * (1.0 + math.cos(math.pi * (k - cos_start) / (self.total_steps - cos_start)))

    def get_last_lr(self) -> list[float]:
        """The LR now set in every param group (as torch schedulers report it)."""
        return [self.lr_at(self.updates)] * len(self.optimizer.param_groups)

    def _apply(self, lr: float) -> None:
        for group in self.optimizer.param_groups:
            if isinstance(group["lr"], torch.Tensor):
                group["lr"].fill_(lr)
            else:
                group["lr"] = lr

    # ---- per update -----------------------------------------------------------------------------------------
    def step(self, loss: float) -> None:
        """After an optimizer update: record its training loss, test at an epoch's end, set the next LR."""
        if isinstance(loss, torch.Tensor):
            if loss.numel() != 1:
                raise ValueError(f"loss must be one number, got a tensor of shape {tuple(loss.shape)}")
            loss = loss.item()
        if isinstance(loss, bool) or not isinstance(loss, (int, float)):
            raise TypeError(f"loss must be a float, got {type(loss).__name__}")
        if self.updates < self.total_steps:
            self.updates += 1
            if self.decision is None and not self._ramp_over:
                if self.updates >= self.ramp_steps:
                    self._ramp_over = True  # the repo checks this before recording the loss: no test at W
                else:
                    self.losses.append(float(loss))
                    if self.updates % self.steps_per_epoch == 0:
                        self._epoch_test()
        self._apply(self.lr_at(self.updates))

    def _epoch_test(self) -> None:
        started = time.perf_counter()
        n = len(self.losses)
        epoch = n // self.steps_per_epoch
        y = np.asarray(self.losses, dtype=np.float64)
        valid = np.flatnonzero(np.isfinite(y))
        if len(valid) >= 3 and np.ptp(y[valid]) > 0:
            threads = torch.get_num_threads()
            torch.set_num_threads(1)  # matrices of <= 500: one thread is faster here, and the bits do not depend
            try:  # on the caller's thread count
                fit, probabilities, minima = self._votes(y, valid, epoch)
            finally:
                torch.set_num_threads(threads)
        else:  # too few finite losses, or all equal: nothing to detect
            fit = GPFit(mean=math.nan, outputscale=math.nan, noise=math.nan, lengthscale=self.lengthscale)
            probabilities, minima = [0.0] * self.votes, [float(n - 1)] * self.votes

        votes_positive = sum(p > self.confidence for p in probabilities)
        self.tests.append(
            EpochTest(
                epoch=epoch,
                update=self.updates,
                positive=votes_positive > self.votes / 2,
                confidence=float(np.median(probabilities)),
                probabilities=tuple(probabilities),
                votes_positive=votes_positive,
                lr_at_minimum=float(np.mean([self.ramp_lr(i) for i in minima])),
                update_at_minimum=float(np.mean(minima)) + 1.0,  # the update whose loss it is (from 1)
                points=len(valid),
                fit=fit,
                seconds=time.perf_counter() - started,
            )
        )
        recent = self.tests[-self.patience :]
        if len(recent) == self.patience and all(t.positive for t in recent):
            self.decision = (self.updates, self.tests[-1].lr_at_minimum)

    def _votes(self, y: np.ndarray, valid: np.ndarray, epoch: int) -> tuple[GPFit, list[float], list[float]]:
        """The fit, then each vote's probability and argmin (as an update index from 0, fractional)."""
        n = len(y)
        x = np.arange(n, dtype=np.float64) / n
        grid = np.linspace(0.0, (n - 1) / n, self.grid_points)
        rng = np.random.default_rng((self.seed, epoch))

        def subset(size: int) -> np.ndarray:
            return valid if len(valid) <= size else np.sort(rng.choice(valid, size=size, replace=False))

        chosen = subset(self.fit_points)
        fit = fit_gp(x[chosen], y[chosen], self.lengthscale)
        results: dict[bytes, tuple[float, float]] = {}  # with <= condition_points losses, every vote is the same
        probabilities, minima = [], []
        for _ in range(self.votes):
            chosen = subset(self.condition_points)
            key = chosen.tobytes()
            if key not in results:
                mean, var_diff = posterior(fit, x[chosen], y[chosen], grid)
                probability, _ = past_minimum_probability(mean, var_diff, self.jitter)
                results[key] = (probability, float(grid[int(np.argmin(mean))]) * n)
            probabilities.append(results[key][0])
            minima.append(results[key][1])
        return fit, probabilities, minima

    # ---- what happened --------------------------------------------------------------------------------------
    def report(self) -> dict:
        """A plain (JSON-ready) record: where the warmup ended, the chosen peak, every test, the LR path."""
        if self.decision is not None:
            end, peak = self.decision
        elif self._ramp_over:
            end, peak = self.ramp_steps, self.max_lr
        else:
            end, peak = None, None
        if end is None:
            hold, cosine_from = None, None
        else:
            cosine_from = end if self.immediate_decay else self.decay_start
            hold = None if cosine_from == end else {"lr": peak, "from_update": end, "to_update": cosine_from}
        return {
            "method": "AutoWU (Kim et al. 2021, arXiv 2107.05855)",
            "updates_done": self.updates,
            "decided": self.decision is not None,
            "decision_update": None if self.decision is None else self.decision[0],
            "warmup_end_update": end,
            "peak_lr": peak,
            "peak_over_max_lr": None if peak is None else peak / self.max_lr,
            "tests": [t.to_json() for t in self.tests],
            "test_seconds_total": sum(t.seconds for t in self.tests),
            "lr_path": {
                "ramp": {"from_lr": self.min_lr, "towards_lr": self.max_lr, "over_updates": self.ramp_steps},
                "ramp_end_update": end,
                "ramp_end_lr": None if end is None else self.ramp_lr(end),
                "hold": hold,
                "cosine": None
                if end is None
                else {"from_update": cosine_from, "to_update": self.total_steps, "from_lr": peak, "to_lr": 0.0},
                "lr_now": self.lr_at(self.updates),
            },
            "settings": {
                "total_steps": self.total_steps,
                "steps_per_epoch": self.steps_per_epoch,
                "min_lr": self.min_lr,
                "max_lr": self.max_lr,
                "max_warmup_fraction": self.max_warmup_fraction,
                "decay_fraction": self.decay_fraction,
                "immediate_decay": self.immediate_decay,
                "confidence": self.confidence,
                "patience": self.patience,
                "votes": self.votes,
                "lengthscale": self.lengthscale,
                "fit_points": self.fit_points,
                "condition_points": self.condition_points,
                "grid_points": self.grid_points,
                "jitter": self.jitter,
                "seed": self.seed,
            },
        }

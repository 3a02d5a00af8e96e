"""Training loops for the CIFAR-10 benchmark: one plain loop (hooks decide which scheduler calls
it makes: torch per update, timm's ``step_update``/``step``, the seed's per-epoch ``LambdaLR``)
and fastai's own ``Learner.fit``. Every run sees the same initial weights, the same batch order
and the same augmentation draws."""

from __future__ import annotations

import contextlib
import math
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field

import torch

from benchmarks.data import Split, augment, batch_order, normalize
from benchmarks.recipes import Recipe


@dataclass
class RunResult:
    """What one training run produced: per-update LR and loss, per-epoch curves, times."""

    label: str
    adapter: str
    model: str
    lrs: list[float] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)
    epoch_seconds: list[float] = field(default_factory=list)

    @property
    def diverged(self) -> bool:
        """NaN/inf at any update, or a final epoch's mean loss above ln 10 (worse than chance)."""
        return any(not math.isfinite(v) for v in self.losses) or not self.train_loss[-1] <= math.log(10)

    def to_json(self) -> dict:
        out = asdict(self)
        out["diverged"] = self.diverged
        return out


class Trainer:
    """A recipe on data already on the device: builds runs and feeds them identical batches."""

    def __init__(self, recipe: Recipe, train: Split, test: Split, device: str, seed: int, max_batches: int | None):
        self.recipe, self.train, self.test, self.device, self.seed = recipe, train, test, device, seed
        self.steps_per_epoch = len(train) // recipe.batch_size
        if max_batches is not None:
            self.steps_per_epoch = min(self.steps_per_epoch, max_batches)
        if self.steps_per_epoch < 1:
            raise ValueError(f"{len(train)} training images are fewer than one batch of {recipe.batch_size}")
        torch.manual_seed(seed)
        self._initial = recipe.model().state_dict()

    def model(self) -> torch.nn.Module:
        model = self.recipe.model()
        model.load_state_dict(self._initial)
        model = model.to(self.device)
        return model.to(memory_format=torch.channels_last) if self.recipe.channels_last else model

    def autocast(self) -> contextlib.AbstractContextManager:
        """bf16 autocast on a GPU; fp32 elsewhere (CPUs without bf16 units emulate it, ~7x slower)."""
        if not (self.recipe.bf16 and torch.device(self.device).type == "cuda"):
            return contextlib.nullcontext()
        return torch.autocast(torch.device(self.device).type, dtype=torch.bfloat16)

    def _prepare(self, images: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        if generator is not None:
            images = augment(images, generator)
        x = normalize(images, self.recipe.mean, self.recipe.std)
        return x.contiguous(memory_format=torch.channels_last) if self.recipe.channels_last else x

    def epoch_batches(self, epoch: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """This epoch's training batches: a seeded order and seeded augmentation, the same for every run."""
        generator = None
        if self.recipe.augment:
            generator = torch.Generator(device=self.device).manual_seed(self.seed * 1_000 + epoch)
        index = batch_order(len(self.train), self.recipe.batch_size, epoch, self.seed)[: self.steps_per_epoch]
        for idx in index:
            idx = idx.to(self.device)
            yield self._prepare(self.train.images[idx], generator), self.train.labels[idx]

    def test_batches(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for start in range(0, len(self.test), 1024):
            yield self._prepare(self.test.images[start : start + 1024], None), self.test.labels[start : start + 1024]

    @torch.no_grad()
    def evaluate(self, model: torch.nn.Module) -> float:
        model.eval()
        correct = torch.zeros((), device=self.device)
        for x, y in self.test_batches():
            with self.autocast():
                correct += (model(x).argmax(1) == y).sum()
        model.train()
        return correct.item() / len(self.test)


LOG_EVERY = 30.0  # seconds between progress lines when the output is not a terminal
_START = time.monotonic()
_last_line = [_START]


def duration(seconds: float) -> str:
    """``40 s``, ``12 min``, ``1.5 h``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


@dataclass
class Progress:
    """The trainings of one invocation, once :meth:`plan` is called: which one runs (``training 2 of 5``) and
    the time left, from the rate measured so far (updates per second of wall time, evaluations included)."""

    runs: int = 0  # the trainings planned (0: not planned: no count and no time left)
    updates: int = 0  # their optimizer updates, all together
    run: int = 0
    done: int = 0
    started: float = 0.0

    def plan(self, runs: int, updates: int) -> None:
        self.runs, self.updates, self.run, self.done, self.started = runs, updates, 0, 0, time.monotonic()

    def begin(self, label: str) -> None:
        """A training starts: one line, ``training 2 of 5: <label>; <rate>, about 9 min left``."""
        self.run += 1
        if self.runs:
            print(f"training {self.run} of {self.runs}: {label}; {self.left()}", flush=True)

    def advance(self, updates: int) -> None:
        self.done += updates

    def where(self) -> str:
        return f"training {self.run} of {self.runs}" if self.runs else ""

    def rate(self) -> float | None:
        """Updates per second so far (None before the first update, or when not planned)."""
        elapsed = time.monotonic() - self.started
        return self.done / elapsed if self.runs and self.done and elapsed > 0 else None

    def left(self) -> str:
        """``0.75 updates/s, about 12 min left`` (or, before the first update, that it is not known yet)."""
        rate = self.rate()
        if rate is None:
            return "time left: known after the first updates"
        return f"{rate:.2f} updates/s, about {duration(max(self.updates - self.done, 0) / rate)} left"


PROGRESS = Progress()  # planned by the demo; the loops below report to it


class EpochBar:
    """A tqdm bar per epoch (running mean loss, LR, ETA) on a terminal. When stdout or stderr is not a
    terminal (a log file, a pipe): a progress line on stdout at most every ``LOG_EVERY`` seconds (run,
    epoch, updates done, elapsed), and one line per finished run.

    The running loss is read from the device at most twice a second, so the bar adds no per-update sync."""

    def __init__(self, label: str, epoch: int, epochs: int, steps: int) -> None:
        from tqdm.auto import tqdm

        self.label, self.epoch, self.epochs, self.steps = label, epoch, epochs, steps
        run = f"{PROGRESS.run}/{PROGRESS.runs} " if PROGRESS.runs else ""
        desc = f"  {run}{label[:40]:40s} {epoch + 1}/{epochs}"
        self.bar = tqdm(total=steps, desc=desc, leave=False, disable=None)
        self.log = self.bar.disable or not sys.stdout.isatty()
        self.last, self.done = 0.0, 0

    def update(self, done: int, losses: torch.Tensor, lr: float) -> None:
        """After ``done`` updates of this epoch; ``losses[:done]`` holds their losses."""
        PROGRESS.advance(done - self.done)
        self.done = done
        if self.log:
            now = time.monotonic()
            if now - _last_line[0] >= LOG_EVERY:
                _last_line[0] = now
                where = f"  {PROGRESS.where()}, " if PROGRESS.runs else "  "
                left = f", {PROGRESS.left()}" if PROGRESS.runs else ""
                print(
                    f"{where}{self.label}: epoch {self.epoch + 1}/{self.epochs}, update {done}/{self.steps}, "
                    f"{now - _START:.0f} s elapsed{left}",
                    flush=True,
                )
        if self.bar.disable:
            return
        self.bar.update(done - self.bar.n)
        now = time.monotonic()
        if now - self.last > 0.5:
            self.last = now
            postfix = {"loss": f"{losses[:done].mean().item():.3f}", "lr": f"{lr:.2e}"}
            rate = PROGRESS.rate()
            if rate is not None:
                postfix["left"] = duration(max(PROGRESS.updates - PROGRESS.done, 0) / rate)
            self.bar.set_postfix(postfix)

    def close(self, result: RunResult) -> None:
        self.bar.close()
        if self.epoch + 1 == self.epochs:
            sys.stderr.write(
                f"  {self.label:42s} loss {result.train_loss[-1]:.3f}  acc {result.test_accuracy[-1]:.2%}"
                f"  {sum(result.epoch_seconds):.1f}s\n"
            )
            sys.stderr.flush()


def nothing(*_: object) -> None:
    """A hook that makes no scheduler call."""


def call_step(scheduler: object, *_: object) -> None:
    """A hook calling ``scheduler.step()`` (torch schedulers, per update or per epoch)."""
    scheduler.step()


def step_with_loss(scheduler: object, updates: int, loss: torch.Tensor) -> None:
    """``scheduler.step(loss=...)``: feeds an adaptive warmup (one device sync per update)."""
    scheduler.step(loss=loss.item())


def timm_step_update(scheduler: object, updates: int, loss: torch.Tensor | None = None) -> None:
    """timm's per-update call: ``step_update(num_updates)`` with the updates done so far."""
    scheduler.step_update(num_updates=updates)


def timm_step_epoch(scheduler: object, epoch: int) -> None:
    """timm's epoch-end call: ``step(epoch + 1)``."""
    scheduler.step(epoch + 1)


def plain_loop(
    trainer: Trainer,
    label: str,
    adapter: str,
    make_scheduler: Callable[[torch.optim.Optimizer], object],
    on_update: Callable[[object, int, torch.Tensor], None],
    on_epoch: Callable[[object, int], None],
) -> RunResult:
    """forward, loss, backward, ``optimizer.step()``, then ``on_update(scheduler, updates_done, loss)``;
    ``on_epoch(scheduler, epoch)`` after each epoch. The LR of every update is recorded."""
    recipe = trainer.recipe
    model = trainer.model()
    optimizer = recipe.optimizer(model)
    scheduler = make_scheduler(optimizer)
    loss_fn = recipe.loss()
    result = RunResult(label, adapter, recipe.name)
    PROGRESS.begin(label)
    updates = 0
    for epoch in range(recipe.epochs):
        start = time.perf_counter()
        losses = torch.empty(trainer.steps_per_epoch, device=trainer.device)
        bar = EpochBar(label, epoch, recipe.epochs, trainer.steps_per_epoch)
        for i, (x, y) in enumerate(trainer.epoch_batches(epoch)):
            result.lrs.append(float(optimizer.param_groups[0]["lr"]))
            with trainer.autocast():
                loss = loss_fn(model(x), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses[i] = loss.detach()
            updates += 1
            on_update(scheduler, updates, loss.detach())
            bar.update(i + 1, losses, result.lrs[-1])
        on_epoch(scheduler, epoch)
        _finish_epoch(trainer, model, result, losses, start)
        bar.close(result)
    return result


def _finish_epoch(trainer: Trainer, model: torch.nn.Module, result: RunResult, losses: torch.Tensor, start: float):
    values = losses.float().tolist()
    result.losses += values
    result.train_loss.append(sum(values) / len(values))
    result.epoch_seconds.append(time.perf_counter() - start)  # training only: evaluation is not timed
    result.test_accuracy.append(trainer.evaluate(model))


def fastai_loop(
    trainer: Trainer, label: str, adapter: str, callbacks: Callable[[], list], fit: str = "fit"
) -> RunResult:
    """``Learner.fit`` (or ``fit_one_cycle``) over the same batches, with the recipe's torch
    optimizer through ``OptimWrapper``; ``callbacks()`` gives the scheduling callbacks."""
    from fastai.callback.core import Callback
    from fastai.data.core import DataLoaders
    from fastai.learner import Learner
    from fastai.optimizer import OptimWrapper

    recipe = trainer.recipe
    model = trainer.model()
    result = RunResult(label, adapter, recipe.name)

    class Batches:
        """A DataLoader-shaped view of the trainer's epochs (fastai asks for len, iter and to)."""

        def __init__(self) -> None:
            self.epoch = 0

        def __len__(self) -> int:
            return trainer.steps_per_epoch

        def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
            yield from trainer.epoch_batches(self.epoch)
            self.epoch += 1

        def to(self, device: object) -> Batches:
            return self

    class NoBatches(Batches):
        def __len__(self) -> int:
            return 0

        def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
            return iter(())

    class Measure(Callback):
        """Records what the plain loop records; bf16 autocast around forward and loss, as there."""

        order = 70  # after the schedulers (60): sees the LR the update will use

        def before_epoch(self) -> None:
            self.start = time.perf_counter()
            self.buffer = torch.empty(trainer.steps_per_epoch, device=trainer.device)
            self.bar = EpochBar(label, self.epoch, recipe.epochs, trainer.steps_per_epoch)

        def before_batch(self) -> None:
            if self.training:
                result.lrs.append(float(self.opt.param_groups[0]["lr"]))
                self.ctx = trainer.autocast()
                self.ctx.__enter__()

        def after_loss(self) -> None:
            if self.training:
                self.ctx.__exit__(None, None, None)

        def after_batch(self) -> None:
            if self.training:
                self.buffer[self.iter] = self.learn.loss.detach()
                self.bar.update(self.iter + 1, self.buffer, result.lrs[-1])

        def after_epoch(self) -> None:
            _finish_epoch(trainer, self.model, result, self.buffer, self.start)
            self.bar.close(result)

    dls = DataLoaders(Batches(), NoBatches(), device=torch.device(trainer.device))
    learn = Learner(
        dls,
        model,
        loss_func=recipe.loss(),
        opt_func=lambda params, lr: OptimWrapper(opt=recipe.optimizer(model)),
        cbs=[Measure(), *callbacks()],
    )
    PROGRESS.begin(label)
    with learn.no_bar(), learn.no_logging():
        if fit == "fit_one_cycle":
            learn.fit_one_cycle(recipe.epochs, recipe.peak_lr)
        else:
            learn.fit(recipe.epochs, recipe.peak_lr)
    return result

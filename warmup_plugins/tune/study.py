"""Studies that last and scale out: Optuna's RDB storage, a SQLite file by default.

Every worker process, on this machine or others, runs ``create_study(name, storage=URL)`` with the
same name and URL and then :func:`optimize`; Optuna's storage hands each a different trial. Workers
may start at the same moment on a new database (its tables are created once; a worker that loses the
race tries again). One machine: ``sqlite:///path/study.db``. Many machines: a server database, e.g.
``postgresql+psycopg://user:password@host/db`` (psycopg 3, in the ``tune`` extra) or
``mysql+pymysql://user:password@host/db`` (``pip install pymysql``).
"""

from __future__ import annotations

import collections
import functools
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import optuna
from optuna.storages import RetryHeartbeatStaleTrialCallback

from ..core import _checks
from .space import SearchSpace

__all__ = ["DEFAULT_STORAGE", "create_study", "load_study", "open_storage", "optimize"]

DEFAULT_STORAGE = "sqlite:///warmup_tune.db"
SQLITE_TIMEOUT_S = 60  # how long a SQLite writer waits for another process's lock
SCHEMA_TRIES = 10  # opening a new database that other workers are creating at the same moment
SCHEMA_RACE_MESSAGES = ("already exists", "UNIQUE constraint failed", "duplicate key", "database is locked")
FAIL_FAST = 3  # optimize() stops when this many first trials of a call all fail with the same error
# Under Optuna's logger, so that its lines appear beside Optuna's own and optuna.logging.set_verbosity governs them.
_LOG = optuna.logging.get_logger("optuna.warmup_plugins.tune")


def open_storage(
    storage: str | optuna.storages.BaseStorage | None = None,
    *,
    heartbeat_interval: int | None = None,
    max_retry: int = 1,
) -> optuna.storages.BaseStorage:
    """An Optuna storage from a database URL (``None``: :data:`DEFAULT_STORAGE`), or a clear ``ValueError``.

    For a SQLite file the parent folder is created, and writers wait up to a minute for each other.
    ``heartbeat_interval`` (seconds): each running trial beats that often; a trial whose worker died
    (no beat for 2 intervals) is marked failed when any worker next starts a trial, and run again up to
    ``max_retry`` times (Optuna's ``RetryHeartbeatStaleTrialCallback``).
    """
    if isinstance(storage, optuna.storages.BaseStorage):
        if heartbeat_interval is not None:
            raise TypeError("heartbeat_interval needs a storage URL: build your RDBStorage with it yourself")
        return storage
    url = DEFAULT_STORAGE if storage is None else storage
    if not isinstance(url, str):
        raise TypeError(f"storage must be a database URL string or an Optuna storage, got {type(url).__name__}")
    if "://" not in url:
        raise ValueError(f"storage {url!r} is not a database URL; for a SQLite file write 'sqlite:///{url}'")
    engine_kwargs: dict[str, Any] = {}
    if url.startswith("sqlite:///"):
        engine_kwargs = {"connect_args": {"timeout": SQLITE_TIMEOUT_S}}
        path = url[len("sqlite:///") :]
        if path and path != ":memory:":
            try:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise ValueError(f"cannot open the storage {url!r}: {error}") from None
    heartbeat: dict[str, Any] = {}
    if heartbeat_interval is not None:
        warnings.filterwarnings("ignore", "RetryHeartbeatStaleTrialCallback", optuna.exceptions.ExperimentalWarning)
        warnings.filterwarnings("ignore", "Argument ``heartbeat_interval``", optuna.exceptions.ExperimentalWarning)
        heartbeat = {
            "heartbeat_interval": _checks.integer("heartbeat_interval", heartbeat_interval, low=1),
            "heartbeat_stale_trial_callback": RetryHeartbeatStaleTrialCallback(
                max_retry=_checks.integer("max_retry", max_retry, low=0)
            ),
        }
    try:
        return _schema_race_safe(lambda: optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs, **heartbeat))
    except ImportError as error:
        raise ValueError(f"cannot open the storage {url!r}: its database driver is missing ({error})") from None
    except Exception as error:  # SQLAlchemy's URL, driver and connection errors have no common base we can name
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ValueError(f"cannot open the storage {url!r}: {reason}") from None


def _schema_race_safe(open_rdb: Callable[[], optuna.storages.RDBStorage]) -> optuna.storages.RDBStorage:
    """``open_rdb()``, again after a short wait when another process was creating the same new database's
    tables at the same moment (Optuna's schema race: "table ... already exists", "UNIQUE constraint failed",
    "duplicate key"); the tables exist by the next try. Up to :data:`SCHEMA_TRIES` tries."""
    for attempt in range(SCHEMA_TRIES):
        try:
            return open_rdb()
        except Exception as error:  # SQLAlchemy's IntegrityError / OperationalError / ProgrammingError
            if attempt == SCHEMA_TRIES - 1 or not any(m in str(error) for m in SCHEMA_RACE_MESSAGES):
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


def create_study(
    study_name: str,
    *,
    storage: str | optuna.storages.BaseStorage | None = None,
    direction: str = "maximize",
    sampler: optuna.samplers.BaseSampler | None = None,
    pruner: optuna.pruners.BasePruner | None = None,
    space: SearchSpace | None = None,
    load_if_exists: bool = True,
    heartbeat_interval: int | None = None,
    max_retry: int = 1,
) -> optuna.Study:
    """Create the study, or join it if it exists (``load_if_exists``): what every worker calls.

    ``direction`` is ``'maximize'`` (accuracy, the default) or ``'minimize'`` (a loss); joining a study made
    with the other direction is a ``ValueError`` naming both. ``space``, if given, is kept in the study's
    ``user_attrs['space']`` as plain data; joining a study made with another space is a ``ValueError``.
    Joining logs what the study holds (``joining study 'name': 20 trials (0 complete, 20 failed)``, at
    Optuna's INFO level). ``heartbeat_interval`` and ``max_retry``: see :func:`open_storage` (a killed
    worker's trial is failed and retried, never left running).
    """
    if not isinstance(study_name, str) or not study_name:
        raise TypeError(f"study_name must be a non-empty string, got {study_name!r}")
    if direction not in ("maximize", "minimize"):
        raise ValueError(f"direction must be 'maximize' or 'minimize', got {direction!r}")
    if space is not None and not isinstance(space, SearchSpace):
        raise TypeError(f"space must be a SearchSpace or None, got {type(space).__name__}")
    opened = open_storage(storage, heartbeat_interval=heartbeat_interval, max_retry=max_retry)
    existed = _exists(opened, study_name)
    study = optuna.create_study(
        storage=opened,
        sampler=sampler,
        pruner=pruner,
        study_name=study_name,
        direction=direction,
        load_if_exists=_checks.boolean("load_if_exists", load_if_exists),
    )
    stored_directions = [d.name.lower() for d in study.directions]
    if stored_directions != [direction]:
        raise ValueError(
            f"study {study_name!r} was created to {' and '.join(stored_directions)}, and direction={direction!r}"
            f" was given; pass direction={stored_directions[0]!r} to join it, or a new study name"
        )
    if space is not None:
        stored = study.user_attrs.get("space")
        if stored is not None and stored != space.to_dict():
            raise ValueError(
                f"study {study_name!r} was created with another search space: {_difference(stored, space.to_dict())};"
                " pass the same space (SearchSpace.from_dict(study.user_attrs['space'])) or a new study name"
            )
        study.set_user_attr("space", space.to_dict())
    if existed:
        _LOG.info(f"joining {_holdings(study)}")
    return study


def _exists(storage: optuna.storages.BaseStorage, study_name: str) -> bool:
    """Whether the storage holds a study of that name (another worker may create it a moment later)."""
    try:
        storage.get_study_id_from_name(study_name)
    except KeyError:
        return False
    return True


STATE_WORDS = {"COMPLETE": "complete", "PRUNED": "pruned", "RUNNING": "running", "WAITING": "waiting", "FAIL": "failed"}


def _holdings(study: optuna.Study) -> str:
    """What a study holds, in a phrase: ``study 'name': 20 trials (0 complete, 20 failed)``. The complete
    count is always given; the other states when there are any."""
    counts = collections.Counter(t.state.name for t in study.get_trials(deepcopy=False))
    parts = [f"{counts[s]} {word}" for s, word in STATE_WORDS.items() if s == "COMPLETE" or counts[s]]
    total = sum(counts.values())
    return f"study {study.study_name!r}: {total} trial{'' if total == 1 else 's'} ({', '.join(parts)})"


def _difference(stored: dict[str, Any], given: dict[str, Any]) -> str:
    """The fields where two spaces (as plain data) differ, as ``name: stored -> given``."""
    names = sorted(set(stored) | set(given))
    return ", ".join(
        f"{n} {stored.get(n)!r} in the study, {given.get(n)!r} given" for n in names if stored.get(n) != given.get(n)
    )


def load_study(study_name: str, storage: str | optuna.storages.BaseStorage | None = None) -> optuna.Study:
    """An existing study; an unknown name is a ``ValueError`` listing the storage's studies."""
    if isinstance(storage, str) and storage.startswith("sqlite:///"):
        path = storage[len("sqlite:///") :]
        if path != ":memory:" and not Path(path).is_file():
            raise ValueError(f"cannot open the storage {storage!r}: there is no file {path}")
    opened = open_storage(storage)
    names = [s.study_name for s in optuna.get_all_study_summaries(opened, include_best_trial=False)]
    if study_name not in names:
        raise ValueError(f"no study named {study_name!r} in the storage; it has {names or 'no studies'}")
    return optuna.load_study(study_name=study_name, storage=opened)


def optimize(
    study: optuna.Study,
    objective: Callable[[optuna.Trial], float],
    n_trials: int,
    *,
    timeout: float | None = None,
    callbacks: Sequence[Callable[[optuna.Study, optuna.trial.FrozenTrial], None]] | None = None,
    fail_fast: int | None = FAIL_FAST,
) -> optuna.Study:
    """``study.optimize`` with ``catch=(Exception,)``: a trial whose objective raises is recorded as failed,
    with ``user_attrs['error']`` holding the error, and the study goes on. Returns the study.

    ``fail_fast`` (default 3): when the first ``min(fail_fast, n_trials)`` trials of this call all fail with
    the same error (its type and message: a bug in the objective, not in a trial's parameters), the search
    stops and that error is raised, rather than every trial failing the same way. The failed trials stay
    in the study. ``None`` keeps going whatever fails.
    """
    if not isinstance(study, optuna.Study):
        raise TypeError(f"study must be an optuna.Study, got {type(study).__name__}")
    if not callable(objective):
        raise TypeError(f"objective must be callable, got {type(objective).__name__}")
    n_trials = _checks.integer("n_trials", n_trials, low=1)
    if fail_fast is not None:
        fail_fast = _checks.integer("fail_fast", fail_fast, low=1)
    errors: dict[int, Exception] = {}  # trial number -> its error, for this call's trials

    @functools.wraps(objective)
    def recorded(trial: optuna.Trial) -> float:
        try:
            return objective(trial)
        except optuna.TrialPruned:
            raise
        except Exception as error:
            trial.set_user_attr("error", f"{type(error).__name__}: {error}")
            errors[trial.number] = error
            raise

    finished: list[optuna.trial.FrozenTrial] = []

    def stop_on_repeated_error(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        finished.append(trial)
        if fail_fast is None or len(finished) != min(fail_fast, n_trials):
            return
        failed = [errors.get(t.number) for t in finished]
        if any(e is None for e in failed) or len({(type(e), str(e)) for e in failed}) != 1:
            return
        error = failed[-1]
        numbers = ", ".join(str(t.number) for t in finished)
        note = (
            f"warmup_plugins.tune.optimize stopped: the first {len(finished)} trials of this call (numbers {numbers},"
            f" kept as failed in study {study.study_name!r}) all failed with this error; fix the objective and run"
            " again (a new study name starts afresh), or pass fail_fast=None to keep going"
        )
        if hasattr(error, "add_note"):  # Python 3.11+: the note is printed under the traceback
            error.add_note(note)
        else:
            _LOG.error(note)
        raise error

    study.optimize(
        recorded,
        n_trials=n_trials,
        timeout=timeout,
        callbacks=[*(callbacks or ()), stop_on_repeated_error],
        catch=(Exception,),
    )
    return study

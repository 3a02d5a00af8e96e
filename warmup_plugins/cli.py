"""``warmup-plugins``: draw and tabulate schedules, and diagnose, plot or export training records.

Run as the console script ``warmup-plugins`` or as ``python -m warmup_plugins``::

    warmup-plugins plot --warmup-steps 500 --total-steps 10000 --decay-type cosine -o sched.png
    warmup-plugins show --warmup-epochs 5 --total-epochs 90 --steps-per-epoch 391 --base-lr 0.1
    warmup-plugins diagnose record.json            # exit status 0: clean, 1: findings
    warmup-plugins plot-record record.json -o record.png
    warmup-plugins tensorboard record.json --log-dir runs/record

The schedule options are generated from :class:`WarmupSchedule`'s fields (``--warmup-type``,
``--warmup-steps``, ..., one per field, same name with dashes) and from
the epoch lengths of a :class:`~warmup_plugins.core.request.ScheduleRequest` (``--warmup-epochs`` ...,
with ``--steps-per-epoch``); the diagnosis thresholds are generated from :class:`DiagnoseOptions`'
fields. Bad input gives one line, ``warmup-plugins COMMAND: error: ...`` naming the problem, and exit
status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import json
import math
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from . import __version__
from .core import _checks
from .core.choices import REQUEST_CHOICES
from .core.lengths import EPOCH_LENGTHS
from .core.request import ScheduleRequest
from .core.schedule import WarmupSchedule
from .core.untuned import UNTUNED_TYPES
from .monitoring.diagnosis import DiagnoseOptions, diagnose
from .monitoring.record import TrainingRecord

PROG = "warmup-plugins"
EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    """argparse, with an error printed as one line (not the usage block) and exit status 2; its subcommand
    parsers are of this class too."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        """argparse's check of a value against ``choices`` (a subcommand's name, too), with a close match added:
        ``invalid choice: 'shw' (choose from ...) (did you mean 'show'?)``. (Python 3.14's ``suggest_on_error``
        does this; this package supports 3.10.)"""
        try:
            super()._check_value(action, value)
        except argparse.ArgumentError as error:
            names = [str(c) for c in action.choices or ()]
            close = difflib.get_close_matches(str(value), names, n=1)
            if not close or "you meant" in str(error) or "did you mean" in str(error):
                raise
            raise argparse.ArgumentError(action, f"{error.message} (did you mean {close[0]!r}?)") from None


def _number(text: str) -> int | float:
    """An int when the text is a whole number (``'100'``), else a float (``'0.5'``, ``'1e-3'``)."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"not a finite number: {text!r}")
    return value


def _learning_rate(text: str) -> int | float:
    """A base LR: a finite number >= 0 (a negative LR is never meant, as the adapters refuse it)."""
    value = _number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a number >= 0 (a learning rate), got {text!r}")
    return value


@dataclasses.dataclass(frozen=True)
class _OneOf:
    """An option's ``type=``: the value if it is one of ``choices``, else an error listing them with a close
    match (argparse's own ``choices=`` check, which follows, names no close match)."""

    name: str
    choices: tuple[str, ...]

    def __call__(self, text: str) -> str:
        try:
            return _checks.choice(self.name, text, self.choices)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None


def _field_help(field: dataclasses.Field[Any]) -> str:
    """A schedule field's ``--help`` text: its ``metadata['help']``, then the accepted values it does not name."""
    text = field.metadata["help"].replace("%", "%%")
    choices = REQUEST_CHOICES.get(field.name, ())
    missing = [c for c in choices if not re.search(rf"(?<![\w-]){re.escape(c)}(?![\w-])", text)]
    if missing:
        text = text.rstrip(".") + f"; {'also' if len(missing) < len(choices) else 'one of'} {', '.join(missing)}"
    return text


_OUTPUT_HELP = (
    "the image to write, its extension the format; a folder gets {}.png inside it, a name without extension .png"
)
_DIAGNOSE_THRESHOLDS = tuple(f.name for f in dataclasses.fields(DiagnoseOptions))


def _option(name: str) -> str:
    return "--" + name.replace("_", "-")


def _add_typed(group: Any, name: str, annotation: str, help: str) -> None:
    """One option from a field's type annotation (a string: the modules use postponed annotations)."""
    kind = annotation.replace(" | None", "")
    kwargs: dict[str, Any] = {"dest": name, "default": argparse.SUPPRESS, "help": help}
    if kind == "bool":
        kwargs["action"] = argparse.BooleanOptionalAction
    elif kind == "str":
        kwargs["metavar"] = "NAME"
        if name in REQUEST_CHOICES:
            kwargs.update(type=_OneOf(name, REQUEST_CHOICES[name]), choices=REQUEST_CHOICES[name])
    elif kind in ("float", "int"):
        kwargs["type"] = _number if kind == "float" else int
        kwargs["metavar"] = "N"
    elif kind == "tuple[float, ...]":
        kwargs.update(type=_number, nargs="+", metavar="N")
    else:
        raise TypeError(f"cli: no option type for {name}: {annotation}")  # a new field type: teach the CLI
    group.add_argument(_option(name), **kwargs)


def _add_schedule_options(parser: argparse.ArgumentParser) -> None:
    fields = parser.add_argument_group(
        "schedule", "WarmupSchedule's fields (lengths in optimizer updates); see help(WarmupSchedule)"
    )
    for f in dataclasses.fields(WarmupSchedule):
        _add_typed(fields, f.name, str(f.type), _field_help(f))
    fields.add_argument(
        "--beta2",
        type=_number,
        default=argparse.SUPPRESS,
        metavar="B",
        help="Adam's beta2, for --warmup-type untuned_linear or untuned_exponential (W = 2 / (1 - beta2))",
    )
    epochs = parser.add_argument_group("lengths in epochs", "instead of the step forms; need --steps-per-epoch")
    for epoch_name, step_name in EPOCH_LENGTHS.items():
        nargs = "+" if step_name == "milestones" else None
        epochs.add_argument(
            _option(epoch_name),
            dest=epoch_name,
            type=_number,
            nargs=nargs,
            default=argparse.SUPPRESS,
            metavar="E",
            help=f"becomes {_option(step_name)} = round(E * steps per epoch)",
        )
    epochs.add_argument("--steps-per-epoch", type=int, default=argparse.SUPPRESS, metavar="N")


def _schedule(args: argparse.Namespace, parser: argparse.ArgumentParser) -> WarmupSchedule:
    """The schedule of the options given (the rest keep WarmupSchedule's defaults), as one ScheduleRequest; the
    options it needs together (--beta2, --steps-per-epoch) are named as options."""
    names = {f.name for f in dataclasses.fields(WarmupSchedule)} | set(EPOCH_LENGTHS) | {"steps_per_epoch"}
    kwargs = {k: v for k, v in vars(args).items() if k in names}
    beta2 = getattr(args, "beta2", None)
    if kwargs.get("warmup_type") in UNTUNED_TYPES and beta2 is None:
        parser.error(f"--warmup-type {kwargs['warmup_type']} needs --beta2")
    if kwargs.get("warmup_type") not in UNTUNED_TYPES and beta2 is not None:
        parser.error("--beta2 is only used by --warmup-type untuned_linear or untuned_exponential")
    epoch_form = [k for k in kwargs if k in EPOCH_LENGTHS]
    if epoch_form and "steps_per_epoch" not in kwargs:
        verb = "needs" if len(epoch_form) == 1 else "need"
        parser.error(f"{', '.join(_option(k) for k in epoch_form)} {verb} --steps-per-epoch")
    try:
        return ScheduleRequest(kwargs).resolve(beta2=beta2)
    except (ValueError, TypeError, KeyError) as error:
        parser.error(f"invalid schedule: {_message(error)}")


def _message(error: BaseException) -> str:
    return str(error.args[0]) if isinstance(error, KeyError) and error.args else str(error)


def _default_points(schedule: WarmupSchedule) -> list[float]:
    """0, W-1, W, the middle of the decay, T-1, T; for an endless schedule 0, W-1, W, 2W, 10W (or
    0, 1, 10, 100, 1000 without warmup)."""
    w, t = schedule.warmup_steps, schedule.total_steps
    if t is not None:
        points = [0, w - 1, w, w + math.floor((t - w) / 2), t - 1, t]
    elif w > 0:
        points = [0, w - 1, w, 2 * w, 10 * w]
    else:
        points = [0, 1, 10, 100, 1000]
    return sorted({p for p in points if p >= 0})


def _format(value: float) -> str:
    return format(value, ".10g")


def _check_base_lr(args: argparse.Namespace, schedule: WarmupSchedule, parser: argparse.ArgumentParser) -> None:
    """Refuse a ``--base-lr`` whose LRs overflow a float, as the adapters refuse such a base."""
    if args.base_lr is not None and not math.isfinite(args.base_lr * schedule.max_factor):
        parser.error(
            f"--base-lr {args.base_lr:g} times the schedule's largest factor {schedule.max_factor:g} exceeds "
            f"{sys.float_info.max:g}, the largest float LR"
        )


# ---------------------------------------------------------------------- commands
def _cmd_show(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    schedule = _schedule(args, parser)
    _check_base_lr(args, schedule, parser)
    points = args.at if args.at is not None else _default_points(schedule)
    try:
        factors = [schedule(k) for k in points]
    except ValueError as error:
        parser.error(f"--at: {error}")
    header = ["update", "factor"] + ([] if args.base_lr is None else ["lr"])
    rows = [
        [_format(k), _format(f)] + ([] if args.base_lr is None else [_format(args.base_lr * f)])
        for k, f in zip(points, factors)
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(cell.rjust(width) for cell, width in zip(row, widths)))
    return EXIT_CLEAN


def _cmd_plot(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from .monitoring.plotting import plot_schedule

    schedule = _schedule(args, parser)
    _check_base_lr(args, schedule, parser)
    path = _run(parser, plot_schedule, schedule, args.output, base_lr=args.base_lr, steps=args.steps, title=args.title)
    _wrote(path, args.output)
    return EXIT_CLEAN


def _wrote(path: Path, asked: str) -> None:
    """Say which file was written, and why when it is not the name the user gave."""
    if path == Path(asked):
        print(f"wrote {path}")
    elif path.parent == Path(asked):
        print(f"wrote {path} (a file in the folder {asked})")
    else:
        print(f"wrote {path} (added {path.suffix} to the name given)")


def _load(parser: argparse.ArgumentParser, path: str) -> TrainingRecord:
    try:
        return TrainingRecord.load(path)
    except OSError as error:
        parser.error(f"cannot read {path}: {error.strerror or error}")
    except (ValueError, TypeError) as error:
        parser.error(str(error) if path in str(error) else f"{path}: {error}")


def _run(parser: argparse.ArgumentParser, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)``, with the library's input errors, a missing package or an unwritable output
    as usage errors; so are running out of memory or stack, never a traceback."""
    try:
        return fn(*args, **kwargs)
    except (ValueError, TypeError, KeyError, ImportError, OSError) as error:
        parser.error(_message(error))
    except (MemoryError, RecursionError, OverflowError) as error:
        parser.error(f"{type(error).__name__}: {error or 'out of memory'}")


def _cmd_diagnose(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    record = _load(parser, args.record)
    given = {k: v for k, v in vars(args).items() if v is not None}
    options = _run(parser, DiagnoseOptions, **{k: given[k] for k in _DIAGNOSE_THRESHOLDS if k in given})
    run_facts = {k: given[k] for k in ("warmup_steps", "num_classes", "steps_per_epoch") if k in given}
    result = _run(parser, diagnose, record, options, **run_facts)
    print(json.dumps(result.to_dict(), indent=2) if args.json else result)
    return EXIT_CLEAN if result.ok else EXIT_FINDINGS


def _cmd_plot_record(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from .monitoring.plotting import plot_record

    if len(set(map(_label, args.records))) != len(args.records):
        parser.error("the record files need different names (their names label the curves)")
    records = {_label(p): _load(parser, p) for p in args.records}
    data = records if len(records) > 1 else next(iter(records.values()))
    kwargs = {"warmup_steps": args.warmup_steps, "steps_per_epoch": args.steps_per_epoch, "title": args.title}
    path = _run(parser, plot_record, data, args.output, loss_scale=args.loss_scale, **kwargs)
    _wrote(path, args.output)
    return EXIT_CLEAN


def _cmd_plot_search(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Draw a PeakFinder's search (loss against LR, the chosen peak marked) and print its verdict line."""
    from .monitoring.diagnosis import peak_verdict
    from .monitoring.plotting import plot_peak_search

    record = _load(parser, args.record)
    path = _run(parser, plot_peak_search, record, args.output, title=args.title)
    bases = record.meta.get("base_lrs") or [1.0]
    print(peak_verdict(record.meta["peak_finder"], bases[0]))
    _wrote(path, args.output)
    return EXIT_CLEAN


def _label(path: str) -> str:
    return Path(path).stem


def _cmd_tensorboard(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from .monitoring.tensorboard import write_tensorboard

    record = _load(parser, args.record)
    path = _run(parser, write_tensorboard, record, args.log_dir, prefix=args.prefix)
    print(f"wrote TensorBoard scalars to {path} (view: tensorboard --logdir {path})")
    return EXIT_CLEAN


def _cmd_tune_report(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Print a tuning study's best trials and write its PNGs (needs optuna and matplotlib)."""
    try:
        from .tune import load_study
        from .tune.report import best_trials_table, write_report
    except ImportError as error:
        parser.error(_message(error))
    study = _run(parser, load_study, args.study, args.storage)
    print(_run(parser, best_trials_table, study, top=args.top))
    for path in _run(parser, write_report, study, args.out):
        print(f"wrote {path}")
    return EXIT_CLEAN


# ---------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Draw and tabulate warmup schedules; diagnose, plot or export training records.",
        epilog="Run 'warmup-plugins COMMAND --help' for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    plot = sub.add_parser("plot", help="draw a schedule to a PNG", description="Draw a schedule's factor (or LR).")
    _add_schedule_options(plot)
    plot.add_argument("-o", "--output", required=True, metavar="FILE.png", help=_OUTPUT_HELP.format("schedule"))
    plot.add_argument("--base-lr", type=_learning_rate, metavar="LR", help="draw LR = base_lr * f(k) instead of f(k)")
    plot.add_argument("--steps", type=int, metavar="N", help="draw updates 0 .. N-1 (default: T + 1)")
    plot.add_argument("--title", help="the figure title (default: a description of the schedule)")
    plot.set_defaults(run=_cmd_plot, command_parser=plot)

    show = sub.add_parser(
        "show",
        help="print a table of factors (and LRs) at chosen updates",
        description="Print f(k) (and base_lr * f(k)) at the updates --at, by default 0, W-1, W, the middle of "
        "the decay, T-1 and T (an endless schedule: 0, W-1, W, 2W, 10W).",
    )
    _add_schedule_options(show)
    show.add_argument("--at", type=_number, nargs="+", metavar="K", help="the updates to show")
    show.add_argument("--base-lr", type=_learning_rate, metavar="LR", help="add a column base_lr * f(k)")
    show.set_defaults(run=_cmd_show, command_parser=show)

    diag = sub.add_parser(
        "diagnose",
        help="diagnose a training record (exit 0: clean, 1: findings)",
        description="Print the diagnosis of a record saved with TrainingRecord.save: loss spikes in the "
        "warmup, non-finite losses, divergence and plateaus, each with numeric suggestions. Exit status: "
        "0 when nothing is found, 1 when something is, 2 for a usage error or an unreadable record.",
    )
    diag.add_argument("record", metavar="RECORD.json")
    diag.add_argument("--json", action="store_true", help="print the diagnosis as JSON")
    run = diag.add_argument_group("the run", "instead of the record's meta")
    run.add_argument("--warmup-steps", type=_number, metavar="N", help="the warmup length W in updates")
    run.add_argument("--num-classes", type=int, metavar="C", help="the number of classes (chance loss ln C)")
    run.add_argument("--steps-per-epoch", type=_number, metavar="N", help="optimizer updates per epoch")
    thresholds = diag.add_argument_group("thresholds", "DiagnoseOptions' fields; see help(DiagnoseOptions)")
    for f in dataclasses.fields(DiagnoseOptions):
        text = f"{f.metadata['help']} (default {f.default})".replace("%", "%%")
        _add_typed(thresholds, f.name, str(f.type), text)
    diag.set_defaults(run=_cmd_diagnose, command_parser=diag)

    plot_rec = sub.add_parser(
        "plot-record",
        help="draw LR, loss and epoch metrics of one or more records",
        description="Draw records saved with TrainingRecord.save (several share the axes, labelled by file name).",
    )
    plot_rec.add_argument("records", nargs="+", metavar="RECORD.json")
    plot_rec.add_argument("-o", "--output", required=True, metavar="FILE.png", help=_OUTPUT_HELP.format("record"))
    plot_rec.add_argument("--warmup-steps", type=_number, metavar="N", help="shade [0, N) (default: from the record)")
    plot_rec.add_argument("--steps-per-epoch", type=_number, metavar="N", help="to shade the warmup on the epoch panel")
    plot_rec.add_argument("--loss-scale", default="auto", choices=("auto", "linear", "log"))
    plot_rec.add_argument("--title", help="the figure title")
    plot_rec.set_defaults(run=_cmd_plot_record, command_parser=plot_rec)

    search = sub.add_parser(
        "plot-search",
        help="draw a PeakFinder's search as lr_find does and print the peak it found",
        description="Draw the loss against the LR over a PeakFinder's search (a record saved with record=True), "
        "the chosen peak marked, and print 'peak found at update k: LR x (y x the bound)'.",
    )
    search.add_argument("record", metavar="RECORD.json")
    search.add_argument("-o", "--output", required=True, metavar="FILE.png", help=_OUTPUT_HELP.format("peak_search"))
    search.add_argument("--title", help="the figure title (default: the verdict line)")
    search.set_defaults(run=_cmd_plot_search, command_parser=search)

    tb = sub.add_parser(
        "tensorboard",
        help="write a record as TensorBoard scalars",
        description="Write a record's per-update and per-epoch values as TensorBoard scalars (needs tensorboard).",
    )
    tb.add_argument("record", metavar="RECORD.json")
    tb.add_argument("--log-dir", required=True, metavar="DIR", help="the TensorBoard log directory")
    tb.add_argument("--prefix", default="", help="put in front of every tag, e.g. 'run1/'")
    tb.set_defaults(run=_cmd_tensorboard, command_parser=tb)

    tune = sub.add_parser(
        "tune-report",
        help="print a warmup-tuning study's best trials and draw its PNGs",
        description="Print the best trials of an Optuna study run with warmup_plugins.tune and write "
        "metric_vs_warmup.png, lr_warmup_heatmap.png and importances.png (needs optuna: pip install .[tune]).",
    )
    tune.add_argument("--storage", required=True, metavar="URL", help="the study's storage, e.g. sqlite:///tune.db")
    tune.add_argument("--study", required=True, metavar="NAME", help="the study name")
    tune.add_argument("--out", default="runs/tune-report", metavar="DIR", help="where to write the PNGs")
    tune.add_argument("--top", type=int, default=5, metavar="N", help="how many best trials to print")
    tune.set_defaults(run=_cmd_tune_report, command_parser=tune)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok or clean, 1 findings; errors exit with 2)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.run(args, args.command_parser))

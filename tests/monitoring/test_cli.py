"""The ``warmup-plugins`` command line: through subprocess (``python -m`` and the console script) and in process."""

import dataclasses
import json
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from warmup_plugins import TrainingRecord, WarmupSchedule
from warmup_plugins.cli import _field_help, build_parser, main
from warmup_plugins.core import COOLDOWN_TYPES, DECAY_TYPES, WARMUP_TYPES
from warmup_plugins.core.choices import REQUEST_CHOICES
from warmup_plugins.core.schedule import EPOCH_LENGTHS
from warmup_plugins.core.untuned import UNTUNED_TYPES
from warmup_plugins.monitoring.diagnosis import DiagnoseOptions

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = shutil.which("warmup-plugins", path=str(Path(sys.executable).parent))


def cli(*args, script=False):
    command = [SCRIPT] if script else [sys.executable, "-m", "warmup_plugins"]
    return subprocess.run([*command, *map(str, args)], capture_output=True, text=True, timeout=120, cwd=ROOT)


def run_main(capsys, *args):
    """``main(args)`` in process: (exit status, stdout, stderr); argparse errors exit with 2."""
    try:
        status = main([str(a) for a in args])
    except SystemExit as stop:
        status = stop.code
    out, err = capsys.readouterr()
    return status, out, err


def write_record(path, losses, warmup=20):
    schedule = WarmupSchedule(warmup_steps=warmup, total_steps=len(losses), decay_type="cosine")
    record = TrainingRecord(meta={"schedule": schedule.to_dict(), "num_classes": 10})
    for k, loss in enumerate(losses):
        record.log_update(k, 0.1 * schedule(k), loss)
    record.log_epoch(0, 1.0, 1.1, 0.5)
    return record.save(path)


def clean(n=200):
    return [2.3 * math.exp(-k / 50) + 0.1 for k in range(n)]


# ---------------------------------------------------------------------- through subprocess
def test_help_lists_the_commands():
    result = cli("--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: warmup-plugins")
    for command in ("plot", "show", "diagnose", "plot-record", "tensorboard"):
        assert command in result.stdout


def test_every_schedule_field_and_epoch_form_is_an_option():
    result = cli("plot", "--help")
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    for f in dataclasses.fields(WarmupSchedule):
        assert f"--{f.name.replace('_', '-')}" in text, f.name
    for name in (*EPOCH_LENGTHS, "steps_per_epoch", "base_lr", "beta2"):
        assert f"--{name.replace('_', '-')}" in text, name
    assert "--no-warmup-prefix" in text and "polynomial exponent (default 1)" in text
    for name in (*WARMUP_TYPES, *UNTUNED_TYPES, *DECAY_TYPES, *COOLDOWN_TYPES):  # every value the CLI accepts
        assert re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text), name


def test_show_prints_exact_values():
    result = cli(
        *("show", "--warmup-steps", 10, "--total-steps", 20, "--start-factor", 0.1),
        *("--decay-type", "linear", "--base-lr", 0.5),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "update  factor     lr\n"
        "     0     0.1   0.05\n"
        "     9    0.91  0.455\n"
        "    10       1    0.5\n"
        "    15     0.5   0.25\n"
        "    19     0.1   0.05\n"
        "    20       0      0\n"
    )


def test_plot_writes_a_png(tmp_path):
    out = tmp_path / "sched.png"
    result = cli(
        "plot", "--warmup-epochs", 2, "--total-epochs", 10, "--steps-per-epoch", 50, "--decay-type", "cosine", "-o", out
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"wrote {out}\n"
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_diagnose_exit_status_and_report(tmp_path):
    assert cli("diagnose", write_record(tmp_path / "clean.json", clean())).returncode == 0
    losses = clean()
    losses[12] *= 8
    result = cli("diagnose", write_record(tmp_path / "spiky.json", losses))
    assert result.returncode == 1, result.stderr
    assert "[spike] update 12" in result.stdout
    assert "-> extend the warmup from 20 to 40 updates (warmup_steps=40)" in result.stdout


def test_a_bad_option_is_one_line_and_exit_2():
    result = cli("show", "--warmup-steps", 200, "--total-steps", 100)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == (
        "warmup-plugins show: error: invalid schedule: warmup_steps (200) is longer than total_steps (100); both "
        "count optimizer updates unless you use WarmupSchedule.from_epochs (see warmup-plugins show --help)\n"
    )


@pytest.mark.skipif(SCRIPT is None, reason="the console script is not installed (pip install -e .)")
def test_the_console_script():
    result = cli("show", "--warmup-steps", 4, "--at", 0, 2, 4, script=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "update  factor\n     0    0.01\n     2   0.505\n     4       1\n"


# ---------------------------------------------------------------------- in process
@pytest.mark.parametrize("command", ["plot", "show", "diagnose", "plot-record", "tensorboard"])
def test_every_command_has_help(capsys, command):
    status, out, _ = run_main(capsys, command, "--help")
    assert status == 0 and out.startswith(f"usage: warmup-plugins {command}")


def test_show_defaults_epochs_and_untuned(capsys):
    def table(*args):
        status, out, err = run_main(capsys, "show", *args)
        assert status == 0, err
        return out

    assert [line.split()[0] for line in table("--warmup-steps", 10).splitlines()[1:]] == ["0", "9", "10", "20", "100"]
    assert [line.split()[0] for line in table().splitlines()[1:]] == ["0", "1", "10", "100", "1000"]
    epochs = table("--warmup-epochs", 1.5, "--total-epochs", 4, "--steps-per-epoch", 10, "--decay-type", "cosine")
    steps = table("--warmup-steps", 15, "--total-steps", 40, "--decay-type", "cosine")
    assert epochs == steps
    assert table("--warmup-type", "untuned_linear", "--beta2", 0.99, "--at", 0, 199, 200) == (
        "update  factor\n     0   0.005\n   199       1\n   200       1\n"
    )
    multistep = table("--decay-type", "multistep", "--milestones", 5, 8, "--gamma", 0.5, "--at", 4, 5, 8)
    assert multistep.splitlines()[1:] == ["     4       1", "     5     0.5", "     8    0.25"]
    assert table("--warmup-steps", 4, "--no-warmup-prefix", "--at", 4).splitlines()[1] == "     4       1"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("show", "--decay-type", "cosin"), "argument --decay-type: decay_type must be one of 'constant', "),
        (("show", "--decay-type", "cosin"), "(did you mean 'cosine'?)"),
        (("show", "--warmup-end", "top"), "argument --warmup-end: warmup_end must be one of 'peak', 'decay'"),
        (("show", "--warmup-steps", "abc"), "argument --warmup-steps: not a number: 'abc'"),
        (("show", "--warmup-steps", "nan"), "argument --warmup-steps: not a finite number: 'nan'"),
        (("show", "--gamma", 0.5), "gamma is not used by decay_type='constant'"),
        (("show", "--warmup-epochs", 2), "--warmup-epochs needs --steps-per-epoch"),
        (
            ("show", "--warmup-epochs", 2, "--warmup-steps", 3, "--steps-per-epoch", 5),
            "give one of ['warmup_steps', 'warmup_epochs'], not several",
        ),
        (("show", "--warmup-type", "untuned_linear"), "--warmup-type untuned_linear needs --beta2"),
        (("show", "--beta2", 0.99), "--beta2 is only used by --warmup-type untuned_linear"),
        (("show", "--at", -1), "--at: step must be a finite number >= 0, got -1"),
        (("show", "--cycle-limit", 1.5), "argument --cycle-limit: invalid int value: '1.5'"),
        (("plot", "--warmup-steps", 3), "the following arguments are required: -o/--output"),
        (("plot", "-o", "{tmp}/x.png", "--steps", 0), "steps must be an integer >= 1"),
        (("plot", "-o", "{tmp}/x.png/y.png", "--steps", 2, "--warmup-steps", 1), "File exists"),
        (("diagnose", "missing.json"), "cannot read missing.json: No such file or directory"),
        (("diagnose", "README.md"), "README.md is not JSON"),
        (("frobnicate",), "invalid choice: 'frobnicate'"),
        (("shw",), "invalid choice: 'shw' (choose from 'plot', 'show', 'diagnose', "),  # issue 29 item 8
        (("shw",), "(did you mean 'show'?)"),
        (("tune-reprot",), "(did you mean 'tune-report'?)"),
    ],
)
def test_bad_input_is_an_argparse_error(capsys, tmp_path, args, message):
    (tmp_path / "x.png").write_text("a file, not a folder")
    status, out, err = run_main(capsys, *(str(a).format(tmp=tmp_path) for a in args))
    assert status == 2 and out == ""
    assert "error: " in err and message in err
    assert err.startswith("warmup-plugins") and err.count("\n") == 1  # one line, no usage block (issue 12, item 7)


def test_diagnose_bad_records_and_thresholds(capsys, tmp_path):
    (tmp_path / "list.json").write_text("[1, 2]")
    status, _, err = run_main(capsys, "diagnose", tmp_path / "list.json")
    assert status == 2 and "not a training record" in err
    record = write_record(tmp_path / "r.json", clean())
    status, _, err = run_main(capsys, "diagnose", record, "--spike-factor", 1)
    assert status == 2 and "spike_factor must be in (1, inf)" in err
    status, _, err = run_main(capsys, "diagnose", record, "--num-classes", 1)
    assert status == 2 and "num_classes must be an integer >= 2" in err


def test_diagnose_thresholds_meta_overrides_and_json(capsys, tmp_path):
    losses = clean()
    losses[12] *= 3
    record = write_record(tmp_path / "r.json", losses)
    assert run_main(capsys, "diagnose", record)[0] == 1
    assert run_main(capsys, "diagnose", record, "--spike-factor", 4)[0] == 0
    assert run_main(capsys, "diagnose", record, "--warmup-steps", 5)[0] == 0  # the early phase ends at 10
    status, out, _ = run_main(capsys, "diagnose", record, "--json", "--steps-per-epoch", 10)
    data = json.loads(out)
    assert status == 1 and data["ok"] is False and data["num_classes"] == 10
    assert data["findings"][0]["kind"] == "spike" and data["findings"][0]["epoch"] == 1


def test_plot_record_draws_one_or_more_records(capsys, tmp_path):
    a = write_record(tmp_path / "a.json", clean())
    b = write_record(tmp_path / "b.json", clean(), warmup=0)
    for records in ((a,), (a, b)):
        out = tmp_path / f"{len(records)}.png"
        status, stdout, err = run_main(capsys, "plot-record", *records, "-o", out, "--loss-scale", "log")
        assert status == 0, err
        assert stdout == f"wrote {out}\n" and out.read_bytes()[:4] == b"\x89PNG"
    (tmp_path / "other").mkdir()
    twin = write_record(tmp_path / "other" / "a.json", clean())
    status, _, err = run_main(capsys, "plot-record", a, twin, "-o", tmp_path / "x.png")
    assert status == 2 and "need different names" in err


def test_tensorboard_command_writes_event_files(capsys, tmp_path):
    pytest.importorskip("tensorboard")
    record = write_record(tmp_path / "r.json", clean(20))
    status, out, err = run_main(capsys, "tensorboard", record, "--log-dir", tmp_path / "tb", "--prefix", "run/")
    assert status == 0, err
    assert out.startswith(f"wrote TensorBoard scalars to {tmp_path / 'tb'}")
    files = list((tmp_path / "tb").glob("events.out.tfevents.*"))
    assert len(files) == 1 and files[0].stat().st_size > 0


# ---------------------------------------------------------------------- issue 10, cases 15-18
def test_a_fractional_steps_per_epoch_is_diagnosed(capsys, tmp_path):
    """Case 15: fastai under GradientAccumulation records steps_per_epoch = 2.5."""
    losses = clean()
    losses[12] *= 8
    path = write_record(tmp_path / "accumulated.json", losses)
    data = json.loads(path.read_text())
    data["meta"]["steps_per_epoch"] = 2.5
    path.write_text(json.dumps(data))
    status, out, err = run_main(capsys, "diagnose", path)
    assert status == 1, err
    assert "[spike] update 12 (epoch 4)" in out  # floor(12 / 2.5)
    status, out, err = run_main(capsys, "diagnose", path, "--steps-per-epoch", 1.5)
    assert status == 1 and "[spike] update 12 (epoch 8)" in out


@pytest.mark.parametrize(
    "command", [("diagnose",), ("tensorboard", "--log-dir", "{tmp}/tb"), ("plot-record", "-o", "{tmp}/r")]
)
@pytest.mark.parametrize("step", ["null", "NaN", "Infinity", "-1"])
def test_a_record_with_a_bad_update_index_is_one_clear_line(capsys, tmp_path, command, step):
    """Case 16: no AssertionError from diagnose, no OverflowError traceback from tensorboard."""
    if command[0] == "tensorboard":
        pytest.importorskip("tensorboard")
    path = write_record(tmp_path / "r.json", clean(20))
    text = path.read_text()
    path.write_text(text.replace('"step": [0, 1, 2,', f'"step": [0, 1, {step},'))
    status, out, err = run_main(capsys, command[0], path, *(a.format(tmp=tmp_path) for a in command[1:]))
    assert status == 2 and out == ""
    assert f"{path}: training record: updates.step[2] must be a finite number >= 0, got " in err
    assert err.count("\n") == 1


def test_a_huge_total_is_drawn_not_a_memory_error(capsys, tmp_path):
    """Case 17: plot --total-steps 1e12 drew 10**12 points (MemoryError); it draws MAX_POINTS now."""
    out = tmp_path / "huge.png"
    status, stdout, err = run_main(capsys, "plot", "--warmup-steps", 1e9, "--total-steps", 1e12, "-o", out)
    assert status == 0, err
    assert stdout == f"wrote {out}\n" and out.read_bytes()[:4] == b"\x89PNG"


def test_a_deeply_nested_record_is_one_clear_line(capsys, tmp_path):
    """Case 17: a RecursionError traceback before."""
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    for command in (("diagnose",), ("tensorboard", "--log-dir", tmp_path / "tb"), ("plot-record", "-o", tmp_path)):
        status, out, err = run_main(capsys, command[0], path, *command[1:])
        assert status == 2 and out == "", command
        assert err == (
            f"warmup-plugins {command[0]}: error: {path} is not a training record: its JSON is nested too deeply "
            f"(see warmup-plugins {command[0]} --help)\n"
        )


def test_plot_says_which_file_it_wrote(capsys, tmp_path):
    """Case 18: -o DIR wrote DIR.png and said "wrote DIR"; a name without extension got .png silently."""
    folder = tmp_path / "figures"
    folder.mkdir()
    schedule = ("--warmup-steps", 5, "--total-steps", 20)
    asked_and_written = [
        (folder, folder / "schedule.png", f" (a file in the folder {folder})"),
        (f"{tmp_path}/new/", tmp_path / "new" / "schedule.png", f" (a file in the folder {tmp_path}/new/)"),
        (tmp_path / "lr", tmp_path / "lr.png", " (added .png to the name given)"),
        (tmp_path / "lr.svg", tmp_path / "lr.svg", ""),
    ]
    for asked, written, note in asked_and_written:
        status, out, err = run_main(capsys, "plot", *schedule, "-o", asked)
        assert status == 0, err
        assert out == f"wrote {written}{note}\n" and written.stat().st_size > 0
    record = write_record(tmp_path / "r.json", clean())
    status, out, err = run_main(capsys, "plot-record", record, "-o", folder)
    assert status == 0 and out == f"wrote {folder / 'record.png'} (a file in the folder {folder})\n", err
    status, _, err = run_main(capsys, "plot", *schedule, "-o", tmp_path / "lr.v2")
    assert status == 2 and "path " in err and "matplotlib cannot write '.v2' files; use one of" in err


# ---------------------------------------------------------------------- single-sourced help (issue 11, item 5)
def test_diagnose_flags_are_the_options_fields(capsys, tmp_path):
    status, out, _ = run_main(capsys, "diagnose", "--help")
    text = " ".join(out.split())
    for f in dataclasses.fields(DiagnoseOptions):
        flag = f"--{f.name.replace('_', '-')}"
        assert f"{flag} N {f.metadata['help']} (default {f.default})" in text, f.name
    losses = [2.5] * 200  # flat: a plateau with the lengthen-the-run suggestion
    record = write_record(tmp_path / "flat.json", losses)
    status, out, _ = run_main(capsys, "diagnose", record, "--json", "--lengthen-factor", 3)
    suggestions = json.loads(out)["findings"][0]["suggestions"]
    assert status == 1 and {"action": "lengthen_run", "value": 600} in [
        {k: s[k] for k in ("action", "value")} for s in suggestions
    ]


def test_schedule_help_comes_from_field_metadata_and_names_every_accepted_value():
    @dataclasses.dataclass(frozen=True)
    class Fields:
        warmup_steps: float = dataclasses.field(default=0, metadata={"help": "updates of warmup, 100% at W"})
        decay_type: str = dataclasses.field(default="constant", metadata={"help": "constant (default) or cosine."})

    warmup_steps, decay_type = dataclasses.fields(Fields)
    assert _field_help(warmup_steps) == "updates of warmup, 100%% at W"  # argparse formats help with %
    assert _field_help(decay_type).startswith("constant (default) or cosine; also linear, polynomial, tanh")


def test_named_choice_options_take_argparse_choices_from_the_one_table():
    """Issue 20 part 3: the CLI's accepted names are the shared table (the fastai adapter reads it too), not a copy."""
    show = build_parser()._subparsers._group_actions[0].choices["show"]
    named = {a.dest: a.choices for a in show._actions if a.choices is not None}
    assert named == REQUEST_CHOICES
    assert named["warmup_type"] == (*WARMUP_TYPES, *UNTUNED_TYPES) and named["cooldown_type"] == COOLDOWN_TYPES


@pytest.mark.parametrize("command", [["show"], ["plot", "--output", "lr.png"]])
def test_a_base_lr_whose_lrs_overflow_is_refused_in_one_line(capsys, tmp_path, command):
    """Issue 18: show printed an inf LR and exited 0; plot failed with "arange: cannot compute length"."""
    if command[0] == "plot":
        command = ["plot", "--output", tmp_path / "lr.png"]
    status, out, err = run_main(capsys, *command, "--base-lr", "1e308", "--start-factor", "2")
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and "--base-lr 1e+308 times the schedule's largest factor 2 exceeds" in err
    assert not (tmp_path / "lr.png").exists()


def test_edge_values_of_the_new_shapes_print_finite_factors_or_one_error_line(capsys):
    """Issue 28 cases 4 and 7: a 1-exp warmup_tau of 1e-320 printed nan and exited 0; radam's warmup_beta2 at
    0.6000000000000001 printed a ZeroDivisionError traceback and exited 1."""
    status, out, err = run_main(
        capsys, "show", "--warmup-type", "1-exp", "--warmup-tau", "1e-320", "--warmup-steps", 10
    )
    assert status == 0 and "nan" not in out, (out, err)
    assert out.splitlines()[1].split() == ["0", "0.01"]
    for beta2 in ("0.6000000000000001", "0.9999999999999"):
        status, out, err = run_main(
            capsys, "show", "--warmup-type", "radam", "--warmup-beta2", beta2, "--warmup-steps", 9
        )
        assert status == 2 and out == "" and err.count("\n") == 1
        assert "warmup_beta2 must be in [0.600001, 0.99999], the working range of the radam warmup" in err
    status, out, err = run_main(
        capsys, "show", "--decay-type", "cosine_wave", "--total-steps", 9, "--num-cycles", 1e308
    )
    assert status == 2 and "num_cycles must be in [0, 2.86112e+307], got 1e+308" in err


@pytest.mark.parametrize("command", [["show"], ["plot", "--output", "lr.png"]])
@pytest.mark.parametrize("base_lr", ["-0.1", "-1e-300", "-0.0"])
def test_a_negative_base_lr_is_refused_in_one_line(capsys, tmp_path, command, base_lr):
    """Issue 28 case 10: show --base-lr -0.1 printed negative LRs and exited 0."""
    if command[0] == "plot":
        command = ["plot", "--output", tmp_path / "lr.png"]
    status, out, err = run_main(capsys, *command, f"--base-lr={base_lr}", "--warmup-steps", 5)
    if base_lr == "-0.0":  # zero is a frozen LR, whatever its sign (plot, on a log scale, wants it > 0)
        assert status == 0 if command == ["show"] else "base_lr must be in (0, inf), got -0.0" in err, err
        return
    assert status == 2 and out == "" and err.count("\n") == 1
    assert f"argument --base-lr: must be a number >= 0 (a learning rate), got {base_lr!r}" in err
    assert not (tmp_path / "lr.png").exists()

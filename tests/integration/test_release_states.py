"""States saved by earlier releases (``tests/fixtures/states/<release>/``) load and resume exactly.

Each fixture holds the states a release saved after 3 updates (warmup), ``W``, 14 (decay) and 22 (after
``T``); loaded with ``torch.load(weights_only=True)`` into today's schedulers, every later update must use
the LR of today's uninterrupted run, bit for bit. The adaptive cases are in ``test_release_states_adaptive``.
"""

from __future__ import annotations

import pathlib

import pytest
import torch

from tests.fixtures.states.cases import CASES, RESUME_AT, N, run

ROOT = pathlib.Path(__file__).parents[1] / "fixtures" / "states"
RELEASES = sorted(p.name for p in ROOT.iterdir() if p.is_dir() and not p.name.startswith("_"))
PLAIN = [c for c in CASES if not c.adaptive]


def load(release: str, name: str) -> dict:
    return torch.load(ROOT / release / f"{name}.pt", weights_only=True)


def check_resumes(release: str, case) -> None:
    expected, _ = run(case)
    saved = load(release, case.name)
    for at in RESUME_AT:
        resumed, _ = run(case, at, N, state=saved["states"][at])
        assert resumed == expected[at:], f"{release} {case.name} resumed after {at} updates"


@pytest.mark.parametrize(
    ("release", "case"),
    [pytest.param(r, c, id=f"{c.name}-{r}") for r in RELEASES for c in PLAIN],
)
def test_a_saved_state_resumes_exactly(release, case):
    check_resumes(release, case)


@pytest.mark.parametrize("release", RELEASES)
def test_every_case_has_a_fixture(release):
    assert sorted(p.stem for p in (ROOT / release).glob("*.pt")) == sorted(c.name for c in CASES)


def test_every_state_carries_this_release_format():
    from warmup_plugins._codec import FORMAT, FORMAT_KEY

    for case in CASES:
        state = load(f"format{FORMAT}", case.name)["states"][RESUME_AT[0]]["scheduler"]
        assert state[FORMAT_KEY] == FORMAT, case.name
        if "scheduler" in state:  # WithWarmup: the wrapped torch scheduler's own state stays torch's
            assert FORMAT_KEY not in state["scheduler"]


@pytest.mark.parametrize("version", [3, 0, "2", 2.0, True, None])
def test_a_state_of_an_unknown_format_is_refused_before_anything_changes(version):
    case = next(c for c in CASES if c.name == "timm_factory_plateau")
    _, opt, sched = case.build()
    state = sched.state_dict()
    before = (sched.state_dict(), [g["lr"] for g in opt.param_groups])
    with pytest.raises(ValueError, match=r"format_version=.*reads state formats 1 to 2.*newer release.*upgrade"):
        sched.load_state_dict({**state, "format_version": version})
    assert (sched.state_dict(), [g["lr"] for g in opt.param_groups]) == before


def test_an_old_state_that_cannot_be_migrated_names_the_release_that_wrote_it():
    case = next(c for c in CASES if c.name == "torch_warmuplr")
    state = dict(load("7bf4816", case.name)["states"][RESUME_AT[1]]["scheduler"], warmup_lr=0.1)
    _, _, sched = case.build()
    with pytest.raises(
        KeyError,
        match=r"unexpected keys \['warmup_lr'\]; this state \(format 1\) was written by a "
        r"release before state format versions \(warmup_plugins 0.1.0 up to commit 7bf4816\)",
    ):
        sched.load_state_dict(state)


def test_a_39dcdd3_plateau_state_is_migrated():
    """Issue 18: refused with "missing keys [], unexpected keys ['lrs']"; its LRs are the optimizer's."""
    state = load("39dcdd3", "timm_factory_plateau")["states"][14]["scheduler"]
    assert "lrs" in state and "format_version" not in state
    _, _, sched = next(c for c in CASES if c.name == "timm_factory_plateau").build()
    sched.load_state_dict(state)
    assert sched.plateau.state_dict() == state["plateau"]


NEW_FIELD_RUN = """
import sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
import warmup_plugins
from warmup_plugins import WarmupSchedule
assert warmup_plugins.__file__.startswith(sys.argv[1]), warmup_plugins.__file__
assert WarmupSchedule().a_new_option is None and "a_new_option" in WarmupSchedule().to_dict()
from tests.fixtures.states.cases import CASES
from tests.integration.test_release_states import RELEASES, check_resumes
for release in RELEASES:
    for case in CASES:
        if not (case.adaptive and release == "39dcdd3"):  # refused on purpose (test_release_states_adaptive)
            check_resumes(release, case)
print("resumed", len(RELEASES), "releases")
"""


def test_a_new_schedule_field_with_a_default_loads_every_release_state(tmp_path):
    """Issue 30 part 4: a field added to WarmupSchedule with a default loads from every committed state, as its
    default, with nothing else to remember (a scratch copy of the package gets the field, then resumes them all)."""
    import shutil
    import subprocess
    import sys

    repo = pathlib.Path(__file__).parents[2]
    shutil.copytree(repo / "warmup_plugins", tmp_path / "warmup_plugins", ignore=shutil.ignore_patterns("__pycache__"))
    schedule = tmp_path / "warmup_plugins" / "core" / "schedule.py"
    anchor = "    def __post_init__(self) -> None:\n"
    text = schedule.read_text()
    assert text.count(anchor) == 1
    field = '    a_new_option: float | None = _field(None, "a field newer than every committed state")\n\n'
    schedule.write_text(text.replace(anchor, field + anchor))
    done = subprocess.run(
        [sys.executable, "-c", NEW_FIELD_RUN, str(tmp_path), str(repo)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"resumed {len(RELEASES)} releases" in done.stdout

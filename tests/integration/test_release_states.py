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


def _known_failures(release: str, case) -> list:
    if release == "39dcdd3" and case.name == "timm_factory_plateau":
        return [pytest.mark.xfail(strict=True, reason="issue 18: refused with unexpected keys ['lrs'] until migrated")]
    return []


@pytest.mark.parametrize(
    ("release", "case"),
    [pytest.param(r, c, marks=_known_failures(r, c), id=f"{c.name}-{r}") for r in RELEASES for c in PLAIN],
)
def test_a_saved_state_resumes_exactly(release, case):
    check_resumes(release, case)


@pytest.mark.parametrize("release", RELEASES)
def test_every_case_has_a_fixture(release):
    assert sorted(p.stem for p in (ROOT / release).glob("*.pt")) == sorted(c.name for c in CASES)

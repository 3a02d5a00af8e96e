"""Adaptive-warmup states saved by earlier releases: kept apart from ``test_release_states``, since the
adaptive sub-state's own format (and its migration) belongs to ``AdaptiveWarmup.load_state_dict``."""

from __future__ import annotations

import pytest

from tests.fixtures.states.cases import CASES, N, run
from tests.integration.test_release_states import RELEASES, check_resumes, load

ADAPTIVE = [c for c in CASES if c.adaptive]


@pytest.mark.parametrize("release", [r for r in RELEASES if r != "39dcdd3"])
@pytest.mark.parametrize("case", ADAPTIVE, ids=lambda c: c.name)
def test_a_saved_adaptive_state_resumes_exactly(release, case):
    check_resumes(release, case)  # 7bf4816's weight snapshot is dropped and re-taken from the loaded parameters


@pytest.mark.parametrize("case", ADAPTIVE, ids=lambda c: c.name)
def test_a_39dcdd3_adaptive_state_is_refused_in_one_sentence(case):
    # another rule (burn_in, stable_seen) that today's warmup cannot continue exactly
    saved = load("39dcdd3", case.name)
    with pytest.raises(ValueError, match=r"saved by release 39dcdd3.*new AdaptiveWarmup\(\)"):
        run(case, 3, N, state=saved["states"][3])

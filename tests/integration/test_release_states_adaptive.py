"""Adaptive-warmup states saved by earlier releases: kept apart from ``test_release_states``, since the
adaptive sub-state's own format (and its migration) belongs to ``AdaptiveWarmup.load_state_dict``."""

from __future__ import annotations

import pytest

from tests.fixtures.states.cases import CASES
from tests.integration.test_release_states import RELEASES, check_resumes

ADAPTIVE = [c for c in CASES if c.adaptive]
OLD_ADAPTIVE = pytest.mark.xfail(
    strict=True,
    reason="39dcdd3's adaptive sub-state (burn_in, stable_seen) is migrated by AdaptiveWarmup.load_state_dict: "
    "the adaptive branch owns it",
)


@pytest.mark.parametrize("release", [pytest.param(r, marks=OLD_ADAPTIVE) if r == "39dcdd3" else r for r in RELEASES])
@pytest.mark.parametrize("case", ADAPTIVE, ids=lambda c: c.name)
def test_a_saved_adaptive_state_resumes_exactly(release, case):
    check_resumes(release, case)

"""A decay family (or a warmup shape) is one entry: every other table is derived from the entries.

Checked two ways: each derived table equals the entries' view, and a toy family registered in the table
alone (a temporary copy of it) is checked, compiled and refused exactly as the built-in ones are.
"""

import dataclasses

import pytest

from warmup_plugins import WarmupSchedule
from warmup_plugins.core import DECAY_TYPES, WARMUP_TYPES, _parts, decays, evaluation, validation, warmups
from warmup_plugins.tune.space import DECAY_CHOICES, WARMUP_CHOICES


def test_every_derived_decay_table_is_the_entries_view():
    families = decays.FAMILIES
    assert tuple(families) == DECAY_TYPES
    assert tuple(n for n, f in families.items() if f.anneal is not None) == decays.ANNEALING_TYPES
    assert {n: f.options for n, f in families.items()} == validation.DECAY_OPTIONS
    assert tuple(n for n, f in families.items() if f.tunable) == DECAY_CHOICES
    help_text = WarmupSchedule.help()
    assert help_text["decay_type"].endswith(", ".join(f"{n} (default)" if n == "constant" else n for n in families))
    for name, family in families.items():
        assert (name in help_text["total_steps"]) == family.needs_total, name
        if family.needs_total:
            with pytest.raises(ValueError, match=f"total_steps is required for decay_type={name!r}"):
                WarmupSchedule(decay_type=name)


def test_every_derived_warmup_table_is_the_entries_view():
    shapes = warmups.WARMUP_SHAPES
    assert (*shapes, "none") == WARMUP_TYPES
    assert {n: w.shape for n, w in shapes.items() if w.bind is None} == warmups.WARMUPS
    assert ("none", *(n for n, w in shapes.items() if w.tunable), "untuned", "adaptive") == WARMUP_CHOICES
    positive = [n for n, w in shapes.items() if w.positive_start]
    assert positive and all(n in WarmupSchedule.help()["start_factor"] for n in positive)
    for name in positive:
        with pytest.raises(ValueError, match=f"start_factor must be > 0 for warmup_type={name!r}"):
            WarmupSchedule(warmup_type=name, warmup_steps=5, start_factor=0)


def test_fastai_momentum_mirror_follows_the_entries():
    pytest.importorskip("fastai")
    from warmup_plugins.fastai import mirror_moms

    moms = (0.95, 0.85, 0.95)
    for name, family in decays.FAMILIES.items():
        for spec in ({"decay_type": name}, {"decay_type": name, "gamma": 0.5}):
            mirrored = mirror_moms(spec, moms)
            assert ("end_factor" in mirrored) == family.ends_at_end_factor(spec), spec
    for name, shape in warmups.WARMUP_SHAPES.items():  # a warmup's own options follow it into the mirror
        spec = {"warmup_type": name, "decay_type": "step", **dict.fromkeys(shape.options, 3)}
        assert mirror_moms(spec, moms).items() >= dict.fromkeys(shape.options, 3).items(), name


def _toy_check(f):
    return _parts.end_factor(f)


def _toy(s, span):
    """``m + (1 - m) * 2 ** (-10 d / D)`` then ``m`` at T: a toy shape no built-in family has."""
    offset, m = _parts.clock(s), s.end_factor

    def decay(k):
        return m + (1 - m) * 2 ** (-10 * (k - offset) / span)

    return decay, m


TOY = decays.Family(("end_factor",), _toy_check, _toy, lambda spec: True, "a toy", needs_total=True)


@pytest.fixture
def toy_table(monkeypatch):
    monkeypatch.setattr(decays, "FAMILIES", {**decays.FAMILIES, "toy": TOY})
    for module in (validation, evaluation):
        monkeypatch.setattr(module, "FAMILIES", decays.FAMILIES)


def test_a_new_family_is_one_entry(toy_table):
    s = WarmupSchedule(warmup_steps=10, total_steps=110, decay_type="toy", end_factor=0.25)
    assert s(0) == 0.01 and s(10) == 1.0
    assert s(60) == 0.25 + 0.75 * 2**-5
    assert s(110) == s(10**9) == s.final_factor == 0.25
    assert WarmupSchedule.from_dict(s.to_dict()) == s
    with pytest.raises(ValueError, match=r"power is not used by decay_type='toy'"):
        WarmupSchedule(total_steps=110, decay_type="toy", power=2)
    with pytest.raises(ValueError, match=r"end_factor is not used by decay_type='step'; .*'toy'"):
        WarmupSchedule(decay_type="step", step_size=3, end_factor=0.5)
    with pytest.raises(ValueError, match="total_steps is required for decay_type='toy'"):
        WarmupSchedule(decay_type="toy")


def test_the_toy_is_unknown_without_its_entry():
    with pytest.raises(ValueError, match="decay_type"):
        WarmupSchedule(total_steps=10, decay_type="toy")
    assert "toy" not in {f.name for f in dataclasses.fields(WarmupSchedule)}


def test_the_concepts_page_has_a_row_for_every_warmup_and_decay():
    """The formula tables of docs/concepts.md are the one hand-written place besides the entry: checked here."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "concepts.md").read_text()
    rows = {line.split("|")[1].strip().split(" ")[0].strip("`") for line in text.splitlines() if line.startswith("| `")}
    assert set(DECAY_TYPES) <= rows and set(WARMUP_TYPES) <= rows, sorted((set(DECAY_TYPES) | set(WARMUP_TYPES)) - rows)

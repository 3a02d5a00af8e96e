"""diagnose(): planted spikes, NaNs, divergence and plateaus are found with the documented numbers; clean runs pass."""

import dataclasses
import json
import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import warmup_plugins
from tests.helpers import batches, tiny_model
from warmup_plugins import TrainingRecord, WarmupSchedule, diagnose
from warmup_plugins.monitoring.diagnosis import DiagnoseOptions, Diagnosis
from warmup_plugins.torch import WarmupLR

BASE_LR = 0.1


def make_record(losses, warmup=100, *, grad_norms=None, **meta):
    """A record of ``losses`` under a linear warmup + cosine schedule at BASE_LR (``warmup=0``: none)."""
    n = len(losses)
    kind = "linear" if warmup else "none"
    schedule = WarmupSchedule(warmup_type=kind, warmup_steps=warmup, total_steps=n, decay_type="cosine")
    record = TrainingRecord(meta={"schedule": schedule.to_dict(), **meta})
    for k, loss in enumerate(losses):
        grad = None if grad_norms is None else grad_norms[k]
        record.log_update(k, BASE_LR * schedule(k), float(loss), grad)
    return record


def clean_losses(n=600, tau=150.0, noise=0.1, seed=0):
    """``2.3 exp(-k / tau) + 0.1``, times uniform noise in ``[1 - noise, 1 + noise]``."""
    rng = np.random.default_rng(seed)
    k = np.arange(n)
    return (2.3 * np.exp(-k / tau) + 0.1) * rng.uniform(1 - noise, 1 + noise, n)


def lr_at(record, step):
    return record.updates["lr"][step]


def by_kind(diagnosis):
    return {f.kind: f for f in diagnosis}


def actions(finding):
    return {s.action: s.value for s in finding.suggestions}


# ---------------------------------------------------------------------- clean runs
@given(
    seed=st.integers(0, 2**16),
    n=st.integers(60, 400),
    decay=st.floats(3, 10),
    noise=st.floats(0, 0.15),
    warmup_share=st.floats(0, 0.25),
)
def test_a_clean_decaying_loss_has_no_findings(seed, n, decay, noise, warmup_share):
    record = make_record(clean_losses(n, n / decay, noise, seed), round(warmup_share * n), num_classes=10)
    result = diagnose(record)
    assert result.ok, str(result)
    assert len(result) == 0 and list(result) == []
    assert "no problems found" in str(result)


def test_report_header_states_what_was_read():
    result = diagnose(make_record(clean_losses(), 100, num_classes=10))
    assert str(result).splitlines()[0] == "600 updates with a loss; warmup 100 updates; 10 classes (chance loss 2.3)"
    assert result.to_dict() == {
        "ok": True,
        "updates": 600,
        "warmup_steps": 100,
        "num_classes": 10,
        "notes": [],
        "nominal_warmup": None,
        "findings": [],
    }


# ---------------------------------------------------------------------- spikes
@given(seed=st.integers(0, 2**16), where=st.integers(1, 99), size=st.floats(3, 50), warmup=st.integers(100, 150))
def test_a_spike_planted_in_the_warmup_is_found_at_its_update(seed, where, size, warmup):
    losses = clean_losses(600, 150, 0.1, seed)
    losses[where] *= size
    record = make_record(losses, warmup)
    result = diagnose(record)
    assert result.kinds() == ["spike"], str(result)
    spike = result.findings[0]
    assert spike.steps == (where,) and spike.step == where
    assert spike.lr == lr_at(record, where)
    expected_warmup = max(2 * warmup, 2 * (where + 1))  # then rounded up to two significant figures
    suggested = actions(spike)
    assert expected_warmup <= suggested["extend_warmup"] < expected_warmup * 1.1
    assert suggested["lower_peak_lr"] == float(f"{0.5 * lr_at(record, where):.2g}")
    assert "during the warmup" in spike.message


def test_several_spikes_report_every_update_and_extend_past_the_last():
    losses = clean_losses()
    for k in (30, 31, 80, 137):
        losses[k] *= 6
    record = make_record(losses, 100, grad_norms=[1.0 + (k % 3) for k in range(600)])
    spike = by_kind(diagnose(record))["spike"]
    assert spike.steps == (30, 31, 80, 137)
    assert "4 loss spikes during the warmup or just after it" in spike.message
    assert actions(spike) == {
        "extend_warmup": 280,  # max(2 * 100, 2 * 138) = 276, rounded up to two significant figures
        "lower_peak_lr": float(f"{0.5 * lr_at(record, 30):.2g}"),
        "clip_grad_norm": 4.0,  # 2x the median (2.0) of the norms 1, 2, 3, 1, 2, 3, ... before update 30
    }


def test_spikes_after_the_early_phase_are_not_warmup_spikes():
    losses = clean_losses()
    losses[450] *= 6  # W = 100: the early phase ends at 2W = 200
    assert diagnose(make_record(losses, 100)).ok


def test_without_warmup_the_early_phase_is_the_first_tenth():
    losses = clean_losses(1000, 250)
    losses[3] *= 10
    record = make_record(losses, 0)
    spike = by_kind(diagnose(record))["spike"]
    assert spike.step == 3 and "with no warmup" in spike.message
    assert actions(spike)["extend_warmup"] == 8  # 2 * (3 + 1)
    assert spike.suggestions[0].text == "add a warmup of 8 updates (warmup_steps=8)"
    losses[3] /= 10
    losses[150] *= 10  # past the first 100 rows
    assert diagnose(make_record(losses, 0)).ok


def test_the_first_updates_are_not_judged_during_burn_in():
    losses = clean_losses()
    losses[1] *= 5
    assert by_kind(diagnose(make_record(losses)))["spike"].step == 1
    assert diagnose(make_record(losses), burn_in=2).ok


def test_thresholds_are_keyword_arguments_or_options():
    losses = clean_losses(noise=0)
    losses[40] *= 1.8
    assert diagnose(make_record(losses)).ok
    assert diagnose(make_record(losses), spike_factor=1.5).kinds() == ["spike"]
    assert diagnose(make_record(losses), DiagnoseOptions(spike_factor=1.5)).kinds() == ["spike"]
    options = DiagnoseOptions(spike_factor=1.5, burn_in=3)
    assert diagnose(make_record(losses), options, spike_factor=2.0).ok  # a keyword replaces that field


def test_the_options_check_their_values_and_names():
    assert DiagnoseOptions(spike_factor=3) == DiagnoseOptions(spike_factor=3.0)
    with pytest.raises(ValueError, match=r"^spike_factor must be in \(1, inf\), got 1$"):
        DiagnoseOptions(spike_factor=1)
    with pytest.raises(TypeError, match="^min_window must be an integer, got float 2.5$"):
        DiagnoseOptions(min_window=2.5)
    with pytest.raises(TypeError, match=r"unknown threshold 'spike_factr' \(did you mean 'spike_factor'\?\)"):
        diagnose(make_record(clean_losses()), spike_factr=3)
    with pytest.raises(TypeError, match="options must be a DiagnoseOptions, got dict"):
        diagnose(make_record(clean_losses()), {"spike_factor": 3})
    for f in dataclasses.fields(DiagnoseOptions):  # the command line builds its flags from these
        assert len(f.metadata["help"]) > 20 and f.type in ("int", "float"), f.name


# ---------------------------------------------------------------------- non-finite
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_the_first_non_finite_loss_is_found_with_its_lr(bad):
    losses = clean_losses()
    losses[250:] = bad
    record = make_record(losses, 100)
    result = diagnose(record)
    assert result.kinds() == ["nonfinite"], str(result)
    finding = result.findings[0]
    assert finding.step == 250 and finding.lr == lr_at(record, 250)
    # after the early phase (2W = 200): no warmup suggestion, half the LR at the first non-finite loss
    assert actions(finding) == {"lower_peak_lr": float(f"{0.5 * lr_at(record, 250):.2g}")}


@given(where=st.integers(0, 599))
def test_a_nan_anywhere_is_reported_at_that_update(where):
    losses = clean_losses()
    losses[where] = math.nan
    finding = by_kind(diagnose(make_record(losses, 100)))["nonfinite"]
    assert finding.step == where


def test_a_spike_before_the_nan_sets_the_suggestions():
    losses = clean_losses()
    losses[20] *= 8
    losses[60:] = math.nan
    record = make_record(losses, 100)
    result = diagnose(record)
    assert result.kinds() == ["nonfinite", "spike"]
    nonfinite, spike = result.findings
    assert nonfinite.suggestions == spike.suggestions  # one set of suggestions for one problem
    assert actions(spike) == {"extend_warmup": 200, "lower_peak_lr": float(f"{0.5 * lr_at(record, 20):.2g}")}
    assert "the first spike" in spike.suggestions[1].text


# ---------------------------------------------------------------------- divergence and plateau
def test_a_loss_that_grows_is_a_divergence_from_its_onset():
    losses = clean_losses()
    losses[300:] = np.linspace(0.5, 8.0, 300)
    record = make_record(losses, 100, steps_per_epoch=50)
    result = diagnose(record)
    assert result.kinds() == ["divergence"], str(result)
    finding = result.findings[0]
    assert "the loss grew" in finding.message
    # the onset: where the running average rises above 1.5x the first median for good
    early = float(np.median(losses[:60]))
    average, onset = losses[0], None
    for k, loss in enumerate(losses):
        average = average if k == 0 else 0.9 * average + 0.1 * loss
        onset = None if average <= 1.5 * early else (k if onset is None else onset)
    assert finding.step == onset and finding.epoch == onset // 50
    assert actions(finding) == {"lower_peak_lr": float(f"{0.5 * lr_at(record, onset):.2g}")}


def test_ending_above_chance_without_ever_being_below_it_is_a_plateau_not_a_divergence_at_update_0():
    losses = np.full(400, 3.0) * np.random.default_rng(1).uniform(0.95, 1.05, 400)
    losses[:40] = 10.0  # it fell, from 10 to 3, but 3 > 1.05 ln 10: it never got below chance
    record = make_record(losses, 0)
    assert diagnose(record).ok  # without the classes nothing is wrong: the loss fell from 10 to 3
    result = diagnose(record, num_classes=10)
    assert result.kinds() == ["plateau"]  # before: a divergence at update 0, the first loss, before any update
    finding = result.findings[0]
    assert finding.step == 360 and "the loss never gets below chance" in finding.message
    assert actions(finding) == {"raise_peak_lr": 0.3, "lengthen_run": 800}


def test_a_flat_loss_is_a_plateau_and_with_no_trouble_the_lr_is_raised():
    losses = 1.5 * np.random.default_rng(2).uniform(0.95, 1.05, 500)
    record = make_record(losses, 50)
    result = diagnose(record)
    assert result.kinds() == ["plateau"]
    finding = result.findings[0]
    assert finding.step == 450  # the first row of the last window (10% of 500)
    assert "less than 10% lower" in finding.message and "too low" in finding.message
    assert actions(finding) == {"raise_peak_lr": 0.3, "lengthen_run": 1000}  # 3x the largest LR 0.1; 2x 500 updates


def test_a_loss_stuck_at_chance_is_a_plateau():
    losses = math.log(10) * np.random.default_rng(3).uniform(0.97, 1.03, 500)
    losses[:100] = np.linspace(3.0, 2.3, 100)  # fell by more than 10%, but to chance
    assert diagnose(make_record(losses, 50)).ok
    finding = by_kind(diagnose(make_record(losses, 50), num_classes=10))["plateau"]
    assert "stuck at chance" in finding.message


def test_a_plateau_after_spikes_says_the_lr_is_too_high():
    losses = math.log(10) * np.random.default_rng(4).uniform(0.97, 1.03, 500)
    losses[10] = 40.0
    record = make_record(losses, 0, num_classes=10)
    result = diagnose(record)
    assert result.kinds() == ["spike", "plateau"]
    plateau = by_kind(result)["plateau"]
    assert "too high" in plateau.message
    assert actions(plateau) == {"extend_warmup": 22, "lower_peak_lr": float(f"{0.5 * lr_at(record, 10):.2g}")}


def test_short_records_skip_divergence_and_plateau_with_a_note():
    result = diagnose(make_record([2.3] * 9, 0))
    assert result.ok
    assert result.notes == ("divergence and plateau need at least 10 finite losses; the record has 9",)


def test_a_flat_loss_near_chance_with_no_spike_is_a_plateau_not_a_divergence_at_update_0():
    """Issue 10, case 11: 1000 updates at 2.5 with 10 classes (ln 10 = 2.30), peak 0.1, W = 100."""
    record = make_record(np.full(1000, 2.5), 100, num_classes=10)
    result = diagnose(record)
    assert result.kinds() == ["plateau"]
    finding = result.findings[0]
    assert finding.step == 900  # the first row of the last window, not the warmup's start
    assert "stuck above chance" in finding.message and "too low or the run too short" in finding.message
    assert actions(finding) == {"raise_peak_lr": 0.3, "lengthen_run": 2000}


@given(
    losses=st.lists(st.floats(0.01, 50), min_size=20, max_size=80),
    warmup=st.sampled_from([0, 5, 20]),
    classes=st.sampled_from([None, 2, 10, 1000]),
)
def test_no_finding_is_dated_at_the_first_loss(losses, warmup, classes):
    """The first loss is measured before any update: nothing the LR did can show there."""
    result = diagnose(make_record(losses, warmup), num_classes=classes)
    assert all(f.step > 0 for f in result), str(result)


def test_a_loss_that_rises_above_chance_is_still_a_divergence():
    losses = np.concatenate([np.full(500, 2.0), np.linspace(2.0, 2.9, 500)])  # from below chance to above it
    finding = by_kind(diagnose(make_record(losses, 100, num_classes=10)))["divergence"]
    assert "ends above chance" in finding.message and finding.step > 500


# ---------------------------------------------------------------------- inputs, meta, determinism
def test_meta_is_read_and_arguments_override_it():
    losses = clean_losses()
    losses[150] *= 6
    record = make_record(losses, 100, num_classes=10, steps_per_epoch=40)
    finding = diagnose(record).findings[0]
    assert finding.epoch == 3 and "just after the warmup" in finding.message
    assert diagnose(record, warmup_steps=50).ok  # the early phase now ends at 100
    assert diagnose(record, steps_per_epoch=100).findings[0].epoch == 1
    del record.meta["schedule"]
    result = diagnose(record, warmup_steps=None)
    assert result.warmup_steps is None and "warmup unknown" in str(result)


def test_a_fractional_steps_per_epoch_from_fastai_gradient_accumulation():
    """Issue 10, case 15: fastai under GradientAccumulation stores steps_per_epoch = 2.5 (updates per epoch)."""
    losses = clean_losses()
    losses[150] *= 6
    record = make_record(losses, 100, steps_per_epoch=2.5)
    assert diagnose(record).findings[0].epoch == 60  # floor(150 / 2.5)
    assert diagnose(record, steps_per_epoch=7.5).findings[0].epoch == 20
    record.meta["steps_per_epoch"] = "2.5"
    with pytest.raises(TypeError, match=r"record.meta\['steps_per_epoch'\] must be a real number"):
        diagnose(record)


@pytest.mark.parametrize("step", [None, math.nan, math.inf, -1, "3"])
def test_a_bad_update_index_is_a_clear_error_naming_its_row(step):
    """Issue 10, case 16: a record with a bad step (logged unchecked, or edited) is refused, not an AssertionError."""
    record = make_record(clean_losses(20), 5)
    record.updates["step"][7] = step
    with pytest.raises(ValueError, match=r"^training record: updates.step\[7\] must be a finite number >= 0, got "):
        diagnose(record)


def test_rows_without_a_loss_are_skipped():
    record = make_record(clean_losses(), 100)
    record.log_update(600, 0.0)
    assert diagnose(record).updates == 600


def test_the_diagnosis_is_deterministic_and_survives_json(tmp_path):
    losses = clean_losses()
    losses[30] *= 9
    losses[400:] = math.nan
    record = make_record(losses, 100, grad_norms=list(np.linspace(1, 2, 600)), num_classes=10)
    first = diagnose(record)
    loaded = TrainingRecord.load(record.save(tmp_path / "r.json"))
    assert diagnose(record) == first == diagnose(loaded)
    assert json.loads(json.dumps(first.to_dict())) == first.to_dict()


def test_the_report_lists_every_suggestion():
    losses = clean_losses()
    losses[30] *= 9
    text = str(diagnose(make_record(losses, 100)))
    assert "[spike] update 30, LR 0.0307: a loss spike during the warmup" in text
    assert "  -> extend the warmup from 100 to 200 updates (warmup_steps=200)" in text
    assert "  -> lower the peak LR to 0.015 (0.5x the LR 0.0307 at the first spike)" in text


def test_warmup_lengths_round_up_to_two_significant_figures():
    for where, expected in ((3, 8), (68, 140), (604, 1300)):
        losses = clean_losses(6100, 1500)
        losses[where] *= 10
        finding = diagnose(make_record(losses, 0), early_fraction=0.2).findings[0]
        assert actions(finding)["extend_warmup"] == expected, where


def test_exported_from_the_package():
    assert warmup_plugins.diagnose is diagnose
    assert isinstance(diagnose(make_record(clean_losses())), Diagnosis)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"spike_factor": 1}, ValueError, "spike_factor must be in"),
        ({"ema_beta": 1}, ValueError, "ema_beta must be in"),
        ({"burn_in": 0}, ValueError, "burn_in must be an integer >= 1"),
        ({"window_fraction": 0.6}, ValueError, "window_fraction must be in"),
        ({"num_classes": 1}, ValueError, "num_classes must be an integer >= 2"),
        ({"num_classes": 2.5}, TypeError, "num_classes must be an integer"),
        ({"warmup_steps": -1}, ValueError, "warmup_steps must be in"),
        ({"steps_per_epoch": 0}, ValueError, r"steps_per_epoch must be in \(0, inf\), got 0"),
        ({"lower_factor": 1}, ValueError, "lower_factor must be in"),
    ],
)
def test_bad_arguments_name_themselves(kwargs, error, match):
    with pytest.raises(error, match=match):
        diagnose(make_record(clean_losses()), **kwargs)


def test_bad_records_are_clear_errors():
    with pytest.raises(TypeError, match="record must be a TrainingRecord, got dict"):
        diagnose({"updates": {}})
    empty = TrainingRecord()
    empty.log_update(0, 0.1)
    with pytest.raises(ValueError, match="no per-update loss"):
        diagnose(empty)


def test_a_record_kept_by_the_torch_adapter_is_diagnosed():
    model = tiny_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = WarmupLR(optimizer, warmup_steps=5, total_steps=30, decay_type="cosine", record=True)
    for x, y in batches(30):  # random labels: nothing to learn, the loss stays flat
        loss = torch.nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step(loss=loss.item())
    result = diagnose(scheduler.record)
    assert result.warmup_steps == 5 and result.updates == 30
    assert result.kinds() == ["plateau"]
    assert actions(result.findings[0]) == {"raise_peak_lr": 0.3, "lengthen_run": 60}


# ---------------------------------------------------------------------- an adaptive warmup
def adaptive_record(losses, nominal, took, **report):
    """A record whose adaptive warmup (nominal length ``nominal``) took ``took`` updates (None: not over)."""
    record = make_record(losses, nominal)
    record.meta["adaptive"] = {"warmup_updates": took, "nominal_warmup": nominal, **report}
    if took is not None:
        record.meta["warmup_updates"] = took
    return record


def test_an_adaptive_warmup_is_reported_with_its_nominal_length_and_the_advice_names_its_options():
    """Issue 29 item 7: the report said "warmup 36 updates", then "extend the warmup from 36 to 150", an
    advice the adaptive warmup cannot take as it stands."""
    losses = clean_losses()
    losses[60] *= 6
    result = diagnose(adaptive_record(losses, 20, 36))
    assert str(result).splitlines()[0] == "600 updates with a loss; warmup adaptive: nominal 20, took 36 updates"
    assert result.warmup_steps == 36 and result.nominal_warmup == 20
    extend = result.findings[0].suggestions[0]
    assert extend.action == "extend_warmup" and extend.value == 130  # max(2 * 36, 2 * 61) = 122, rounded up
    assert extend.text == (
        "extend the warmup to 130 updates (the adaptive warmup took 36 of a nominal 20): warmup_steps=130 with "
        "AdaptiveWarmup(max_rate=1), which never runs faster than the nominal pace; a lower "
        "AdaptiveWarmup(update_target=...) (default 0.05, the relative update size it aims at) slows it too"
    )
    assert diagnose(adaptive_record(losses, 20, 36), warmup_steps=36).nominal_warmup is None  # the caller's W


def test_an_adaptive_warmup_not_over_is_noted_and_judged_by_its_nominal_length():
    result = diagnose(adaptive_record(clean_losses(), 100, None))
    assert result.warmup_steps == 100 and result.nominal_warmup is None
    assert result.notes == (
        "the adaptive warmup (nominal 100 updates) was not over at the last update: its nominal length is used",
    )


def test_a_too_high_peak_names_cap_peak_unless_it_capped_already():
    report = {"peak_too_high_at": 40, "suggested_peak_factor": 0.6, "stalls": 20}
    record = adaptive_record(clean_losses(), 20, 50, peak_factor=None, **report)
    record.meta["base_lrs"] = [0.1]
    (text,) = [s.text for s in by_kind(diagnose(record))["peak_too_high"].suggestions]
    assert text.endswith("; or AdaptiveWarmup(cap_peak=True), which ends the warmup at that lower peak")
    record.meta["adaptive"]["peak_factor"] = 0.6
    (text,) = [s.text for s in by_kind(diagnose(record))["peak_too_high"].suggestions]
    assert "cap_peak" not in text


def test_a_record_kept_by_an_adaptive_warmup_says_what_it_took():
    from warmup_plugins import AdaptiveWarmup

    model = tiny_model()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    schedule = WarmupSchedule(warmup_steps=10, total_steps=60, decay_type="cosine")
    scheduler = WarmupLR(optimizer, schedule, adaptive=AdaptiveWarmup(), record=True)
    for x, y in batches(60):
        loss = torch.nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step(loss=loss.item())
    took = scheduler.adaptive.warmup_done_at
    result = diagnose(scheduler.record)
    assert took is not None and result.warmup_steps == took and result.nominal_warmup == 10
    assert f"warmup adaptive: nominal 10, took {took} updates" in str(result).splitlines()[0]

"""The tuning example and ``benchmarks.tune --quick`` run end to end on synthetic data."""

import json
import runpy
from pathlib import Path

import optuna

from benchmarks import report as report_module
from benchmarks import tune, tune_pruning

ROOT = Path(__file__).resolve().parents[2]


def test_example_runs_and_its_study_goes_on(tmp_path, capsys):
    example = runpy.run_path(str(ROOT / "examples" / "tune_warmup.py"), run_name="tune_warmup")
    url = f"sqlite:///{tmp_path / 'example.db'}"
    for _ in range(2):  # a second run joins the same study
        example["main"](["--trials", "2", "--storage", url])
    assert "best of 4 trials" in capsys.readouterr().out  # seeded (--seed 0): the same trials every run
    assert len(optuna.load_study(study_name="example", storage=url).trials) == 4


def test_benchmark_quick_writes_json_report_and_pngs(tmp_path):
    result = tune.main(["--quick", "--trials", "2", "--out", str(tmp_path), "--device", "cpu"])
    saved = json.loads((tmp_path / "tune_seed_cnn_quick.json").read_text())
    assert saved["trials"] == result["trials"] and len(saved["trials"]) == 2
    assert [b["warmup"] for b in saved["baselines"]] == ["recipe warmup", "adaptive", "untuned"]
    assert all(len(b["accuracy"]) == 2 for b in saved["baselines"])  # two seeds per point
    report = (tmp_path / "tune_seed_cnn_quick.md").read_text()
    for name in saved["figures"]:
        assert (tmp_path / name).is_file() and f"]({name})" in report
    tune.main(["--render", str(tmp_path / "tune_seed_cnn_quick.json")])
    assert (tmp_path / "tune_seed_cnn_quick.md").read_text() == report  # the markdown comes from the JSON alone


def test_pruning_benchmark_quick_writes_json_markdown_and_png(tmp_path):
    result = tune_pruning.main(["--quick", "--trials", "2", "--searches", "0", "1", "--out", str(tmp_path)])
    saved = json.loads((tmp_path / "tune_pruning_quick.json").read_text())
    assert sorted(saved["searches"]) == sorted(f"{arm}|{seed}" for arm in tune_pruning.ARMS for seed in (0, 1))
    assert all(len(trials) == 2 for trials in saved["searches"].values())  # the same budget, every search
    unpruned = [t for seed in (0, 1) for t in saved["searches"][f"no pruning|{seed}"]]
    assert all(t["state"] == "COMPLETE" and t["updates"] == saved["updates_per_run"] for t in unpruned)
    report = (tmp_path / "tune_pruning_quick.md").read_text()
    assert (tmp_path / result["figure"]).read_bytes()[:4] == b"\x89PNG" and f"]({result['figure']})" in report
    tune_pruning.main(["--render", str(tmp_path / "tune_pruning_quick.json")])
    assert (tmp_path / "tune_pruning_quick.md").read_text() == report  # the markdown comes from the JSON alone
    section = report_module.render(tmp_path, include_quick=True)  # RESULTS.md's section, its figure beside the JSON
    assert "## What pruning buys a warmup search" in section and f"]({tmp_path.name}/{result['figure']})" in section


def test_pruning_benchmark_counts_updates_to_the_target():
    trials = [
        {"state": "PRUNED", "value": 0.9, "updates": 10},  # a pruned trial's value is no result: only its cost counts
        {"state": "COMPLETE", "value": 0.5, "updates": 100},
        {"state": "COMPLETE", "value": 0.6, "updates": 100},
    ]
    assert tune_pruning.updates_to_reach(trials, 0.55) == 210
    assert tune_pruning.updates_to_reach(trials, 0.7) is None
    assert tune_pruning.best(trials) == 0.6

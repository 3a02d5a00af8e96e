"""The tuning example and ``benchmarks.tune --quick`` run end to end on synthetic data."""

import json
import runpy
from pathlib import Path

import optuna

from benchmarks import tune

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

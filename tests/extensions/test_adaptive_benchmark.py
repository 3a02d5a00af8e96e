"""``python -m benchmarks.adaptive --quick``: it runs, and its table and figure come from its JSON."""

import json

from benchmarks import adaptive


def test_quick_run_writes_json_table_and_figure(tmp_path):
    argv = ["--quick", "--out", str(tmp_path), "--peak-lrs", "0.01", "--methods", "linear 5", "adaptive from 5"]
    result = adaptive.main(argv)
    data = json.loads((tmp_path / "adaptive.json").read_text())
    assert (tmp_path / "adaptive.md").read_text() == adaptive.render(data)
    assert (tmp_path / "adaptive.png").stat().st_size > 0
    block = data["summary"]["0.01"]
    assert set(block["rows"]) == {"none", "linear 5", "adaptive from 5"}  # 'none' is always run
    paired = block["paired"]["adaptive from 5"]
    best = [r["accuracy"] for r in data["runs"]["0.01"][block["best_fixed"]]]
    ours = [r["accuracy"] for r in data["runs"]["0.01"]["adaptive from 5"]]
    assert paired["differences"] == [100 * (a - b) for a, b in zip(ours, best)]
    assert all(r["adaptive"]["warmup_updates"] is not None for r in data["runs"]["0.01"]["adaptive from 5"])
    assert result["cost"][0]["model"] == "seed_cnn" and result["cost"][0]["measure_seconds"] > 0

"""``benchmarks.peak_report`` on seeded synthetic set-up JSON (no training): the paired intervals against
hand-computed values, targets met and missed at their boundaries, partial data, flags and the PNGs."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest

from benchmarks import peak_report as report

PEAKS = (1e-3, 3e-3, 1e-2, 3e-2)
SPE, EPOCHS = 156, 10
WARMUPS = (16, 156, 468)
SEEDS = (0, 1, 2)
ENV = {"device": "CPU test", "python": "3.11", "torch": "2.x", "timm": "1.x", "fastai": "2.x", "git_commit": "abc123"}


def make_run(method: str, seed: int, accuracy: float, *, peak: float | None, warmup: int | None = None, **extra):
    """One run as ``peak_finding.run`` stores it (JSON-safe), with a short LR path and losses."""
    rng = random.Random(f"{method}|{seed}")
    lrs = [(peak or 1e-3) * min(1.0, (i + 1) / (warmup or 50)) for i in range(100)]
    losses = [2.3 * math.exp(-i / 60) + 0.05 * rng.random() for i in range(100)]
    run = {
        "setup": "x",
        "method": method,
        "seed": seed,
        "peak": peak,
        "warmup": warmup,
        "options": {},
        "accuracy": accuracy,
        "diverged": False,
        "max_loss": 2.4 + rng.random(),
        "final_loss": 0.9,
        "max_lr": max(lrs),
        "lrs": lrs,
        "losses": losses,
        "report": None,
        "on_floor": None,
        "seconds": 60.0 + seed,
    }
    run.update(extra)
    return run


def peak_report(decided_at=200, reason="rise", factor=0.2):
    return {
        "warmup_updates": decided_at,
        "decided_at": decided_at,
        "reason": reason,
        "peak_factor": factor,
        "edge_factor": 2 * factor,
        "holds": 1,
        "search_updates": 390,
        "low": 1e-3,
        "safety": 0.5,
    }


def adaptive_report(warmup_updates=180, factor=None):
    return {"warmup_updates": warmup_updates, "nominal_warmup": SPE, "peak_too_high_at": None, "peak_factor": factor}


def autowu_report(decided=True, peak_lr=4e-3, end=520):
    return {
        "decided": decided,
        "decision_update": end if decided else None,
        "warmup_end_update": end,
        "peak_lr": peak_lr,
    }


def synthetic(name: str, role: str, seed: int = 0, **accuracies: list[float]) -> dict:
    """A complete set-up file: every grid cell and method for seeds 0-2 with seeded accuracies (the best grid cell
    is p=0.003 w=156, about 60%); ``accuracies`` (by method key, ``**{"grid p=...": ...}`` where it has spaces)
    plants exact values."""
    rng = random.Random(seed)
    planted = dict(accuracies)

    def acc(key: str, center: float) -> list[float]:
        return planted.get(key, [round(center + rng.uniform(-0.3, 0.3), 2) for _ in SEEDS])

    runs: dict[str, dict] = {}

    def add(method: str, values: list[float], **kw) -> None:
        for s, a in zip(SEEDS, values):
            extra = {k: (v(s) if callable(v) else v) for k, v in kw.items()}
            runs[f"{method} | seed {s}"] = make_run(method, s, a, **extra)

    centers = {1e-3: 57.0, 3e-3: 60.0, 1e-2: 55.0, 3e-2: 45.0}
    for p in PEAKS:
        for w in WARMUPS:
            add(
                f"grid p={p:g} w={w}",
                acc(f"grid p={p:g} w={w}", centers[p] - (0.5 if w != SPE else 0)),
                peak=p,
                warmup=w,
            )
    bound = 3 * max(PEAKS)
    add("peak", acc("peak", 59.5), peak=bound, report=peak_report())
    add("peak bound x10", acc("peak bound x10", 59.0), peak=10 * bound, report=peak_report(factor=0.02))
    add("lr_find", acc("lr_find", 58.0), peak=lambda s: 2e-3 + s * 1e-4, warmup=SPE, valley=lambda s: 2e-3 + s * 1e-4)
    add("autowu", acc("autowu", 58.5), peak=bound, report=autowu_report())
    for p in (3e-2, 3e-3):
        add(
            f"adaptive p={p:g}",
            acc(f"adaptive p={p:g}", centers[p]),
            peak=p,
            warmup=SPE,
            report=adaptive_report(),
            on_floor=10,
        )
        for s, a in zip(SEEDS, acc(f"taken p={p:g}", centers[p])):
            runs[f"taken p={p:g} s={s} | seed {s}"] = make_run(f"taken p={p:g} s={s}", s, a, peak=p, warmup=180)
    setup = {
        "name": name,
        "model": "seed_cnn",
        "optimizer": "adam",
        "peaks": list(PEAKS),
        "role": role,
        "images": SPE * 32,
        "test_images": 5000,
        "batch": 32,
        "epochs": EPOCHS,
        "augment": False,
        "total_steps": SPE * EPOCHS,
    }
    return {"setup": setup, "environment": ENV, "runs": runs}


def write(folder: Path, *files: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for f in files:
        (folder / f"{f['setup']['name']}.json").write_text(json.dumps(f))
    return folder


def comparison(s: dict, ours: str, reference: str) -> dict:
    return next(c for c in s["comparisons"] if c["ours"] == ours and c["reference"] == reference)


# ------------------------------------------------------------------------------------------------ statistics
def test_t_table_matches_students_t():
    stats = pytest.importorskip("scipy.stats")
    for df in (*range(1, 31), 40, 60, 120):
        assert report.t975(df) == pytest.approx(stats.t.ppf(0.975, df), abs=6e-4)
    assert report.t975(35) == report.T975[30]  # between entries: the next lower df (wider)
    assert report.t975(10_000) == report.T975[120]
    with pytest.raises(ValueError, match="df"):
        report.t975(0)


def test_paired_interval_against_hand_computed_values():
    # differences 1, 2, 3 (seeds 0-2): mean 2, sd 1, t(2) = 4.303, half width 4.303 / sqrt(3) = 2.4843382...
    c = report.paired({0: 51.0, 1: 52.0, 2: 53.0, 5: 99.0}, {0: 50.0, 1: 50.0, 2: 50.0, 7: 0.0})
    assert c["seeds"] == [0, 1, 2] and c["differences"] == [1.0, 2.0, 3.0] and c["n"] == 3
    assert c["mean"] == 2.0
    assert c["low"] == pytest.approx(2 - 2.4843382, abs=1e-6) and c["high"] == pytest.approx(2 + 2.4843382, abs=1e-6)
    # four seeds, differences -1, 0, 0, 1: sd sqrt(2/3), t(3) = 3.182
    four = report.paired({s: 50.0 + d for s, d in enumerate((-1, 0, 0, 1))}, dict.fromkeys(range(4), 50.0))
    assert four["high"] == pytest.approx(3.182 * math.sqrt(2 / 3) / 2)
    one = report.paired({0: 51.0}, {0: 50.0})
    assert one["mean"] == 1.0 and one["low"] is None and report.judge("a", one) is None
    assert report.paired({0: 1.0}, {1: 1.0}) is None


def test_targets_at_their_boundaries():
    def same(d: float) -> dict:  # three equal differences: sd 0, the interval is the point
        return report.paired({s: 55.0 + d for s in SEEDS}, dict.fromkeys(SEEDS, 55.0))

    assert same(-1.0)["low"] == -1.0 and report.judge("a", same(-1.0)) is False  # lower end must be above -1
    assert report.judge("a", same(-0.99)) is True and report.judge("c", same(-0.99)) is True
    assert report.judge("c", same(-1.0)) is False
    assert report.judge("b", same(0.0)) is True and report.judge("b", same(-0.01)) is False
    assert report.judge(None, same(5.0)) is None and report.judge("a", None) is None


# ------------------------------------------------------------------------------------------------ judging
def test_targets_per_setup_and_over_the_held_out_setups(tmp_path):
    best = [60.0, 61.0, 62.0]  # grid p=0.003 w=156
    held_1 = synthetic(
        "vit",
        "held out",
        1,
        **{"grid p=0.003 w=156": best},
        peak=[59.0, 60.5, 61.5],  # differences -1, -0.5, -0.5: mean -2/3, low -2/3 - 4.303 * 0.2887 / 1.732 < -1
        lr_find=[59.0, 60.0, 61.0],  # PeakFinder - lr_find: 0, +0.5, +0.5
        autowu=[60.0, 61.0, 62.0],  # PeakFinder - autowu: -1, -0.5, -0.5
        **{"adaptive p=0.003": [60.0, 61.0, 62.0]},  # = its nominal (the best cell): met
    )
    held_2 = synthetic(
        "mixer",
        "held out",
        2,
        **{"grid p=0.003 w=156": best},
        peak=[60.0, 61.0, 62.0],  # = best: met
        lr_find=[60.0, 61.0, 62.0],  # 0
        autowu=[59.0, 60.0, 61.0],  # +1: averaged with vit's -2/3, +1/6 >= 0
        **{"adaptive p=0.003": [59.0, 60.0, 61.0]},  # -1 exactly: missed
    )
    dev = synthetic("cnn", "development", 3)
    out = report.summary(write(tmp_path, held_1, held_2, dev))
    assert out["held_out"] == ["mixer", "vit"] and out["developed_on"] == ["cnn"]
    vit, mixer = out["setups"]["vit"], out["setups"]["mixer"]
    assert vit["best"]["key"] == mixer["best"]["key"] == "grid p=0.003 w=156"
    a = comparison(vit, "peak", report.BEST)
    assert a["differences"] == [-1.0, -0.5, -0.5] and a["mean"] == pytest.approx(-2 / 3)
    assert a["low"] == pytest.approx(-2 / 3 - 4.303 * math.sqrt(1 / 12) / math.sqrt(3))
    assert vit["targets"]["a"]["peak"] is False and mixer["targets"]["a"]["peak"] is True
    assert vit["targets"]["b"] == {"lr_find": True, "autowu": False}
    assert vit["targets"]["c"] is True and mixer["targets"]["c"] is False
    c = next(c for c in mixer["comparisons"] if c["target"] == "c")
    assert c["reference_key"] == "grid p=0.003 w=156" and c["low"] == -1.0
    judged = out["held_out_judgement"]
    assert judged["a"]["met"] == 1 and judged["a"]["of"] == 2 and judged["c"]["met"] == 1
    b = judged["b"]
    assert b["lr_find"]["mean"] == pytest.approx(1 / 6) and b["lr_find"]["met"] is True
    assert b["autowu"]["mean"] == pytest.approx((-2 / 3 + 1) / 2) and b["autowu"]["met"] is True
    assert b["autowu"]["pooled"]["n"] == 6
    json.dumps(out, allow_nan=False)  # plain data

    held_2["runs"] = {k: v for k, v in held_2["runs"].items() if not k.startswith("autowu")}
    judged = report.summary(write(tmp_path, held_2))["held_out_judgement"]["b"]
    assert judged["autowu"]["complete"] is False and judged["autowu"]["met"] is None  # not run on every held-out one
    assert judged["autowu"]["setups"] == ["vit"]


def test_b_is_missed_when_the_held_out_average_is_below_zero(tmp_path):
    one = synthetic("a", "held out", 1, **{"grid p=0.003 w=156": [60.0] * 3}, peak=[60.0] * 3, lr_find=[60.01] * 3)
    out = report.summary(write(tmp_path, one))
    assert out["held_out_judgement"]["b"]["lr_find"]["mean"] == pytest.approx(-0.01)
    assert out["held_out_judgement"]["b"]["lr_find"]["met"] is False


def test_adaptive_cells_are_compared_with_nominal_taken_and_best(tmp_path):
    f = synthetic(
        "s",
        "held out",
        4,
        **{
            "adaptive p=0.03": [40.0, 41.0, 42.0],
            "grid p=0.03 w=156": [45.0, 45.0, 45.0],
            "taken p=0.03": [39.0, 41.0, 43.0],
        },
    )
    s = report.summary(write(tmp_path, f))["setups"]["s"]
    assert s["adaptive"] == {"top": "adaptive p=0.03", "best": "adaptive p=0.003"}
    nominal = comparison(s, "adaptive p=0.03", "grid p=0.03 w=156")
    assert nominal["differences"] == [-5.0, -4.0, -3.0] and nominal["target"] is None  # too high: no (c)
    taken = comparison(s, "adaptive p=0.03", "taken p=0.03")
    assert taken["differences"] == [1.0, 0.0, -1.0] and taken["low"] == pytest.approx(-4.303 / math.sqrt(3))
    assert comparison(s, "adaptive p=0.03", report.BEST)["status"] == "ok"
    assert comparison(s, "adaptive p=0.003", "grid p=0.003 w=156")["target"] == "c"


# ------------------------------------------------------------------------------------------------ partial data
def test_partial_data_renders_not_run(tmp_path):
    f = synthetic("grid-only", "held out", 5)
    f["runs"] = {k: v for k, v in f["runs"].items() if k.startswith("grid") and not k.endswith("seed 2")}
    del f["runs"]["grid p=0.03 w=468 | seed 1"]  # a cell with one seed, another not run at all
    del f["runs"]["grid p=0.03 w=468 | seed 0"]
    del f["runs"]["grid p=0.01 w=16 | seed 1"]
    g = synthetic("fewer-seeds", "development", 6)
    g["runs"] = {k: v for k, v in g["runs"].items() if not (k.startswith("peak |") and not k.endswith("seed 0"))}
    text = report.render_folder(write(tmp_path, f, g))
    assert text == (tmp_path / "RESULTS.md").read_text()
    assert "not run" in text
    s = report.summary(tmp_path)
    grid_only = s["setups"]["grid-only"]
    assert grid_only["methods"] == {} and grid_only["targets"]["a"]["peak"] is None
    assert grid_only["best"]["n"] == 2  # only cells with the most seeds can be best
    assert "| 0.03 | " in text and "not run" in text.split("## grid-only")[1].split("| 0.03 |")[1].split("\n")[0]
    one_seed = comparison(s["setups"]["fewer-seeds"], "peak", report.BEST)
    assert one_seed["n"] == 1 and one_seed["low"] is None and one_seed["met"] is None
    assert "(a) not judged (1 seed)" in text
    assert s["held_out_judgement"]["b"]["lr_find"]["met"] is None  # grid-only held out: nothing to judge
    assert not (tmp_path / "grid-only_search.png").exists() and (tmp_path / "fewer-seeds_search.png").exists()


def test_a_folder_without_setup_files_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        report.render_folder(tmp_path / "missing")
    (tmp_path / "other.json").write_text("{}")
    with pytest.raises(ValueError, match="no set-up JSON"):
        report.render_folder(tmp_path)


# ------------------------------------------------------------------------------------------------ flags
def test_flags_name_fixed_paths_and_failures(tmp_path):
    f = synthetic("flags", "held out", 7)
    runs = f["runs"]
    runs["peak | seed 1"]["report"] = peak_report(decided_at=390, reason="bound", factor=1.0)
    runs["adaptive p=0.03 | seed 2"].update(on_floor=180)  # = warmup_updates: sat on the floor throughout
    runs["adaptive p=0.03 | seed 0"].update(on_floor=179)  # one update off the floor: not flagged
    runs["autowu | seed 0"]["report"] = autowu_report(decided=False, peak_lr=None, end=None)
    runs["lr_find | seed 2"].update(diverged=True, accuracy=10.0, max_loss="inf", losses=[2.3, "nan"])
    taken = runs["taken p=0.003 s=1 | seed 1"]["lrs"]
    runs["adaptive p=0.003 | seed 1"]["lrs"] = [x * (1 + 1e-12) for x in taken]  # the same path, up to rounding
    runs["adaptive p=0.003 | seed 2"]["lrs"] = [x * (1 + 1e-6) for x in taken]  # a path of its own
    s = report.summary(write(tmp_path, f))["setups"]["flags"]
    found = {(x["flag"], x["method"], x["seed"]) for x in s["flags"]}
    assert found == {
        ("bound", "peak", 1),
        ("floor", "adaptive p=0.03", 2),
        ("fixed path", "adaptive p=0.003", 1),
        ("autowu undecided", "autowu", 0),
        ("diverged", "lr_find", 2),
    }
    assert s["methods"]["lr_find"]["max_losses"][2] == "inf" and s["methods"]["lr_find"]["diverged"] == 1
    assert s["methods"]["peak"]["peaks"][1] == pytest.approx(3 * max(PEAKS))  # bound x 1.0
    text = report.render_folder(tmp_path)
    assert "fixed exponential warmup to the bound" in text and "sat on the floor for all 180" in text
    assert "AutoWU never decided" in text
    assert "its LR path is that of a fixed linear warmup of 180 updates (its `taken` run, to 1e-12 relative)" in text


# ------------------------------------------------------------------------------------------------ the output
def test_render_writes_markdown_and_pngs_from_the_json_only(tmp_path):
    folder = write(tmp_path, synthetic("vit", "held out", 8), synthetic("cnn", "development", 9))
    text = report.render_folder(folder)
    for name in ("vit", "cnn"):
        for kind in ("accuracy", "search"):
            png = folder / f"{name}_{kind}.png"
            assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            assert f"]({png.name})" in text
    assert "commit `abc123`" in text and "Developed on: cnn" in text and "Held out: vit" in text
    held, dev = text.split("### Held-out set-ups")[1].split("### Development set-ups")
    assert "| vit |" in held and "| cnn |" not in held and "| cnn |" in dev
    s = report.summary(folder)["setups"]["vit"]
    best = s["best"]
    assert f"**{best['mean']:.2f} ± {best['sd']:.2f}** (best)" in text  # the grid table marks the best cell
    assert "0.018" in text  # PeakFinder's chosen peak: bound 0.09 x 0.2
    assert report.render_folder(folder) == text  # deterministic


def test_repeat_runs_show_the_run_to_run_spread(tmp_path):
    f = synthetic("r", "held out", 10)
    for s in SEEDS:
        run = dict(f["runs"][f"peak | seed {s}"], method="repeat peak", accuracy=59.0 + s)
        f["runs"][f"repeat peak | seed {s}"] = run
    f["runs"]["repeat peak | seed 2"]["losses"] = [*f["runs"]["repeat peak | seed 2"]["losses"][:-1], 9.0]
    s = report.summary(write(tmp_path, f))["setups"]["r"]
    spread = comparison(s, "repeat peak", "peak")
    assert spread["n"] == 3 and spread["target"] is None
    (repeat,) = s["repeats"]
    first = [f["runs"][f"peak | seed {i}"]["accuracy"] for i in SEEDS]
    assert repeat["differences"] == [59.0 + i - first[i] for i in SEEDS]
    assert repeat["identical_losses"] == [True, True, False]
    text = report.render_folder(tmp_path)
    assert "repeat peak - PeakFinder" in text and "| peak | 0, 1, 2 |" in text and "2 of 3 seeds" in text


def test_cli_prints_the_summary_and_fails_cleanly(tmp_path, capsys):
    write(tmp_path, synthetic("x", "held out", 11))
    report.main([str(tmp_path), "--json"])
    assert json.loads(capsys.readouterr().out)["held_out"] == ["x"]
    with pytest.raises(SystemExit) as exit_:
        report.main([str(tmp_path / "nope")])
    assert exit_.value.code == 2 and "is not a folder" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------------ README blocks
ROOT = Path(__file__).resolve().parents[2]
README_START = "<!-- --8<-- [start:{0}] -->\nold text\n<!-- --8<-- [end:{0}] -->"


def test_readme_blocks_are_rewritten_from_the_json(tmp_path):
    folder = write(tmp_path / "runs", synthetic("vit", "held out", 12), synthetic("cnn", "development", 13))
    readme = tmp_path / "README.md"
    readme.write_text("# title\n\n" + "\n\nbetween\n\n".join(README_START.format(n) for n in report.README_BLOCKS))
    report.main([str(folder), "--readme", str(readme)])
    text = readme.read_text()
    assert "old text" not in text and text.startswith("# title") and text.count("between") == 2
    blocks = report.readme_blocks(folder)
    s = report.summary(folder)["setups"]["vit"]
    c = comparison(s, "peak", "best grid cell")
    planted = f"{c['mean']:+.2f} [{c['low']:+.2f}, {c['high']:+.2f}]"
    assert planted in blocks["peak-evidence"] and planted in blocks["peak-headline"]
    assert "**vit** (held out; the seed CNN with Adam)" in blocks["peak-evidence"]
    assert "of 1 held-out set-ups and" in blocks["peak-evidence"]
    assert "at the top grid peak 0.03" in blocks["adaptive-evidence"]
    for name, body in blocks.items():
        assert report.block_pattern(name).search(text).group(1) == body
    report.main([str(folder), "--readme", str(readme)])
    assert readme.read_text() == text  # rewriting from the same JSON changes nothing


def test_a_readme_without_the_blocks_is_a_clear_error(tmp_path, capsys):
    folder = write(tmp_path / "runs", synthetic("x", "held out", 14))
    readme = tmp_path / "README.md"
    readme.write_text("# no blocks\n")
    with pytest.raises(SystemExit) as exit_:
        report.main([str(folder), "--readme", str(readme)])
    assert exit_.value.code == 2 and "has no block 'peak-headline'" in capsys.readouterr().err
    assert readme.read_text() == "# no blocks\n"


def test_the_readme_numbers_are_those_of_the_committed_results():
    """Every number the README gives for PeakFinder and AdaptiveWarmup is generated from the committed JSON."""
    readme = (ROOT / "README.md").read_text()
    for name, body in report.readme_blocks(ROOT / "benchmarks" / "results" / "peak").items():
        found = report.block_pattern(name).search(readme)
        assert found is not None, f"README.md lost its generated block {name!r}"
        assert found.group(1) == body, (
            f"README block {name!r} differs from the committed results: run "
            "python -m benchmarks.peak_report benchmarks/results/peak --readme README.md"
        )

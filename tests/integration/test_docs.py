"""Every Python block of the README and of the docs pages runs (Sybil).

Each README block runs **alone**, in a fresh namespace and working directory, as a reader copies it: the README
has no hidden set-up, and a block needing a model or a loader shows a stand-in for it. The blocks of a docs page
run in order in one namespace (a page builds on its earlier blocks); set-up a reader of a page does not need to
see lives in ``<!-- invisible-code-block: python ... -->`` comments, which neither GitHub nor mkdocs show.
A block whose first line is ``# skip: <reason>`` is reported as skipped with that reason, so the
justification is in the block itself. Each file (each README block) runs in its own temporary working
directory, so blocks that save files leave the clone untouched.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

pytest.importorskip("sybil")
pytest.importorskip("timm")
pytest.importorskip("fastai")

from sybil import Sybil
from sybil.parsers.markdown import PythonCodeBlockParser

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
FILES = [README, *sorted((ROOT / "docs").glob("*.md"))]
SKIP = re.compile(r"\s*# skip: (?P<reason>.+)")
SYBIL = Sybil(parsers=[PythonCodeBlockParser()])


@dataclass
class FileRun:
    """The examples of one file and how far they have run (blocks share one namespace, so order matters)."""

    examples: list
    workdir: Path
    done: int = 0
    failed_at: int | None = None
    skipped: dict[int, str] = field(default_factory=dict)


RUNS: dict[Path, FileRun] = {}


def skip_reason(example) -> str | None:
    match = SKIP.match(str(example.parsed).splitlines()[0]) if str(example.parsed).strip() else None
    return match["reason"] if match else None


def cases() -> list:
    out = []
    for path in FILES:
        for index, example in enumerate(SYBIL.parse(path).examples()):
            out.append(pytest.param(path, index, id=f"{path.relative_to(ROOT)}:{example.line}"))
    return out


def test_every_file_has_blocks_and_the_parser_sees_them():
    counts = {path.name: len(list(SYBIL.parse(path).examples())) for path in FILES}
    assert counts["README.md"] >= 4, counts  # the quick-start examples, one per framework
    for page in ("concepts.md", "torch.md", "timm.md", "fastai.md", "monitoring.md", "scaling.md"):
        assert counts[page] >= 1, (page, counts)


def test_the_readme_hides_no_set_up():
    """Issue 29 item 2: all 5 README blocks failed as copied (NameError: model, loader, dls, optimizer, epochs),
    their set-up being in invisible comments."""
    assert "invisible-code-block" not in README.read_text()


@pytest.mark.parametrize("index", range(len(list(SYBIL.parse(README).examples()))))
def test_each_readme_block_runs_alone(index: int, tmp_path, monkeypatch):
    """A fresh namespace and working directory for each block: nothing from the blocks before it."""
    example = list(SYBIL.parse(README).examples())[index]
    monkeypatch.chdir(tmp_path)
    reason = skip_reason(example)
    if reason:
        pytest.skip(reason)
    example.namespace.clear()  # the document's shared namespace: start each block from nothing
    example.evaluate()


@pytest.mark.parametrize(("path", "index"), [case for case in cases() if case.values[0] != README])
def test_block_runs(path: Path, index: int, tmp_path_factory, monkeypatch):
    if path not in RUNS:
        RUNS[path] = FileRun(list(SYBIL.parse(path).examples()), tmp_path_factory.mktemp(path.stem))
    run = RUNS[path]
    monkeypatch.chdir(run.workdir)
    while run.done <= index:  # earlier blocks first, when this one was selected alone
        example, current = run.examples[run.done], run.done
        run.done += 1
        if run.failed_at is not None:
            pytest.fail(f"an earlier block of {path.name} (line {run.examples[run.failed_at].line}) failed")
        reason = skip_reason(example)
        if reason:
            run.skipped[current] = reason
            continue
        try:
            example.evaluate()
        except BaseException:
            run.failed_at = current
            raise
    if index in run.skipped:
        pytest.skip(run.skipped[index])


def raw_table_rows(html: str) -> list[str]:
    """Markdown table rows left as text in a rendered page (a paragraph line ``| ... |``): a blank line inside a
    table, or a row with the wrong number of cells, ends the table there and the rest prints raw."""
    rows = []
    for paragraph in re.findall(r"<p>(.*?)</p>", html, flags=re.DOTALL):
        text = re.sub(r"<[^>]+>", "", paragraph)
        rows += [line for line in text.splitlines() if re.fullmatch(r"\s*\|.*\|\s*", line)]
    return rows


def test_raw_table_rows_are_found():
    split = "<table><tr><td>a</td></tr></table>\n<p>| <code>x</code> | y |\n| z | w |</p>\n<p>a | b</p>"
    assert raw_table_rows(split) == ["| x | y |", "| z | w |"]
    assert raw_table_rows("<pre><code>| a | b |</code></pre><p>text</p>") == []


def test_the_docs_site_builds_strictly(tmp_path):
    """``mkdocs build --strict`` (what ``make docs`` runs): any warning, a broken link or a docstring the API
    reference cannot render, fails it."""
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stderr, result.stderr
    site = tmp_path / "site"
    raw = {str(page.relative_to(site)): raw_table_rows(page.read_text()) for page in sorted(site.rglob("*.html"))}
    assert {page: rows for page, rows in raw.items() if rows} == {}  # every table renders as a table
    assert (site / "api" / "torch.html").read_text().count("WarmupLR") > 5
    assert (site / "results.html").exists()
    # Opened from disk: pages are files (no directory URLs) and search has its index beside them.
    home = (site / "index.html").read_text()
    assert 'href="concepts.html"' in home and 'href="api/index.html"' in home
    assert (site / "search" / "search_index.js").exists()
    # The API reference: Sphinx roles are cross-links, and dataclass signatures show plain defaults.
    api = "".join(page.read_text() for page in (site / "api").glob("*.html"))
    assert not re.search(r":(class|meth|func|mod|data):`", api)
    assert "_field(" not in api
    assert "<blockquote>" not in api and '<span class="gp">&gt;&gt;&gt; </span>' in api  # doctests as code
    assert 'href="#warmup_plugins.core.schedule.WarmupSchedule.to_dict"' in api
    # Offline: no page asks for Google Fonts (mkdocs.yml: theme.font false, the system's fonts)
    assert not [p.name for p in site.rglob("*.html") if "fonts.googleapis.com" in p.read_text()]
    text = re.sub(r"<[^>]+>", "", api)
    assert re.search(r"WarmupSchedule\(\s*warmup_type: str = (\"|'|&#39;)linear(\"|'|&#39;),", text)


def test_the_offline_recipes_cifar10_folder_is_ignored_by_git():
    """Issue 29 item 6: the README's offline advice (copy torchvision's cifar10 folder here) dirtied the tree."""
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    readme = README.read_text()
    assert 'DEMO_ARGS="--data cifar10"' in readme and "copy the `cifar10` folder" in readme
    path = "cifar10/cifar-10-batches-py/data_batch_1"
    result = subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT, capture_output=True, timeout=60)
    assert result.returncode == 0, f"{path} is not ignored by git"


def test_the_transformers_page_shows_the_import_swap_of_the_two_common_functions_first():
    """Issue 29 item 8: a search for get_linear_schedule_with_warmup found nothing."""
    from warmup_plugins import transformers

    page = (ROOT / "docs" / "migrate_transformers.md").read_text()
    first_block = page.split("```python", 1)[1].split("```", 1)[0]
    common = ("get_linear_schedule_with_warmup", "get_cosine_schedule_with_warmup")
    assert f"from warmup_plugins.transformers import {common[1]}, {common[0]}" in first_block
    assert f"# from transformers import {common[1]}, {common[0]}" in first_block
    drop_ins = [name for name in transformers.__all__ if name.startswith("get_") and name != "get_scheduler"]
    assert not [name for name in drop_ins if f"`{name}`" not in page]  # each drop-in is named on the page


def test_the_readme_and_the_docs_home_give_the_same_reasons_with_the_same_numbers():
    """Issue 29 item 1: the first screen says what the library does better, with numbers and links; the docs'
    home page says the same (its links point into the site, the README's into the clone)."""

    def block(name: str) -> str:  # a README block, as mkdocs' snippets include it
        return re.search(rf"\[start:{name}\] -->\n(.*?)\n<!-- --8<-- \[end:{name}\]", README.read_text(), re.S)[1]

    def reasons(text: str, start: str) -> str:
        text = text[text.index(start) : text.index("## Two commands" if "## Two" in text else "Start with [the")]
        text = re.sub(r'--8<-- "README.md:([\w-]+)"', lambda m: block(m[1]), text)  # the home page's includes
        text = re.sub(r"<!-- --8<-- \[(start|end):[\w-]+\] -->", "", text)
        return " ".join(re.sub(r"\]\([^)]*\)", "]", text).split())  # links dropped, lines joined

    readme = reasons(README.read_text(), "Learning-rate warmup, and the decay after it")
    home = reasons((ROOT / "docs" / "index.md").read_text(), "learning-rate warmup, and the decay after it")
    assert home[: len(readme)] == readme[0].lower() + readme[1:]
    bullets = [line for line in README.read_text().split("## Two commands")[0].splitlines() if line.startswith("- **")]
    assert len(bullets) == 5
    for number in ("0.0854", "LR 0", "57 resume cases", "80.6", "28-update warmup", "3 seeds"):
        assert number in readme, number
    assert "thin adapters that only map" not in readme + home  # no jargon on the first screen


def test_the_first_screens_numbers_are_the_committed_measurements():
    """Each number of the README's reasons comes from a committed result, re-read here (0.0854: timm's own
    scheduler, tests/timm_adapter; 57: tests/integration/test_resume_matrix.py)."""
    import json

    from warmup_plugins import TrainingRecord, diagnose

    readme = " ".join(README.read_text().split())
    figures = ROOT / "examples" / "figures"
    cold = TrainingRecord.from_dict(json.loads((figures / "monitor_no_warmup.json").read_text()))
    spike, *_ = diagnose(cold).findings
    assert (spike.kind, spike.step, round(spike.lr, 3)) == ("spike", 1, 0.03)
    assert round(max(cold.updates["loss"][: spike.step + 1]), 1) == 80.6
    assert spike.suggestions[0].value == 28
    warm = TrainingRecord.from_dict(json.loads((figures / "monitor_warmup.json").read_text()))
    first_epoch = [loss for step, loss in zip(warm.updates["step"], warm.updates["loss"]) if step < 200]
    assert len(first_epoch) == warm.meta["steps_per_epoch"] == 200 and round(max(first_epoch), 2) == 4.33
    assert "loss spiking to 80.6 at update 1 and suggested a 28-update warmup" in readme
    assert "the first epoch's largest loss was 4.33" in readme
    pair = json.loads((ROOT / "benchmarks" / "results" / "demo_pair.json").read_text())
    gains = [
        100 * (c["rows"]["warmup"]["test_accuracy"][-1] - c["rows"]["no warmup"]["test_accuracy"][-1])
        for c in pair["cells"]
    ]
    assert len(gains) == 3 and {c["peak"] for c in pair["cells"]} == {0.03}
    assert f"ends {min(gains):.1f} to {max(gains):.1f} points of CIFAR-10 test accuracy higher" in readme

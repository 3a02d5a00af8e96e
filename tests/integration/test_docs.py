"""Every Python block of the README and of the docs pages runs, in order, one namespace per file (Sybil).

A block whose first line is ``# skip: <reason>`` is reported as skipped with that reason, so the
justification is in the block itself. Set-up a reader does not need to see (a toy model, a tiny loader)
lives in ``<!-- invisible-code-block: python ... -->`` comments, which neither GitHub nor mkdocs show.
Each file runs in its own temporary working directory, so blocks that save files leave the clone untouched.
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
FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
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


@pytest.mark.parametrize(("path", "index"), cases())
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
    text = re.sub(r"<[^>]+>", "", api)
    assert re.search(r"WarmupSchedule\(\s*warmup_type: str = (\"|'|&#39;)linear(\"|'|&#39;),", text)

"""Conventions the package keeps in one place (issue 30, part 5), checked over its own source."""

from __future__ import annotations

import ast
import pathlib
import re

import pytest

PACKAGE = pathlib.Path(__file__).parents[2] / "warmup_plugins"
SOURCES = sorted(PACKAGE.rglob("*.py"))
CLASSES = {
    node.name for path in SOURCES for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.ClassDef)
}


def hand_named(path: pathlib.Path) -> list[str]:
    """Strings that start with an owner written by hand: ``"WarmupCallback: ..."``, ``f"{_OWNER}: ..."``."""
    found = []
    tree = ast.parse(path.read_text())
    inside = {id(part) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for part in node.values}
    for node in ast.walk(tree):
        if id(node) in inside:
            continue
        if isinstance(node, ast.JoinedStr):
            parts = node.values
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            parts = [node]
        else:
            continue
        head = "".join(
            part.value if isinstance(part, ast.Constant) else "{" + ast.unparse(part.value) + "}" for part in parts[:2]
        )
        match = re.match(r"([A-Z]\w*|\{_?[A-Z_]+\})(\.\w+)?: ", head)
        if match and (match.group(1) in CLASSES or match.group(1).startswith("{")):
            found.append(head[:60])
    return sorted(set(found))


def relative(path: pathlib.Path) -> str:
    return str(path.relative_to(PACKAGE))


@pytest.mark.parametrize("path", SOURCES, ids=relative)
def test_errors_name_their_owner_through_owned_only(path):
    """One way to name an owner: ``@owned`` (warmup_plugins._errors), never a hand-written ``"Class: "`` prefix."""
    assert hand_named(path) == []

"""Griffe extension for the API reference: the source stays as it is, the rendered docs read like a library's.

- Sphinx roles in docstrings (``:class:`WarmupSchedule```, ``:meth:`~RecordWriter.write```, ``:mod:`.decays```)
  become cross-links: each target is looked up from the docstring's own scope (its object, the enclosing
  class and module, the package) and written as an optional autorefs link to the object's canonical path.
  A target the docs do not render (a private helper) stays plain code, without a warning.
- A dataclass field declared as ``name: T = _field(default, "help")`` shows its plain default in the
  signature, and its help text as the attribute's docstring.
"""

from __future__ import annotations

import re

import griffe

ROLE = re.compile(r":(?:class|meth|func|attr|mod|data|exc|obj):`(?P<target>[^`]+)`")


class SphinxRolesAndFieldDefaults(griffe.Extension):
    def on_attribute_instance(self, *, attr: griffe.Attribute, **kwargs: object) -> None:
        """``_field(default, help)`` -> the default as the value, the help as the docstring."""
        value = attr.value
        if isinstance(value, griffe.ExprCall) and str(value.function) == "_field" and len(value.arguments) == 2:
            default, help_text = value.arguments
            attr.value = default
            if attr.docstring is None and isinstance(help_text, str):
                attr.docstring = griffe.Docstring(help_text.strip("'\""), parent=attr)

    def on_package(self, *, pkg: griffe.Module, **kwargs: object) -> None:
        for obj in walk(pkg):
            if obj.docstring is not None:
                text = ROLE.sub(lambda m, o=obj: link(o, m["target"]), obj.docstring.value)
                obj.docstring.value = fence_doctests(text)


def fence_doctests(text: str) -> str:
    """Doctest examples (``>>>`` lines and their output, up to a blank line) as ``pycon`` code blocks."""
    out: list[str] = []
    in_fence = in_doctest = False
    indent = ""
    for line in text.split("\n"):
        stripped = line.lstrip()
        if in_doctest and not stripped:
            out.append(f"{indent}```")
            in_doctest = False
        elif stripped.startswith("```"):
            in_fence = not in_fence
        elif not (in_fence or in_doctest) and (stripped.startswith(">>> ") or stripped == ">>>"):
            indent = line[: len(line) - len(stripped)]
            out.append(f"{indent}```pycon")
            in_doctest = True
        out.append(line)
    if in_doctest:
        out.append(f"{indent}```")
    return "\n".join(out)


def walk(obj: griffe.Object):
    """Every object defined in ``obj`` (aliases are skipped: their targets are walked where defined)."""
    yield obj
    for member in obj.members.values():
        if not member.is_alias:
            yield from walk(member)


def link(obj: griffe.Object, target: str) -> str:
    """An optional autorefs link for a Sphinx role's target, or plain code when it cannot be found."""
    short = target.startswith("~")
    name = target.lstrip("~")
    text = name.rsplit(".", 1)[-1] if short else name.lstrip(".")
    found = resolve(obj, name)
    if found is None:
        return f"`{text}`"
    return f'<autoref identifier="{found}" optional><code>{text}</code></autoref>'


def resolve(obj: griffe.Object, name: str) -> str | None:
    """The canonical path of ``name`` seen from ``obj``: relative (``.mod``), then each enclosing scope."""
    scopes = []
    if name.startswith("."):
        module = obj if obj.is_module else obj.module
        package = module if module.is_init_module or module.parent is None else module.parent
        scopes, name = [package], name[1:]
    else:
        scope = obj
        while scope is not None:
            scopes.append(scope)
            scope = scope.parent
    root = obj.package
    for scope in scopes:
        found = member(scope, name)
        if found is not None:
            return found
    if name.startswith(root.name + "."):
        return member(root, name[len(root.name) + 1 :])
    return None


def member(scope: griffe.Object, dotted: str) -> str | None:
    current: griffe.Object | griffe.Alias = scope
    for part in dotted.split("."):
        try:
            current = current.members[part]
            if current.is_alias:
                current = current.final_target
        except (KeyError, griffe.AliasResolutionError, griffe.CyclicAliasError):
            return None
    return current.canonical_path

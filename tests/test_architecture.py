"""The package's layers import downward only (docs/architecture.md).

Each top-level part of `kbvideo` has a rank; a module may import its own part and parts of a lower
rank, never a higher one. Function-level imports count too: an import hidden in a function to
dodge a cycle is still an arrow. KNOWN_UPWARD lists arrows that exist today and are being removed;
the test fails when a new one appears, and also when a listed one is gone (so the list shrinks).
"""

from __future__ import annotations

import ast
from pathlib import Path

import kbvideo

PACKAGE = Path(kbvideo.__file__).parent

# Lowest first. Parts on one line share a rank and may not import each other.
LAYERS = [
    ("i18n", "babel_extract"),  # messages: every layer above may translate
    ("errors", "timecode", "vocab"),
    ("fsutil", "proc"),  # file and process helpers: they raise errors and speak through i18n
    ("storyboard",),
    ("media", "speech"),
    ("timeline",),
    ("layout",),
    ("rules",),
    ("check",),
    ("render",),
    ("pipeline",),
    ("batch", "review", "export"),
    ("commands",),
    ("cli",),
    ("__main__",),
]
RANK = {part: rank for rank, parts in enumerate(LAYERS) for part in parts}

# (importing part, imported part): arrows that point up today, to be removed.
KNOWN_UPWARD: set[tuple[str, str]] = set()


def _part(module: str) -> str | None:
    bits = module.split(".")
    return bits[1] if len(bits) > 1 and bits[0] == "kbvideo" else None


def _imports(path: Path) -> list[tuple[int, str]]:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    package = list(rel.parts[:-1])
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            if node.module is None or node.level:  # `from kbvideo import render` names parts too
                found.extend((node.lineno, f"{module}.{alias.name}") for alias in node.names)
        elif isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
    return found


def _arrows():
    for path in sorted(PACKAGE.rglob("*.py")):
        own = path.relative_to(PACKAGE).with_suffix("").parts[0]
        for line, module in _imports(path):
            part = _part(module)
            if part is None or part == own or part not in RANK:
                continue
            yield own, part, f"{path.relative_to(PACKAGE.parent)}:{line} imports {module}"


def test_every_part_has_a_layer():
    parts = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()
             if (p.is_file() and p.suffix == ".py") or (p / "__init__.py").exists()}
    parts.discard("__init__")
    assert parts <= set(RANK), f"give these parts a layer in LAYERS: {sorted(parts - set(RANK))}"


def test_imports_point_down():
    upward, seen = [], set()
    for own, part, where in _arrows():
        if RANK[part] >= RANK[own]:
            seen.add((own, part))
            if (own, part) not in KNOWN_UPWARD:
                upward.append(where)
    assert not upward, "imports that point up the layers:\n" + "\n".join(upward)
    assert KNOWN_UPWARD <= seen, f"these arrows are gone, remove them from KNOWN_UPWARD: {KNOWN_UPWARD - seen}"

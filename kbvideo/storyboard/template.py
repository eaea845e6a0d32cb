"""Storyboards that build on a template: `extends: ../templates/standar.yaml`.

`load_storyboard_node(path)` loads a storyboard and, if it names a template, loads that (and the
template's own template, and so on) and merges the trees. Every node keeps its own `source`, so a
problem in an inherited key still points at the template's file and line, and asset paths written
in the template stay relative to the template's folder.

Merge rules (child = the file that says `extends:`):
- mappings merge key by key, recursively; the child's value wins for a key both write;
- `scenes:` merges by scene `id`: a child scene with a template scene's id is merged into it (same
  rules, so `{id: dashat, narration: ...}` changes only the narration) and keeps the template's
  position; a child scene with a new id is appended in the child's order; `{id: x, drop: true}`
  removes the template's scene x;
- every other list (shots, captions, functions, lower_thirds, ...) and every scalar is replaced whole;
- a key whose kinds differ (e.g. `music:` a path in one file, a mapping in the other) is replaced.
Chains are followed (at most MAX_DEPTH files); a cycle is refused with the whole chain in the message.
"""

from __future__ import annotations

from pathlib import Path

from kbvideo.errors import SpecError
from kbvideo.storyboard.load import YNode, load_yaml

MAX_DEPTH = 8
EXTENDS = "extends"
DROP = "drop"


def _label_for(path: Path) -> str:
    """A readable label that still opens the file from the current folder (the validator relies on that)."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def load_storyboard_node(path: str | Path, label: str | None = None) -> YNode:
    """Load a storyboard with its `extends:` chain resolved into one YNode tree. Raises SpecError."""
    path = Path(path)
    root = load_yaml(path, label or str(path))
    return _resolve(root, path.resolve(), [path.resolve()])


def template_chain(path: str | Path) -> list[Path]:
    """The files a storyboard is built from, itself first (for cache keys). Raises SpecError."""
    path = Path(path)
    chain = [path.resolve()]
    node = load_yaml(path)
    while True:
        parent = _extends_target(node, chain[-1], chain)
        if parent is None:
            return chain
        chain.append(parent)
        node = load_yaml(parent, _label_for(parent))


def _extends_target(root: YNode, path: Path, chain: list[Path]) -> Path | None:
    ext = root.get(EXTENDS) if root.kind == "map" else None
    if ext is None:
        return None
    if ext.kind != "scalar" or not ext.value.strip() or ext.tag not in ("str",):
        raise SpecError(ext.problem(None, "extends must be the path of a template storyboard",
                                    "e.g. extends: templates/standar.yaml (relative to this file)"))
    target = (path.parent / ext.value.strip()).resolve()
    if target in chain:
        names = " → ".join(p.name for p in [*chain, target])
        raise SpecError(ext.problem(None, f"extends: templates form a cycle ({names})",
                                    "a template must not extend, directly or not, the file that extends it"))
    if len(chain) >= MAX_DEPTH:
        raise SpecError(ext.problem(None, f"extends: more than {MAX_DEPTH} templates in a chain"))
    if not target.is_file():
        near = sorted(p.name for p in target.parent.glob("*.y*ml")) if target.parent.is_dir() else []
        hint = f"templates there: {', '.join(near)}" if near else "the path is relative to this storyboard's folder"
        raise SpecError(ext.problem(None, f"extends: template not found: {ext.value.strip()}", hint))
    return target


def _resolve(root: YNode, path: Path, chain: list[Path]) -> YNode:
    target = _extends_target(root, path, chain)
    if target is None:
        return root
    parent = _resolve(load_yaml(target, _label_for(target)), target, [*chain, target])
    child = YNode("map", {k: pair for k, pair in root.value.items() if k != EXTENDS}, root.line, root.col,
                  root.tag, root.quoted, root.source)
    return merge_nodes(parent, child)


def merge_nodes(parent: YNode, child: YNode, key: str | None = None) -> YNode:
    """Child over parent, as described in the module docstring. Returns a new tree (inputs unchanged)."""
    if parent.kind == "map" and child.kind == "map":
        merged = dict(parent.value)
        for name, (key_node, value_node) in child.value.items():
            if name in merged:
                merged[name] = (key_node, merge_nodes(merged[name][1], value_node, name))
            else:
                merged[name] = (key_node, value_node)
        return YNode("map", merged, child.line, child.col, child.tag, child.quoted, child.source)
    if key == "scenes" and parent.kind == "seq" and child.kind == "seq":
        return _merge_scenes(parent, child)
    return child


def _scene_id(node: YNode) -> str | None:
    ident = node.get("id") if node.kind == "map" else None
    return ident.value if ident is not None and ident.kind == "scalar" else None


def _merge_scenes(parent: YNode, child: YNode) -> YNode:
    scenes = list(parent.value)
    index = {_scene_id(s): i for i, s in enumerate(scenes) if _scene_id(s) is not None}
    dropped: set[int] = set()
    for scene in child.value:
        ident = _scene_id(scene)
        drop = scene.get(DROP) if scene.kind == "map" else None
        if drop is not None:
            if drop.kind != "scalar" or drop.tag != "bool" or drop.value.lower() not in ("true", "yes", "on"):
                raise SpecError(drop.problem(None, "drop: write 'drop: true' to remove the template's scene"))
            if ident not in index:
                hint = f"template scenes: {', '.join(k for k in index if k)}"
                raise SpecError(drop.problem(None, f"drop: the template has no scene '{ident}'", hint))
            dropped.add(index[ident])
        elif ident is not None and ident in index:
            scenes[index[ident]] = merge_nodes(scenes[index[ident]], scene)
        else:
            scenes.append(scene)
    kept = [s for i, s in enumerate(scenes) if i not in dropped]
    return YNode("seq", kept, child.line, child.col, child.tag, child.quoted, child.source)


def placeholders_in(root: YNode) -> dict[str, list[YNode]]:
    """Every `{name}` placeholder written in the tree (scalars only), with the nodes that use it."""
    import re

    found: dict[str, list[YNode]] = {}
    pattern = re.compile(r"\{([^{}]*)\}")

    def walk(node: YNode) -> None:
        if node.kind == "map":
            for _, value in node.value.values():
                walk(value)
        elif node.kind == "seq":
            for item in node.value:
                walk(item)
        elif "{" in node.value:
            text = node.value.replace("{{", "").replace("}}", "")
            for match in pattern.finditer(text):
                found.setdefault(match.group(1).strip(), []).append(node)

    walk(root)
    return found

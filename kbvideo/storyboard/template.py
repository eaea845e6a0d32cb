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

A template must lie inside the project folder (relative or absolute, symlinks followed) unless the
caller allows outside files (`--allow-outside`): a storyboard sent in by a village cannot make kbvideo
read, or print lines of, any other file on the server. Lines of outside templates are never echoed.
"""

from __future__ import annotations

import os
from pathlib import Path

from kbvideo.errors import Problem, SpecError, excerpt
from kbvideo.i18n import _
from kbvideo.storyboard.load import YNode, load_yaml, normalised_path, os_reason

MAX_DEPTH = 8
EXTENDS = "extends"
DROP = "drop"


def _label_for(path: Path) -> str:
    """A readable label that still opens the file from the current folder (the validator relies on that)."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def find_project_root(storyboard: Path) -> Path:
    """The nearest folder above the storyboard holding both storyboards/ and assets/, else its own folder."""
    folder = _resolved(Path(storyboard), str(storyboard)).parent
    for candidate in (folder, *folder.parents):
        if (candidate / "storyboards").is_dir() and (candidate / "assets").is_dir():
            return candidate
    return folder


def _resolved(path: Path, label: str) -> Path:
    """path.resolve(), with a symlink loop or an over-long name as a clean SpecError."""
    try:
        return path.resolve()
    except (OSError, RuntimeError, ValueError) as exc:
        reason = (os_reason(exc) if isinstance(exc, OSError) else _("the name holds a NUL character")
                  if isinstance(exc, ValueError) else _("too many levels of symbolic links"))
        raise SpecError(Problem(label, 1, 1, _("cannot read file: {reason}").format(reason=reason))) from None


def _existing(path: Path) -> Path:
    """A name copied from a Mac may be in decomposed Unicode (NFD): open the file it means."""
    try:
        if path.exists():
            return path
    except OSError:
        return path
    return normalised_path(path) or path


def load_storyboard_node(path: str | Path, label: str | None = None, *, project_root: str | Path | None = None,
                         allow_outside: bool = False) -> YNode:
    """Load a storyboard with its `extends:` chain resolved into one YNode tree. Raises SpecError.

    Templates must lie inside `project_root` (default: find_project_root) unless allow_outside."""
    path = Path(path)
    label = label or str(path)
    path = _existing(path)
    root = load_yaml(path, label)
    absolute = _resolved(path, label)
    project = Path(project_root).resolve() if project_root else find_project_root(path)
    return _resolve(root, absolute, [absolute], project, allow_outside)


def template_chain(path: str | Path, *, project_root: str | Path | None = None,
                   allow_outside: bool = False) -> list[Path]:
    """The files a storyboard is built from, itself first (for cache keys). Raises SpecError."""
    path = _existing(Path(path))
    project = Path(project_root).resolve() if project_root else find_project_root(path)
    chain = [_resolved(path, str(path))]
    node = load_yaml(path)
    while True:
        parent = _extends_target(node, chain[-1], chain, project, allow_outside)
        if parent is None:
            return chain
        chain.append(parent)
        node = load_yaml(parent, _label_for(parent), quote=_inside(parent, project))


def _inside(path: Path, project: Path) -> bool:
    return path.is_relative_to(project)


def _extends_target(root: YNode, path: Path, chain: list[Path], project: Path, allow_outside: bool) -> Path | None:
    ext = root.get(EXTENDS) if root.kind == "map" else None
    if ext is None:
        return None
    if ext.kind != "scalar" or not ext.value.strip() or ext.tag not in ("str",):
        raise SpecError(ext.problem(None, _("extends must be the path of a template storyboard"),
                                    _("e.g. extends: templates/standar.yaml (relative to this file)")))
    written = ext.value.strip()
    if "\x00" in written:
        raise SpecError(ext.problem(None, _("extends: the path holds a NUL character")))
    joined = path.parent / written
    try:
        target = joined.resolve()
    except (OSError, RuntimeError) as exc:
        reason = os_reason(exc) if isinstance(exc, OSError) else _("too many levels of symbolic links")
        raise SpecError(ext.problem(None, _("extends: cannot read '{path}': {reason}").format(
            path=excerpt(written), reason=reason))) from None
    try:
        if not target.exists():
            other = normalised_path(target)  # the name in another Unicode normalisation (NFD from a Mac)
            target = other.resolve() if other is not None else target
    except (OSError, RuntimeError) as exc:
        reason = os_reason(exc) if isinstance(exc, OSError) else _("too many levels of symbolic links")
        raise SpecError(ext.problem(None, _("extends: cannot read '{path}': {reason}").format(
            path=excerpt(written), reason=reason))) from None
    if not allow_outside and not _inside(target, project):
        lexical = Path(os.path.normpath(joined.absolute()))
        why = (_("leads outside the project through a symlink") if _inside(lexical, project)
               else _("is outside the project folder"))
        raise SpecError(ext.problem(None, _("extends: '{path}' {why} ({root})").format(
            path=excerpt(written), why=why, root=project),
            _("keep templates inside the project, e.g. storyboards/templates/ (or pass --allow-outside)")))
    if target in chain:
        names = " → ".join(p.name for p in [*chain, target])
        raise SpecError(ext.problem(None, _("extends: templates form a cycle ({names})").format(names=names),
                                    _("a template must not extend, directly or not, the file that extends it")))
    if len(chain) >= MAX_DEPTH:
        raise SpecError(ext.problem(None, _("extends: more than {count} templates in a chain").format(count=MAX_DEPTH)))
    try:
        found = target.is_file()
    except OSError as exc:
        raise SpecError(ext.problem(None, _("extends: cannot read '{path}': {reason}").format(
            path=excerpt(written), reason=os_reason(exc)))) from None
    if not found:
        try:
            near = sorted(p.name for p in target.parent.glob("*.y*ml")) if target.parent.is_dir() else []
        except OSError:
            near = []
        hint = (_("templates there: {names}").format(names=excerpt(", ".join(near), 200)) if near
                else _("the path is relative to this storyboard's folder"))
        raise SpecError(ext.problem(None, _("extends: template not found: {path}").format(path=excerpt(written)), hint))
    return target


def _resolve(root: YNode, path: Path, chain: list[Path], project: Path, allow_outside: bool) -> YNode:
    target = _extends_target(root, path, chain, project, allow_outside)
    if target is None:
        return root
    parent = _resolve(load_yaml(target, _label_for(target), quote=_inside(target, project)), target,
                      [*chain, target], project, allow_outside)
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

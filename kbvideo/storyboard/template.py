"""Storyboards that build on a template: `extends: ../templates/standar.yaml`.

`load_storyboard_node(path)` loads a storyboard and, if it names a template, loads that (and the
template's own template, and so on) and merges the trees. Every node keeps its own `source`, so a
problem in an inherited key still points at the template's file and line, and asset paths written
in the template stay relative to the template's folder.

Merge rules (child = the file that says `extends:`):
- mappings merge key by key, recursively; the child's value wins for a key both write;
- in `kampung:`, keys that name the same thing replace each other: a village's own `kota:` or
  `kabupaten:` replaces the template's (either one), and likewise `desa:`/`kelurahan:`; the
  template's `category:` then follows the village's choice unless the village writes its own;
- `scenes:` merges by scene `id`, entry by entry in the child's order: a child scene with a
  template scene's id is merged into it (same rules, so `{id: dashat, narration: ...}` changes only
  the narration) and keeps the template's position; a child scene with a new id is appended;
  `{id: x, drop: true}` removes scene x; a scene written again after its drop is a new scene (the
  later entry wins) and takes the dropped scene's place; `after: ID` or `before: ID` in a child
  scene places it (new or merged) right after or before scene ID;
- every other list (shots, captions, functions, lower_thirds, ...) and every scalar is replaced whole;
- a key whose kinds differ (e.g. `music:` a path in one file, a mapping in the other) is replaced.
Chains are followed (at most MAX_DEPTH files); a cycle is refused with the whole chain in the message.

A template must lie inside the project folder (relative or absolute, symlinks followed) unless the
caller allows outside files (`--allow-outside`): a storyboard sent in by a village cannot make kbvideo
read, or print lines of, any other file on the server. Lines of outside templates are never echoed.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from kbvideo.errors import Problem, SpecError, excerpt
from kbvideo.i18n import _
from kbvideo.storyboard.load import load_yaml
from kbvideo.storyboard.nodes import YNode
from kbvideo.storyboard.read import normalised_path, os_reason

MAX_DEPTH = 8
EXTENDS = "extends"
DROP = "drop"
PLACE_KEYS = ("after", "before")
# kampung keys that name the same thing: a child writing one replaces the parent's other one
_KAMPUNG_ALTERNATIVES = (("kota", "kabupaten"), ("desa", "kelurahan"))


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
        if key == "kampung":
            _drop_replaced_alternatives(merged, child)
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


def _drop_replaced_alternatives(merged: dict, child: YNode) -> None:
    """The child's `kabupaten:` replaces the template's `kota:` (and the reverse; `desa`/`kelurahan` too)."""
    for pair in _KAMPUNG_ALTERNATIVES:
        written = [name for name in pair if name in child.value]
        if len(written) == 1:
            for other in pair:
                if other != written[0]:
                    merged.pop(other, None)
            if pair[0] == "kota" and "category" not in child.value:
                merged.pop("category", None)  # follows the village's kota/kabupaten


def _without(node: YNode, names) -> YNode:
    return YNode("map", {k: pair for k, pair in node.value.items() if k not in names}, node.line, node.col,
                 node.tag, node.quoted, node.source)


def _merge_scenes(parent: YNode, child: YNode) -> YNode:
    scenes: list[YNode] = list(parent.value)
    dropped_at: dict[str, int] = {}  # id → position of a scene dropped by the child (for a re-added one)

    def position(ident: str | None) -> int | None:
        return next((i for i, s in enumerate(scenes) if ident is not None and _scene_id(s) == ident), None)

    for scene in child.value:
        ident = _scene_id(scene)
        drop = scene.get(DROP) if scene.kind == "map" else None
        place = [(name, scene.get(name)) for name in PLACE_KEYS if scene.kind == "map" and scene.get(name) is not None]
        if drop is not None:
            if drop.kind != "scalar" or drop.tag != "bool" or drop.value.lower() not in ("true", "yes", "on"):
                raise SpecError(drop.problem(None, _("drop: write 'drop: true' to remove the template's scene")))
            at = position(ident)
            if at is None:
                known = ", ".join(k for k in (_scene_id(s) for s in scenes) if k)
                raise SpecError(drop.problem(None, _("drop: the template has no scene '{id}'").format(id=ident),
                                             _("template scenes: {names}").format(names=known)))
            del scenes[at]
            dropped_at[ident] = at
            continue
        if len(place) > 1:
            raise SpecError(place[1][1].problem(None, _("scene '{id}': write either 'after:' or 'before:', not both")
                                                .format(id=ident)))
        if place:
            scene = _without(scene, PLACE_KEYS)
        at = position(ident)
        if at is not None:
            merged = merge_nodes(scenes.pop(at), scene)
        else:
            merged, at = scene, dropped_at.pop(ident, len(scenes)) if ident is not None else len(scenes)
        if place:
            name, target = place[0]
            anchor = position(target.value if target.kind == "scalar" else None)
            if anchor is None:
                known = ", ".join(k for k in (_scene_id(s) for s in scenes) if k)
                raise SpecError(target.problem(None, _("{key}: there is no scene '{id}' to place this scene by")
                                               .format(key=name, id=target.value if target.kind == "scalar" else ""),
                                               _("scenes so far: {names}").format(names=known)))
            at = anchor + 1 if name == "after" else anchor
        scenes.insert(min(at, len(scenes)), merged)
    return YNode("seq", scenes, child.line, child.col, child.tag, child.quoted, child.source)


def placeholders_in(root: YNode) -> dict[str, list[YNode]]:
    """Every `{name}` placeholder written in the tree (scalars only), with the nodes that use it."""
    found: dict[str, list[YNode]] = {}
    pattern = re.compile(r"\{([^{}]*)\}")

    def walk(node: YNode) -> None:
        if node.kind == "map":
            for _key, value in node.value.values():
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

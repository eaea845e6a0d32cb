"""Reading one YAML value of a storyboard: text, numbers, times, choices, colours, asset paths.

Each reader either returns the value or raises Invalid with a located problem and a hint; `collect`
records the problem and goes on, so a whole file is read and every problem reported at once.
Text must be a YAML string (an unquoted `no`, `on` or `1:30` is caught, never read as False or 90);
{placeholders} are filled; asset paths stay inside the project root. Storyboards may come from
anyone (a batch server validates what villages send in): text may not hold control characters
(ESC could rewrite a terminal) or lone surrogates, is at most MAX_TEXT_CHARS long (checked before any
layout), numbers are finite (NaN passes every range check), and messages quote only an excerpt.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
import re
from pathlib import Path
from typing import Any, Callable

from kbvideo.errors import Loc, Problem, excerpt
from kbvideo.i18n import N_, _, ngettext
from kbvideo.storyboard.nodes import YNode
from kbvideo.storyboard.read import normalised_path, os_reason
from kbvideo.timecode import Time, parse_time

_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")  # {{ and }} are literal braces, {name} a placeholder
# Refused inside text: C0 controls but newline (a line break in a caption), DEL and C1 controls, lone
# surrogates (half of a UTF-16 pair, from a "\\udc80" escape), and the "not a character" code points.
_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]")
MAX_TEXT_CHARS = 500  # a caption is read in a few seconds: two lines of 42 characters
MAX_NUMBER_CHARS = 40  # a number or time written with more characters is not a storyboard's
_HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_YAML_READS = {
    "bool": N_("the boolean {value}"),
    "null": N_("null (nothing)"),
    "int": N_("a number"),
    "float": N_("a number"),
    "timestamp": N_("a date"),
}


class Invalid(Exception):
    def __init__(self, problem: Problem):
        self.problem = problem


class Skip(Exception):
    """The problem is already recorded (e.g. a missing required key); stop parsing this item."""


def did_you_mean(word: str, options) -> str | None:
    if len(word) > 100:  # difflib is quadratic; nothing that long is a typo of a key
        return None
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return _("did you mean: {close}").format(close=close[0]) if close else None


def _character_name(char: str) -> str:
    code = ord(char)
    names = {0x1b: "ESC", 0x00: "NUL", 0x09: "TAB", 0x0d: "CR", 0x7f: "DEL"}
    if 0xD800 <= code <= 0xDFFF:
        return _("a lone surrogate U+{code:04X}").format(code=code)
    name = names.get(code)
    return _("the control character {code}").format(code=f"U+{code:04X} ({name})" if name else f"U+{code:04X}")



class FieldReader:
    """The value readers shared by every section of a storyboard (see StoryboardParser)."""

    def __init__(self, label: str, path: Path, project_root: Path, allow_outside: bool = False,
                 variables: dict[str, str] | None = None):
        self.label = label
        self.path = path
        self.base = path.parent
        self.root = project_root
        self.allow_outside = allow_outside
        self.problems: list[Problem] = []
        self.placeholders: dict[str, str] = {}
        self.broken_placeholders: set[str] = set()  # placeholders whose own value had an error
        self.skipped = 0
        self.missing_folders: dict[Path, list] = {}  # folder → [first node, paths into it, first path, hint]
        self.variables = {f"vars.{k}": str(v) for k, v in (variables or {}).items()}

    # ---- helpers -------------------------------------------------------------------------
    def loc(self, node: YNode) -> Loc:
        source = node.source.line(node.line) if node.source else None
        return Loc(node.source.label if node.source else self.label, node.line, node.col, source)

    def base_of(self, node: YNode) -> Path:
        """Paths are relative to the file that wrote them (a template's own folder, for inherited keys)."""
        if node.source and node.source.label != self.label and Path(node.source.label).exists():
            return Path(node.source.label).resolve().parent
        return self.base

    def fail(self, node: YNode, message: str, hint: str | None = None) -> Invalid:
        return Invalid(node.problem(None, message, hint))

    def warn(self, node: YNode, message: str, hint: str | None = None) -> None:
        self.problems.append(node.problem(None, message, hint, severity="warning"))

    def collect(self, func: Callable[..., Any], *args, default: Any = None) -> Any:
        """Run one field parser; a problem is recorded and `default` returned, so parsing goes on."""
        try:
            return func(*args)
        except Invalid as exc:
            self.problems.append(exc.problem)
            return default
        except Skip:
            self.skipped += 1
            return default

    def progress(self) -> int:
        """Grows whenever a problem is recorded or an item skipped (checks after a failure stay quiet)."""
        return len(self.problems) + self.skipped

    def mapping(self, node: YNode, keys, what: str, required=()) -> dict[str, YNode]:
        if node.kind != "map":
            raise self.fail(node, _("{what} must be a mapping of keys").format(what=what), _("keys: {names}").format(names=', '.join(keys)))
        out = {}
        for key, (key_node, value_node) in node.value.items():
            if key not in keys:
                hint = did_you_mean(key, keys) or _("known keys: {names}").format(names=', '.join(keys))
                self.problems.append(key_node.problem(None, _("{what}: unknown key '{key}'").format(
                    what=what, key=excerpt(key)), hint))
                continue
            out[key] = value_node
        for key in required:
            if key not in out and key in keys and not any(k == key for k in node.value):
                self.problems.append(node.problem(None, _("{what}: missing '{key}'").format(what=what, key=key), _("add '{key}:'").format(key=key)))
        return out

    def scalar(self, node: YNode, what: str) -> str:
        if node.kind != "scalar":
            raise self.fail(node, _("{what} must be a single value, not a {value}").format(what=what, value='list' if node.kind == 'seq' else 'mapping'))
        return node.value

    def text(self, node: YNode, what: str, placeholders: bool = True) -> str:
        raw = self.scalar(node, what)
        if node.tag != "str" and not node.quoted:
            reads = (_(_YAML_READS[node.tag]) if node.tag in _YAML_READS else node.tag).format(
                value=str(raw.lower() in ("yes", "true", "on", "y")).lower())
            shown = excerpt(raw)
            raise self.fail(node, _("{what}: unquoted '{raw}' is read by YAML as {reads}, not as text").format(what=what, raw=shown, reads=reads),
                            _("put the text in quotes: \"{raw}\"").format(raw=shown))
        self.check_text(node, raw, what)
        if not raw.strip():
            raise self.fail(node, _("{what} is empty").format(what=what))
        if not placeholders:
            return raw
        filled = self.fill_placeholders(node, raw, what)
        if filled != raw:  # values from a roster row are checked where they land
            self.check_text(node, filled, what)
        return filled

    def check_text(self, node: YNode, raw: str, what: str) -> None:
        """Refuse text no one should draw or print: too long, control characters, lone surrogates."""
        if len(raw) > MAX_TEXT_CHARS:
            raise self.fail(node, _("{what} is {count} characters long; text may hold at most {limit}").format(
                what=what, count=len(raw), limit=MAX_TEXT_CHARS),
                _("a caption should fit two lines of about 42 characters: shorten it or split it in two"))
        bad = _CONTROL.search(raw)
        if bad:
            char = bad.group(0)
            if char == "\t":
                hint = _("replace the tab with a space")
            elif 0xD800 <= ord(char) <= 0xDFFF:
                hint = _("a \\u escape names half of a character; write the character itself (the file is UTF-8)")
            else:
                hint = _("remove it; text may hold letters, digits, punctuation, emoji and line breaks only")
            raise self.fail(node, _("{what}: the text holds {name}: '{text}'").format(
                what=what, name=_character_name(char), text=excerpt(raw)), hint)

    def fill_placeholders(self, node: YNode, text: str, what: str) -> str:
        def replace(match: re.Match) -> str:
            whole = match.group(0)
            if whole in ("{{", "}}"):
                return whole[0]
            name = match.group(1).strip()
            if name in self.broken_placeholders and name not in self.variables:
                raise Skip()  # the value's own error is already reported
            if name in self.placeholders:
                return self.placeholders[name]
            hint = did_you_mean(name, self.placeholders) or "known: " + ", ".join("{" + k + "}" for k in self.placeholders)
            unknown = self.fail(node, _("{what}: unknown placeholder '{{{name}}}'").format(what=what, name=excerpt(name)),
                                hint + " " + _("(write {{ and }} for literal braces)"))
            unknown.problem = dataclasses.replace(unknown.problem, code="placeholder.unknown")
            raise unknown

        return _PLACEHOLDER.sub(replace, text)

    def number(self, node: YNode, what: str, low: float | None = None, high: float | None = None) -> float:
        raw = self.scalar(node, what)
        if node.tag in ("bool", "null"):
            raise self.fail(node, _("{what} must be a number, not '{raw}'").format(what=what, raw=excerpt(raw)))
        if "{" in raw:  # "{vars.stunting_2024}": a figure from the roster row / vars
            written = raw
            raw = self.fill_placeholders(node, raw, what)
            what = f"{what} ({excerpt(written)})"
        cleaned = raw.replace("_", "").strip()
        if cleaned.lower().lstrip("+-") in (".nan", ".inf"):
            cleaned = cleaned.replace(".", "", 1)
        try:
            value = float(cleaned) if len(cleaned) <= MAX_NUMBER_CHARS else math.inf
        except ValueError:
            raise self.fail(node, _("{what} must be a number, not '{raw}'").format(what=what, raw=excerpt(raw))) from None
        if not math.isfinite(value):
            raise self.fail(node, _("{what} must be a finite number, not '{value}'").format(what=what, value=excerpt(raw)),
                            _("NaN and infinity are not amounts; write a number such as 0.5"))
        if (low is not None and value < low) or (high is not None and value > high):
            raise self.fail(node, _("{what} is {raw}; it must be between {low:g} and {high:g}").format(what=what, raw=excerpt(raw), low=low, high=high))
        return value

    def integer(self, node: YNode, what: str) -> int:
        raw = self.scalar(node, what)
        if not re.fullmatch(r"[0-9]{1,18}", raw.strip()):
            raise self.fail(node, _("{what} must be a whole number, not '{raw}'").format(what=what, raw=excerpt(raw)))
        return int(raw, 10)

    def time(self, node: YNode, what: str, positive: bool = False) -> Time:
        raw = self.scalar(node, what)
        hint = _("write seconds (12.5), \"12s\", \"1:30\", \"00:01:30.500\" or \"45f\"")
        if node.tag in ("bool", "null", "timestamp"):
            raise self.fail(node, _("{what}: '{raw}' is not a time").format(what=what, raw=excerpt(raw)), hint)
        if raw.strip().lower().lstrip("+-.") in ("nan", "inf", "infinity"):
            raise self.fail(node, _("{what}: '{value}' is not a time").format(what=what, value=excerpt(raw)),
                            _('NaN and infinity are not times; write seconds (12.5), "12s", "1:30", "00:01:30.500" or "45f"'))
        if len(raw) > MAX_NUMBER_CHARS or not raw.isascii():
            raise self.fail(node, _("{what}: '{raw}' is not a time").format(what=what, raw=excerpt(raw)), hint)
        looks_like_minutes = re.fullmatch(r"\s*(\d+)\.([0-5]\d)\s*", raw)
        if node.quoted and looks_like_minutes:
            minutes, seconds = looks_like_minutes.groups()
            raise self.fail(node, _("{what}: \"{raw}\" in quotes looks like minutes and seconds").format(
                what=what, raw=excerpt(raw)),
                _("did you mean {minutes}:{seconds}? ({number} seconds is written {number})").format(
                    minutes=minutes, seconds=seconds, number=f"{float(raw):g}"))
        try:
            value = parse_time(raw)
        except ValueError as exc:
            raise self.fail(node, f"{what}: {excerpt(exc, 200)}", hint) from None
        if positive and (value.frames == 0 or value.seconds == 0):
            raise self.fail(node, _("{what} must be longer than zero").format(what=what))
        return value

    def boolean(self, node: YNode, what: str) -> bool:
        raw = self.scalar(node, what)
        if node.tag != "bool":
            raise self.fail(node, _("{what} must be true or false, not '{raw}'").format(what=what, raw=excerpt(raw)))
        return raw.lower() in ("yes", "true", "on", "y")

    def choice(self, node: YNode, what: str, options) -> str:
        raw = self.scalar(node, what)
        value = raw.strip().lower().replace("-", "_").replace(" ", "_")
        if value not in options:
            hint = did_you_mean(value, options) or _("one of: {names}").format(names=', '.join(options))
            raise self.fail(node, _("{what}: '{raw}' is not one of {names}").format(what=what, raw=excerpt(raw), names=', '.join(options)), hint)
        return value

    def colour(self, node: YNode, what: str) -> str:
        raw = self.scalar(node, what).strip()
        if not _HEX_COLOUR.match(raw):
            raise self.fail(node, _("{what}: '{raw}' is not a colour").format(what=what, raw=excerpt(raw)), _("write \"#rrggbb\" in quotes, e.g. \"#0b5d3b\""))
        return raw.lower()

    def asset(self, node: YNode, what: str) -> Path:
        raw = self.text(node, what)
        shown = excerpt(raw)
        try:
            return self._asset(node, what, raw, shown)
        except (OSError, RuntimeError) as exc:  # a symlink loop, a name too long for the file system, ...
            reason = os_reason(exc) if isinstance(exc, OSError) else _("too many levels of symbolic links")
            raise self.fail(node, _("{what}: cannot use '{path}': {reason}").format(what=what, path=shown, reason=reason),
                            _("check the path; it is relative to the storyboard's folder")) from None

    def _asset(self, node: YNode, what: str, raw: str, shown: str) -> Path:
        written = Path(raw)
        path = (written if written.is_absolute() else self.base_of(node) / written)
        resolved = path.resolve()
        if not self.allow_outside:
            if written.is_absolute():
                raise self.fail(node, _("{what}: absolute path '{raw}' is not allowed").format(what=what, raw=shown),
                                _("write the path relative to the storyboard, inside the project (or pass --allow-outside)"))
            if not resolved.is_relative_to(self.root):
                lexical = Path(os.path.normpath(path.absolute()))
                why = _("climbs out of the project folder") if not lexical.is_relative_to(self.root) else _("leads outside the project through a symlink")
                raise self.fail(node, f"{what}: '{shown}' {why} ({self.root})",
                                _("keep media under the project's assets/ folder (or pass --allow-outside)"))
        if not resolved.exists():
            other = normalised_path(path)
            if other is not None and (self.allow_outside or other.resolve().is_relative_to(self.root)):
                resolved = other.resolve()  # the same name in another Unicode normalisation (NFD from a Mac)
            else:
                from_root = self.root / written
                hint_root = None
                if not written.is_absolute() and (from_root.exists() or from_root.parent.is_dir()):
                    relative = Path(os.path.relpath(from_root, self.base_of(node))).as_posix()
                    hint_root = _("did you mean {path}? Paths are relative to the storyboard's folder, not the "
                                  "project's").format(path=excerpt(relative, 200))
                folder = _missing_folder(path)
                if folder is not None:
                    if folder in self.missing_folders:
                        self.missing_folders[folder][1] += 1
                        raise Skip()
                    self.missing_folders[folder] = [node, 1, shown, hint_root, what]
                    raise Skip()
                near = hint_root or _nearby_names(path)
                raise self.fail(node, _("{what}: file not found: {path}").format(what=what, path=shown),
                                near or _("check the path; it is relative to the storyboard's folder"))
        if not resolved.is_file():
            raise self.fail(node, _("{what}: '{raw}' is not a file").format(what=what, raw=shown))
        if resolved.stat().st_size == 0:
            raise self.fail(node, _("{what}: '{raw}' is empty (0 bytes)").format(what=what, raw=shown), _("copy the file again; it may have been cut off"))
        return resolved

    def folder_problems(self) -> list[Problem]:
        """One problem per missing folder, however many asset paths point into it."""
        out = []
        for folder, (node, count, raw, hint_root, what) in self.missing_folders.items():
            try:
                shown = Path(os.path.relpath(folder, Path.cwd())).as_posix()
            except ValueError:
                shown = str(folder)
            message = ngettext("{what}: folder not found: {folder} ({count} file is written in it: {path})",
                               "{what}: folder not found: {folder} ({count} files are written in it, the first: {path})",
                               count).format(what=what, folder=shown, count=count, path=raw)
            out.append(node.problem(None, message, hint_root or _(
                "create the folder and put the media there, or correct the paths "
                "(they are relative to the storyboard's folder)")))
        self.missing_folders = {}
        return out

    def seq(self, node: YNode, what: str) -> list[YNode]:
        if node.kind != "seq":
            raise self.fail(node, _("{what} must be a list (lines starting with '- ')").format(what=what))
        return node.value


def _missing_folder(path: Path) -> Path | None:
    """The first folder on the way to `path` that does not exist (None when its folder exists)."""
    folder = Path(os.path.normpath(path.absolute())).parent
    if folder.is_dir():
        return None
    while not folder.parent.is_dir() and folder.parent != folder:
        folder = folder.parent
    return folder


def _nearby_names(path: Path) -> str | None:
    folder = path.parent
    if not folder.is_dir():
        return _("folder {folder} does not exist either").format(folder=excerpt(folder, 120))
    if len(path.name) > 255:
        return None
    names = [p.name for p in folder.iterdir()]
    close = difflib.get_close_matches(path.name, names, n=1, cutoff=0.6)
    return _("did you mean: {close}").format(close=excerpt(close[0])) if close else None

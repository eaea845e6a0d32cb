"""Rosters: one row per village (YAML list of mappings, or CSV with a header row), and the
villages of a batch (storyboard files, or a template filled from roster rows).

A row holds kampung fields (name, kelurahan, kecamatan, kota | kabupaten, provinsi, category, year),
an optional `id` (the output's file name; default: a slug of the name) and variables: every other
column fills `{vars.COLUMN}` in the template (text, asset paths, chart figures). Empty CSV cells
count as not given (so the template's own `vars:` default applies).

Problems are located in the roster: unknown columns (did you mean), variables the template needs
but the row leaves empty, and problems caused by a row's value (a missing asset folder, a figure
that is not a number) are reported at the row's cell (`roster.csv:4:23: field 'asset_dir' = …`),
with the template line that uses the value in the hint.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from kbvideo.storyboard.template import load_storyboard_node, merge_nodes, placeholders_in
from kbvideo.errors import Problem, SpecError
from kbvideo.storyboard.load import load_yaml_text
from kbvideo.storyboard.nodes import Source, YNode
from kbvideo.storyboard.read import read_text
from kbvideo.storyboard.fields import did_you_mean
from kbvideo.storyboard.validate import KAMPUNG_KEYS, parse_storyboard
from kbvideo.i18n import _

RESERVED = ("id",)
_SLUG_OK = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def slugify(name: str) -> str:
    """'Kampung KB Mandiri Utama' → 'mandiri-utama' (ASCII, lower case, '-' between words)."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    short = re.sub(r"^kampung-kb-", "", slug)
    return short or slug or "kampung"


@dataclass(slots=True)
class RosterRow:
    roster: str  # label of the roster file
    line: int
    index: int  # 1-based row number (data rows only)
    cells: dict[str, YNode]  # field → located value (scalars)
    key_cells: dict[str, YNode] = field(default_factory=dict)  # field → where its name is written

    def value(self, name: str) -> str | None:
        node = self.cells.get(name)
        if node is None or node.tag == "null" or not str(node.value).strip():
            return None
        return str(node.value).strip()

    def values(self) -> dict[str, str]:
        """The row's given values (empty ones left out), for reports and cache keys."""
        return {k: v for k in self.cells if (v := self.value(k)) is not None}

    @property
    def name(self) -> str:
        return self.value("name") or f"row {self.index}"

    @property
    def slug(self) -> str:
        return self.value("id") or slugify(self.name)

    @property
    def where(self) -> str:
        return f"{self.roster}:{self.line}"

    def problem(self, message: str, hint: str | None = None, node: YNode | None = None) -> Problem:
        node = node or next(iter(self.cells.values()), None)
        col = node.col if node is not None else 1
        source_line = node.source.line(self.line if node is None else node.line) if node is not None and node.source else None
        return Problem(self.roster, node.line if node is not None else self.line, col, message, hint, source_line)


# ---------------------------------------------------------------------------------------------- reading


def load_roster(path: str | Path, label: str | None = None) -> list[RosterRow]:
    """Rows of a .yaml/.yml or .csv roster. Raises SpecError for file-level problems."""
    path = Path(path)
    label = label or str(path)
    text = read_text(path, label, _("roster file"))
    if path.suffix.lower() == ".csv":
        rows = _csv_rows(text, label)
    elif path.suffix.lower() in (".yaml", ".yml"):
        rows = _yaml_rows(text, label)
    else:
        raise SpecError(Problem(label, 1, 1, _("roster must be a .csv or .yaml file, not '{suffix}'").format(suffix=path.suffix),
                                _("one row per village: a CSV with a header row, or a YAML list")))
    if not rows:
        raise SpecError(Problem(label, 1, 1, _("roster has no villages"), _("add one row per village")))
    problems = []
    seen: dict[str, RosterRow] = {}
    for row in rows:
        if row.value("name") is None:
            problems.append(row.problem(_("row has no 'name' (the kampung's name)"), _("fill the name column")))
            continue
        slug = row.slug
        if not _SLUG_OK.match(slug):
            problems.append(row.problem(_("id '{slug}' may hold only lower-case letters, digits, '-' and '_'").format(slug=slug),
                                        _("it becomes the output file name"), row.cells.get("id")))
        elif slug in seen:
            problems.append(row.problem(_("'{name}' has the same output name '{slug}' as row {index} (line {line})").format(name=row.name, slug=slug, index=seen[slug].index, line=seen[slug].line), _("give one of them its own 'id' column"),
                                        row.cells.get("id") or row.cells.get("name")))
        else:
            seen[slug] = row
    if problems:
        raise SpecError(problems)
    return rows


def _yaml_rows(text: str, label: str) -> list[RosterRow]:
    root = load_yaml_text(text, label)
    items = root
    if root.kind == "map":
        items = root.get("villages")
        if items is None or len(root.value) != 1:
            raise SpecError(root.problem(None, _("a YAML roster is a list of villages (or 'villages:' holding one)"),
                                         _("- {name: Kampung KB ..., kelurahan: ..., asset_dir: ...}")))
    if items.kind != "seq":
        raise SpecError(items.problem(None, _("roster must be a list of villages (lines starting with '- ')")))
    rows, problems = [], []
    for index, item in enumerate(items.value, 1):
        if item.kind != "map":
            problems.append(item.problem(None, _("row {index} must be a mapping of fields").format(index=index)))
            continue
        cells, keys = {}, {}
        for name, (key_node, value_node) in item.value.items():
            if value_node.kind != "scalar":
                problems.append(value_node.problem(None, _("row {index}: field '{name}' must be a single value").format(index=index, name=name),
                                                   _("rows are flat: name, kelurahan, ..., and one value per variable")))
                continue
            cells[name], keys[name] = value_node, key_node
        rows.append(RosterRow(label, item.line, index, cells, keys))
    if problems:
        raise SpecError(problems)
    return rows


def _csv_rows(text: str, label: str) -> list[RosterRow]:
    lines = text.splitlines()
    source = Source(label, lines)
    try:
        dialect = csv.Sniffer().sniff(lines[0] if lines else "", delimiters=",;\t")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    header_nodes: list[YNode] = []
    rows: list[RosterRow] = []
    problems: list[Problem] = []
    start = 1
    try:
        for record in reader:
            line = start
            start = reader.line_num + 1
            if not any(cell.strip() for cell in record):
                continue
            cols = _field_columns(lines[line - 1], delimiter) if line - 1 < len(lines) else []
            nodes = [YNode("scalar", cell, line, cols[i] if i < len(cols) else 1, "str", True, source)
                     for i, cell in enumerate(record)]
            if header is None:
                header = [cell.strip() for cell in record]
                header_nodes = nodes
                for i, name in enumerate(header):
                    if not name:
                        problems.append(nodes[i].problem(None, _("column {value} has no name in the header row").format(value=i + 1)))
                    elif name in header[:i]:
                        problems.append(nodes[i].problem(None, _("column '{name}' appears twice in the header row").format(name=name)))
                continue
            if len(record) > len(header):
                problems.append(nodes[len(header)].problem(None, _("row has {count} cells, the header {count2}").format(count=len(record), count2=len(header)),
                                                           _("a text with the separator needs quotes")))
                continue
            cells = {name: nodes[i] for i, name in enumerate(header) if name and i < len(nodes)}
            keys = {name: header_nodes[i] for i, name in enumerate(header) if name}
            rows.append(RosterRow(label, line, len(rows) + 1, cells, keys))
    except csv.Error as exc:
        raise SpecError(Problem(label, reader.line_num, 1, _("CSV error: {exc}").format(exc=exc))) from None
    if problems:
        raise SpecError(problems)
    return rows


def _field_columns(line: str, delimiter: str) -> list[int]:
    """1-based start column of each field of one CSV line (quotes respected)."""
    cols, quoted, at_start = [1], False, True
    for i, char in enumerate(line):
        if char == '"' and (quoted or at_start):
            quoted = not quoted
        elif char == delimiter and not quoted:
            cols.append(i + 2)
            at_start = True
            continue
        at_start = False
    return cols


# ---------------------------------------------------------------------------------------------- planning


class TemplateCache:
    """A template's merged tree, loaded once for every row of a roster."""

    def __init__(self) -> None:
        self.trees: dict[Path, YNode] = {}

    def get(self, template: Path) -> YNode:
        key = template.resolve()
        if key not in self.trees:
            self.trees[key] = load_storyboard_node(template)
        return self.trees[key]


def row_storyboard(template_tree: YNode, row: RosterRow) -> tuple[YNode, dict[str, str]]:
    """The template's tree with the row's kampung fields merged in, and the row's variables."""
    kampung = {k: (row.key_cells.get(k) or node, node) for k, node in row.cells.items()
               if k in KAMPUNG_KEYS and row.value(k) is not None}
    variables = {k: v for k, v in row.values().items() if k not in KAMPUNG_KEYS and k not in RESERVED}
    tree = template_tree
    base = tree.get("kampung")
    if base is not None and base.kind == "map" and ({"kota", "kabupaten"} & set(kampung)):
        # the row decides city or regency: drop the template's choice (and its category, unless the row gives one)
        drop = {"kota", "kabupaten"} | ({"category"} if "category" not in kampung else set())
        trimmed = YNode("map", {k: p for k, p in base.value.items() if k not in drop}, base.line, base.col,
                        base.tag, base.quoted, base.source)
        tree = YNode("map", {**tree.value, "kampung": (tree.key_node("kampung"), trimmed)}, tree.line, tree.col,
                     tree.tag, tree.quoted, tree.source)
    if kampung:
        first = next(iter(kampung.values()))[1]
        child = YNode("map", {"kampung": (first, YNode("map", kampung, first.line, first.col, "map", False, first.source))},
                      tree.line, tree.col, "map", False, tree.source)
        tree = merge_nodes(tree, child)
    return tree, variables


def declared_variables(tree: YNode) -> set[str]:
    node = tree.get("vars")
    return set(node.value) if node is not None and node.kind == "map" else set()


def row_problems(tree: YNode, row: RosterRow, template_label: str) -> tuple[list[Problem], set[str]]:
    """Unknown columns and unfilled variables, located at the row. Returns (problems, unfilled names)."""
    used = {name[5:]: nodes for name, nodes in placeholders_in(tree).items() if name.startswith("vars.")}
    declared = declared_variables(tree)
    given = set(row.values())
    problems: list[Problem] = []
    known = set(used) | declared
    for name, node in row.cells.items():
        if name in KAMPUNG_KEYS or name in RESERVED or name in known:
            continue
        hint = did_you_mean(name, sorted(known | set(KAMPUNG_KEYS))) or (
            _("the template uses: {names}").format(names=", ".join(sorted(known))) if known
            else _("the template uses no {vars.…}"))
        problems.append(row.problem(_("{name}: unknown field '{name2}' (the template has no {{vars.{name2}}})").format(name=row.name, name2=name), hint,
                                    row.key_cells.get(name) if row.key_cells.get(name) is not None and
                                    row.key_cells[name].line == row.line else node))
    unfilled = {name for name in used if name not in given and name not in declared}
    for name in sorted(unfilled):
        first = used[name][0]
        where = f"{first.source.label if first.source else template_label}:{first.line}"
        cell = row.cells.get(name)
        hint = (_("the template uses {{vars.{name}}} at {where}; fill this cell") if cell is not None else
                _("the template uses {{vars.{name}}} at {where}; add a '{name}' field (column) to the roster")
                ).format(name=name, where=where)
        problems.append(row.problem(_("{name}: no value for variable '{name2}'").format(name=row.name, name2=name), hint, cell))
    return problems, unfilled


def relocate(problems: list[Problem], tree: YNode, row: RosterRow, unfilled: set[str]) -> list[Problem]:
    """Problems at template nodes that use a row's value are moved to the row's cell (value in the message)."""
    index: dict[tuple[str, int, int], list[str]] = {}
    for name, nodes in placeholders_in(tree).items():
        if not name.startswith("vars."):
            continue
        for node in nodes:
            index.setdefault((node.source.label if node.source else "", node.line, node.col), []).append(name[5:])
    given = row.values()
    out = []
    moved: list[Problem] = []  # template problems caused by the row (dropped or relocated)
    for problem in problems:
        place = (problem.path, problem.line, problem.col)
        if problem.code == "placeholder.unknown" and any(name in unfilled for name in index.get(place, [])):
            moved.append(problem)
            continue  # already reported at the row, as an unfilled variable
        names = [n for n in index.get((problem.path, problem.line, problem.col), []) if n in given and n in row.cells]
        if not names:
            out.append(problem)
            continue
        moved.append(problem)
        cell = row.cells[names[0]]
        fields = ", ".join(f"'{n}' = '{given[n]}'" for n in names)
        hint = _("used by the template at {place}").format(place=f"{problem.path}:{problem.line}") + (
            f"; {problem.hint}" if problem.hint else "")
        out.append(Problem(row.roster, cell.line, cell.col, _("{name}: field {fields}: {message}").format(name=row.name, fields=fields, message=problem.message), hint,
                           cell.source.line(cell.line) if cell.source else None, problem.severity))
    # "chart.data is empty" only follows from its values having failed (already reported): drop the echo
    return [p for p in out if not (p.code == "chart.data_empty" and any(
        m.path == p.path and m.line >= p.line for m in moved))]


def parse_row(template: Path, row: RosterRow, project_root: Path, *, templates: TemplateCache | None = None,
              allow_outside: bool = False):
    """The Storyboard of one roster row over a template. Raises SpecError located at the row where it can."""
    templates = templates or TemplateCache()
    tree, variables = row_storyboard(templates.get(template), row)
    problems, unfilled = row_problems(tree, row, str(template))
    try:
        board = parse_storyboard(tree, template, project_root, label=str(template), allow_outside=allow_outside,
                                 variables=variables)
    except SpecError as exc:
        problems += relocate(exc.problems, tree, row, unfilled)
        raise SpecError(problems) from None
    if problems:
        raise SpecError(problems)
    return board

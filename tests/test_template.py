"""Templates (extends:) and rosters: merging, cycles, located problems, figures from variables."""

from __future__ import annotations

import shutil

import pytest

from conftest import write_dedented as write
from kbvideo.batch.roster import TemplateCache, load_roster, parse_row, slugify
from kbvideo.storyboard.template import load_storyboard_node, template_chain
from kbvideo.errors import SpecError
from kbvideo.pipeline import plan_storyboard
from kbvideo.storyboard.nodes import to_python

BASE = """\
schema_version: 1
kampung: {name: "Kampung KB Induk", kota: Kota Induk}
output: {size: 160x90, fps: 30}
vars: {judul: "Profil"}
scenes:
  - id: satu
    topic: opening
    shots:
      - card: "{kampung.name}"
        duration: 1
  - id: dua
    topic: dashat
    shots:
      - still: ../assets/foto.png
        duration: 2
      - chart: {title: Angka, data: {"2024": "{vars.angka}"}}
        duration: 1
  - id: tiga
    topic: closing
    shots:
      - card: "{vars.judul}"
        duration: 1
"""




@pytest.fixture
def tree(project, media, monkeypatch):
    monkeypatch.chdir(project)
    (project / "storyboards" / "assets").mkdir()
    shutil.copyfile(media.image("foto.png", size=(32, 18)), project / "storyboards" / "assets" / "foto.png")
    write(project / "storyboards" / "templates" / "base.yaml", BASE)
    return project


def test_child_wins_scenes_merge_by_id_drop_and_append(tree):
    child = write(tree / "storyboards" / "child.yaml", """\
        extends: templates/base.yaml
        kampung: {name: "Kampung KB Anak"}
        vars: {angka: "7"}
        scenes:
          - id: dua
            shots:
              - card: "Baru"
                duration: 3
          - id: tiga
            drop: true
          - id: empat
            topic: closing
            shots:
              - card: "Akhir"
                duration: 1
        """)
    data = to_python(load_storyboard_node(child))
    assert "extends" not in data
    assert data["kampung"] == {"name": "Kampung KB Anak", "kota": "Kota Induk"}
    assert [s["id"] for s in data["scenes"]] == ["satu", "dua", "empat"]
    assert data["scenes"][1]["topic"] == "dashat" and data["scenes"][1]["shots"] == [{"card": "Baru", "duration": 3}]
    assert template_chain(child) == [child.resolve(), (tree / "storyboards" / "templates" / "base.yaml").resolve()]


def test_inherited_nodes_keep_their_file_and_assets_resolve_from_the_template(tree):
    write(tree / "storyboards" / "templates" / "assets" / "x.txt", "x")
    shutil.copyfile(tree / "storyboards" / "assets" / "foto.png", tree / "storyboards" / "templates" / "foto.png")
    base = tree / "storyboards" / "templates" / "base.yaml"
    base.write_text(BASE.replace("../assets/foto.png", "foto.png"), encoding="utf-8")
    child = write(tree / "storyboards" / "child.yaml", """\
        extends: templates/base.yaml
        vars: {angka: "7"}
        """)
    plan = plan_storyboard(child, root=tree)
    still = next(s for s in plan.timeline.shots if s.kind == "still")
    assert still.source == str((tree / "storyboards" / "templates" / "foto.png").resolve())
    chart = next(s for s in plan.timeline.shots if s.kind == "chart")
    assert chart.chart.values == (7.0,)
    bad = write(tree / "storyboards" / "bad.yaml", """\
        extends: templates/base.yaml
        vars: {angka: "tujuh"}
        """)
    with pytest.raises(SpecError) as info:
        plan_storyboard(bad, root=tree)
    problem = next(p for p in info.value.problems if "must be a number" in p.message)
    assert problem.path == "storyboards/templates/base.yaml" and problem.line == 16
    assert "must be a number, not 'tujuh'" in problem.message and "{vars.angka}" in problem.message


def test_extends_cycle_and_missing_template_are_located(tree):
    a = write(tree / "storyboards" / "a.yaml", "extends: b.yaml\nkampung: {name: A}\n")
    write(tree / "storyboards" / "b.yaml", "extends: a.yaml\n")
    with pytest.raises(SpecError) as info:
        load_storyboard_node(a)
    problem = info.value.problems[0]
    assert problem.path == "storyboards/b.yaml" and problem.line == 1
    assert "cycle (a.yaml → b.yaml → a.yaml)" in problem.message
    c = write(tree / "storyboards" / "c.yaml", "kampung: {name: C}\nextends: templates/bsae.yaml\n")
    with pytest.raises(SpecError) as info:
        load_storyboard_node(c)
    assert info.value.problems[0].line == 2 and "template not found" in info.value.problems[0].message
    assert "base.yaml" in info.value.problems[0].hint


def test_yaml_roster_unknown_and_unfilled_fields_are_located(tree):
    roster = write(tree / "storyboards" / "roster.yaml", """\
        - name: Kampung KB Satu
          angka: "5"
        - name: Kampung KB Dua
          angak: "5"
        """)
    rows = load_roster(roster)
    template = tree / "storyboards" / "templates" / "base.yaml"
    board = parse_row(template, rows[0], tree, templates=TemplateCache())
    assert board.kampung.name == "Kampung KB Satu" and board.kampung.kota == "Kota Induk"
    with pytest.raises(SpecError) as info:
        parse_row(template, rows[1], tree)
    messages = [(p.path, p.line, p.message, p.hint) for p in info.value.problems]
    assert messages[0][:3] == (str(roster), 4, "Kampung KB Dua: unknown field 'angak' (the template has no {vars.angak})")
    assert messages[0][3] == "did you mean: angka"
    assert messages[1][:3] == (str(roster), 3, "Kampung KB Dua: no value for variable 'angka'")
    assert "storyboards/templates/base.yaml:16" in messages[1][3]
    assert len(messages) == 2  # the template's own "unknown placeholder" is not repeated


def test_csv_roster_semicolons_bom_quotes_and_duplicate_ids(tree):
    roster = tree / "r.csv"
    roster.write_bytes('\ufeffname;kabupaten;angka\n"Kampung KB Satu; Barat";Kab A;3\n'.encode())
    rows = load_roster(roster)
    assert rows[0].value("name") == "Kampung KB Satu; Barat" and rows[0].cells["angka"].col == 32
    board = parse_row(tree / "storyboards" / "templates" / "base.yaml", rows[0], tree)
    assert board.kampung.kabupaten == "Kab A" and board.kampung.kota is None and board.kampung.category == "kabupaten"
    roster.write_text("name,id\nKampung KB Satu,x\nKampung KB Dua,x\n", encoding="utf-8")
    with pytest.raises(SpecError) as info:
        load_roster(roster)
    assert info.value.problems[0].line == 3 and "same output name 'x' as row 1" in info.value.problems[0].message
    assert slugify("Kampung KB Çahaya Baru") == "cahaya-baru"

"""Storyboard semantics that hold for a village team (issue 11): kota/kabupaten and desa/kelurahan
from a template, dropping and re-adding scenes, placing new scenes with after:/before:."""

from __future__ import annotations

from pathlib import Path

import json

import pytest

from conftest import write_dedented as write
from kbvideo.errors import SpecError
from kbvideo.pipeline import plan_storyboard
from kbvideo.storyboard.nodes import to_python
from kbvideo.storyboard.template import load_storyboard_node

BASE = """\
schema_version: 1
kampung: {name: "Kampung KB Induk", kelurahan: "(nama kelurahan)", kota: Kota Induk, category: kota}
output: {size: 160x90, fps: 30}
scenes:
  - id: satu
    topic: opening
    shots:
      - card: {title: "{kampung.village}", subtitle: "{kampung.region} · {kampung.head}"}
        duration: 1
  - id: dua
    topic: dashat
    shots:
      - card: "Dua"
        duration: 1
  - id: tiga
    topic: closing
    shots:
      - card: "Tiga"
        duration: 1
"""




@pytest.fixture
def tree(project, monkeypatch):
    monkeypatch.chdir(project)
    write(project / "storyboards" / "templates" / "base.yaml", BASE)
    return project


def test_village_kabupaten_and_desa_replace_the_templates_kota_and_kelurahan(tree):
    child = write(tree / "storyboards" / "batang.yaml", """\
        extends: templates/base.yaml
        kampung: {name: "Kampung KB Batang Asri", desa: "Batang Asri", kabupaten: "Kabupaten Batang"}
        """)
    data = to_python(load_storyboard_node(child))
    assert data["kampung"] == {"name": "Kampung KB Batang Asri", "desa": "Batang Asri",
                               "kabupaten": "Kabupaten Batang"}
    plan = plan_storyboard(child, root=tree)
    assert plan.board.kampung.category == "kabupaten"
    card = next(s for s in plan.timeline.shots if s.kind == "card")
    assert (card.title, card.subtitle) == ("Desa Batang Asri", "Kabupaten Batang · Kepala Desa Batang Asri")


def test_kelurahan_village_says_kelurahan_and_never_doubles_the_word(tree):
    child = write(tree / "storyboards" / "satu.yaml", """\
        extends: templates/base.yaml
        kampung: {name: "Kampung KB Satu", kelurahan: "Kelurahan Contoh Satu"}
        """)
    plan = plan_storyboard(child, root=tree)
    card = next(s for s in plan.timeline.shots if s.kind == "card")
    assert (card.title, card.subtitle) == ("Kelurahan Contoh Satu", "Kota Induk · Lurah Contoh Satu")


def test_both_kota_and_kabupaten_in_one_file_is_one_located_error(tree):
    child = write(tree / "storyboards" / "dua.yaml", """\
        extends: templates/base.yaml
        kampung:
          name: "Kampung KB Dua"
          kota: Kota Dua
          kabupaten: Kabupaten Dua
        """)
    with pytest.raises(SpecError) as info:
        plan_storyboard(child, root=tree)
    [problem] = info.value.problems
    assert (Path(problem.path).name, problem.line) == ("dua.yaml", 5)
    assert problem.message == "kampung: give either 'kota' or 'kabupaten', not both"


def test_drop_then_re_add_a_scene_takes_its_place_and_the_later_entry_wins(tree):
    child = write(tree / "storyboards" / "c.yaml", """\
        extends: templates/base.yaml
        scenes:
          - {id: dua, drop: true}
          - id: dua
            topic: dashat
            shots:
              - card: "Dua baru"
                duration: 2
          - id: empat
            topic: pemberdayaan
            after: satu
            shots:
              - card: "Empat"
                duration: 1
          - id: nol
            topic: other
            before: satu
            shots:
              - card: "Nol"
                duration: 1
        """)
    data = to_python(load_storyboard_node(child))
    assert [s["id"] for s in data["scenes"]] == ["nol", "satu", "empat", "dua", "tiga"]
    dua = data["scenes"][3]
    assert dua["shots"] == [{"card": "Dua baru", "duration": 2}] and "drop" not in dua
    assert all("after" not in s and "before" not in s for s in data["scenes"])
    plan = plan_storyboard(child, root=tree)
    assert [s.id for s in plan.timeline.scenes] == ["nol", "satu", "empat", "dua", "tiga"]


def test_re_add_then_drop_removes_it_and_unknown_after_is_located(tree):
    child = write(tree / "storyboards" / "d.yaml", """\
        extends: templates/base.yaml
        scenes:
          - id: tiga
            shots: [{card: "X", duration: 1}]
          - {id: tiga, drop: true}
        """)
    assert [s["id"] for s in to_python(load_storyboard_node(child))["scenes"]] == ["satu", "dua"]
    bad = write(tree / "storyboards" / "e.yaml", """\
        extends: templates/base.yaml
        scenes:
          - id: lima
            topic: other
            after: tigga
            shots: [{card: "X", duration: 1}]
        """)
    with pytest.raises(SpecError) as info:
        load_storyboard_node(bad)
    [problem] = info.value.problems
    assert (problem.line, problem.col) == (5, 12)
    assert problem.message == "after: there is no scene 'tigga' to place this scene by"
    assert problem.hint == "scenes so far: satu, dua, tiga"


def test_sample_roster_says_desa_or_kelurahan_never_both():
    """The shipped roster over the shipped template: "Desa Contoh Dua", never "Kelurahan Desa ..."."""
    from kbvideo.batch.roster import TemplateCache, load_roster, parse_row
    from kbvideo.pipeline import plan_board

    repo = Path(__file__).resolve().parent.parent
    rows = load_roster(repo / "storyboards" / "roster.csv")
    cache = TemplateCache()
    texts = {}
    for row in rows:
        board = parse_row(repo / "storyboards" / "templates" / "standar.yaml", row, repo, templates=cache)
        timeline = plan_board(board).timeline
        words = [t.text for t in timeline.texts] + [t.subtext or "" for t in timeline.texts]
        words += [s.subtitle or "" for s in timeline.shots] + [s.chart.title for s in timeline.shots if s.chart]
        texts[board.kampung.name] = " | ".join(words)
    joined = " ".join(texts.values())
    assert "Kelurahan Desa" not in joined and "Kelurahan Kelurahan" not in joined
    assert "Desa Contoh Dua" in texts["Kampung KB Contoh Dua"] and "Kepala Desa Contoh Dua" in texts["Kampung KB Contoh Dua"]
    assert "Kelurahan Contoh Satu" in texts["Kampung KB Contoh Satu"] and "Lurah Contoh Satu" in texts["Kampung KB Contoh Satu"]
    assert "Kabupaten Wonosobo" in texts["Kampung KB Contoh Dua"]


@pytest.mark.media
def test_kabupaten_village_from_init_validates_without_touching_shared_files(project, monkeypatch):
    """Issue 11 case 1, as a new user: init, write desa + kabupaten in the village file only, validate."""
    from click.testing import CliRunner

    from kbvideo.cli import main

    monkeypatch.chdir(project)
    runner = CliRunner()
    made = runner.invoke(main, ["init", "--kampung", "Kampung KB Batang Asri", "--dir", "."])
    assert made.exit_code == 0, made.stderr
    template = project / "storyboards" / "templates" / "standar.yaml"
    before = template.read_bytes()
    village = project / "storyboards" / "batang-asri.yaml"
    text = village.read_text(encoding="utf-8")
    assert "DOMAIN.md" not in text and "docs/" not in text
    lines = [("  desa: \"Batang Asri\"" if line.startswith("  kelurahan:") else
              "  kabupaten: \"Kabupaten Batang\"" if line.startswith("  kota:") else line) for line in text.splitlines()]
    village.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = runner.invoke(main, ["validate", "storyboards/batang-asri.yaml", "--json"])
    data = json.loads(result.stdout)["storyboards"][0]
    assert data["status"] == "ok", data
    assert template.read_bytes() == before
    plan = runner.invoke(main, ["plan", "storyboards/batang-asri.yaml", "--json"])
    texts = json.loads(plan.stdout)["texts"]
    assert "Desa Batang Asri, Kabupaten Batang" in [t["text"] for t in texts]


@pytest.mark.parametrize("lang, both, after", [
    ("en", "error: storyboards/dua.yaml:5:14: kampung: give either 'kota' or 'kabupaten', not both",
     "error: storyboards/e.yaml:5:12: after: there is no scene 'tigga' to place this scene by"),
    ("id", "kesalahan: storyboards/dua.yaml:5:14: kampung: tulis 'kota' atau 'kabupaten', jangan keduanya",
     "kesalahan: storyboards/e.yaml:5:12: after: tidak ada adegan 'tigga' untuk acuan letak adegan ini"),
])
def test_semantics_messages_in_both_languages(tree, lang, both, after):
    from click.testing import CliRunner

    from kbvideo.cli import main

    write(tree / "storyboards" / "dua.yaml", """\
        extends: templates/base.yaml
        kampung:
          name: "Kampung KB Dua"
          kota: Kota Dua
          kabupaten: Kabupaten Dua
        """)
    write(tree / "storyboards" / "e.yaml", """\
        extends: templates/base.yaml
        scenes:
          - id: lima
            topic: other
            after: tigga
            shots: [{card: "X", duration: 1}]
        """)
    runner = CliRunner()
    first = runner.invoke(main, ["--lang", lang, "validate", "storyboards/dua.yaml"])
    second = runner.invoke(main, ["--lang", lang, "validate", "storyboards/e.yaml"])
    assert first.exit_code == second.exit_code == 2
    assert both in first.stderr.splitlines()
    assert after in second.stderr.splitlines()

"""`kbvideo validate / plan / schema / rules` through the CLI, on real tiny media files."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from conftest import copy_into, write_storyboard as write
from kbvideo.cli import main

REPO = Path(__file__).resolve().parent.parent


def run(*args: str):
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output + result.stderr, result.stderr
    return result


@pytest.fixture
def small_project(project, media):
    """A project with a 4-s clip (stereo), a still, a 2-s narration; storyboard of 3 scenes, 9 s."""
    copy_into(media.clip(seconds=4), project / "assets", "a.mp4")
    copy_into(media.image("b.png"), project / "assets", "b.png")
    copy_into(media.tone("n.m4a", seconds=2), project / "assets", "n.m4a")
    (project / "rules.yaml").write_text("name: short\nduration: {max: 10, min: 5}\nvideo: {width: 320, height: 180}\nfamily_functions: {all_eight: null}\n")
    write(project, """\
    kampung: {name: Kampung KB Uji, kelurahan: Uji, kota: Kota Uji}
    output: {size: 320x180, rules: ../rules.yaml}
    defaults: {transition: {type: crossfade, duration: 0.5}}
    scenes:
      - id: buka
        topic: opening
        shots: [{card: "{kampung.name}", duration: 2}]
      - id: dapur
        topic: dashat
        shots:
          - clip: ../assets/a.mp4
            in: 0.5
            out: 3.5
        narration: ../assets/n.m4a
        captions: ["Kader memasak bersama"]
      - id: kerja
        topic: pemberdayaan
        shots: [{still: ../assets/b.png, duration: 5, motion: zoom_in}]
    """)
    return project




def test_validate_ok(small_project, monkeypatch):
    monkeypatch.chdir(small_project)
    result = run("validate", "storyboards/uji.yaml")
    assert result.exit_code == 0, result.output + result.stderr
    assert result.output.startswith("storyboards/uji.yaml: ok — 0:09.0 of 0:10 — 1.0 s left · rules short")


def test_plan_table_and_json(small_project, monkeypatch):
    monkeypatch.chdir(small_project)
    result = run("plan", "storyboards/uji.yaml")
    assert result.exit_code == 0, result.stderr
    lines = result.output.splitlines()
    assert lines[0] == "Kampung KB Uji — Uji, Kota Uji (kota)"
    assert lines[1] == "320x180 @ 30 fps · rules: short"
    row = next(line for line in lines if line.startswith("2 "))
    assert row.split() == ["2", "dapur", "dashat", "0:01.5", "0:04.5", "0:03.0", "1", "1", "10.9", "0:02.0"]
    assert "total 0:09.0 of 0:10 — 1.0 s left  (270 frames)" in result.output
    data = json.loads(run("plan", "storyboards/uji.yaml", "--json").output)
    assert data["duration"] == 9.0 and data["frames"] == 270 and data["fps"] == "30"
    assert [s["id"] for s in data["scenes"]] == ["buka", "dapur", "kerja"]
    assert [a["kind"] for a in data["audio"]] == ["clip", "narration"]


def test_validate_rule_violation_exits_1(small_project, monkeypatch):
    monkeypatch.chdir(small_project)
    result = run("validate", "storyboards/uji.yaml", "--rules", "lomba-kampung-kb-2025")
    assert result.exit_code == 1
    assert "FAIL" in result.output and "video.resolution" in result.output


def test_validate_reports_every_storyboard_and_exits_2(small_project, monkeypatch):
    monkeypatch.chdir(small_project)
    write(small_project, "kampung: {name: X}\nscenes:\n  - id: a\n    topic: dashat\n    shots: [{clip: ../assets/nope.mp4}]\n",
          "bad.yaml")
    result = run("validate", "storyboards/bad.yaml", "storyboards/uji.yaml")
    assert result.exit_code == 2
    assert "storyboards/bad.yaml: INVALID" in result.stderr
    assert "error: storyboards/bad.yaml:5:20: scene 'a': clip: file not found: ../assets/nope.mp4" in result.stderr
    assert "storyboards/uji.yaml: ok" in result.output


def test_broken_media_is_reported_at_its_line(small_project, monkeypatch):
    monkeypatch.chdir(small_project)
    (small_project / "assets" / "text.mp4").write_text("not a video\n")
    half = small_project / "assets" / "half.mp4"
    data = (small_project / "assets" / "a.mp4").read_bytes()
    half.write_bytes(data[: len(data) // 2])
    write(small_project, """\
    kampung: {name: X}
    scenes:
      - id: a
        topic: dashat
        shots:
          - clip: ../assets/text.mp4
          - clip: ../assets/half.mp4
    """, "broken.yaml")
    result = run("validate", "storyboards/broken.yaml", "--json")
    assert result.exit_code == 2
    problems = json.loads(result.output)["storyboards"][0]["problems"]
    assert [(p["line"], p["col"]) for p in problems] == [(6, 15), (7, 15)]
    assert "text.mp4" in problems[0]["message"] and "half.mp4" in problems[1]["message"]


def test_out_point_past_clip_end_on_real_file(small_project, monkeypatch):
    monkeypatch.chdir(small_project)
    write(small_project, """\
    kampung: {name: X}
    scenes:
      - id: a
        topic: dashat
        shots:
          - clip: ../assets/a.mp4
            out: 4.5
    """, "long.yaml")
    result = run("plan", "storyboards/long.yaml")
    assert result.exit_code == 2
    assert "long.yaml:7:14: scene 'a': out point 0:04.5 is past the end of a.mp4 (0:04.0)" in result.stderr


def test_unknown_rules_profile_is_misuse(small_project, monkeypatch):
    monkeypatch.chdir(small_project)
    result = run("validate", "storyboards/uji.yaml", "--rules", "nope")
    assert result.exit_code == 2 and "unknown rules profile 'nope'" in result.stderr


def test_rules_list_and_show():
    listed = run("rules", "list")
    assert listed.exit_code == 0 and listed.output.startswith("lomba-kampung-kb-2025\t")
    shown = run("rules", "show", "lomba-kampung-kb-2025")
    assert yaml.safe_load(shown.output)["duration"]["max"] == 180


def test_schema_accepts_samples_and_rejects_mistakes():
    schema = json.loads(run("schema").output)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for sample in sorted((REPO / "storyboards").glob("*.yaml")):
        data = yaml.safe_load(sample.read_text(encoding="utf-8"))
        errors = [e.message for e in validator.iter_errors(data)]
        assert errors == [], f"{sample.name}: {errors}"
    bad = yaml.safe_load(textwrap.dedent("""\
        kampung: {name: X}
        scenes:
          - id: a
            topic: dashatt
            shots: [{still: x.jpg}]
    """))
    messages = " ".join(e.message for e in validator.iter_errors(bad))
    assert "dashatt" in messages


def test_subprocess_smoke(small_project):
    proc = subprocess.run([sys.executable, "-m", "kbvideo", "plan", "storyboards/uji.yaml", "--json"],
                          cwd=small_project, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["duration"] == 9.0


def test_validate_shows_the_line_and_caret_of_text_it_cannot_draw(small_project, monkeypatch):
    """The caption's place travels from the storyboard through the timeline as a Loc (with its source
    line), so validate points at the caption itself, as it does for a storyboard error."""
    monkeypatch.chdir(small_project)
    write(small_project, """\
    kampung: {name: Kampung KB Uji, kelurahan: Uji, kota: Kota Uji}
    output: {size: 320x180, rules: ../rules.yaml}
    scenes:
      - id: dapur
        topic: dashat
        shots: [{still: ../assets/b.png, duration: 6}]
        captions: ["Kader memasak 中文"]
    """, "glyph.yaml")
    result = run("validate", "storyboards/glyph.yaml")
    assert result.exit_code == 1, result.output + result.stderr
    lines = result.output.splitlines()
    at = next(i for i, line in enumerate(lines) if "text.glyphs" in line)
    assert lines[at].endswith("(storyboards/glyph.yaml:7:16)"), lines[at]
    assert lines[at + 1] == "      " + '    captions: ["Kader memasak 中文"]'
    assert lines[at + 2] == "      " + " " * 15 + "^"  # under the caption's opening quote
    data = json.loads(run("validate", "storyboards/glyph.yaml", "--json").output)
    finding = next(f for f in data["storyboards"][0]["findings"] if f["rule"] == "text.glyphs")
    assert finding["where"] == "storyboards/glyph.yaml:7:16"  # JSON keeps the "path:line:col" text

"""captions: {srt: file.srt, offset: 1.5} (and vtt:) — cues become timed captions; bad cues are file:line errors."""

from __future__ import annotations

import json
from fractions import Fraction

from click.testing import CliRunner

from kbvideo.cli import main
from kbvideo.pipeline import plan_storyboard
from kbvideo.storyboard.subtitles import read_cues

SRT = """1
00:00:00,500 --> 00:00:02,000
<i>Kader</i> memasak menu bergizi

2
00:00:02,500 --> 00:00:04,000
{\\an8}Sayur, telur &
ikan lele
"""

VTT = """WEBVTT

NOTE dibuat di CapCut

satu
00:00.500 --> 00:02.000 align:start
<v Ibu Kader>Kader memasak menu bergizi</v>

00:00:02.500 --> 00:00:04.000
Sayur, telur &amp;
ikan lele
"""


def board(project, captions: str):
    (project / "assets" / "x.png").write_bytes(_png())
    path = project / "storyboards" / "desa.yaml"
    path.write_text(
        "kampung: {name: Kampung KB Contoh, kota: Kota Pekalongan}\n"
        "output: {size: 160x90, fps: 30}\n"
        "scenes:\n"
        "  - id: dashat\n    topic: dashat\n    shots:\n      - still: ../assets/x.png\n        duration: 6\n"
        f"    captions: {captions}\n", encoding="utf-8")
    return path


def _png() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (32, 18), (10, 120, 60)).save(buffer, "PNG")
    return buffer.getvalue()


def captions_of(plan):
    return [(t.start, t.duration, t.text, str(t.where)) for t in plan.timeline.texts if t.kind == "caption"]


def test_srt_and_vtt_captions_with_offset(project):
    (project / "assets" / "teks.srt").write_text(SRT, encoding="utf-8-sig")  # with a BOM, as Windows tools write
    (project / "assets" / "teks.vtt").write_text(VTT, encoding="utf-8")
    from_srt = captions_of(plan_storyboard(board(project, "{srt: ../assets/teks.srt, offset: 1.5}")))
    assert [c[:3] for c in from_srt] == [(60, 45, "Kader memasak menu bergizi"), (120, 45, "Sayur, telur &\nikan lele")]
    assert from_srt[0][3].endswith("assets/teks.srt:2:1")
    from_vtt = captions_of(plan_storyboard(board(project, "{vtt: ../assets/teks.vtt, offset: 1.5}")))
    assert [c[:3] for c in from_vtt] == [c[:3] for c in from_srt]
    assert from_vtt[1][3].endswith("assets/teks.vtt:9:1")
    # and they reach the rendered sidecars' timing like any caption: plan --json shows them
    result = CliRunner().invoke(main, ["plan", str(project / "storyboards" / "desa.yaml"), "--json"])
    texts = json.loads(result.output)["texts"]
    assert [t["start"] for t in texts if t["kind"] == "caption"] == [60, 120]


def test_malformed_cues_are_located(project):
    (project / "assets" / "rusak.srt").write_text(SRT.replace("00:00:02,500 --> 00:00:04,000", "00:00:02,500 -> 00:00:04,000"),
                                                  encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(board(project, "{srt: ../assets/rusak.srt}"))])
    assert result.exit_code == 2
    assert "assets/rusak.srt:6:1: malformed subtitle block" in result.output
    assert "00:00:02,500 -> 00:00:04,000" in result.output  # the offending line is shown

    (project / "assets" / "rusak.vtt").write_text(VTT.replace("00:00:02.500 --> 00:00:04.000", "00:02.5 --> 00:04.000"),
                                                  encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(board(project, "{vtt: ../assets/rusak.vtt}"))])
    assert result.exit_code == 2 and "assets/rusak.vtt:9:1: malformed cue time" in result.output


def test_cue_outside_the_scene_points_at_the_cue(project):
    late = SRT + "\n3\n00:00:05,000 --> 00:00:07,000\nTerlambat\n"
    (project / "assets" / "teks.srt").write_text(late, encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(board(project, "{srt: ../assets/teks.srt, offset: 0.5}"))])
    assert result.exit_code == 2, result.output
    assert "assets/teks.srt:11:1: scene 'dashat': caption from 0:05.5 for 0:02.0 ends after the scene" in result.output
    result = CliRunner().invoke(main, ["validate", str(board(project, "{srt: ../assets/teks.srt, offset: -1}"))])
    assert "assets/teks.srt:2:1: scene 'dashat': this cue starts 0.5 s before the scene" in result.output


def test_reader_details(tmp_path):
    path = tmp_path / "a.srt"
    path.write_bytes("1\n00:00:01,000 --> 00:00:02,000\nH\xe9\n".encode("latin-1"))
    cues, problems = read_cues(path, "srt")
    assert not cues and problems[0].line == 3 and "UTF-8" in problems[0].message
    path.write_text("1\n00:00:02,000 --> 00:00:01,000\nMundur\n\n2\n00:00:03,000 --> 00:00:04,000\n<b></b>\n",
                    encoding="utf-8")
    cues, problems = read_cues(path, "srt")
    assert [(p.line, p.message) for p in problems] == [(2, "the cue ends before it starts"), (6, "the cue has no text")]
    assert cues[0].start == Fraction(2)

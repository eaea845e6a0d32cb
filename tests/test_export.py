"""`kbvideo export`: OpenTimelineIO / FCP 7 XML / Kdenlive, read back and compared with `plan --json` to the frame."""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from pathlib import Path

import opentimelineio as otio
import pytest
from click.testing import CliRunner

from conftest import copy_into
from kbvideo.cli import main
from kbvideo.export.otio import read_export


def make_board(project, media) -> Path:
    copy_into(media.clip("x-a.mp4", seconds=2.0, fps="25"), project / "assets", "a25.mp4")
    copy_into(media.clip("x-b.mp4", seconds=1.5, tone=660), project / "assets", "b.mp4")
    copy_into(media.image("x-c.png", size=(64, 36)), project / "assets", "c.png")
    copy_into(media.tone("x-n.m4a", seconds=0.6), project / "assets", "narasi.m4a")
    copy_into(media.tone("x-m.m4a", seconds=1.0, freq=330), project / "assets", "musik.m4a")
    board = project / "storyboards" / "desa.yaml"
    board.write_text(
        "kampung: {name: Kampung KB Contoh, kelurahan: Jenggot, kota: Kota Pekalongan}\n"
        "output: {size: 160x90, fps: 30}\n"
        "music: {file: ../assets/musik.m4a, volume: 0.2, duck: true}\n"
        "scenes:\n"
        "  - id: buka\n    topic: opening\n    shots:\n"
        "      - card: {title: \"Kampung KB Contoh\", subtitle: \"Jenggot\"}\n        duration: 1\n"
        "      - clip: ../assets/a25.mp4\n        in: 0.52\n        out: 1.5\n        volume: 0.5\n"
        "    transition: {type: crossfade, duration: 0.3}\n"
        "  - id: dashat\n    topic: dashat\n    title: {text: \"Dapur Sehat\", duration: 1}\n    shots:\n"
        "      - clip: ../assets/b.mp4\n        in: 0.2\n        duration: 1\n"
        "      - still: ../assets/c.png\n        duration: 0.5\n"
        "    narration: {file: ../assets/narasi.m4a, at: 0.2, volume: 0.9}\n"
        "    lower_thirds: [{name: Ibu Kader, role: PKK, at: 0.1, duration: 0.8}]\n"
        "    captions: [\"Kader memasak bersama\"]\n"
        "    transition: {type: fade_black, duration: 0.2}\n"
        "  - id: tutup\n    topic: closing\n    shots:\n      - card: \"Terima kasih\"\n        duration: 1\n",
        encoding="utf-8")
    return board


def plan_json(board: Path) -> dict:
    result = CliRunner().invoke(main, ["plan", str(board), "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def frames(t: otio.opentime.RationalTime, rate: float = 30) -> float:
    return round(t.rescaled_to(rate).value, 6)  # a sixth decimal of a frame is arithmetic, not a frame


def items_of(track):
    return [item for item in track if isinstance(item, otio.schema.Clip)]


def outgoing_overlap(plan: dict) -> dict[str, int]:
    return {t["from_scene"]: t["duration"] for t in plan["transitions"] if t["duration"] > 0}


def check_video_track(track, plan: dict, *, exact_source_rate: bool) -> None:
    shots = sorted(plan["shots"], key=lambda s: s["start"])
    clips = items_of(track)
    assert len(clips) == len(shots)
    overlap = outgoing_overlap(plan)
    last_of_scene = {s["scene"]: s for s in shots}
    for shot, clip in zip(shots, clips):
        where = f"{shot['kind']} at frame {shot['start']}"
        assert frames(clip.range_in_parent().start_time) == shot["start"], where
        trimmed = overlap.get(shot["scene"], 0) if last_of_scene[shot["scene"]] is shot else 0
        assert frames(clip.source_range.duration) == shot["duration"] - trimmed, where
        if shot["kind"] == "clip":
            source = Path(clip.media_reference.target_url.replace("file://", "")).name
            assert source == Path(shot["source"]).name
            start = clip.source_range.start_time
            rate = 25 if source == "a25.mp4" else 30
            expected = round(shot["source_in"] / 30 * rate)
            if exact_source_rate:
                assert (start.value, start.rate) == (expected, rate), where
            else:
                assert abs(frames(start) - shot["source_in"]) <= 0.5, where
    transitions = [item for item in track if isinstance(item, otio.schema.Transition)]
    assert [(frames(t.in_offset), frames(t.out_offset)) for t in transitions] == [(0, 9), (0, 6)]
    assert frames(track.duration()) == plan["frames"]


def check_sound_tracks(tracks, plan: dict) -> None:
    by_kind = {"clip": tracks[0], "narration": tracks[1], "music": tracks[2]}
    for kind, track in by_kind.items():
        items = sorted((a for a in plan["audio"] if a["kind"] == kind), key=lambda a: a["start"])
        clips = items_of(track)
        assert len(clips) == len(items), kind
        for item, clip in zip(items, clips):
            assert frames(clip.range_in_parent().start_time) == item["start"], (kind, item)
            assert frames(clip.source_range.start_time) == item["source_in"], (kind, item)


@pytest.mark.media
def test_otio_round_trip_matches_the_plan_to_the_frame(media, project, tmp_path):
    board = make_board(project, media)
    plan = plan_json(board)
    assert plan["frames"] == 30 + 29 - 9 + 45 - 6 + 30  # card 1 s + clip 0.52..1.5 s (29 frames), crossfade, ...
    out = tmp_path / "desa.otio"
    result = CliRunner().invoke(main, ["export", str(board), "-o", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    timeline = otio.adapters.read_from_file(str(out))
    video, *sound = timeline.tracks
    assert video.kind == otio.schema.TrackKind.Video and [t.kind for t in sound] == ["Audio"] * 3
    check_video_track(video, plan, exact_source_rate=True)
    check_sound_tracks(sound, plan)
    # gains and the duck flag travel with the sound clips
    gains = {(c.metadata["kbvideo"]["kind"], c.metadata["kbvideo"]["volume"]) for t in sound for c in items_of(t)}
    assert {("clip", 0.5), ("narration", 0.9), ("music", 0.2)} <= gains
    music = items_of(sound[2])[0]
    assert music.metadata["kbvideo"]["duck"] is True
    assert math.isclose(music.effects[0].metadata["kbvideo"]["gain_db"], 20 * math.log10(0.2), abs_tol=0.01)
    # the originals are referenced, cards carry their text
    first = items_of(video)[0]
    assert first.media_reference.generator_kind == "kbvideo.card"
    assert first.media_reference.parameters["title"] == "Kampung KB Contoh"
    clip = items_of(video)[1]
    assert clip.media_reference.target_url == (project / "assets" / "a25.mp4").resolve().as_uri()
    assert frames(clip.media_reference.available_range.duration, 25) == 50
    kinds = [t.metadata.get("kbvideo", {}).get("kind") for t in video if isinstance(t, otio.schema.Transition)]
    assert kinds == ["crossfade", "fade_black"]
    # markers: a scene marker per scene, one per title / lower third / caption over its frames
    markers = timeline.tracks.markers
    assert len(markers) == len(plan["scenes"]) + len(plan["texts"])
    caption = next(m for m in markers if m.metadata["kbvideo"]["kind"] == "caption")
    text = next(t for t in plan["texts"] if t["kind"] == "caption")
    assert caption.name == "Kader memasak bersama"
    assert (frames(caption.marked_range.start_time), frames(caption.marked_range.duration)) == (text["start"], text["duration"])


@pytest.mark.media
def test_fcp_xml_round_trip(media, project, tmp_path):
    board = make_board(project, media)
    plan = plan_json(board)
    out = tmp_path / "desa.xml"
    assert CliRunner().invoke(main, ["export", str(board), "-o", str(out)]).exit_code == 0
    root = ET.parse(out).getroot()
    assert root.tag == "xmeml"
    # two on the picture, one on the clip sound (the crossfade's sound): all start at the cut
    assert [e.text for e in root.iter("alignment")] == ["start", "start", "start"]
    video_transitions = root.findall(".//sequence/media/video/track/transitionitem")
    assert [t.findtext("./effect/effectid") for t in video_transitions] == ["Cross Dissolve", "Dip to Color Dissolve"]
    timeline = read_export(out)
    check_video_track(timeline.tracks[0], plan, exact_source_rate=True)
    check_sound_tracks(timeline.tracks[1:], plan)


@pytest.mark.media
def test_kdenlive_file_names_every_source(media, project, tmp_path):
    board = make_board(project, media)
    out = tmp_path / "desa.kdenlive"
    result = CliRunner().invoke(main, ["export", str(board), "-o", str(out)])
    assert result.exit_code == 0 and "deprecated" not in result.output  # the adapter's banner is not shown
    text = out.read_text(encoding="utf-8")
    root = ET.fromstring(text)
    assert root.tag == "mlt"
    for name in ("a25.mp4", "b.mp4", "c.png", "narasi.m4a", "musik.m4a"):
        assert name in text, name
    timeline = read_export(out)
    assert len(items_of(timeline.tracks[0])) == 5  # Kdenlive keeps every shot (cards as placeholders)


def test_unknown_export_kind_is_a_usage_error(media, project, tmp_path):
    board = make_board(project, media)
    result = CliRunner().invoke(main, ["export", str(board), "-o", str(tmp_path / "x.edl")])
    assert result.exit_code == 2 and ".otio" in result.output and "Traceback" not in result.output
    assert not list(tmp_path.glob("*x*"))

"""The finished look and sound, measured on tiny renders: layout report, motion, master settings, GOP,
pixel aspect, Ken Burns inside the fit, poster, programme fades."""

from __future__ import annotations

import dataclasses
import json
import re

import av
import numpy as np
import pytest
from PIL import Image

from kbvideo.render.encode import x264_threads
from kbvideo.render.engine import DEFAULT_JOBS
from kbvideo.errors import Loc
from kbvideo.layout.screen import Box, Element, overlaps
from kbvideo.rules.profile import load_profile
from kbvideo.timeline.model import AudioItem, TextItem
from test_render import build, clip, frames_rgb, render, still

pytestmark = pytest.mark.media

FADES = dataclasses.replace(load_profile(), master_fade_in=0.5, master_fade_out=0.5)


def luma(frame: np.ndarray) -> np.ndarray:
    return frame.astype(np.float64) @ np.array([0.2126, 0.7152, 0.0722])


def keyframes(path) -> list[int]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        packets = sorted((p for p in container.demux(stream) if p.pts is not None), key=lambda p: p.pts)
    return [i for i, p in enumerate(packets) if p.is_keyframe]


@pytest.fixture(scope="module")
def programme(tmp_path_factory, request):
    """2.9 s at 320x180: a title card, a red clip with title, lower third and caption, fade through
    black into a blue clip; rendered once with the 2025 profile's master settings and 0.5 s fades."""
    media = request.getfixturevalue("media")
    tmp = tmp_path_factory.mktemp("look")
    red = media.clip("look-red.mp4", color="red", size="320x180", seconds=2.4)
    blue = media.clip("look-blue.mp4", color="blue", size="320x180", seconds=1.5, tone=660)
    card = dict(kind="card", duration=30, title="Kampung KB Mandiri Utama",
                subtitle="Kelurahan Jenggot · Kecamatan Pekalongan Selatan · Kota Pekalongan")
    texts = (TextItem("title", "a", 32, 20, "Dashat", where=Loc("sb.yaml", 5, 5)),
             TextItem("lower_third", "a", 40, 24, "Kader Dashat", "Tim Penggerak PKK", where=Loc("sb.yaml", 7, 7)),
             TextItem("caption", "a", 34, 30, "Kader memasak menu bergizi dari bahan pangan lokal"))
    timeline = build([("a", [card, clip(red, 62)]), ("b", [clip(blue, 40)])], size=(320, 180),
                     transitions=[("fade_black", 15)], texts=texts)
    result = render(timeline, tmp, profile=FADES)
    report = json.loads(result.report_path.read_text())
    return timeline, result, report, frames_rgb(result.path)


def test_layout_report_lists_every_element_and_none_overlap(programme):
    timeline, result, report, _frames = programme
    elements = [Element(e["kind"], e["zone"], e["start"], e["end"], Box(*e["box"]), e["scene"], tuple(e["lines"]))
                for e in report["layout"]]
    kinds = [e.kind for e in elements]
    assert {"card_title", "card_subtitle", "title", "lower_third", "caption"} <= set(kinds)
    assert overlaps(elements) == []
    title = next(e for e in elements if e.kind == "title")
    lower = next(e for e in elements if e.kind == "lower_third")
    assert lower.start >= title.end  # asked to overlap in time: the lower third waited
    assert any(f["rule"] == "source.upscale" for f in report["findings"]) is False


def test_caption_lines_same_in_picture_srt_and_vtt(programme):
    _timeline, result, report, _frames = programme
    drawn = next(e["lines"] for e in report["layout"] if e["kind"] == "caption")
    assert drawn == ["Kader memasak menu bergizi", "dari bahan pangan lokal"]
    srt = result.sidecars["srt"].read_text(encoding="utf-8").strip().split("\n")[2:]
    vtt = result.sidecars["vtt"].read_text(encoding="utf-8").strip().split("\n")[4:]
    assert srt == drawn and vtt == drawn and all(len(line) <= 42 for line in drawn)


def test_programme_fades_up_from_black_and_down_to_black(programme):
    timeline, _result, _report, frames = programme
    levels = [luma(f).mean() for f in frames]
    assert levels[0] < 3 and levels[-1] < 3
    assert levels[7] < levels[15] * 0.7  # half way up
    assert levels[-8] < levels[-16] * 0.7  # half way down
    assert abs(levels[-17] - levels[-25]) < 3  # before the fade: full level


def test_fade_through_black_is_symmetric(programme):
    timeline, _result, _report, frames = programme
    t0 = timeline.transitions[0].start
    # the strongest channel (red, then blue): luma would bend where a channel clips at 0
    centre = [frames[i][90:100, 150:170].max(axis=2).mean() for i in range(t0 - 1, t0 + 16)]
    a_full, b_full = centre[0], centre[-1]
    darkest = int(np.argmin(centre)) - 1  # frames into the transition
    assert darkest == 7 and centre[darkest + 1] < 3  # one black frame, half way
    for k in range(1, 7):  # as many frames down as up, at mirrored levels
        down, up = centre[darkest + 1 - k] / a_full, centre[darkest + 1 + k] / b_full
        assert abs(down - up) < 0.08, (k, down, up)


def test_texts_fade_in(programme):
    _timeline, _result, report, frames = programme
    caption = next(e for e in report["layout"] if e["kind"] == "caption")
    x, y = caption["box"][0] + 2, caption["box"][1] + 2  # the plate's padding, no text
    plate = [luma(frames[caption["start"] + k][y:y + 2, x:x + 2]).mean() for k in range(0, 8)]
    before = luma(frames[caption["start"] - 1][y:y + 2, x:x + 2]).mean()
    assert plate[0] > before - 8  # first frame: barely there
    assert all(a > b for a, b in zip(plate[:6], plate[1:6]))  # darkening frame by frame
    assert plate[6] < before * 0.5  # then the full plate


def test_master_settings_from_the_profile_reach_the_stream(programme):
    _timeline, result, report, _frames = programme
    data = result.path.read_bytes()
    options = data[data.find(b"x264 - core"):][:2000]
    assert b"crf=18.0" in options and b"vbv_maxrate=16000" in options and b"vbv_bufsize=32000" in options
    assert b"aq=3" in options
    want = x264_threads(DEFAULT_JOBS, len(report["segments"]))  # 3 segments, 2 workers: x264 on its share
    assert want and f" threads={want[1]} ".encode() in options
    # every segment's x264 leaves its settings in the stream: the last body to start has a thread per core
    seis = [data[m.start():m.start() + 2000] for m in re.finditer(rb"x264 - core", data)]
    threads = sorted(int(re.search(rb" threads=(\d+) ", sei).group(1)) for sei in seis)
    assert len(seis) == len(report["segments"])
    last = x264_threads(DEFAULT_JOBS, len(report["segments"]), last=True)
    assert threads == sorted([int(want[1])] * (len(seis) - 1) + [int(last[1])])
    with av.open(str(result.path)) as container:  # a plain sine needs fewer bits than asked; still over the old 160k
        assert container.streams.audio[0].codec_context.bit_rate > 160000
    assert report["encoder"]["crf"] == 18 and report["audio_bitrate"] == "320k"


def test_joined_segments_keep_a_regular_gop(programme):
    timeline, result, _report, _frames = programme
    keys = keyframes(result.path)
    gaps = np.diff(keys)
    assert keys[0] == 0 and len(keys) >= 4
    assert gaps.min() >= 7 and gaps.max() <= 30, keys  # GOP 15: no 1-frame GOPs, none over 2 GOPs


def test_poster_is_the_title_card_without_captions(programme):
    timeline, result, report, frames = programme
    frame = report["poster_frame"]
    card = next(s for s in timeline.shots if s.kind == "card")
    assert card.start + 15 <= frame < card.end  # after the fade up, on the settled card
    poster = np.asarray(Image.open(result.poster).convert("RGB"), dtype=np.float64)
    assert np.abs(poster - frames[frame]).mean() < 12  # JPEG of the same frame
    caption = next(e for e in report["layout"] if e["kind"] == "caption")
    assert not caption["start"] <= frame < caption["end"]
    green = poster[150:170, 10:40].mean(axis=(0, 1))  # the card's own colour, no caption plate
    assert green[1] > green[0] + 30 and green[1] > green[2]


@pytest.mark.parametrize("kind", ["wipe_left", "circle_open"])
def test_more_transitions_are_exactly_as_long_as_planned(media, tmp_path, kind):
    red = media.clip("red.mp4", color="red", seconds=1.2)
    blue = media.clip("blue.mp4", color="blue", seconds=1.2, tone=660)
    timeline = build([("a", [clip(red, 20)]), ("b", [clip(blue, 20)])], transitions=[(kind, 10)])
    result = render(timeline, tmp_path)
    frames = frames_rgb(result.path)
    assert len(frames) == result.frames == 30
    middle = frames[15]
    reds = (middle[:, :, 0] > 150).mean()
    blues = (middle[:, :, 2] > 150).mean()
    assert 0.1 < reds < 0.9 and 0.1 < blues < 0.9  # a wipe/iris: both pictures, each in its own region


def test_pixel_aspect_is_honoured_and_big_upscales_are_warned(media, tmp_path):
    sources = [("qcif.mp4", "176x144", "128/117", 481), ("pal.mp4", "720x576", "16/15", 480),
               ("hdv.mp4", "1440x1080", "4/3", 640)]
    specs = []
    for name, size, sar, _width in sources:
        path = media.clip(name, size=size, color="white", seconds=0.3, audio=False, extra=("-vf", f"setsar={sar}"))
        specs.append((name, [clip(path, 6, fill="#000000")]))
    timeline = build(specs, size=(640, 360), clip_audio=False)
    result = render(timeline, tmp_path)
    frames = frames_rgb(result.path)
    for index, (name, _size, _sar, expected) in enumerate(sources):
        row = frames[index * 6 + 3][180]
        width = int((row.mean(axis=1) > 128).sum())
        assert abs(width - expected) <= 4, (name, width, expected)
    warnings = [f for f in result.findings if f.rule == "source.upscale"]
    assert len(warnings) == 1 and "qcif.mp4" in warnings[0].message and warnings[0].values["factor"] == 2.5


def test_ken_burns_moves_the_picture_inside_its_box_and_stills_keep_native_size(tmp_path):
    picture = np.zeros((160, 90, 3), dtype=np.uint8)
    picture[:, :] = (220, 20, 20)
    picture[:12, :] = (240, 240, 0)  # a yellow band along the top edge
    path = tmp_path / "portrait.png"
    Image.fromarray(picture).save(path)
    timeline = build([("a", [still(path, 30, motion="zoom_in", fill="#0000ff")])], size=(320, 180), clip_audio=False)
    frames = frames_rgb(render(timeline, tmp_path).path)
    first, last = frames[0], frames[-1]
    top, left = (180 - 160) // 2, (320 - 90) // 2
    for frame in (first, last):  # the fill never moves and the picture never leaves its 90x160 box
        assert frame[top - 3, 160][2] > 200 and frame[top + 160 + 2, 160][2] > 200
        assert frame[90, left - 3][2] > 200 and frame[90, left + 90 + 2][2] > 200
        assert frame[90, 160][0] > 180  # red picture inside, not enlarged to the frame height
    assert first[top + 4, 160][1] > 180  # the yellow band at the start ...
    assert last[top + 4, 160][1] < 100  # ... zoomed out of the box by the end


# --------------------------------------------------------------------------------------- mix

def _band_db(samples: np.ndarray, a: float, b: float, freq: float) -> float:
    """Level in dB of one tone between seconds a and b (FFT bin of the first channel)."""
    chunk = samples[0, int(a * 48000):int(b * 48000)]
    return 20 * np.log10(np.abs(np.fft.rfft(chunk))[round(freq * (b - a))] + 1e-12)


def test_music_and_clip_sound_duck_by_the_stated_depth_and_the_range_is_reported(media, tmp_path):
    from kbvideo.render.audio import AudioFacts, Ducking, render_audio
    from test_render import audio_samples

    music = media.tone("bed.m4a", seconds=5, freq=220, volume_db=-24)
    location = media.tone("location.m4a", seconds=5, freq=440, volume_db=-24)
    speech = media.tone("voice.m4a", seconds=1, freq=1000, volume_db=-18)
    red = media.clip("red.mp4", color="red", seconds=0.2, audio=False)
    base = build([("a", [clip(red, 150)])], clip_audio=False)
    items = (AudioItem("music", str(music), 0, 150, volume=1.0, duck=True),  # the bed fades out over 4-5 s
             AudioItem("clip", str(location), 0, 150, volume=1.0),
             AudioItem("narration", str(speech), 45, 30))
    timeline = dataclasses.replace(base, audio=items)
    ducking = Ducking(music_db=-12.0, clip_db=-6.0, attack=0.2, release=0.4)
    out = tmp_path / "mix.m4a"
    info = render_audio(timeline, out, tmp_path, facts=lambda p: AudioFacts(True, 1), target=-14.0, true_peak=-1.0,
                        bitrate="320k", ducking=ducking)
    samples = audio_samples(out)
    # narration 1.5-2.5 s: the bed is 12 dB down, the location sound 6 dB, both back up after the release
    assert _band_db(samples, 1.7, 2.3, 220) - _band_db(samples, 0.3, 0.9, 220) == pytest.approx(-12, abs=1)
    assert _band_db(samples, 1.7, 2.3, 440) - _band_db(samples, 0.3, 0.9, 440) == pytest.approx(-6, abs=1)
    assert _band_db(samples, 3.1, 3.7, 220) - _band_db(samples, 0.3, 0.9, 220) == pytest.approx(0, abs=1)
    # one gain for the whole mix: the written relative levels (bed vs location sound, both -24 dB) survive
    assert _band_db(samples, 0.3, 0.9, 220) - _band_db(samples, 0.3, 0.9, 440) == pytest.approx(0, abs=1)
    assert info["loudness_range_lu"] is not None and info["loudness_range_lu"] >= 0


def test_check_prints_the_loudness_range(programme):
    from click.testing import CliRunner

    from kbvideo.cli import main

    _timeline, result, _report, _frames = programme
    outcome = CliRunner().invoke(main, ["check", str(result.path)])
    assert "loudness range" in outcome.output and "LUFS integrated" in outcome.output


def test_a_caption_with_motion_none_is_there_on_its_first_frame(tmp_path, media):
    """Issue 10: `motion: none` — full plate on the caption's first frame; the default still fades in."""
    red = media.clip("look-none.mp4", color="red", size="320x180", seconds=2.2)
    texts = (TextItem("caption", "a", 6, 20, "Tanpa gerak", motion=("none", 0)),
             TextItem("caption", "a", 36, 20, "Memudar masuk"))
    timeline = build([("a", [clip(red, 62)])], size=(320, 180), texts=texts)
    result = render(timeline, tmp_path)
    report = json.loads(result.report_path.read_text())
    frames = frames_rgb(result.path)
    plain, faded = (e for e in report["layout"] if e["kind"] == "caption")
    for caption, first_frame_dark in ((plain, True), (faded, False)):
        x, y = caption["box"][0] + 2, caption["box"][1] + 2  # the plate's padding, no text
        before = luma(frames[caption["start"] - 1][y:y + 2, x:x + 2]).mean()
        first = luma(frames[caption["start"]][y:y + 2, x:x + 2]).mean()
        settled = luma(frames[caption["start"] + 8][y:y + 2, x:x + 2]).mean()
        assert settled < before * 0.5
        if first_frame_dark:
            assert abs(first - settled) < 4  # full opacity at once
        else:
            assert first > before - 8  # barely there


def test_x264_gets_its_share_of_the_cores_only_when_segments_outnumber_workers(monkeypatch):
    from kbvideo import proc

    monkeypatch.setattr(proc, "usable_cores", lambda: 4)
    assert x264_threads(2, 3) == ["-threads", "2"]  # 4 cores, 2 workers busy between 3 segments
    assert x264_threads(2, 3, last=True) == ["-threads", "4"]  # the last body: the other worker runs dry
    assert x264_threads(2, 2) == []  # no more segments than workers: x264 may take the idle cores
    assert x264_threads(1, 9) == []  # one worker: x264 takes every core
    monkeypatch.setattr(proc, "usable_cores", lambda: 1)
    assert x264_threads(4, 9) == ["-threads", "1"]  # never fewer than one

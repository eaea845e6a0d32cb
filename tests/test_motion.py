"""Motion graphics: exact frame counts, size, pixel format, animation, determinism, number format."""

from __future__ import annotations

import dataclasses
import hashlib
import subprocess
from fractions import Fraction

import av
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kbvideo.media.ffmpeg_bin import ffmpeg_exe
from kbvideo.render.ffmpeg import TO_709
from kbvideo.render.graphics import TextFitError
from kbvideo.render import paint, painters
from kbvideo.render.motion import drawn_frames, render_motion_shot
from kbvideo.render.paint import format_number
from kbvideo.render.painters import make_painter
from kbvideo.timeline.model import Shot
from kbvideo.vocab import Chart

NTSC = Fraction(30000, 1001)
CARD = Shot("card", "intro", 0, 25, title="Kampung KB Mandiri Utama", subtitle="Kelurahan Jenggot")
COUNTDOWN = Shot("chart", "dashat", 0, 33, chart=Chart(
    "Balita stunting (angka contoh)", ("2022", "2023", "2024", "2025"), (1241, 27, 15, 9), "anak", "countdown"))
BARS = Shot("chart", "kebun", 0, 31, color="#f4f1e8", chart=Chart(
    "Hasil panen Kebun Pikatu", ("Sayur", "Buah", "Lele"), (120.5, 45, 80), "kg", "bars"))


def decoded(path):
    """(frame count from the header, decoded frames as RGB arrays, stream facts)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        facts = (stream.codec_context.width, stream.codec_context.height, stream.codec_context.pix_fmt,
                 stream.average_rate, stream.codec_context.name)
        header = stream.frames
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
    return header, frames, facts


@pytest.mark.media
@pytest.mark.parametrize("shot,fps", [(CARD, Fraction(30)), (CARD, NTSC), (COUNTDOWN, NTSC), (BARS, Fraction(25)),
                                      (dataclasses.replace(CARD, duration=2), NTSC)],
                         ids=["card-30", "card-ntsc", "countdown-ntsc", "bars-25", "card-2-frames"])
def test_exact_frames_size_and_format(tmp_path, shot, fps):
    out = render_motion_shot(shot, 320, 180, fps, tmp_path / "shot.mp4")
    assert out == tmp_path / "shot.mp4"
    header, frames, facts = decoded(out)
    # the frames that differ; the segments repeat the last (test_handoff.py: test_a_settled_card_is_held_by_the_segments_not_stored)
    assert header == len(frames) == drawn_frames(shot, 320, 180, fps)
    assert 1 < len(frames) <= shot.duration
    assert facts == (320, 180, "yuv420p", fps, "h264")
    assert not np.array_equal(frames[0], frames[-1])  # animated
    assert [p.name for p in tmp_path.iterdir()] == ["shot.mp4"]  # no temp file left


@pytest.mark.media
def test_intermediate_is_lossless_bt709(tmp_path):
    """The card is an intermediate the segment encodes again: its YUV planes must be exactly ffmpeg's
    BT.709 conversion of the painter's frames (x264 lossless), tagged BT.709 limited range."""
    out = render_motion_shot(CARD, 320, 180, Fraction(30), tmp_path / "card.mp4")
    painter = make_painter(CARD, 320, 180, Fraction(30))
    drawn = drawn_frames(CARD, 320, 180, Fraction(30))
    assert drawn == painter.hold_from + 1 < CARD.duration
    rgb = b"".join(painter.frame(i).tobytes() for i in range(drawn))
    want = subprocess.run([ffmpeg_exe(), "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", "320x180",
                           "-r", "30", "-i", "-", "-vf", f"scale={TO_709},format=yuv420p", "-f", "rawvideo", "-"],
                          input=rgb, capture_output=True, check=True).stdout
    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        assert stream.frames == drawn
        frames = list(container.decode(stream))
    got = b"".join(f.to_ndarray().tobytes() for f in frames)  # yuv420p: Y, then U, then V, unpadded
    assert len(got) == len(want) == drawn * 320 * 180 * 3 // 2
    assert got == want
    # 1 = BT.709 for matrix, primaries and transfer; range 1 = limited (tv)
    frame = frames[0]
    assert (frame.colorspace, frame.color_primaries, frame.color_trc, frame.color_range) == (1, 1, 1, 1)


@pytest.mark.media
def test_deterministic_pixels(tmp_path):
    hashes = []
    for name in ("a.mp4", "b.mp4"):
        _header, frames, _facts = decoded(render_motion_shot(COUNTDOWN, 320, 180, Fraction(30), tmp_path / name))
        hashes.append(hashlib.sha256(b"".join(f.tobytes() for f in frames)).hexdigest())
    assert hashes[0] == hashes[1]


@pytest.mark.media
def test_card_background_colour_is_kept(tmp_path):
    """Colours survive RGB → yuv420p with the BT.709 matrix the file is tagged with (BT.601 would shift them)."""
    shot = Shot("card", "intro", 0, 6, title="Halo", color="#c03020")
    expected = make_painter(shot, 320, 180, Fraction(30)).frame(5)[90, 10].astype(int)
    _header, frames, _facts = decoded(render_motion_shot(shot, 320, 180, Fraction(30), tmp_path / "c.mp4"))
    assert np.abs(frames[-1][90, 10].astype(int) - expected).max() <= 5


@pytest.mark.media
@pytest.mark.parametrize("shot", [CARD, COUNTDOWN, BARS], ids=["card", "countdown", "bars"])
def test_every_frame_of_the_file_is_the_painters_frame(tmp_path, shot, monkeypatch):
    """Only the frames that differ are drawn, piped and stored (the segments repeat the settled one).
    Each frame of the file must be the painter's frame of that index."""
    from moviepy.video.io.ffmpeg_writer import FFMPEG_VideoWriter

    painter = make_painter(shot, 320, 180, Fraction(30))
    assert 0 < painter.hold_from < shot.duration - 1  # some frames are held: the repeat is exercised
    piped = []
    write = FFMPEG_VideoWriter.write_frame
    monkeypatch.setattr(FFMPEG_VideoWriter, "write_frame", lambda self, frame: (piped.append(1), write(self, frame)))
    _header, frames, _facts = decoded(render_motion_shot(shot, 320, 180, Fraction(30), tmp_path / "m.mp4"))
    assert len(piped) == painter.hold_from + 1  # the held frame once
    assert len(frames) == painter.hold_from + 1
    for index, got in enumerate(frames):
        want = painter.frame(index).astype(int)
        error = np.abs(got.astype(int) - want).mean()
        assert error < 3, (index, error)
        if index + 1 < len(frames) and not np.array_equal(want, painter.frame(index + 1)):
            # a moving frame: closer to its own index than to the next one (no frame shifted or repeated early)
            assert error < np.abs(got.astype(int) - painter.frame(index + 1).astype(int)).mean(), index


def test_painter_frames_animate_then_hold():
    painter = make_painter(CARD, 320, 180, Fraction(30))
    first, settled = painter.frame(0), painter.frame(CARD.duration - 1)
    assert painter.hold_from < CARD.duration
    assert not np.array_equal(first, settled)
    assert not np.array_equal(painter.frame(5), painter.frame(6))  # still moving early on
    assert np.array_equal(painter.frame(painter.hold_from), settled)
    # text lands inside the title-safe area
    ink = np.nonzero((np.abs(settled.astype(int) - first.astype(int)).sum(axis=2) > 30))
    assert ink[0].min() >= 9 and ink[0].max() < 171 and ink[1].min() >= 16 and ink[1].max() < 304


def test_countdown_counts_to_the_last_value_and_says_the_change():
    painter = make_painter(COUNTDOWN, 640, 360, Fraction(30))
    assert painter.change is not None
    end = painter.frame(COUNTDOWN.duration - 1)
    assert not np.array_equal(painter.frame(3), end)
    light = Shot("chart", "s", 0, 30, color="#ffffff", chart=COUNTDOWN.chart)
    assert make_painter(light, 640, 360, Fraction(30)).ink != (255, 255, 255)  # dark text on light cards


def test_indonesian_number_format():
    assert format_number(1234) == "1.234"
    assert format_number(1234567.891, 2) == "1.234.567,89"
    assert format_number(12.5, 1) == "12,5"
    assert format_number(-0.0001, 1) == "0,0"
    assert paint.decimals_of((41, 27.5, 3.25)) == 2
    assert paint.decimals_of((41.0, 9)) == 0
    assert paint.with_unit("78", "%") == "78%" and paint.with_unit("9", "anak") == "9 anak"


def test_text_problems_are_found_without_rendering():
    with pytest.raises(TextFitError, match="U\\+4E2D"):
        painters.check_motion_shot(Shot("card", "s", 0, 30, title="中"), 1920, 1080)
    with pytest.raises(TextFitError):
        painters.check_motion_shot(Shot("card", "s", 0, 30, title="kata " * 200), 1920, 1080)
    with pytest.raises(TextFitError, match="unknown"):
        painters.check_motion_shot(Shot("chart", "s", 0, 30, chart=Chart("t", ("a",), (1.0,), style="pie")), 640, 360)
    painters.check_motion_shot(COUNTDOWN, 854, 480)


@settings(max_examples=40, derandomize=True, deadline=None)
@given(
    values=st.lists(st.floats(min_value=-50, max_value=2_000_000, allow_nan=False), min_size=1, max_size=12),
    style=st.sampled_from(["bars", "countdown"]),
    unit=st.sampled_from(["", "%", "anak", "kg/bulan"]),
)
def test_any_chart_data_draws_or_says_why(values, style, unit):
    labels = tuple(f"Bulan {i + 1}" for i in range(len(values)))
    shot = Shot("chart", "s", 0, 12, chart=Chart("Data (angka contoh)", labels, tuple(values), unit, style))
    try:
        painter = make_painter(shot, 320, 180, Fraction(30))
    except TextFitError as exc:
        assert "fit" in exc.message or "room" in exc.message
        return
    for index in (0, 5, 11):
        frame = painter.frame(index)
        assert frame.shape == (180, 320, 3) and frame.dtype == np.uint8

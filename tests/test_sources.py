"""`kbvideo sources`: a contact sheet per clip, with the picture of each moment, and the probe listing."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from PIL import Image

from conftest import run_ffmpeg
from kbvideo.cli import main
from kbvideo.review.sources import moments

COLOURS = {"red": (255, 0, 0), "blue": (0, 0, 255), "green": (0, 128, 0)}


def close(pixel, colour, tol=60) -> bool:
    return all(abs(int(a) - int(b)) <= tol for a, b in zip(pixel, colour))


@pytest.mark.media
def test_sheet_shows_the_frame_at_each_time(tmp_path):
    clips = tmp_path / "clips"
    clips.mkdir()
    # red for 1 s, then blue, then green; 25 fps, no sound; and a portrait copy (display matrix)
    run_ffmpeg("-f", "lavfi", "-i", "color=c=red:s=160x90:r=25:d=1[a];color=c=blue:s=160x90:r=25:d=1[b];"
               "color=c=green:s=160x90:r=25:d=1[c];[a][b][c]concat=n=3[out0]",
               "-c:v", "libx264", "-pix_fmt", "yuv420p", str(clips / "tiga.mp4"))
    run_ffmpeg("-display_rotation", "90", "-i", str(clips / "tiga.mp4"), "-c", "copy", str(clips / "tegak.mp4"))
    (clips / "catatan.txt").write_text("not media")
    out = tmp_path / "sheets"
    result = CliRunner().invoke(main, ["sources", str(clips), "--every", "1", "-o", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "tiga.mp4" in result.output and "video 160x90, 25 fps" in result.output and "no sound" in result.output
    assert "video 90x160 (stored 160x90, turned 270° clockwise to show)" in result.output
    assert "catatan" not in result.output
    listing = (out / "tiga.mp4.txt").read_text(encoding="utf-8")
    assert "duration 0:03.00" in listing
    with Image.open(out / "tiga.mp4.sheet.jpg") as image:
        rgb = image.convert("RGB")
        # tiles are 256 wide (144 high for 16:9), 12 px apart, below a 64 px heading
        centres = [(12 + k * 268 + 128, 64 + 72) for k in range(4)]
        pixels = [rgb.getpixel(c) for c in centres]
    assert close(pixels[0], COLOURS["red"]) and close(pixels[1], COLOURS["blue"]) and close(pixels[2], COLOURS["green"])
    assert close(pixels[3], (246, 247, 246), 8)  # only three moments: 0, 1 and 2 s
    with Image.open(out / "tegak.mp4.sheet.jpg") as image:
        assert image.size[1] > 64 + 256 * 16 // 9  # portrait tiles are upright: taller than wide


def test_moments():
    assert moments(3.0, 1) == [0, 1, 2]
    assert moments(3.01, 1) == [0, 1, 2, 3]
    assert moments(0.5, 2) == [0]


def test_missing_or_broken_file_is_reported(tmp_path):
    bad = tmp_path / "rusak.mp4"
    bad.write_bytes(b"\x00" * 1000)
    result = CliRunner().invoke(main, ["sources", str(bad), "-o", str(tmp_path / "o")])
    assert result.exit_code == 2 and "rusak.mp4" in result.output
    assert "Traceback" not in result.output

"""Colours of untagged footage: phone and editor exports often carry no YUV matrix. kbvideo assumes
BT.709 for HD and BT.601 below 720 lines (as players do) and tags the master BT.709, so an HD clip's
YUV values reach the master unchanged and an SD clip's are converted once, by the right matrix.
Without the assumption ffmpeg's filters treated the matrix as unknown and converted every frame
through RGB as if it were BT.601 when it met a caption: a colour shift, and most of a draft's
filtering time."""

from __future__ import annotations

import av
import numpy as np
import pytest

from kbvideo.media.probe import probe
from kbvideo.render.sources import assumed_colors
from kbvideo.timeline.model import TextItem
from test_render import build, clip, render

pytestmark = pytest.mark.media

# a saturated orange whose U/V differ a lot between the BT.601 and BT.709 readings
ORANGE = "0xE06010"


def yuv_centre(path, row: int) -> tuple[float, float, float]:
    """Mean Y, U, V of a block left of the centre at `row` (fraction of the height), middle frame."""
    with av.open(str(path)) as container:
        frames = list(container.decode(video=0))
    frame = frames[len(frames) // 2]
    planes = [np.frombuffer(p, np.uint8).reshape(-1, p.line_size) for p in frame.planes]
    h, w = frame.height, frame.width
    y0, x0 = int(h * row), w // 4
    y = planes[0][y0:y0 + 8, x0:x0 + 8].mean()
    u = planes[1][y0 // 2:y0 // 2 + 4, x0 // 2:x0 // 2 + 4].mean()
    v = planes[2][y0 // 2:y0 // 2 + 4, x0 // 2:x0 // 2 + 4].mean()
    return y, u, v


def master_tags(path) -> tuple[str | None, str | None]:
    info = probe(str(path))
    video = info.main_video
    return video.color_space, video.color_range


@pytest.mark.parametrize("draft", [False, True])
def test_untagged_hd_clip_keeps_its_yuv_values_under_a_caption(media, tmp_path, draft):
    source = media.clip("orange-hd.mp4", color=ORANGE, size="1280x720", seconds=1.0, audio=False)
    info = probe(str(source)).main_video
    assert info.color_space is None and info.color_range is None  # the fixture is untagged, as phones' exports can be
    assert assumed_colors(info) == "colorspace=bt709:range=tv"
    texts = (TextItem("caption", "a", 0, 30, "Kader memasak menu bergizi"),)
    timeline = build([("a", [clip(source, 30)])], size=(1280, 720), texts=texts)
    result = render(timeline, tmp_path, name="out.draft.mp4" if draft else "out.mp4", draft=draft)
    before = yuv_centre(source, 0.3)
    after = yuv_centre(result.path, 0.3)
    # same matrix in and out: values kept (a BT.601 → BT.709 reading moves U and V by 5–10 codes here)
    assert all(abs(a - b) <= 2.5 for a, b in zip(before, after)), (before, after)
    assert master_tags(result.path) == ("bt709", "tv")


def test_untagged_sd_clip_is_read_as_bt601_and_converted_to_bt709(media, tmp_path):
    source = media.clip("orange-sd.mp4", color=ORANGE, size="640x480", seconds=1.0, audio=False)
    assert assumed_colors(probe(str(source)).main_video) == "colorspace=smpte170m:range=tv"
    timeline = build([("a", [clip(source, 30, fit="cover")])], size=(1280, 720))
    result = render(timeline, tmp_path)
    y, u, v = yuv_centre(source, 0.3)
    # the expected BT.709 values of the same colour: decode the source's YUV as BT.601 to RGB, encode as BT.709
    yf, uf, vf = (y - 16) / 219, (u - 128) / 224, (v - 128) / 224
    r, g, b = yf + 1.402 * vf, yf - 0.344136 * uf - 0.714136 * vf, yf + 1.772 * uf
    y709 = 0.2126 * r + 0.7152 * g + 0.0722 * b
    expected = (16 + 219 * y709, 128 + 224 * (b - y709) / 1.8556, 128 + 224 * (r - y709) / 1.5748)
    got = yuv_centre(result.path, 0.3)
    assert all(abs(a - e) <= 3 for a, e in zip(got, expected)), (got, expected)


def rgb_of(yuv, matrix: str) -> np.ndarray:
    """RGB (0-255) of limited-range Y'CbCr values read with `matrix` ("709" or "601")."""
    y, u, v = (yuv[0] - 16) * 255 / 219, (yuv[1] - 128) * 255 / 224, (yuv[2] - 128) * 255 / 224
    kr, kb = (0.2126, 0.0722) if matrix == "709" else (0.299, 0.114)
    kg = 1 - kr - kb
    r = y + 2 * (1 - kr) * v
    b = y + 2 * (1 - kb) * u
    g = (y - kr * r - kb * b) / kg
    return np.array([r, g, b])


def test_review_pictures_of_untagged_hd_read_it_as_the_render_does(media, tmp_path):
    """The review page's thumbnails and `sources` contact sheets show an untagged HD clip with the
    colours the render gives it (BT.709), not swscale's default BT.601 reading."""
    from kbvideo.media.probe import probe as probe_file
    from kbvideo.review.sources import sample_frames
    from kbvideo.render.graph import read_colors
    from kbvideo.review.thumbs import clip_frame

    source = media.clip("orange-hd.mp4", color=ORANGE, size="1280x720", seconds=1.0, audio=False)
    info = probe_file(str(source))
    yuv = yuv_centre(source, 0.3)
    want, wrong = rgb_of(yuv, "709"), rgb_of(yuv, "601")
    assert np.abs(want - wrong).max() > 12  # the two readings differ enough to tell apart
    colors = read_colors(assumed_colors(info.main_video), info.main_video.hdr)
    thumb = np.asarray(clip_frame(str(source), 0.5, (320, 180), colors=colors), float)
    _times, tiles = sample_frames(info, 1.0)
    for picture in (thumb, np.asarray(tiles[0], float)):
        h, w = picture.shape[:2]
        got = picture[h // 3, w // 4]
        assert np.abs(got - want).max() <= 4, (got, want, wrong)

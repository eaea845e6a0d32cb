"""Text overlays drawn with Pillow: placement in the title-safe area, exact text, wrapping, glyph checks."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from PIL import Image, ImageDraw

from kbvideo.errors import KbError, Loc, SpecError
from kbvideo.render import graphics as g
from kbvideo.render.graphics import (
    TextFitError,
    missing_glyphs,
    render_draft_mark,
    render_text_overlay,
    wrap_lines,
)
from kbvideo.timeline.model import Chart, SceneSpan, Shot, TextItem, Timeline

TRICKY = "a:b 'c' 50% \\ \"q\" {x}"
SIZES = [(1920, 1080), (854, 480)]


def caption(text: str, **kw) -> TextItem:
    return TextItem("caption", "intro", 0, 30, text, **kw)


def load(overlay) -> Image.Image:
    image = Image.open(overlay.path)
    image.load()
    return image


def inside_title_safe(overlay, width: int, height: int) -> bool:
    left, top = width * 0.05, height * 0.05
    return (overlay.x >= left and overlay.y >= top and overlay.x + overlay.width <= width - left
            and overlay.y + overlay.height <= height - top)


def over_black(image: Image.Image) -> np.ndarray:
    """The overlay composited on opaque black, as grey levels."""
    black = Image.new("RGBA", image.size, (0, 0, 0, 255))
    return np.asarray(Image.alpha_composite(black, image).convert("L"), dtype=np.int16)


@pytest.mark.parametrize("width,height", SIZES)
@pytest.mark.parametrize("item", [
    caption("Ibu-ibu kader memasak bersama di Dapur Sehat Atasi Stunting"),
    TextItem("title", "intro", 0, 30, "Dapur Sehat Atasi Stunting"),
    TextItem("lower_third", "intro", 0, 30, "Muhammad Fathoni", "Lurah Jenggot, Kota Pekalongan"),
], ids=["caption", "title", "lower_third"])
def test_overlay_is_an_even_rgba_png_inside_title_safe(tmp_path, item, width, height):
    overlay = render_text_overlay(item, width, height, tmp_path)
    image = load(overlay)
    assert image.mode == "RGBA"
    assert image.size == (overlay.width, overlay.height)
    assert all(v % 2 == 0 for v in (overlay.x, overlay.y, overlay.width, overlay.height))
    assert inside_title_safe(overlay, width, height)
    alpha = np.asarray(image)[..., 3]
    assert alpha.max() == 255 and alpha.min() < 255  # opaque text and a translucent box


def test_positions_caption_bottom_centre_title_top_lower_third_left(tmp_path):
    cap = render_text_overlay(caption("Kebun Pikatu"), 1920, 1080, tmp_path)
    title = render_text_overlay(TextItem("title", "s", 0, 9, "Kebun Pikatu"), 1920, 1080, tmp_path)
    lower = render_text_overlay(TextItem("lower_third", "s", 0, 9, "Bu Sari", "Kader"), 1920, 1080, tmp_path)
    assert abs((cap.x + cap.width / 2) - 960) <= 2 and cap.y + cap.height == 1026  # bottom of title-safe
    assert abs((title.x + title.width / 2) - 960) <= 2 and title.y == 54
    assert lower.x == 96 and lower.y > 540 and lower.y + lower.height < cap.y  # above the caption zone


def test_caption_box_is_translucent_dark_and_text_is_white(tmp_path):
    overlay = render_text_overlay(caption("HHHH"), 1920, 1080, tmp_path)
    pixels = np.asarray(load(overlay))
    corner = pixels[2, 2]
    assert tuple(corner[:3]) == (0, 0, 0) and 100 < corner[3] < 255
    opaque = pixels[pixels[..., 3] == 255]
    assert len(opaque) > 200 and (opaque[:, :3] == 255).all()


def test_tricky_text_is_drawn_exactly_as_written(tmp_path):
    """Composited on black, the overlay's text equals the same string drawn directly with the font."""
    overlay = render_text_overlay(caption(TRICKY), 1920, 1080, tmp_path)
    got = over_black(load(overlay))
    got = got - np.median(got)  # remove the box's grey
    font = g.load_font(g.scaled(g.CAPTION_SIZE, 1080))
    ref_img = Image.new("L", (1800, 200), 0)
    ImageDraw.Draw(ref_img).text((20, 150), TRICKY, font=font, fill=255, anchor="ls")
    ref = np.asarray(ref_img, dtype=np.int16)
    ys, xs = np.nonzero(ref > 40)
    ref_crop = ref[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    ys, xs = np.nonzero(got > 40)
    got_crop = got[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    assert got_crop.shape == ref_crop.shape
    # the box is ~35 % see-through: text ink adds (255 - box) * coverage over it
    scale = (255 - np.median(over_black(load(overlay)))) / 255
    assert np.abs(got_crop - ref_crop * scale).max() <= 3


def test_descenders_are_not_clipped(tmp_path):
    """The lowest ink row of 'gjpqy' is above the box's bottom padding."""
    overlay = render_text_overlay(caption("gjpqy"), 1920, 1080, tmp_path)
    alpha = np.asarray(load(overlay))[..., 3]
    ink_rows = np.nonzero((alpha == 255).any(axis=1))[0]
    assert ink_rows.max() < overlay.height - 4
    # and the descender really goes below the baseline of letters without one
    plain = render_text_overlay(caption("aceo"), 1920, 1080, tmp_path)
    plain_rows = np.nonzero((np.asarray(load(plain))[..., 3] == 255).any(axis=1))[0]
    assert overlay.height == plain.height  # same line box
    assert ink_rows.max() > plain_rows.max() + 5


def test_newlines_make_lines_and_long_text_wraps_to_two_balanced_lines():
    font = g.load_font(44)
    assert wrap_lines("satu\ndua", font, 1000) == ["satu", "dua"]
    text = "Ibu-ibu kader memasak bersama di Dapur Sehat Atasi Stunting setiap hari Jumat pagi"
    lines = wrap_lines(text, font, 1200)
    assert len(lines) == 2 and " ".join(lines) == text
    widths = [g.text_width(line, font) for line in lines]
    assert max(widths) <= 1200 and abs(widths[0] - widths[1]) < 250
    assert wrap_lines("a  b", font, 1000) == ["a  b"]  # inner spaces kept


def test_wrap_raises_when_it_cannot_fit():
    font = g.load_font(44)
    with pytest.raises(TextFitError) as info:
        wrap_lines("kata " * 80, font, 800)
    assert isinstance(info.value, KbError) and isinstance(info.value, ValueError)
    with pytest.raises(TextFitError, match="wider than a line"):
        wrap_lines("Supercalifragilisticexpialidocious", font, 200)
    with pytest.raises(TextFitError):
        wrap_lines("satu\ndua\ntiga", font, 1000)


def test_overlay_too_long_is_an_error_naming_where(tmp_path):
    item = caption("kata " * 120, where=Loc("sb.yaml", 12, 7))
    with pytest.raises(TextFitError, match=r"sb\.yaml:12:7: scene 'intro': caption"):
        render_text_overlay(item, 1920, 1080, tmp_path)


def test_missing_glyphs_found_from_the_cmap():
    assert missing_glyphs("é ü — “ ” ’ gjpqy 50% Rp1.000\n") == set()
    assert missing_glyphs("Dapur 中 🎉 ok") == {"中", "🎉"}
    assert missing_glyphs("👍", bold=True) == {"👍"}
    # agrees with Pillow: a missing character draws the same box as .notdef
    font = g.load_font(40)
    notdef = font.getmask("\uffff").getbbox()
    assert font.getmask("中").getbbox() == notdef != font.getmask("é").getbbox()


def test_overlay_with_missing_glyph_is_refused(tmp_path):
    with pytest.raises(TextFitError, match=r"U\+4E2D"):
        render_text_overlay(caption("Dapur 中"), 1920, 1080, tmp_path)
    assert not list(tmp_path.iterdir())


def test_draft_mark(tmp_path):
    for width, height in SIZES:
        mark = render_draft_mark(width, height, tmp_path)
        image = load(mark)
        assert image.size == (mark.width, mark.height) and inside_title_safe(mark, width, height)
        assert all(v % 2 == 0 for v in (mark.x, mark.y, mark.width, mark.height))
        pixels = np.asarray(image)
        assert (pixels[..., 3] == 255).sum() > 50  # white letters
        assert pixels[1, 1, 0] > 150 and pixels[1, 1, 1] < 80  # red badge
        assert mark.x > width / 2 and mark.y < height / 4  # top right


def test_same_item_same_file_and_pixels(tmp_path):
    a = render_text_overlay(caption("Sama"), 854, 480, tmp_path / "a")
    b = render_text_overlay(caption("Sama"), 854, 480, tmp_path / "b")
    assert a.path.name == b.path.name and a.path.read_bytes() == b.path.read_bytes()
    assert oct(a.path.stat().st_mode & 0o777) == "0o644"


def test_check_texts_lists_every_problem_with_its_location():
    timeline = Timeline(
        fps=Fraction(30), width=1920, height=1080, duration=300,
        scenes=(SceneSpan("intro", "opening", (), 0, 300),),
        shots=(Shot("chart", "intro", 0, 90, chart=Chart("Panen 🎉", ("Sayur",), (3.0,)), where=Loc("sb.yaml", 20, 9)),),
        texts=(caption("ok"), caption("中文", where=Loc("sb.yaml", 5, 3)),
               caption("kata " * 120, where=Loc("sb.yaml", 6, 3))),
        audio=(), transitions=(),
    )
    problems = g.check_texts(timeline, SIZES)
    where = sorted((p.path, p.line, p.col) for p in problems)
    assert where == [("sb.yaml", 5, 3), ("sb.yaml", 6, 3), ("sb.yaml", 20, 9)]
    assert any("U+1F389" in p.message for p in problems)
    assert "sb.yaml:5:3" in SpecError(problems).format()


def test_overlays_drawn_in_parallel_threads_match_serial(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    texts = [f"Kader {i}: gjpqy 50%" for i in range(8)]
    serial = [render_text_overlay(caption(t), 854, 480, tmp_path / "s").path.read_bytes() for t in texts]
    with ThreadPoolExecutor(4) as pool:
        parallel = list(pool.map(lambda t: render_text_overlay(caption(t), 854, 480, tmp_path / "p").path.read_bytes(),
                                 texts))
    assert parallel == serial

"""kbvideo.layout: one text layout for validate, the picture and the sidecars (pure, no media)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from kbvideo.errors import Loc
from kbvideo.layout.screen import (
    Box,
    Element,
    caption_layout,
    content_area,
    overlaps,
    resolve_collisions,
    safe_area,
)
from kbvideo.layout.text import CaptionLinesError, caption_lines, load_font, text_width, title_lines
from kbvideo.pipeline import plan_storyboard
from kbvideo.render.engine import layout_elements
from kbvideo.render.charts import CountdownPainter
from kbvideo.render.paint import _background
from kbvideo.render.painters import make_painter
from kbvideo.render.sidecars import srt_text, vtt_text
from kbvideo.rules.contest import check_timeline
from kbvideo.rules.profile import load_profile
from kbvideo.timeline.model import Chart, SceneSpan, Shot, TextItem, Timeline


@pytest.fixture(scope="module")
def jenggot() -> Timeline:
    return plan_storyboard("storyboards/jenggot.yaml").timeline


def timeline(texts=(), shots=(), frames=600) -> Timeline:
    shots = shots or (Shot("clip", "s", 0, frames, "/x.mp4"),)
    return Timeline(Fraction(30), 1920, 1080, frames, (SceneSpan("s", "other", (), 0, frames, "sb.yaml:3:3"),),
                    tuple(shots), tuple(texts), (), ())


# ------------------------------------------------------------------------------ caption lines

def test_caption_lines_are_balanced_not_greedy():
    text = "Kader memasak menu bergizi dari bahan pangan lokal"  # 50 characters
    lines = caption_lines(text, 42, 2)
    assert lines == ["Kader memasak menu bergizi", "dari bahan pangan lokal"]
    greedy_first = "Kader memasak menu bergizi dari bahan"  # what a greedy wrap at 42 would put first
    assert lines[0] != greedy_first and abs(len(lines[0]) - len(lines[1])) <= 4


def test_every_sample_caption_fits_two_lines_of_42(jenggot):
    captions = [t for t in jenggot.texts if t.kind == "caption"]
    assert len(captions) >= 27
    for item in captions:
        lines = caption_lines(item.text)
        assert 1 <= len(lines) <= 2 and all(len(line) <= 42 for line in lines), lines
        assert " ".join(lines) == " ".join(item.text.split())  # nothing lost or added


def test_caption_over_two_lines_is_an_error_at_its_line_with_a_split():
    long = TextItem("caption", "s", 0, 150, "Kader Posyandu menimbang balita setiap bulan, lalu mencatat hasilnya "
                                            "di buku KIA agar tumbuh kembang anak terpantau", where=Loc("sb.yaml", 12, 9))
    with pytest.raises(CaptionLinesError) as info:
        caption_lines(long.text)
    first, second = info.value.suggestion
    assert first.endswith("setiap bulan,") and second.startswith("lalu mencatat")
    found = [f for f in check_timeline(timeline([long]), load_profile()) if f.rule == "captions.lines"]
    assert len(found) == 1 and found[0].severity == "error" and found[0].where == "sb.yaml:12:9"
    assert 'split it into two captions: "Kader Posyandu' in found[0].values["hint"]


def test_sidecars_carry_the_lines_drawn_in_the_picture(jenggot):
    captions = sorted((t for t in jenggot.texts if t.kind == "caption"), key=lambda t: t.start)
    drawn = [list(caption_layout(t.text, 1920, 1080).lines) for t in captions]
    for text in (srt_text(jenggot), vtt_text(jenggot).split("\n\n", 1)[1]):
        cues = [block.split("\n")[2:] for block in text.strip().split("\n\n")]
        assert cues == drawn
        assert max(len(line) for cue in cues for line in cue) <= 42


def test_title_card_breaks_at_separators_not_inside_a_name():
    font = load_font(46)
    text = "Kelurahan Jenggot · Kecamatan Pekalongan Selatan · Kota Pekalongan"
    lines = title_lines(text, font, 1400)
    assert len(lines) == 2 and all(text_width(line, font) <= 1400 for line in lines)
    assert any("Kecamatan Pekalongan Selatan" in line for line in lines)
    assert not any(line.endswith("·") or line.startswith("·") for line in lines)


# -------------------------------------------------------------------------------- collisions

def test_lower_third_waits_for_the_scene_title_and_validate_says_so():
    title = TextItem("title", "s", 15, 120, "Dashat", where=Loc("sb.yaml", 5, 5))
    lower = TextItem("lower_third", "s", 60, 150, "Kader Dashat", "PKK Jenggot", where=Loc("sb.yaml", 9, 9))
    resolved, notes = resolve_collisions(timeline([title, lower]))
    moved = next(t for t in resolved.texts if t.kind == "lower_third")
    assert moved.start == 135 + 6 and moved.duration == 150
    assert [(n.severity, str(n.where), str(n.other)) for n in notes] == [("info", "sb.yaml:9:9", "sb.yaml:5:5")]
    found = [f for f in check_timeline(timeline([title, lower]), load_profile()) if f.rule == "layout.collision"]
    assert found[0].severity == "info" and "waits 2.7 s" in found[0].message


def test_collision_that_cannot_wait_is_an_error_naming_both_places():
    title = TextItem("title", "s", 0, 300, "Dashat", where=Loc("sb.yaml", 5, 5))
    lower = TextItem("lower_third", "s", 100, 400, "Kader Dashat", where=Loc("sb.yaml", 9, 9))
    found = [f for f in check_timeline(timeline([title, lower]), load_profile()) if f.rule == "layout.collision"]
    assert len(found) == 1 and found[0].severity == "error"
    assert found[0].where == "sb.yaml:9:9" and "sb.yaml:5:5" in found[0].message


def test_titles_wait_for_charts_and_captions_keep_clear_of_chart_data():
    chart = Shot("chart", "s", 0, 240, chart=Chart("Balita stunting", ("2022", "2023"), (41.0, 27.0), "anak",
                                                    "countdown"), where=Loc("sb.yaml", 20, 9))
    rest = Shot("clip", "s", 240, 360, "/x.mp4")
    title = TextItem("title", "s", 15, 120, "Dashat", where=Loc("sb.yaml", 5, 5))
    caption = TextItem("caption", "s", 30, 150, "Kasus stunting terus menurun berkat kerja bersama")
    resolved, notes = resolve_collisions(timeline([title, caption], (chart, rest)))
    assert next(t for t in resolved.texts if t.kind == "title").start == 246
    assert notes[0].other == Loc("sb.yaml", 20, 9)
    elements = layout_elements(resolved)
    assert overlaps(elements) == []
    data = next(e for e in elements if e.kind == "chart_data")
    cap = next(e for e in elements if e.kind == "caption")
    assert data.box.bottom <= cap.box.y and data.box.bottom <= content_area(1920, 1080).bottom


@pytest.mark.parametrize("draft", [False, True])
def test_sample_layout_has_no_overlaps_and_stays_in_title_safe(jenggot, draft):
    resolved, notes = resolve_collisions(jenggot)
    assert all(n.severity == "info" for n in notes)
    elements = layout_elements(resolved, draft=draft)
    assert overlaps(elements) == []
    safe = safe_area(1920, 1080)
    for e in elements:
        assert safe.x <= e.box.x and e.box.right <= safe.right and safe.y <= e.box.y and e.box.bottom <= safe.bottom, e
    kinds = {e.kind for e in elements}
    assert {"caption", "title", "lower_third", "card_title", "chart_title", "chart_data", "chart_labels"} <= kinds
    # the original storyboard asks for title and lower third at once (0:22): resolved, they never share frames
    titles = [e for e in elements if e.kind == "title"]
    lowers = [e for e in elements if e.kind == "lower_third"]
    assert not any(a.start < b.end and b.start < a.end for a in titles for b in lowers)


def test_overlaps_finds_boxes_sharing_frames_only():
    a = Element("caption", "caption", 0, 10, Box(0, 0, 10, 10))
    b = Element("title", "top", 5, 15, Box(5, 5, 10, 10))
    c = Element("title", "top", 10, 20, Box(0, 0, 10, 10))
    assert overlaps([a, b, c]) == [(a, b), (b, c)]


# ---------------------------------------------------------------------------- charts, cards

def test_countdown_column_and_figures_agree_on_every_frame():
    shot = Shot("chart", "s", 0, 240, chart=Chart("t", ("2022", "2023", "2024", "2025"), (41.0, 27.0, 15.0, 9.0),
                                                   "anak", "countdown"))
    painter = make_painter(shot, 1920, 1080, Fraction(30))
    assert isinstance(painter, CountdownPainter)
    seen_mid = False
    for index in range(shot.duration):
        columns, big, current = painter.readings(index)
        if current < 0:
            continue
        height, figure = columns[current]
        assert figure == big  # the column's own figure is the big figure
        value = float(big.replace(".", "").replace(",", "."))
        unit = painter.plot_h / painter.top  # pixels per unit of the data
        assert abs(height - value * unit) <= unit / 2 + 1  # the column stands at the figure shown (rounded)
        seen_mid |= current == 1 and big not in ("41", "27")
    assert seen_mid  # a frame in the middle of the 2023 animation was checked


def test_card_and_chart_gradients_are_dithered():
    height = 1080
    image = np.asarray(_background((11, 93, 59), 512, height), dtype=np.float64)
    exact = np.array([11, 93, 59])[None, :] * np.linspace(1.12, 0.78, height)[:, None]
    row_means = image.mean(axis=1)
    assert np.abs(row_means - exact).max() < 0.2  # rounding alone errs by up to 0.5 in 30-60 line bands
    green = image[:, :, 1]
    assert len(np.unique(green[500])) >= 2  # a single row holds more than one level


def test_painter_elements_do_not_overlap_each_other():
    for style in ("bars", "countdown"):
        shot = Shot("chart", "s", 0, 120, chart=Chart("Hasil panen per bulan (angka contoh)", ("Sayur", "Buah", "Lele"),
                                                       (120.0, 45.0, 80.0), "kg", style))
        boxes = [box for _kind, box in make_painter(shot, 854, 480, Fraction(30)).elements()]
        assert len(boxes) >= 3
        assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:]), style

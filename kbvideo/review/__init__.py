"""Looking at a storyboard before and after rendering: the review page, contact sheets, source sheets.

    write_review(plan, out_dir, draft=..., sheet=True) -> ReviewFiles
    write_source_sheets(paths, out_dir, every=...)     (kbvideo.review.sources)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kbvideo.fsutil import write_atomic
from kbvideo.i18n import _
from kbvideo.render.graph import read_video_colors
from kbvideo.review.model import Review, build_review
from kbvideo.review.page import TOPIC_COLOURS, data_uri, render_page, shot_label
from kbvideo.review.sheet import SceneBand, Tile, programme_sheet, save_small_jpeg
from kbvideo.review.thumbs import jpeg_bytes, shot_thumbnails
from kbvideo.timecode import format_seconds

PAGE_THUMB = (224, 126)
SHEET_THUMB = 240


@dataclass(slots=True)
class ReviewFiles:
    page: Path
    sheet: Path | None
    sheet_bytes: int
    review: Review


def _box(timeline, width: int) -> tuple[int, int]:
    return width, max(2, round(width * timeline.height / timeline.width))


def write_review(plan, out_dir: Path, *, draft: Path | None = None, sheet: bool = False,
                 cache: Path | None = None, name: str | None = None) -> ReviewFiles:
    """`<name>.review.html` (and `<name>.sheet.jpg`) in `out_dir`; every file appears complete or not at all."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    name = name or plan.storyboard_path.stem
    review = build_review(plan, draft)
    timeline = review.timeline
    shots = [shot for scene in review.scenes for shot in scene.shots]
    colors = {path: read_video_colors(info.main_video)
              for path, info in plan.media.items() if info.main_video is not None}
    box = _box(timeline, PAGE_THUMB[0] * 2)  # drawn at twice the shown size: sharp on phones
    images = shot_thumbnails(shots, box, timeline.fps, colors_of=lambda p: colors.get(p, ""), cache=cache)
    thumbs = {id(shot): data_uri(jpeg_bytes(image, 72)) for shot, image in zip(shots, images)}
    page = out_dir / f"{name}.review.html"
    write_atomic(page, render_page(review, thumbs, out_dir))
    sheet_path, size = None, 0
    if sheet:
        small = _box(timeline, SHEET_THUMB)
        by_shot = {id(shot): image.resize(small) for shot, image in zip(shots, images)}
        bands = []
        for scene in review.scenes:
            s = scene.span
            colour = TOPIC_COLOURS.get(s.topic, "#7a7a7a").lstrip("#")
            tiles = [Tile(by_shot[id(shot)], f"{_clock(review, shot.start)} · {review.seconds(shot.duration):.1f} s · "
                                             f"{shot_label(shot)}") for shot in scene.shots]
            bands.append(SceneBand(f"{scene.index}. {s.id}",
                                   f"{s.topic}  ·  {_clock(review, s.start)}–{_clock(review, s.end)}  ·  "
                                   f"{review.seconds(s.duration):.1f} s",
                                   tuple(int(colour[i:i + 2], 16) for i in (0, 2, 4)), tiles))
        subtitle = f"{review.place}  ·  {review.length_text}  ·  " + _("{count} scenes, {shots} shots").format(
            count=len(review.scenes), shots=len(shots))
        image = programme_sheet(review.title, subtitle, bands)
        sheet_path = out_dir / f"{name}.sheet.jpg"
        size = save_small_jpeg(image, sheet_path)
    return ReviewFiles(page, sheet_path, size, review)


def _clock(review: Review, frames: int) -> str:
    return format_seconds(review.seconds(frames), 1)



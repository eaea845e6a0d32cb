"""Contact sheets of source clips, to choose a storyboard's `in:` / `out:` without a video player.

Per clip: one decoding pass (ffmpeg; rotation applied, HLG/PQ tone-mapped, pixels squared) gives
a picture every N seconds, laid out with its time under it, in pages of at most 48; and a text
listing of the probe: size as shown, rotation, frame rate (and whether it varies), duration, sound.
"""

from __future__ import annotations

import math
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from kbvideo.errors import MediaError
from kbvideo.fsutil import write_atomic
from kbvideo.i18n import _
from kbvideo.media.ffmpeg_bin import ffmpeg_exe
from kbvideo.media.probe import MediaInfo, probe_all
from kbvideo.render.graph import read_video_colors
from kbvideo.review.sheet import Tile, grid_sheet, save_small_jpeg
from kbvideo.timecode import format_fps, format_seconds

TILE_WIDTH = 256
PER_PAGE = 48
MEDIA_SUFFIXES = frozenset({".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".3gp", ".mts", ".m2ts", ".ts",
                            ".mpg", ".mpeg", ".wmv", ".flv", ".jpg", ".jpeg", ".png", ".webp", ".heic", ".bmp",
                            ".tif", ".tiff", ".mp3", ".m4a", ".aac", ".wav", ".ogg", ".opus", ".flac"})


@dataclass(slots=True)
class SourceSheet:
    path: Path
    info: MediaInfo | None
    listing: str
    sheets: list[Path] = field(default_factory=list)
    text_file: Path | None = None
    moments: list[float] = field(default_factory=list)  # seconds shown, in order
    error: MediaError | None = None


def find_media(paths: list[Path]) -> list[Path]:
    """Files as given; folders scanned recursively for media files, sorted."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out += sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in MEDIA_SUFFIXES)
        else:
            out.append(path)
    return list(dict.fromkeys(out))


def describe(info: MediaInfo) -> str:
    """The probe in a few lines a media team can read."""
    name = Path(info.path).name
    megabytes = info.size_bytes / 1e6
    lines = [f"{name}  ({megabytes:.1f} MB)"]
    video = info.main_video
    if info.kind == "image":
        orientation = (_(", EXIF orientation {n}").format(n=info.exif_orientation)
                       if info.exif_orientation not in (None, 1) else "")
        lines.append("  " + _("picture {w}x{h}{orientation}").format(w=info.image_width, h=info.image_height,
                                                                     orientation=orientation))
    if video is not None:
        shown = f"{video.display_width}x{video.display_height}"
        coded = _(" (stored {w}x{h}, turned {degrees}° clockwise to show)").format(
            w=video.width, h=video.height, degrees=video.rotation) if video.rotation else ""
        sar = _(", pixel aspect {sar}").format(sar=f"{video.sar.numerator}:{video.sar.denominator}") if video.sar else ""
        rate = (format_fps(video.fps) if video.fps else "?") + (" " + _("variable frame rate") if video.vfr else "")
        hdr = ", HDR " + (video.color_transfer or "") if video.hdr else ""
        lines.append("  " + _("video {size}{coded}{sar}, {rate} fps, {codec} {pix_fmt}{hdr}").format(
            size=shown, coded=coded, sar=sar, rate=rate, codec=video.codec, pix_fmt=video.pix_fmt or "", hdr=hdr))
        if video.field_order not in (None, "progressive", "unknown"):
            lines.append("  " + _("interlaced ({order})").format(order=video.field_order))
    if info.duration:
        lines.append("  " + _("duration {time} ({seconds} s)").format(time=format_seconds(info.duration, 2),
                                                                      seconds=f"{info.duration:.3f}"))
    if info.audio:
        a = info.audio[0]
        lines.append("  " + _("sound {codec}, {rate} Hz, {channels} channel(s)").format(
            codec=a.codec, rate=a.sample_rate, channels=a.channels))
    elif info.kind != "image":
        lines.append("  " + _("no sound"))
    return "\n".join(lines)


def moments(duration: float, every: float) -> list[float]:
    """0, N, 2N, ... before the end."""
    count = max(1, math.ceil(duration / every - 1e-9))
    return [round(i * every, 6) for i in range(count)]


def sample_frames(info: MediaInfo, every: float, width: int = TILE_WIDTH) -> tuple[list[float], list[Image.Image]]:
    """A frame every `every` seconds in one decoding pass; (times, pictures)."""
    video = info.main_video
    dw, dh = info.display_size or (16, 9)
    height = max(2, round(width * dh / dw / 2) * 2)
    duration = video.duration or info.duration or 0.0
    times = moments(duration, every)
    chain = read_video_colors(video) + (  # as the render reads it
        # the first frame at or after each multiple of `every` (the fps filter would take the frame half a step later)
        f"select='isnan(prev_selected_t)+gte(floor(t/{every}+1e-6)-floor(prev_selected_t/{every}+1e-6)\\,1)',"
        f"scale={width}:{height}:flags=bicubic,setsar=1,format=rgb24")
    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-i", info.path,
                           "-map", "0:v:0", "-vf", chain, "-fps_mode", "passthrough", "-frames:v", str(len(times)),
                           "-f", "rawvideo", "-"],
                          capture_output=True)
    size = width * height * 3
    count = len(proc.stdout) // size
    if count == 0:
        reason = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no frame decoded"]
        raise MediaError(info.path, _("cannot take pictures from it: {reason}").format(reason=reason[0]),
                         _("re-export the clip from the phone's gallery"))
    frames = np.frombuffer(proc.stdout[:count * size], np.uint8).reshape(count, height, width, 3)
    return times[:count], [Image.fromarray(f) for f in frames]


def write_source_sheets(paths: list[Path], out_dir: Path, *, every: float = 2.0, probe_cache=None) -> list[SourceSheet]:
    """For each media file: `<name>.txt` (the probe) and, for a video, `<name>.sheet.jpg` (or -2, -3 ... pages)."""
    files = find_media(paths)
    out_dir.mkdir(parents=True, exist_ok=True)
    errors: dict = {}
    infos = probe_all([str(p) for p in files], cache=probe_cache, errors=errors)
    results = []
    for path in files:
        if str(path) in errors:
            results.append(SourceSheet(path, None, f"{path.name}\n  {errors[str(path)].message}", error=errors[str(path)]))
            continue
        info = infos[str(path)]
        sheet = SourceSheet(path, info, describe(info))
        if info.main_video is not None and info.kind == "video":
            try:
                times, images = sample_frames(info, every)
            except MediaError as exc:
                sheet.error = exc
                sheet.listing += "\n  " + exc.message
                times, images = [], []
            sheet.moments = times
            tiles = [Tile(img, f"{format_seconds(t, 1)}   in: {t:g}") for t, img in zip(times, images)]
            pages = [tiles[i:i + PER_PAGE] for i in range(0, len(tiles), PER_PAGE)]
            for number, page in enumerate(pages, 1):
                suffix = "" if len(pages) == 1 else f"-{number}"
                target = out_dir / f"{path.name}.sheet{suffix}.jpg"
                subtitle = (sheet.listing.splitlines()[1].strip() if len(sheet.listing.splitlines()) > 1 else "")
                subtitle += "  ·  " + _("a picture every {n} s").format(n=f"{every:g}")
                if len(pages) > 1:
                    subtitle += "  ·  " + _("page {n} of {total}").format(n=number, total=len(pages))
                save_small_jpeg(grid_sheet(path.name, subtitle, page, columns=6, tile_width=TILE_WIDTH), target)
                sheet.sheets.append(target)
        text_file = out_dir / f"{path.name}.txt"
        write_atomic(text_file, sheet.listing + "\n")
        sheet.text_file = text_file
        results.append(sheet)
    return results

"""Small pictures of shots and of moments in a source clip, for review pages and contact sheets.

A clip's frame is taken by ffmpeg at the source time the shot shows at its middle (so the display
matrix rotates it, HLG/PQ is tone-mapped, non-square pixels are squared); a still is opened upright
(EXIF applied); a card or chart is drawn by the renderer's own painter at the moment its animation
settles. Frames of clips are cached in `<cache>/thumbs/` by (path, size, mtime, time, box).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from pathlib import Path

from PIL import Image, ImageDraw, ImageOps

from kbvideo.errors import KbError, MediaError
from kbvideo.fsutil import atomic_path
from kbvideo.i18n import _
from kbvideo.media.ffmpeg_bin import ffmpeg_exe
from kbvideo.render.painters import make_painter
from kbvideo.render.stills import open_picture
from kbvideo.timeline.model import Shot

BACKDROP = (24, 26, 28)


def clip_frame(path: str, seconds: float, box: tuple[int, int], *, colors: str = "",
               cache: Path | None = None) -> Image.Image:
    """The frame of `path` shown at `seconds`, upright and fitted inside `box` (aspect kept). `colors`:
    the filters that read the clip's colours as the render does (kbvideo.render.graph.read_colors:
    untagged HD as BT.709, not BT.601; HDR tone-mapped)."""
    key_path = None
    if cache is not None:
        st = os.stat(path)
        key = hashlib.sha256(json.dumps([os.path.abspath(path), st.st_size, st.st_mtime_ns, round(seconds, 4),
                                         list(box), colors]).encode()).hexdigest()[:24]
        key_path = cache / f"{key}.jpg"
        if key_path.exists():
            with Image.open(key_path) as img:
                return img.convert("RGB")
    chain = colors + (
        f"scale='trunc(iw*max(1,sar)/2)*2':'trunc(ih*max(1,1/sar)/2)*2',setsar=1,"
        f"scale={box[0]}:{box[1]}:force_original_aspect_ratio=decrease:flags=bicubic,format=rgb24")
    image = _ffmpeg_png(["-ss", f"{max(0.0, seconds):.4f}", "-i", path, "-map", "0:v:0", "-frames:v", "1",
                         "-vf", chain], path)
    if image is None and seconds > 0:  # past the last decodable frame: take the first one
        image = _ffmpeg_png(["-i", path, "-map", "0:v:0", "-frames:v", "1", "-vf", chain], path)
    if image is None:
        raise MediaError(path, _("no picture could be decoded"), _("re-export the clip from the phone's gallery"))
    if key_path is not None:
        key_path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(key_path) as tmp:
            image.save(tmp, "JPEG", quality=88)
    return image


def _ffmpeg_png(args: list[str], path: str) -> Image.Image | None:
    import subprocess

    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", *args,
                           "-f", "image2pipe", "-c:v", "png", "-"], capture_output=True)
    if proc.returncode != 0 and not proc.stdout:
        raise MediaError(path, _("cannot take a picture from it: {reason}").format(
            reason=proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or _("ffmpeg failed")))
    if not proc.stdout:
        return None
    return Image.open(io.BytesIO(proc.stdout)).convert("RGB")


def picture(path: str, box: tuple[int, int]) -> Image.Image:
    image = open_picture(path)
    flat = Image.new("RGB", image.size, BACKDROP)
    flat.paste(image, mask=image.getchannel("A"))
    flat.thumbnail(box, Image.LANCZOS)
    return flat


def fit_box(image: Image.Image, box: tuple[int, int], fit: str = "contain") -> Image.Image:
    """Exactly `box`: the image cropped to it (cover) or centred on the backdrop (contain)."""
    if fit == "cover":
        return ImageOps.fit(image, box, Image.LANCZOS)
    image = image.copy()
    image.thumbnail(box, Image.LANCZOS)
    out = Image.new("RGB", box, BACKDROP)
    out.paste(image, ((box[0] - image.width) // 2, (box[1] - image.height) // 2))
    return out


def graphic(shot: Shot, box: tuple[int, int], fps: Fraction) -> Image.Image:
    """A card or chart as the renderer draws it, once its animation has settled (or a plain tile)."""
    width, height = box[0] * 2, box[1] * 2  # drawn larger, then reduced: sharper small text
    try:
        painter = make_painter(shot, width + width % 2, height + height % 2, fps)
        frame = Image.fromarray(painter.frame(max(0, min(shot.duration - 1, getattr(painter, "hold_from", 0)))))
        return frame.convert("RGB").resize(box, Image.LANCZOS)
    except KbError:
        tile = Image.new("RGB", box, _hex(shot.color))
        ImageDraw.Draw(tile).text((8, box[1] // 2 - 6), (shot.title or shot.kind)[:40], fill=(255, 255, 255))
        return tile


def _hex(colour: str) -> tuple[int, int, int]:
    text = colour.lstrip("#")
    try:
        return tuple(int(text[i:i + 2], 16) for i in (0, 2, 4))  # type: ignore[return-value]
    except ValueError:
        return BACKDROP


def shot_seconds(shot: Shot, fps: Fraction) -> float:
    """Source time of the middle of a clip shot."""
    return float(Fraction(shot.source_in + shot.duration // 2) / fps)


def shot_thumbnail(shot: Shot, box: tuple[int, int], fps: Fraction, *, colors: str = "",
                   cache: Path | None = None) -> Image.Image:
    """Exactly `box` pixels showing the shot (the shot's own fit: cover crops, contain letterboxes)."""
    if shot.kind == "clip":
        return fit_box(clip_frame(shot.source, shot_seconds(shot, fps), (box[0] * 2, box[1] * 2),
                                  colors=colors, cache=cache), box, shot.fit)
    if shot.kind == "still":
        return fit_box(picture(shot.source, (box[0] * 2, box[1] * 2)), box, shot.fit)
    return graphic(shot, box, fps)


def shot_thumbnails(shots, box: tuple[int, int], fps: Fraction, *, colors_of=lambda path: "",
                    cache: Path | None = None, jobs: int = 2) -> list[Image.Image]:
    """One thumbnail per shot, in order (ffmpeg runs `jobs` at a time). `colors_of(path)`: `clip_frame`'s
    `colors` for a clip."""
    with ThreadPoolExecutor(max(1, jobs)) as pool:
        futures = [pool.submit(shot_thumbnail, shot, box, fps, colors=colors_of(shot.source) if shot.source else "",
                               cache=cache) for shot in shots]
        return [f.result() for f in futures]


def jpeg_bytes(image: Image.Image, quality: int = 78) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality, optimize=True, progressive=True)
    return buffer.getvalue()

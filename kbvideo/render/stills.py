"""Stills are decoded and fitted with Pillow, then handed to ffmpeg as clean frame-size RGB PNGs.

Pillow applies the EXIF orientation (`ImageOps.exif_transpose`), and RGBA or palette images with
transparency are composited over the shot's fill in premultiplied alpha, so the colour hidden under
transparent pixels never reaches the video.

Every operation is bounded by the frame size, whatever the picture's shape: a crop to the frame's
aspect ratio is taken in the picture's own pixels *before* scaling (a 60000×2 strip never becomes a
14,400,000×480 image), large JPEGs are decoded at a reduced scale (`draft`), and a picture over
MAX_PIXELS is refused with its name. Also holds small stand-ins used only while the
graphics module (titles, captions, cards) is not importable.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kbvideo.errors import MediaError
from kbvideo.i18n import _

FONT_DIR = Path(__file__).resolve().parent.parent / "fonts"
MAX_PIXELS = 100_000_000  # decoded RGBA: 400 MB; Pillow's own bomb check starts at ~179 MP


def _hex(colour: str) -> tuple[int, int, int]:
    text = colour.lstrip("#")
    if len(text) == 3:
        text = "".join(c * 2 for c in text)
    try:
        return tuple(int(text[i:i + 2], 16) for i in (0, 2, 4))  # type: ignore[return-value]
    except ValueError:
        return (0, 0, 0)


def open_picture(path: str, fit_within: tuple[int, int] | None = None):
    """The picture upright (EXIF applied), as premultiplied-safe RGBA. MediaError names the file.

    `fit_within=(w, h)`: the picture will end up at most that big, so a JPEG may be decoded at a
    reduced scale (1/2, 1/4, 1/8) that still covers it in either orientation."""
    from PIL import Image, ImageOps

    try:
        with Image.open(path) as img:
            if img.width * img.height > MAX_PIXELS:
                raise MediaError(path, _("picture is too large: {w}x{h} pixels (at most {limit} million)").format(
                    w=img.width, h=img.height, limit=MAX_PIXELS // 1_000_000),
                    _("scale it down, e.g. to 4000 pixels on the long side"))
            if fit_within and img.format == "JPEG":
                need = max(fit_within) / max(1, min(img.size))  # enough for cover in any orientation
                if need < 1:
                    img.draft("RGB", (max(1, round(img.width * need)), max(1, round(img.height * need))))
            img = ImageOps.exif_transpose(img)
            if img.mode == "P" and "transparency" in img.info:
                img = img.convert("RGBA")
            elif img.mode in ("LA", "PA", "La"):
                img = img.convert("RGBA")
            elif img.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
                img = _wide_grey_to_rgba(img)
            elif img.mode != "RGBA":
                img = img.convert("RGB").convert("RGBA")
            img.load()
            return img
    except Image.DecompressionBombError as exc:
        raise MediaError(path, _("picture is too large to decode safely ({exc})").format(exc=exc),
                         _("scale it down below about 90 megapixels")) from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise MediaError(path, _("cannot read picture: {exc}").format(exc=exc), _("re-export it as JPEG or PNG")) from exc


def _wide_grey_to_rgba(img):
    """16-bit (and 32-bit integer or float) greyscale → 8-bit RGBA. Pillow's own convert() clips every
    value above 255, so a 16-bit PNG came out white: scale 0..65535 to 0..255 instead (float: 0..1)."""
    import numpy as np
    from PIL import Image

    values = np.asarray(img, dtype=np.float64)
    if img.mode == "F" and values.size and np.nanmax(values) <= 1.0:
        values = values * 255.0
    elif img.mode != "F" or (values.size and np.nanmax(values) > 255.0):
        values = values / 257.0  # 65535 → 255
    grey = np.clip(np.nan_to_num(values), 0, 255).round().astype(np.uint8)
    return Image.fromarray(grey).convert("RGBA")


def _resize_rgba(img, size):
    from PIL import Image

    # resize in premultiplied alpha: transparent pixels' hidden colour cannot bleed into edges
    return img.convert("RGBa").resize(size, Image.LANCZOS).convert("RGBA")


def cover_box(w: int, h: int, width: int, height: int) -> tuple[float, float, float, float]:
    """The centred box of a w×h picture with the frame's aspect ratio (what "cover" shows), in its own pixels."""
    if w * height > h * width:  # wider than the frame: full height, a slice of the width
        cw, ch = h * width / height, float(h)
    else:
        cw, ch = float(w), w * height / width
    left, top = (w - cw) / 2, (h - ch) / 2
    return left, top, left + cw, top + ch


@dataclass(frozen=True)
class StillLayers:
    """A contained still split for Ken Burns: the fill (frame size) and the picture at (x, y) on it,
    so the motion moves the picture inside its own box and never the fill."""

    fill: Path
    picture: Path
    x: int
    y: int


def contain_size(w: int, h: int, width: int, height: int) -> tuple[int, int]:
    """The picture's size when contained: fitted to the frame, never enlarged past its native size;
    even numbers (yuv420p)."""
    scale = min(width / w, height / h, 1.0)
    return max(2, round(w * scale / 2) * 2), max(2, round(h * scale / 2) * 2)


def _fill(img, width: int, height: int, fill: str):
    """The frame-size fill behind a contained picture: a colour, or a blurred, dimmed copy of the
    picture itself (its "cover" crop)."""
    from PIL import Image, ImageFilter

    if fill.startswith("#"):
        return Image.new("RGBA", (width, height), _hex(fill) + (255,))
    w, h = img.size
    small = (max(1, round(width / 8)), max(1, round(height / 8)))
    bg = Image.alpha_composite(Image.new("RGBA", img.size, (0, 0, 0, 255)), img)
    bg = bg.resize(small, Image.BILINEAR, box=cover_box(w, h, width, height), reducing_gap=2.0)
    bg = bg.filter(ImageFilter.GaussianBlur(max(1, min(small) / 12))).resize((width, height), Image.BILINEAR)
    return Image.blend(bg, Image.new("RGBA", bg.size, (0, 0, 0, 255)), 0.25)


def fit_layers(path: str, width: int, height: int, fill: str, fill_path: Path, picture_path: Path) -> StillLayers:
    """The fill and the contained picture as two RGB PNGs (see StillLayers)."""
    from PIL import Image

    img = open_picture(path, fit_within=(width, height))
    canvas = _fill(img, width, height, fill)
    size = contain_size(*img.size, width, height)
    fg = _resize_rgba(img, size) if size != img.size else img
    x, y = (width - size[0]) // 2, (height - size[1]) // 2
    flat = Image.alpha_composite(canvas.crop((x, y, x + size[0], y + size[1])), fg)
    canvas.convert("RGB").save(fill_path, compress_level=1)
    flat.convert("RGB").save(picture_path, compress_level=1)
    return StillLayers(fill_path, picture_path, x, y)


def fit_picture(path: str, width: int, height: int, fit: str, fill: str, out_path: Path) -> Path:
    """Write `out_path`: an RGB PNG of exactly width×height with the picture fitted on its fill.

    `contain` never enlarges the picture past its native size (a small logo stays sharp, centred on
    its fill); `cover` fills the frame, enlarging when it must (the shot asks for it)."""
    from PIL import Image

    img = open_picture(path, fit_within=(width, height))
    w, h = img.size
    if fit == "cover":
        # crop first, in the picture's pixels, then scale: never bigger than the frame
        fg = img.convert("RGBa").resize((width, height), Image.LANCZOS, box=cover_box(w, h, width, height)).convert("RGBA")
        background = Image.new("RGBA", (width, height), _hex(fill) + (255,) if fill.startswith("#") else (0, 0, 0, 255))
        canvas = Image.alpha_composite(background, fg)
    else:
        canvas = _fill(img, width, height, fill)
        size = contain_size(w, h, width, height)
        fg = _resize_rgba(img, size) if size != img.size else img
        canvas.alpha_composite(fg, ((width - size[0]) // 2, (height - size[1]) // 2))
    canvas.convert("RGB").save(out_path, compress_level=1)
    return out_path


# ---- stand-ins while kbvideo.render.graphics is missing (plain, but legible and exact text) ----

@dataclass(frozen=True, slots=True)
class PlainOverlay:
    path: Path
    x: int
    y: int
    width: int
    height: int


def _font(size: int, bold: bool = False):
    from PIL import ImageFont

    return ImageFont.truetype(str(FONT_DIR / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")), max(6, size))



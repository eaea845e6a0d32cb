"""Contact sheets: pictures in a grid with labels, as one JPEG small enough for a chat app.

`programme_sheet` shows a whole programme (a band per scene: its name and times, then one
thumbnail per shot with its programme time); `grid_sheet` is the plain grid used for a source
clip's moments. Text is drawn with the shipped DejaVu fonts.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

from kbvideo.fsutil import write_atomic
from kbvideo.layout.text import load_font

PAPER = (246, 247, 246)
INK = (29, 35, 39)
MUTED = (95, 107, 114)
MAX_BYTES = 950_000  # a chat app sends this as a picture without complaint


@dataclass(frozen=True, slots=True)
class Tile:
    image: Image.Image
    label: str  # under the picture


def _text(draw: ImageDraw.ImageDraw, xy, text: str, size: int, colour=INK, bold: bool = False, width: int | None = None):
    font = load_font(size, bold)
    if width is not None:
        while text and draw.textlength(text, font=font) > width:
            text = text[:-2] + "…" if len(text) > 2 else ""
    draw.text(xy, text, font=font, fill=colour)


def save_small_jpeg(image: Image.Image, path: Path, limit: int = MAX_BYTES) -> int:
    """Write a JPEG under `limit` bytes (lower quality, then smaller, until it fits); returns its size."""
    quality = 85
    while True:
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=quality, optimize=True, progressive=True)
        if buffer.tell() <= limit or (quality <= 50 and image.width < 600):
            break
        if quality > 55:
            quality -= 10
        else:
            image = image.resize((image.width * 3 // 4, image.height * 3 // 4), Image.LANCZOS)
    write_atomic(path, buffer.getvalue())
    return buffer.tell()


def grid_sheet(title: str, subtitle: str, tiles: list[Tile], *, columns: int = 6, tile_width: int = 256) -> Image.Image:
    if not tiles:
        tiles = []
    tile_height = tiles[0].image.height if tiles else tile_width * 9 // 16
    pad, label_h, head_h = 12, 24, 64
    rows = max(1, -(-len(tiles) // columns))
    width = pad + columns * (tile_width + pad)
    height = head_h + rows * (tile_height + label_h + pad) + pad
    sheet = Image.new("RGB", (width, height), PAPER)
    draw = ImageDraw.Draw(sheet)
    _text(draw, (pad, 10), title, 22, bold=True, width=width - 2 * pad)
    _text(draw, (pad, 38), subtitle, 14, MUTED, width=width - 2 * pad)
    for index, tile in enumerate(tiles):
        row, col = divmod(index, columns)
        x = pad + col * (tile_width + pad)
        y = head_h + row * (tile_height + label_h + pad)
        sheet.paste(tile.image, (x, y))
        _text(draw, (x, y + tile_height + 4), tile.label, 14, INK, width=tile_width)
    return sheet


@dataclass(frozen=True, slots=True)
class SceneBand:
    heading: str  # "2. dashat"
    times: str  # "0:19.5–1:07.5 · 48.0 s"
    colour: tuple[int, int, int]
    tiles: list[Tile]


def programme_sheet(title: str, subtitle: str, bands: list[SceneBand], *, columns: int = 6,
                    tile_width: int = 240) -> Image.Image:
    tile_height = bands[0].tiles[0].image.height if bands and bands[0].tiles else tile_width * 9 // 16
    pad, label_h, band_h, head_h = 10, 22, 30, 70
    width = pad + columns * (tile_width + pad)
    height = head_h
    for band in bands:
        rows = max(1, -(-len(band.tiles) // columns))
        height += band_h + rows * (tile_height + label_h + pad) + pad // 2
    sheet = Image.new("RGB", (width, height), PAPER)
    draw = ImageDraw.Draw(sheet)
    _text(draw, (pad, 10), title, 24, bold=True, width=width - 2 * pad)
    _text(draw, (pad, 42), subtitle, 15, MUTED, width=width - 2 * pad)
    y = head_h
    for band in bands:
        draw.rectangle([pad, y + 4, pad + 8, y + band_h - 6], fill=band.colour)
        _text(draw, (pad + 16, y + 4), band.heading, 17, INK, bold=True)
        heading_w = int(draw.textlength(band.heading, font=load_font(17, True)))
        _text(draw, (pad + 30 + heading_w, y + 6), band.times, 15, MUTED)
        y += band_h
        for index, tile in enumerate(band.tiles):
            row, col = divmod(index, columns)
            x = pad + col * (tile_width + pad)
            ty = y + row * (tile_height + label_h + pad)
            sheet.paste(tile.image, (x, ty))
            _text(draw, (x, ty + tile_height + 3), tile.label, 13, INK, width=tile_width)
        rows = max(1, -(-len(band.tiles) // columns))
        y += rows * (tile_height + label_h + pad) + pad // 2
    return sheet

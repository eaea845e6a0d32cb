"""Regenerate every generated sample asset: placeholder clips, stills, a music bed and narration.

    python assets/make_assets.py            # all of them
    python assets/make_assets.py clips      # only one group: clips | stills | audio

Needs only kbvideo's own dependencies (the bundled ffmpeg, Pillow, numpy). The output is deterministic
for a given ffmpeg build: fixed seeds, fixed encoder thread counts, no timestamps or encoder versions
in the containers. Each placeholder says on screen which real footage belongs in its place, so a
draft rendered from them is readable as a storyboard preview.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from kbvideo.media.ffmpeg_bin import ffmpeg_exe  # noqa: E402

FONT_BOLD = REPO / "kbvideo" / "fonts" / "DejaVuSans-Bold.ttf"
FONT = REPO / "kbvideo" / "fonts" / "DejaVuSans.ttf"
BANNER = (235, 110, 20)  # the thin band at the top: tests look for it at the top of the upright picture
BITEXACT = ["-map_metadata", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact"]


def run_ffmpeg(*args: str, cwd: Path | None = None) -> None:
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args]
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"ffmpeg failed: {' '.join(cmd)}\n{proc.stderr}")


def font(size: int, bold: bool = True) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_BOLD if bold else FONT), size)


def fit_font(draw: ImageDraw.ImageDraw, text: str, max_width: int, size: int, bold: bool = True):
    while size > 10:
        face = font(size, bold)
        if draw.textlength(text, font=face) <= max_width:
            return face
        size -= 2
    return font(size, bold)


def write_wav(path: Path, samples: np.ndarray, rate: int) -> None:
    """samples: float array in [-1, 1], shape (n,) or (n, channels)."""
    if samples.ndim == 1:
        samples = samples[:, None]
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(pcm.shape[1])
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.tobytes())


# --- clips --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ClipSpec:
    name: str
    title: str  # the big label: which footage belongs here
    wanted: str  # one line for the camera person
    size: tuple[int, int]  # as displayed
    fps: str
    seconds: float
    sample_rate: int | None  # None: no audio stream at all
    channels: int
    colours: tuple[str, ...]
    portrait_phone: bool = False  # coded landscape + display matrix, shown portrait
    seed: int = 1


CLIPS = [
    ClipSpec("dashat-masak", "DASHAT — memasak bersama", "Kader dan ibu-ibu memasak menu bergizi dari bahan lokal",
             (1280, 720), "30", 20, 48000, 2, ("0xc8502a", "0xf0a040", "0x7a2e1a", "0xe0c080"), seed=11),
    ClipSpec("dashat-bagi", "DASHAT — pembagian makanan", "Paket makanan bergizi dibagikan ke keluarga berisiko stunting",
             (1280, 720), "25", 15, 44100, 1, ("0xb03a48", "0xf08a5d", "0x6a1b3a", "0xf6c38b"), seed=12),
    ClipSpec("kebun-pikatu", "KEBUN PIKATU — sayur & buah", "Lahan tidur jadi kebun: bedeng sayur, pohon buah, warga merawat",
             (1280, 720), "30", 20, None, 2, ("0x2f7a3a", "0x9ccc65", "0x1b4d2b", "0xd4e157"), seed=13),
    ClipSpec("kolam-lele", "KOLAM LELE — Kebun Pikatu", "Video tegak dari HP: panen lele di kolam kebun",
             (720, 1280), "30", 12, 48000, 2, ("0x1e5a7a", "0x4fb3bf", "0x0d3346", "0xa5d8e0"), portrait_phone=True, seed=14),
    ClipSpec("uppka", "UPPKA — usaha keluarga", "Kelompok UPPKA membuat dan menjual produk olahan",
             (1280, 720), "30000/1001", 15, 48000, 2, ("0x5b3a8c", "0xb39ddb", "0x2e1d4a", "0xffcc80"), seed=15),
    ClipSpec("bkb-posyandu", "BKB — posyandu balita", "Kegiatan Bina Keluarga Balita: penimbangan dan penyuluhan",
             (640, 480), "30", 12, 48000, 2, ("0x1565c0", "0x64b5f6", "0x0b3a6e", "0xfff176"), seed=16),
]


# kbvideo draws its own text in named zones (kbvideo/layout/screen.py): the scene title at the top
# (to ~15 % of the height), the lower third on the left above the caption zone (~66-82 %) and the
# captions at the bottom (the last ~20 %). A placeholder keeps all of its text in the band between,
# so a draft shows both, one above the other, never on top of each other.
BAND = 0.025  # the thin orange band at the very top (inside the 5 % margin above the title-safe area)
BOX_TOP, BOX_BOTTOM = 0.19, 0.63  # the middle info box stays inside this band of the height


def band_height(height: int) -> int:
    return max(8, round(height * BAND))


@dataclass(frozen=True)
class InfoBox:
    """Where middle_box put things: the row left for the running timecode (clips only)."""

    row_top: int
    row_height: int
    right: int  # inner right edge of the box (the sync flash sits there)


def middle_box(img: Image.Image, title: str, lines: list[str], detail: str, timecode_rows: int = 0,
               box_alpha: int = 150) -> InfoBox:
    """The thin orange band at the top and, in the middle of the picture, a dark box with the
    headline (which footage belongs here), the lines for the camera person and the technical detail;
    `timecode_rows` leaves room under them for ffmpeg's running timecode."""
    width, height = img.size
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 0, width, band_height(height) - 1), fill=BANNER + (255,))
    margin = int(width * 0.08)
    inner = width - 2 * margin - int(width * 0.04)
    head = fit_font(draw, title, inner, int(height * 0.066))
    body = fit_font(draw, max(lines, key=len), inner, int(height * 0.038), bold=False)
    small = fit_font(draw, detail, inner, max(12, int(body.size * 0.78)), bold=False)
    tc_h = int(max(14, body.size) * 1.7) * timecode_rows
    pad = int(height * 0.022)
    heights = [int(head.size * 1.3), int(height * 0.012)] + [int(body.size * 1.35)] * len(lines) + [int(small.size * 1.5)]
    total = sum(heights) + tc_h + 2 * pad
    top = max(int(height * BOX_TOP), (int(height * BOX_TOP) + int(height * BOX_BOTTOM) - total) // 2)
    bottom = top + total
    assert bottom <= height * BOX_BOTTOM, (title, bottom / height)
    overlay = Image.new("RGBA", img.size, (0, 0, 0, 0))
    ImageDraw.Draw(overlay).rounded_rectangle((margin, top, width - margin, bottom), radius=max(6, height // 70),
                                              fill=(0, 0, 0, box_alpha))
    img.alpha_composite(overlay) if img.mode == "RGBA" else img.paste(overlay, (0, 0), overlay)
    draw = ImageDraw.Draw(img)
    y = top + pad
    draw.text((width // 2, y), title, font=head, fill="white", anchor="ma",
              stroke_width=max(1, height // 360), stroke_fill=(90, 40, 0))
    y += heights[0]
    rule = y + heights[1] // 2 - int(head.size * 0.15)  # a short orange rule under the headline
    draw.line((width // 2 - int(width * 0.12), rule, width // 2 + int(width * 0.12), rule), fill=BANNER,
              width=max(2, height // 240))
    y += heights[1]
    for line in lines:
        draw.text((width // 2, y), line, font=body, fill="white", anchor="ma")
        y += int(body.size * 1.35)
    draw.text((width // 2, y), detail, font=small, fill=(255, 230, 180), anchor="ma")
    y += int(small.size * 1.5)
    return InfoBox(y, tc_h, width - margin - int(width * 0.02))


def clip_label(spec: ClipSpec) -> tuple[Image.Image, InfoBox]:
    """Full-frame RGBA overlay: the thin band, the middle box (title, shot wanted, technical spec, a row
    left for the timecode) and short title-safe marks at the left and right edges."""
    width, height = spec.size
    img = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    # the 90 % title-safe edges, as short marks at mid-height (clear of every kbvideo zone): crops show
    sx = int(width * 0.05)
    for x in (sx, width - sx):
        draw.line((x, int(height * 0.36), x, int(height * 0.46)), fill=(255, 255, 255, 150), width=2)
    fps_text = {"30000/1001": "29.97"}.get(spec.fps, spec.fps)
    if spec.sample_rate:
        sound = f"AAC {spec.sample_rate / 1000:g} kHz {'mono' if spec.channels == 1 else 'stereo'}"
    else:
        sound = "tanpa audio"
    coded = f" (tersimpan {height}×{width} + rotasi)" if spec.portrait_phone else ""
    spec_text = f"{width}×{height}{coded} · {fps_text} fps · {spec.seconds:g} s · {sound}"
    box = middle_box(img, spec.title, ["CONTOH — ganti dengan rekaman asli:", spec.wanted], spec_text,
                     timecode_rows=1, box_alpha=140)
    return img, box


def clip_audio(spec: ClipSpec) -> np.ndarray:
    """Room tone, a soft two-note motif and a short beep on every whole second (an A/V sync marker
    matching the white flash in the picture)."""
    rate, n = spec.sample_rate, int(round(spec.seconds * spec.sample_rate))
    rng = np.random.default_rng(spec.seed)
    t = np.arange(n) / rate
    noise = np.cumsum(rng.standard_normal(n)) * 0.002
    noise -= np.convolve(noise, np.ones(2048) / 2048, mode="same")  # brown noise without its drift
    base = 180 + 40 * (spec.seed % 5)
    motif = (0.06 * np.sin(2 * np.pi * base * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 0.25 * t))
             + 0.04 * np.sin(2 * np.pi * base * 1.5 * t) * (0.5 - 0.5 * np.sin(2 * np.pi * 0.25 * t)))
    frac = t % 1.0
    beep = 0.25 * np.sin(2 * np.pi * 1000 * t) * (frac < 0.06) * np.minimum(1, (0.06 - frac) * 200)
    mono = noise * 0.6 + motif + beep
    if spec.channels == 1:
        return mono
    pan = 0.15 * np.sin(2 * np.pi * 0.1 * t)
    return np.stack([mono * (1 - pan), mono * (1 + pan)], axis=1) * 0.9


def make_clip(spec: ClipSpec, out_dir: Path, work: Path) -> Path:
    width, height = spec.size
    label, box = clip_label(spec)
    label.save(work / "label.png")
    shutil.copyfile(FONT_BOLD, work / "font.ttf")
    (work / "timecode.txt").write_text("%{pts:hms}  #%{frame_num}", encoding="utf-8")
    colours = ":".join(f"c{i}={c}" for i, c in enumerate(spec.colours))
    source = f"gradients=s={width}x{height}:r={spec.fps}:n={len(spec.colours)}:{colours}:speed=0.015:seed={spec.seed}"
    args = ["-f", "lavfi", "-i", source, "-loop", "1", "-framerate", spec.fps, "-i", "label.png"]
    if spec.sample_rate:
        write_wav(work / "sound.wav", clip_audio(spec), spec.sample_rate)
        args += ["-i", "sound.wav"]
    # the running timecode and the sync flash share the last row of the middle box
    tc_size = int(box.row_height / 1.7 * 0.8)
    flash = int(box.row_height * 0.8)
    row_mid = box.row_top + box.row_height // 2
    graph = (
        "[0:v][1:v]overlay=0:0:shortest=1,"
        f"drawbox=x={box.right - flash}:y={row_mid - flash // 2}:w={flash}:h={flash}"
        ":color=white:t=fill:enable='lt(mod(t,1),0.1)',"
        f"drawtext=fontfile=font.ttf:textfile=timecode.txt:expansion=normal:fontsize={tc_size}"
        f":fontcolor=white:box=1:boxcolor=black@0.55:boxborderw=6:x=(w-tw)/2:y={row_mid - tc_size // 2}"
    )
    if spec.portrait_phone:
        graph += ",transpose=cclock"  # stored sideways, as a phone held upright records it
    graph += ",format=yuv420p[v]"
    args += ["-filter_complex", graph, "-map", "[v]", "-t", f"{spec.seconds:g}"]
    gop = {"30000/1001": "30", "25": "25"}.get(spec.fps, "30")
    args += ["-c:v", "libx264", "-preset", "medium", "-crf", "30", "-maxrate", "450k", "-bufsize", "900k",
             "-g", gop, "-threads", "2", "-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709",
             "-color_range", "tv"]
    if spec.sample_rate:
        args += ["-map", "2:a", "-c:a", "aac", "-b:a", "64k" if spec.channels == 2 else "48k",
                 "-ar", str(spec.sample_rate), "-ac", str(spec.channels)]
    out = (out_dir / f"{spec.name}.mp4").resolve()
    if spec.portrait_phone:
        run_ffmpeg(*args, *BITEXACT, "-f", "mp4", "coded.mp4", cwd=work)
        # -display_rotation is counter-clockwise: -90 asks players to turn the picture 90° clockwise,
        # which is what a phone held upright writes.
        run_ffmpeg("-display_rotation", "-90", "-i", "coded.mp4", "-c", "copy", *BITEXACT, "-movflags", "+faststart",
                   "-f", "mp4", str(out), cwd=work)
    else:
        run_ffmpeg(*args, *BITEXACT, "-movflags", "+faststart", "-f", "mp4", str(out), cwd=work)
    return out


def make_clips() -> None:
    out_dir = HERE / "clips"
    out_dir.mkdir(exist_ok=True)
    for spec in CLIPS:
        with tempfile.TemporaryDirectory(prefix="kbvideo-assets-") as tmp:
            path = make_clip(spec, out_dir, Path(tmp))
        print(f"{path.relative_to(REPO)}  {path.stat().st_size / 1e6:.2f} MB")


# --- stills -------------------------------------------------------------------------------------

def photo_background(size: tuple[int, int], seed: int, sky, ground) -> Image.Image:
    """A soft 'photo': sky-to-ground gradient with seeded grain and blobs, so JPEG has something real to code."""
    width, height = size
    rng = np.random.default_rng(seed)
    y = np.linspace(0, 1, height)[:, None, None]
    sky, ground = np.array(sky, float), np.array(ground, float)
    horizon = 0.42
    colour = np.where(y < horizon, sky * (1 - y / horizon * 0.3), ground * (0.7 + 0.5 * (y - horizon)))
    pixels = np.broadcast_to(colour, (height, width, 3)).copy()
    pixels += rng.normal(0, 6, (height, width, 3))
    img = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(img)
    for _ in range(40):  # plants / shapes below the horizon
        cx, cy = rng.integers(0, width), rng.integers(int(height * horizon), height)
        r = int(rng.integers(height // 30, height // 10))
        shade = tuple(int(v) for v in np.clip(ground * rng.uniform(0.6, 1.4), 0, 255))
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=shade)
    return img


def still_label(img: Image.Image, title: str, wanted: str, detail: str | None = None) -> None:
    """The thin orange band at the top and the middle info box (see middle_box), as on the clips."""
    width, height = img.size
    middle_box(img, title, ["CONTOH — ganti dengan foto asli:", wanted], detail or f"{width}×{height}",
               box_alpha=185)


# stills are made at the frame's height (1080) so `contain` fills it without enlarging them
def make_kebun_panen(out_dir: Path) -> None:
    """1440x1080 as displayed, stored sideways (1080x1440) with EXIF orientation 6 (rotate 90° clockwise)."""
    upright = photo_background((1440, 1080), 21, sky=(150, 200, 235), ground=(70, 140, 60))
    still_label(upright, "KEBUN PIKATU — PANEN", "Warga memanen sayur di Kebun Pikatu (foto mendatar)",
                "1440×1080 · ▲ ATAS: foto tegak bila orientasi EXIF dihormati")
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # counter-clockwise; orientation 6 turns it back
    exif = Image.Exif()
    exif[0x0112] = 6
    stored.save(out_dir / "kebun-panen.jpg", quality=80, exif=exif.tobytes(), optimize=True)


def make_kader(out_dir: Path) -> None:
    width, height = 1620, 1080
    k = height / 800  # the figures were drawn for 1200x800
    img = photo_background((width, height), 22, sky=(235, 225, 205), ground=(170, 120, 90))
    draw = ImageDraw.Draw(img)
    rng = np.random.default_rng(23)
    for i in range(7):  # people-shaped silhouettes
        cx = int((130 + i * 155 + int(rng.integers(-20, 20))) * k)
        top = int((430 + int(rng.integers(-30, 30))) * k)
        shirt = tuple(int(v) for v in rng.integers(40, 220, 3))
        draw.ellipse((cx - int(38 * k), top - int(90 * k), cx + int(38 * k), top - int(10 * k)), fill=(120, 85, 60))
        draw.rounded_rectangle((cx - int(60 * k), top, cx + int(60 * k), height), radius=int(40 * k), fill=shirt)
    still_label(img, "KADER KB — foto bersama", "Para kader Kampung KB berfoto di depan sekretariat")
    img.save(out_dir / "kader.jpg", quality=80, optimize=True)


def make_peta(out_dir: Path) -> None:
    """RGBA map, 1920x1080 (it fills the frame), with fully transparent surroundings. Under them sits
    loud magenta: a renderer that drops alpha shows it at once. Its text stays in the middle band,
    clear of kbvideo's title, lower-third and caption zones."""
    width, height = 1920, 1080
    k, dx = height / 800, (width - 1000 * height / 800) / 2  # drawn for 1000x800, scaled, centred

    def at(x: float, y: float) -> tuple[int, int]:
        return int(dx + x * k), int(y * k)

    rgba = np.zeros((height, width, 4), np.uint8)
    rgba[..., :3] = (255, 0, 255)
    img = Image.fromarray(rgba)
    shape = Image.new("L", (width, height), 0)
    outline = [(170, 120), (520, 70), (830, 180), (900, 430), (760, 700), (420, 740), (180, 610), (110, 360)]
    ImageDraw.Draw(shape).polygon([at(x, y) for x, y in outline], fill=255)
    land = Image.new("RGBA", (width, height), (120, 180, 110, 255))
    draw = ImageDraw.Draw(land)
    for x in range(0, width, 80):  # streets
        draw.line((x, 0, x + 270, height), fill=(235, 230, 210, 255), width=8)
    for y in range(0, height + 110, 120):
        draw.line((0, y, width, y - 110), fill=(235, 230, 210, 255), width=5)
    draw.ellipse((*at(470, 300), *at(560, 390)), fill=BANNER + (255,))
    for text, y, face in (("KELURAHAN JENGGOT", 250, font(54)), ("Kampung KB Mandiri Utama", 430, font(40, False))):
        draw.text((width // 2, int(y * k)), text, font=face, fill=(30, 50, 30, 255), anchor="mm", stroke_width=4,
                  stroke_fill=(255, 255, 255, 255))
    draw.text((width // 2, int(480 * k)), "CONTOH PETA — ganti dengan peta wilayah asli", font=font(32, False),
              fill=(30, 50, 30, 255), anchor="mm", stroke_width=2, stroke_fill=(235, 240, 225, 255))
    img.paste(land, (0, 0), shape)
    # a soft shadow around the border: partial alpha over a dark colour (only alpha 0 hides magenta)
    halo = np.array(shape.resize((width // 8, height // 8)).resize((width, height), Image.Resampling.BILINEAR))
    pixels = np.array(img)
    edge = (halo // 3 > 0) & (np.array(shape) == 0)
    pixels[edge, 3] = (halo[edge] // 3).astype(np.uint8)
    pixels[edge, :3] = (20, 40, 20)
    Image.fromarray(pixels).save(out_dir / "peta-jenggot.png", optimize=True)


def make_logo(out_dir: Path) -> None:
    """Palette ("P") PNG, index 0 fully transparent (tRNS), drawn without anti-aliasing."""
    size = 512
    img = Image.new("P", (size, size), 0)
    palette = [255, 0, 255,  # 0: transparent (magenta if alpha is lost)
               20, 110, 60,  # 1: green ring
               255, 255, 255,  # 2: white
               235, 110, 20,  # 3: orange
               20, 60, 120]  # 4: blue
    img.putpalette(palette + [0] * (768 - len(palette)))
    draw = ImageDraw.Draw(img)
    draw.ellipse((16, 16, size - 16, size - 16), fill=1)
    draw.ellipse((56, 56, size - 56, size - 56), fill=2)
    draw.polygon([(256, 110), (370, 230), (142, 230)], fill=3)  # roof
    draw.rectangle((170, 230, 342, 330), fill=3)
    draw.rectangle((232, 270, 280, 330), fill=2)
    draw.text((256, 372), "KAMPUNG KB", font=font(40), fill=4, anchor="mm")
    draw.text((256, 418), "LOGO CONTOH", font=font(22, False), fill=1, anchor="mm")
    img.save(out_dir / "logo-kampung-kb.png", transparency=0, optimize=True)


def make_stills() -> None:
    out_dir = HERE / "stills"
    out_dir.mkdir(exist_ok=True)
    for make in (make_kebun_panen, make_kader, make_peta, make_logo):
        make(out_dir)
    for path in sorted(out_dir.iterdir()):
        print(f"{path.relative_to(REPO)}  {path.stat().st_size / 1e6:.2f} MB")


# --- audio --------------------------------------------------------------------------------------

def note_hz(semitones_from_a4: float) -> float:
    return 440.0 * 2 ** (semitones_from_a4 / 12)


# chords as semitones from A4 (C major key): C, G, Am, F, and a bridge Dm, G, Em, Am
CHORDS = {"C": (-9, -5, -2), "G": (-14, -10, -7), "Am": (-12, -9, -5), "F": (-16, -12, -9),
          "Dm": (-7, -4, 0), "Em": (-5, -2, 2)}
SECTIONS = [("C", "G", "Am", "F")] * 4 + [("Dm", "G", "Em", "Am")] * 2 + [("C", "G", "Am", "F")] * 4 \
    + [("Dm", "G", "Em", "Am")] + [("C", "G", "Am", "F")] * 7


def music_bed(seconds: float = 190.0, rate: int = 44100, bpm: float = 90.0) -> np.ndarray:
    """A calm loop-free bed: pad chords, bass, a plucked arpeggio and a soft kick/shaker rhythm."""
    n = int(seconds * rate)
    t = np.arange(n) / rate
    beat = 60.0 / bpm
    bar = 4 * beat
    left = np.zeros(n)
    right = np.zeros(n)
    rng = np.random.default_rng(31)
    chords = [c for section in SECTIONS for c in section]
    for i, name in enumerate(chords):
        start = i * bar
        if start >= seconds:
            break
        a, b = int(start * rate), min(n, int((start + bar + 0.3) * rate))
        local = t[a:b] - start
        env = np.minimum(1, local / 0.6) * np.exp(-np.maximum(0, local - bar) * 8)
        for k, semi in enumerate(CHORDS[name]):  # pad: three detuned voices with soft harmonics
            f = note_hz(semi)
            voice = sum(np.sin(2 * np.pi * f * h * local + k) / h ** 1.6 for h in (1, 2, 3))
            left[a:b] += 0.05 * env * voice * (1.0 if k != 2 else 0.7)
            right[a:b] += 0.05 * env * np.sin(2 * np.pi * f * 1.003 * local + k) * (0.7 if k != 2 else 1.0)
        bass_f = note_hz(CHORDS[name][0] - 12)
        bass = np.sin(2 * np.pi * bass_f * local) * np.exp(-((local % (2 * beat)) * 1.5))
        left[a:b] += 0.09 * bass * np.minimum(1, local / 0.02)
        right[a:b] += 0.09 * bass * np.minimum(1, local / 0.02)
        if i >= 4:  # arpeggio after the intro: eighth notes over the chord
            for step in range(8):
                s = int((start + step * beat / 2) * rate)
                if s >= n:
                    break
                length = min(n - s, int(0.45 * rate))
                lt = np.arange(length) / rate
                f = note_hz(CHORDS[name][step % 3] + 12)
                pluck = np.sin(2 * np.pi * f * lt) * np.exp(-lt * 9) * 0.035
                pan = 0.5 + 0.35 * np.sin(step)
                left[s:s + length] += pluck * (1 - pan)
                right[s:s + length] += pluck * pan
    beats = int(seconds / beat)
    for j in range(beats):
        if j < 16:  # intro without drums
            continue
        s = int(j * beat * rate)
        if j % 2 == 0:  # soft kick on 1 and 3
            length = min(n - s, int(0.25 * rate))
            lt = np.arange(length) / rate
            kick = np.sin(2 * np.pi * (55 + 50 * np.exp(-lt * 30)) * lt) * np.exp(-lt * 14) * 0.22
            left[s:s + length] += kick
            right[s:s + length] += kick
        for half in (0, 1):  # shaker on eighths
            s2 = int((j + half / 2) * beat * rate)
            length = min(n - s2, int(0.06 * rate))
            if length <= 0:
                continue
            burst = np.diff(rng.standard_normal(length + 1)) * np.exp(-np.arange(length) / rate * 60) * 0.025
            left[s2:s2 + length] += burst * 0.8
            right[s2:s2 + length] += burst * 1.2
    fade = np.minimum(1, t / 2.0) * np.minimum(1, (seconds - t) / 5.0)
    stereo = np.stack([left * fade, right * fade], axis=1)
    return stereo / np.abs(stereo).max() * 0.7


VOWELS = {"a": (800, 1200, 2500), "i": (300, 2300, 3000), "u": (350, 800, 2300), "e": (500, 1900, 2600),
          "o": (500, 900, 2500)}


def narration(seconds: float, seed: int, f0: float = 190.0, rate: int = 48000) -> np.ndarray:
    """Speech-like sound: a voiced source at a gliding pitch, shaped by vowel formants, switched on and
    off at syllable rate, with consonant noise bursts, word gaps and phrase pauses. Not words."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    amp = np.zeros(n)
    hiss = np.zeros(n)
    formants = np.zeros((n, 3))
    pos = int(0.35 * rate)
    end = n - int(0.5 * rate)
    vowel_names = list(VOWELS)
    while pos < end:
        phrase_syllables = int(rng.integers(6, 16))
        for s in range(phrase_syllables):
            length = int(rng.uniform(0.14, 0.26) * rate)
            if pos + length >= end:
                break
            lt = np.arange(length) / length
            amp[pos:pos + length] = np.sin(np.pi * lt) ** 0.7 * rng.uniform(0.6, 1.0)
            formants[pos:pos + length] = VOWELS[vowel_names[int(rng.integers(0, 5))]]
            if rng.random() < 0.6:  # consonant: a short noise burst at the onset
                burst = int(0.035 * rate)
                hiss[max(0, pos - burst // 2):pos + burst // 2] = rng.uniform(0.15, 0.4)
            pos += length
            if rng.random() < 0.25:
                pos += int(rng.uniform(0.06, 0.15) * rate)  # gap between words
        pos += int(rng.uniform(0.35, 0.8) * rate)  # pause between phrases
    # smooth formant and amplitude movement
    kernel = np.ones(int(0.03 * rate)) / int(0.03 * rate)
    amp = np.convolve(amp, kernel, mode="same")
    formants = np.stack([np.convolve(formants[:, k], kernel, mode="same") for k in range(3)], axis=1)
    t = np.arange(n) / rate
    pitch = f0 * (1 + 0.08 * np.sin(2 * np.pi * 0.35 * t + seed) + 0.03 * np.sin(2 * np.pi * 2.1 * t))
    phase = 2 * np.pi * np.cumsum(pitch) / rate
    voiced = np.zeros(n)
    for h in range(1, 24):
        freq = h * pitch
        gain = sum(np.exp(-((freq - formants[:, k]) / (90 + 40 * k)) ** 2) * (1.0, 0.6, 0.3)[k] for k in range(3))
        voiced += gain * np.sin(h * phase) / h ** 0.5
    noise = np.diff(rng.standard_normal(n + 1)) * hiss
    noise = np.convolve(noise, kernel[: len(kernel) // 6] * 6, mode="same") * 0.5
    signal = voiced * amp + noise
    signal += rng.standard_normal(n) * 0.0015  # room tone, so silence is not digital zero
    return signal / np.abs(signal).max() * 0.6


NARRATIONS = [("narasi-pembuka", 12.0, 1, 200.0), ("narasi-dashat", 14.0, 2, 185.0), ("narasi-kebun", 11.0, 3, 120.0),
              ("narasi-pemberdayaan", 13.0, 4, 205.0), ("narasi-penutup", 9.0, 5, 125.0)]


def make_audio() -> None:
    out_dir = HERE / "audio"
    out_dir.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kbvideo-assets-") as tmp:
        work = Path(tmp)
        write_wav(work / "music.wav", music_bed(), 44100)
        out = out_dir / "musik-latar.mp3"
        run_ffmpeg("-i", "music.wav", "-c:a", "libmp3lame", "-b:a", "48k", "-ar", "44100", "-ac", "2",
                   *BITEXACT, "-id3v2_version", "0", "-write_xing", "1", str(out), cwd=work)
        print(f"{out.relative_to(REPO)}  {out.stat().st_size / 1e6:.2f} MB")
        for name, seconds, seed, f0 in NARRATIONS:
            write_wav(work / f"{name}.wav", narration(seconds, seed, f0), 48000)
            out = out_dir / f"{name}.m4a"
            run_ffmpeg("-i", f"{name}.wav", "-c:a", "aac", "-b:a", "48k", "-ar", "48000", "-ac", "1",
                       *BITEXACT, "-movflags", "+faststart", "-f", "ipod", str(out), cwd=work)
            print(f"{out.relative_to(REPO)}  {out.stat().st_size / 1e6:.2f} MB")


GROUPS = {"clips": make_clips, "stills": make_stills, "audio": make_audio}


def main(argv: list[str]) -> int:
    wanted = argv or list(GROUPS)
    unknown = [w for w in wanted if w not in GROUPS]
    if unknown:
        print(f"unknown group(s): {', '.join(unknown)}; choose from {', '.join(GROUPS)}", file=sys.stderr)
        return 2
    for name in wanted:
        GROUPS[name]()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

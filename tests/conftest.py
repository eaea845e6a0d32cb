"""Shared fixtures: tiny generated media (a few frames, low resolution), made with the bundled ffmpeg.

`make_clip` / `make_image` / `make_tone` write under the test's own tmp folder and return the path.
Files are cached per session by their parameters so each is encoded once.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from kbvideo.media.ffmpeg_bin import ffmpeg_exe


def run_ffmpeg(*args: str) -> None:
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"ffmpeg failed: {' '.join(cmd)}\n{proc.stderr}")


class MediaFactory:
    def __init__(self, root: Path):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def _cached(self, name: str, params: dict, build) -> Path:
        key = hashlib.sha1(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()[:10]
        path = self.root / f"{key}-{name}"
        if not path.exists():
            tmp = path.with_name("tmp-" + path.name)
            build(tmp)
            tmp.rename(path)
        return path

    def clip(
        self,
        name: str = "clip.mp4",
        *,
        size: str = "160x90",
        fps: str = "30",
        seconds: float = 1.0,
        audio: bool = True,
        sample_rate: int = 48000,
        channels: int = 2,
        rotate: int | None = None,
        pix_fmt: str = "yuv420p",
        source: str = "testsrc2",
        vcodec: str = "libx264",
        extra: tuple[str, ...] = (),
        color: str | None = None,
        tone: int = 440,
    ) -> Path:
        """An H.264/AAC clip from a lavfi source. rotate=90 stores a display matrix (portrait phone)."""
        params = dict(locals())
        params.pop("self")

        def build(out: Path) -> None:
            vsrc = f"color=c={color}:s={size}:r={fps}" if color else f"{source}=s={size}:r={fps}"
            args = ["-f", "lavfi", "-i", vsrc]
            if audio:
                args += ["-f", "lavfi", "-i", f"sine=frequency={tone}:sample_rate={sample_rate}"]
            args += ["-t", str(seconds), "-map", "0:v"]
            if audio:
                args += ["-map", "1:a", "-c:a", "aac", "-ar", str(sample_rate), "-ac", str(channels)]
            args += ["-c:v", vcodec, "-pix_fmt", pix_fmt, *extra]
            if rotate is not None:
                tmp = out.with_name("norot-" + out.name)
                run_ffmpeg(*args, "-f", "mp4", str(tmp))
                run_ffmpeg("-display_rotation", str(rotate), "-i", str(tmp), "-c", "copy", "-f", "mp4", str(out))
                tmp.unlink()
            else:
                run_ffmpeg(*args, "-f", Path(name).suffix.lstrip(".").replace("mkv", "matroska") or "mp4", str(out))

        return self._cached(name, params, build)

    def image(self, name: str = "still.png", *, size=(64, 48), color=(200, 30, 30, 255), mode="RGB",
              exif_orientation: int | None = None) -> Path:
        params = dict(name=name, size=size, color=color, mode=mode, exif=exif_orientation)

        def build(out: Path) -> None:
            from PIL import Image

            img = Image.new(mode, size, color if mode != "RGB" else color[:3])
            fmt = "JPEG" if name.lower().endswith((".jpg", ".jpeg")) else "PNG"
            if exif_orientation:
                exif = Image.Exif()
                exif[0x0112] = exif_orientation
                img.save(out, format=fmt, exif=exif.tobytes())
            else:
                img.save(out, format=fmt)

        return self._cached(name, params, build)

    def tone(self, name: str = "tone.m4a", *, seconds: float = 1.0, freq: int = 440, sample_rate: int = 48000,
             channels: int = 2, volume_db: float = -12.0) -> Path:
        params = dict(name=name, seconds=seconds, freq=freq, sr=sample_rate, ch=channels, vol=volume_db)

        def build(out: Path) -> None:
            codec = {".m4a": "aac", ".mp3": "libmp3lame", ".wav": "pcm_s16le"}[Path(name).suffix]
            fmt = {".m4a": "ipod", ".mp3": "mp3", ".wav": "wav"}[Path(name).suffix]
            run_ffmpeg("-f", "lavfi", "-i", f"sine=frequency={freq}:sample_rate={sample_rate}", "-t", str(seconds),
                       "-af", f"volume={volume_db}dB", "-ac", str(channels), "-c:a", codec, "-f", fmt, str(out))

        return self._cached(name, params, build)


@pytest.fixture(scope="session")
def media(tmp_path_factory) -> MediaFactory:
    """Session-wide factory of tiny media files (cached by parameters)."""
    return MediaFactory(tmp_path_factory.mktemp("media"))


@pytest.fixture
def project(tmp_path) -> Path:
    """An empty project folder with storyboards/ and assets/ (the layout kbvideo expects)."""
    (tmp_path / "storyboards").mkdir()
    (tmp_path / "assets").mkdir()
    return tmp_path


def copy_into(src: Path, dest_dir: Path, name: str | None = None) -> Path:
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / (name or src.name.split("-", 1)[-1])
    shutil.copyfile(src, dest)
    return dest


@pytest.fixture(autouse=True)
def _english_messages(monkeypatch):
    """Tests read English messages unless they ask for another language (a developer's LANG=id_ID must not
    change them); tests of Indonesian pass --lang id or their own KBVIDEO_LANG."""
    monkeypatch.setenv("KBVIDEO_LANG", "en")


def write_dedented(path: Path, text: str) -> Path:
    """Write a YAML snippet written indented inside a test (its folder made as needed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def write_storyboard(project: Path, text: str, name: str = "uji.yaml") -> Path:
    """A storyboard snippet as PROJECT/storyboards/NAME."""
    return write_dedented(project / "storyboards" / name, text)


def flash_and_beep_times(path) -> tuple[float, float]:
    """(first frame brighter than mid-grey, first sample louder than 0.05) in seconds of the output."""
    import av
    import numpy as np

    with av.open(str(path)) as container:
        flash = next(float(f.pts * f.time_base) for f in container.decode(video=0)
                     if f.to_ndarray(format="gray").mean() > 100)
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            loud = np.nonzero(np.abs(frame.to_ndarray()[0]) > 0.05)[0]
            if len(loud):
                return flash, float(frame.pts * frame.time_base) + loud[0] / frame.sample_rate
    raise AssertionError("no beep in the output")

"""Fake MediaInfo objects, so the resolver is tested without any media file (probe before resolve)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from kbvideo.media.probe import AudioStream, MediaInfo, VideoStream


def video_info(path, seconds: float, *, fps=Fraction(30), audio: bool = True, size=(1280, 720), rotation=0) -> MediaInfo:
    width, height = size
    shown = (height, width) if rotation in (90, 270) else (width, height)
    stream = VideoStream(0, "h264", "High", width, height, rotation, shown[0], shown[1], Fraction(fps), False,
                         "yuv420p", 8, "bt709", "bt709", "tv", "progressive", seconds, round(seconds * fps), False)
    sound = (AudioStream(1, "aac", "LC", 48000, 2, "stereo", seconds),) if audio else ()
    return MediaInfo(str(Path(path).resolve()), "video", "mov,mp4,m4a,3gp,3g2,mj2", seconds, 1000, 0, (stream,), sound)


def image_info(path, size=(1200, 800)) -> MediaInfo:
    return MediaInfo(str(Path(path).resolve()), "image", "image2", None, 1000, 0, image_width=size[0],
                     image_height=size[1], exif_orientation=1)


def audio_info(path, seconds: float) -> MediaInfo:
    return MediaInfo(str(Path(path).resolve()), "audio", "mp3", seconds, 1000, 0, (),
                     (AudioStream(0, "mp3", None, 44100, 2, "stereo", seconds),))


def fake_media_for(board, durations: dict[str, float] | None = None, default_seconds: float = 20.0) -> dict[str, MediaInfo]:
    """MediaInfo for every file a parsed storyboard refers to, guessed from the extension."""
    durations = durations or {}
    media = {}
    for path in board.media_paths():
        seconds = durations.get(path.name, default_seconds)
        if path.suffix.lower() in (".jpg", ".jpeg", ".png"):
            media[str(path)] = image_info(path)
        elif path.suffix.lower() in (".mp3", ".m4a", ".wav"):
            media[str(path)] = audio_info(path, seconds)
        else:
            media[str(path)] = video_info(path, seconds)
    return media

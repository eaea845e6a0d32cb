"""What a probe tells about a media file (MediaInfo and its streams), and its JSON form for the cache.

The model only: kbvideo.media.probe fills it, kbvideo.media.cache stores it, and the stages after the
probe (resolve, render, check) read it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from fractions import Fraction

# kbvideo marks a render whose narration is still the scratch voice in the file's comment tag:
# "kbvideo:scratch-narration=s01,s03" (the scenes). The probe reads it into extra["scratch_narration"].
SCRATCH_TAG = "kbvideo:scratch-narration="


@dataclass(frozen=True, slots=True)
class VideoStream:
    index: int
    codec: str  # "h264", "hevc", "png", "mjpeg", ...
    profile: str | None  # "High", "Main 10", ...
    width: int  # coded size
    height: int
    rotation: int  # degrees clockwise to display upright: 0, 90, 180, 270 (display matrix)
    display_width: int  # size as shown, rotation applied
    display_height: int
    fps: Fraction | None  # average frame rate
    vfr: bool  # frame durations vary (phone footage)
    pix_fmt: str | None
    bit_depth: int
    color_transfer: str | None  # "bt709", "arib-std-b67" (HLG), "smpte2084" (PQ), ...
    color_primaries: str | None
    color_range: str | None  # "tv" | "pc"
    field_order: str | None  # "progressive", "tt", ...
    duration: float | None  # seconds, from the stream header
    frames: int | None  # from the header, when known
    is_cover_art: bool  # an attached picture, not the video
    sar: Fraction | None = None  # sample (pixel) aspect ratio when not square, else None
    start_time: float | None = None  # seconds, first timestamp of the stream
    color_space: str | None = None  # the YUV matrix: "bt709", "smpte170m" (BT.601), ...; None when not tagged

    @property
    def hdr(self) -> bool:
        return self.color_transfer in ("arib-std-b67", "smpte2084")



@dataclass(frozen=True, slots=True)
class AudioStream:
    index: int
    codec: str
    profile: str | None
    sample_rate: int
    channels: int
    layout: str | None
    duration: float | None
    start_time: float | None = None  # seconds; AAC priming makes this slightly negative or zero



@dataclass(frozen=True, slots=True)
class MediaInfo:
    path: str  # absolute
    kind: str  # "video" | "image" | "audio"
    format_name: str  # container, e.g. "mov,mp4,m4a,3gp,3g2,mj2", "image2", "mp3"
    duration: float | None  # container duration in seconds (None for stills)
    size_bytes: int
    mtime_ns: int
    video: tuple[VideoStream, ...] = ()
    audio: tuple[AudioStream, ...] = ()
    # stills: size as displayed (EXIF orientation applied), orientation tag 1..8, alpha channel
    image_width: int | None = None
    image_height: int | None = None
    exif_orientation: int | None = None
    has_alpha: bool = False
    faststart: bool | None = None  # MP4/MOV: moov before mdat
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def main_video(self) -> VideoStream | None:
        """The first video stream that is not cover art."""
        return next((v for v in self.video if not v.is_cover_art), None)

    @property
    def has_audio(self) -> bool:
        return bool(self.audio)

    @property
    def display_size(self) -> tuple[int, int] | None:
        if self.kind == "image":
            return (self.image_width or 0, self.image_height or 0)
        v = self.main_video
        return (v.display_width, v.display_height) if v else None

    def to_dict(self) -> dict:
        """JSON-ready dict; Fractions become "num/den" strings."""
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name not in ("video", "audio")}
        data["video"] = [_stream_to_dict(v) for v in self.video]
        data["audio"] = [_stream_to_dict(a) for a in self.audio]
        data["extra"] = dict(self.extra)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> MediaInfo:
        """Inverse of to_dict(); keys this version does not know are ignored."""
        names = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in names}
        values["video"] = tuple(_stream_from_dict(VideoStream, v) for v in data.get("video", ()))
        values["audio"] = tuple(_stream_from_dict(AudioStream, a) for a in data.get("audio", ()))
        values["extra"] = dict(data.get("extra") or {})
        return cls(**values)


# --- MediaInfo ⇄ dict (the cache's format) -----------------------------------------------------

def _to_json_value(value):
    if isinstance(value, Fraction):
        return f"{value.numerator}/{value.denominator}"
    return value


def _stream_to_dict(stream) -> dict:
    return {f.name: _to_json_value(getattr(stream, f.name)) for f in dataclasses.fields(stream)}


def _stream_from_dict(cls, data: dict):
    names = {f.name for f in dataclasses.fields(cls)}
    values = {k: v for k, v in data.items() if k in names}
    for key in ("fps", "sar"):
        if isinstance(values.get(key), str):
            values[key] = Fraction(values[key])
    return cls(**values)

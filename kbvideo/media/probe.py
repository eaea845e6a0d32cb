"""Probe media files with PyAV (imageio-ffmpeg ships no ffprobe).

CONTRACT (other stages rely on these names; the implementation below may grow, not rename):

    probe(path) -> MediaInfo                   raises MediaError naming the file
    probe_all(paths, cache=None) -> dict[str, MediaInfo]   each file probed once
    ProbeCache(folder): on-disk JSON cache keyed by (absolute path, size, mtime_ns)
    MediaInfo.to_dict() / MediaInfo.from_dict() round-trip (used by the cache)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction


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

"""What the renderer needs to know about a source, from MediaInfo (kbvideo.media.probe) when given
or probed, with a minimal PyAV fallback while the probe module is not importable."""

from __future__ import annotations

import os
from dataclasses import dataclass

from kbvideo.errors import MediaError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff", ".heic")


@dataclass(frozen=True, slots=True)
class SourceFacts:
    path: str
    kind: str  # video | image | audio
    display: tuple[int, int] | None
    has_audio: bool
    channels: int | None
    hdr: bool
    size_bytes: int
    mtime_ns: int

    @property
    def identity(self) -> tuple[int, int]:
        return (self.size_bytes, self.mtime_ns)


def from_media_info(info) -> SourceFacts:
    video = info.main_video
    st = os.stat(info.path)
    return SourceFacts(info.path, info.kind, info.display_size, bool(info.audio),
                       info.audio[0].channels if info.audio else None, bool(video and video.hdr),
                       st.st_size, st.st_mtime_ns)


def _fallback(path: str) -> SourceFacts:
    import av

    st = os.stat(path)
    if path.lower().endswith(IMAGE_SUFFIXES):
        return SourceFacts(path, "image", None, False, None, False, st.st_size, st.st_mtime_ns)
    try:
        with av.open(path) as container:
            video = next((s for s in container.streams.video
                          if not (s.disposition & av.stream.Disposition.attached_pic)), None)
            audio = container.streams.audio[0] if container.streams.audio else None
            display = None
            hdr = False
            if video is not None:
                w, h = video.codec_context.width, video.codec_context.height
                rotation = 0
                for frame in container.decode(video):
                    rotation = int(round(getattr(frame, "rotation", 0) or 0)) % 180
                    hdr = getattr(frame, "color_trc", None) in (16, 18)  # SMPTE2084, ARIB STD-B67
                    break
                display = (h, w) if rotation == 90 else (w, h)
            return SourceFacts(path, "video" if video else "audio", display, audio is not None,
                               audio.codec_context.channels if audio else None, hdr, st.st_size, st.st_mtime_ns)
    except av.FFmpegError as exc:
        raise MediaError(path, f"cannot read media: {exc}", "re-export the file") from exc


def source_facts(paths, media: dict | None = None) -> dict[str, SourceFacts]:
    out: dict[str, SourceFacts] = {}
    missing = [p for p in paths if not (media and p in media)]
    for path in paths:
        if not os.path.exists(path):
            raise MediaError(path, "file not found", "check the path in the storyboard")
    probed: dict = {}
    if missing:
        try:
            from kbvideo.media.probe import probe_all
        except ImportError:
            probe_all = None
        if probe_all is not None:
            probed = probe_all(missing)
    for path in paths:
        info = (media or {}).get(path) or probed.get(path)
        out[path] = from_media_info(info) if info is not None else _fallback(path)
    return out

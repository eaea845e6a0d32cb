"""What the renderer needs to know about a source, from MediaInfo (kbvideo.media.probe): given by
the caller (the plan already probed everything), else probed here through the same cache-less probe."""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction

from kbvideo.errors import MediaError
from kbvideo.media.probe import probe_all
from kbvideo.i18n import _



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
    sar: Fraction | None = None  # pixel aspect when not square; `display` already has it applied
    # setparams for what the file does not say of its colours ("colorspace=bt709:range=tv"), "" when tagged
    assume_colors: str = ""

    @property
    def identity(self) -> tuple[int, int]:
        return (self.size_bytes, self.mtime_ns)


def assumed_colors(video) -> str:
    """What to assume of an untagged video's YUV matrix and range, as `setparams` options: BT.709 for HD
    (720 lines and more), BT.601 below, limited range; as players do. Without it ffmpeg's filters treat
    the matrix as unknown and convert every frame through RGB (as BT.601) when it meets tagged pictures:
    a colour shift on HD footage and most of a draft's filtering time."""
    if video is None or video.hdr:
        return ""
    out = []
    if not video.color_space:
        out.append("colorspace=" + ("bt709" if min(video.width, video.height) >= 720 else "smpte170m"))
    if not video.color_range:
        out.append("range=tv")
    return ":".join(out)


def from_media_info(info) -> SourceFacts:
    video = info.main_video
    st = os.stat(info.path)
    display, sar = info.display_size, getattr(video, "sar", None) if video else None
    if display and sar:  # the stored width is stretched by the pixel aspect (after rotation: the height)
        w, h = display
        display = (w, round(h * sar)) if video.rotation in (90, 270) else (round(w * sar), h)
    return SourceFacts(info.path, info.kind, display, bool(info.audio),
                       info.audio[0].channels if info.audio else None, bool(video and video.hdr),
                       st.st_size, st.st_mtime_ns, sar, assumed_colors(video) if info.kind == "video" else "")


def source_facts(paths, media: dict | None = None) -> dict[str, SourceFacts]:
    out: dict[str, SourceFacts] = {}
    missing = [p for p in paths if not (media and p in media)]
    for path in paths:
        if not os.path.exists(path):
            raise MediaError(path, _("file not found"), _("check the path in the storyboard"))
    probed = probe_all(missing) if missing else {}
    for path in paths:
        info = (media or {}).get(path) or probed[path]
        out[path] = from_media_info(info)
    return out

"""Probe media files with PyAV (imageio-ffmpeg ships no ffprobe) and stills with Pillow.

CONTRACT (other stages rely on these names; the implementation below may grow, not rename):

    probe(path) -> MediaInfo                   raises MediaError naming the file
    probe_all(paths, cache=None, *, errors=None) -> dict[str, MediaInfo]
        each file probed once; keys are the paths as given; with errors={} failures are collected
    kbvideo.media.cache.ProbeCache(folder): on-disk JSON cache keyed by (absolute path, size, mtime_ns)
    MediaInfo.to_dict() / MediaInfo.from_dict() round-trip (used by the cache)

How fields are found: rotation from the MP4 track header's display matrix (else from the first
decoded frame); VFR from the steps between frame times (the MP4 index, else demuxed packets);
truncation from MP4 box sizes and the index's reach, else by demuxing every packet and comparing
the last one's end with the header's duration. Nothing is decoded except, outside MP4/MOV, one frame.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from kbvideo.errors import MediaError
from kbvideo.i18n import _
from kbvideo.media.info import SCRATCH_TAG, AudioStream, MediaInfo, VideoStream
from kbvideo.media.mp4 import HINT_COPY_AGAIN, MOV_TOP_LEVEL, check_mov_boxes, mov_boxes, mov_rotations, open_readable
from kbvideo.media.streams import (
    ATTACHED_PIC,
    audio_stream,
    check_complete,
    clockwise,
    first_frame_rotation,
    scan_index,
    scan_packets,
    video_stream,
)

if TYPE_CHECKING:  # the cache stores MediaInfo, so it imports this module, not the other way round
    from kbvideo.media.cache import ProbeCache

__all__ = ["PROBE_VERSION", "AudioStream", "MediaInfo", "VideoStream", "probe", "probe_all"]

# PyAV and Pillow are imported inside the functions that need them, so a run served from the cache
# opens no media and does not pay for importing them.

PROBE_VERSION = 3  # bump when MediaInfo's meaning changes: old cache entries are then ignored

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff"}
UNSUPPORTED_IMAGE_SUFFIXES = {".heic", ".heif", ".avif"}


# --- probe ------------------------------------------------------------------------------------

def probe(path: str | os.PathLike) -> MediaInfo:
    """Open one media file and describe it. Raises MediaError naming the file for anything unusable."""
    name = str(path)
    st = _stat_media(name)
    absolute = os.path.abspath(name)
    with open_readable(name) as handle:
        head = handle.read(32)
    suffix = Path(name).suffix.lower()
    if suffix in UNSUPPORTED_IMAGE_SUFFIXES:
        raise MediaError(name, _("{upper} images are not supported").format(upper=suffix[1:].upper()),
                         _("export the photo as JPEG (most phones: Settings → Camera → Formats → Most Compatible)"))
    if suffix in IMAGE_SUFFIXES or _looks_like_image(head):
        return _probe_still(name, absolute, st)
    return _probe_av(name, absolute, st, head)


def _stat_media(name: str) -> os.stat_result:
    try:
        st = os.stat(name)
    except FileNotFoundError:
        raise MediaError(name, _("file not found"), _("check the spelling and that the path is relative to the storyboard's folder")) from None
    except PermissionError:
        raise MediaError(name, _("cannot be read (permission denied)"), _("fix the file's permissions")) from None
    except OSError as exc:
        raise MediaError(name, _("cannot be read ({value})").format(value=exc.strerror or exc)) from None
    if stat.S_ISDIR(st.st_mode):
        raise MediaError(name, _("is a folder, not a media file"), _("name a file inside it"))
    if not stat.S_ISREG(st.st_mode):
        raise MediaError(name, _("is not a regular file"))
    if st.st_size == 0:
        raise MediaError(name, _("file is empty (0 bytes)"), _(HINT_COPY_AGAIN))
    return st


def _looks_like_image(head: bytes) -> bool:
    return (head.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"BM", b"II*\x00", b"MM\x00*"))
            or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"))


# --- stills (Pillow) --------------------------------------------------------------------------

def _probe_still(name: str, absolute: str, st: os.stat_result) -> MediaInfo:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(name) as img:
            width, height = img.size
            fmt = (img.format or "image").lower()
            mode = img.mode
            has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info
            try:
                orientation = img.getexif().get(0x0112)
            except Exception:  # a damaged EXIF block does not make the picture unusable
                orientation = None
            frames = getattr(img, "n_frames", 1)
            if fmt == "jpeg":
                img.draft(img.mode, (max(1, width // 8), max(1, height // 8)))  # decode at 1/8: fast, still catches truncation
            img.load()
    except Image.DecompressionBombError as exc:
        raise MediaError(name, _("image is too large to open safely ({exc})").format(exc=exc),
                         _("resize it to at most a few thousand pixels on its long side")) from None
    except UnidentifiedImageError:
        raise MediaError(name, _("is not an image Pillow can read"), _("save it again as JPEG or PNG")) from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise MediaError(name, _("image is damaged or truncated ({exc})").format(exc=exc), _(HINT_COPY_AGAIN), reason="truncated") from None
    if orientation not in range(1, 9):
        orientation = None
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    extra = {"mode": mode}
    if frames > 1:
        extra["frames"] = frames
    return MediaInfo(absolute, "image", fmt, None, st.st_size, st.st_mtime_ns, image_width=width,
                     image_height=height, exif_orientation=orientation, has_alpha=has_alpha, extra=extra)


# --- audio/video (PyAV) -----------------------------------------------------------------------

def _probe_av(name: str, absolute: str, st: os.stat_result, head: bytes) -> MediaInfo:
    import av

    boxes = mov_boxes(name, st.st_size) if head[4:8] in MOV_TOP_LEVEL else None
    faststart = check_mov_boxes(name, boxes, st.st_size) if boxes else None
    try:
        container = av.open(name, metadata_errors="ignore")
    except av.error.FFmpegError as exc:
        raise _open_error(name, exc) from None
    with container:
        rotations = mov_rotations(name, boxes) if boxes else {}
        # A whole MP4/MOV index (not fragmented) lists every packet: read it instead of the data.
        from_index = bool(boxes) and not any(kind == b"moof" for kind, _, _ in boxes)
        return _describe(name, absolute, st, container, faststart, rotations, from_index)


def _open_error(name: str, exc) -> MediaError:
    import av

    if isinstance(exc, av.error.InvalidDataError):
        return MediaError(name, _("is not a media file ffmpeg can read (no audio or video found)"),
                          _("check that it is really a video, photo or sound file; renaming a file does not convert it"))
    if isinstance(exc, av.error.PermissionError):
        return MediaError(name, _("cannot be read (permission denied)"), _("fix the file's permissions"))
    return MediaError(name, _("cannot be opened: {value}").format(value=getattr(exc, 'strerror', None) or exc))


def _describe(name, absolute, st, container, faststart, rotations: dict[int, float], from_index: bool) -> MediaInfo:
    video_streams = list(container.streams.video)
    audio_streams = list(container.streams.audio)
    streams = [*video_streams, *audio_streams]
    if not streams:
        raise MediaError(name, _("contains no audio or video stream"), _("use a video, photo or sound file"))
    for stream in streams:
        if stream.codec_context is None:  # ffmpeg found a stream but no decoder for it: damaged or exotic
            raise MediaError(name, _("stream #{index} cannot be decoded (damaged, or a codec ffmpeg does not know)").format(index=stream.index),
                             HINT_COPY_AGAIN)
    cover = {s.index for s in video_streams if int(s.disposition) & ATTACHED_PIC}
    main = next((s for s in video_streams if s.index not in cover), None)
    known_rotation = None
    if main is not None:
        main.codec_context.thread_count = 1  # one frame at most: thread start-up would cost more than decoding
        if main.id in rotations:
            known_rotation = clockwise(rotations[main.id])
    scans = scan_index(name, streams, st.st_size, main.index if main is not None else -1) if from_index else None
    if scans is None:
        scans, decoded_rotation = scan_packets(name, container, streams, main, known_rotation is None)
    else:
        decoded_rotation = None
        if main is not None and known_rotation is None:
            decoded_rotation = first_frame_rotation(container, main)
    rotation = known_rotation if known_rotation is not None else decoded_rotation
    duration = container.duration / 1_000_000 if container.duration else None
    video = tuple(video_stream(s, scans[s.index], s.index in cover, (rotation or 0) if s is main else 0)
                  for s in video_streams)
    audio = tuple(audio_stream(s, scans[s.index]) for s in audio_streams)
    check_complete(name, duration, video, audio, scans)
    extra = {}
    comment = str(container.metadata.get("comment") or "")
    if comment.startswith(SCRATCH_TAG):  # a kbvideo render still narrated by the scratch voice
        extra["scratch_narration"] = [s for s in comment[len(SCRATCH_TAG):].split(",") if s]
    if main is not None and rotation is None:
        extra["decode_error"] = "no video frame could be decoded; rotation assumed 0"
    return MediaInfo(absolute, "video" if main is not None else "audio", container.format.name, duration,
                     st.st_size, st.st_mtime_ns, video, audio, faststart=faststart, extra=extra)


# --- probe_all ------------------------------------------------------------------------------------

def probe_all(paths, cache: ProbeCache | None = None, *, errors: dict | None = None) -> dict[str, MediaInfo]:
    """Probe each distinct file once (spellings of one file share a result); keys are the paths as given.

    A failing file raises its MediaError, unless `errors` is a dict: failures are then stored there
    (path as given → MediaError) and the other files are still probed.
    """
    results: dict[str, MediaInfo] = {}
    by_file: dict[str, MediaInfo | MediaError] = {}
    for path in paths:
        key = str(path)
        absolute = os.path.abspath(key)
        if absolute not in by_file:
            info = cache.get(absolute) if cache is not None else None
            if info is None:
                try:
                    info = probe(key)
                except MediaError as exc:
                    by_file[absolute] = exc
                except (AssertionError, MemoryError):  # our own bugs and exhaustion are not the file's fault
                    raise
                except Exception as exc:  # noqa: BLE001 - a hostile file must give a message, not a traceback
                    by_file[absolute] = MediaError(key, _("cannot be read ({kind}: {exc})").format(kind=type(exc).__name__, exc=str(exc)[:200]),
                                                   HINT_COPY_AGAIN)
                else:
                    if cache is not None:
                        cache.put(info)
            if info is not None:
                by_file[absolute] = info
        found = by_file[absolute]
        if isinstance(found, MediaError):
            if errors is None:
                raise found
            errors[key] = found
        else:
            results[key] = found
    return results

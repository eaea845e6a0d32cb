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

import dataclasses
import os
import stat
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

from kbvideo.errors import MediaError
from kbvideo.media.mp4 import (
    HINT_COPY_AGAIN,
    MOV_TOP_LEVEL,
    check_mov_boxes,
    megabytes,
    mov_boxes,
    mov_rotations,
    open_readable,
)
from kbvideo.i18n import _

if TYPE_CHECKING:  # the cache stores MediaInfo, so it imports this module, not the other way round
    from kbvideo.media.cache import ProbeCache


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


# ---------------------------------------------------------------------------------------------
# Implementation. PyAV and Pillow are imported inside the functions that need them, so a run served
# from the cache opens no media and does not pay for importing them.

PROBE_VERSION = 2  # bump when MediaInfo's meaning changes: old cache entries are then ignored

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff"}
UNSUPPORTED_IMAGE_SUFFIXES = {".heic", ".heif", ".avif"}
SIZE_CHECK_INDEX_LIMIT = 2_000_000  # index entries looked at when checking an MP4 index against the file size

# FFmpeg's enum values (libavutil/pixfmt.h, libavcodec/defs.h) → the names ffmpeg prints.
COLOR_TRANSFERS = {1: "bt709", 4: "bt470m", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m", 8: "linear",
                   9: "log100", 10: "log316", 11: "iec61966-2-4", 12: "bt1361e", 13: "iec61966-2-1",
                   14: "bt2020-10", 15: "bt2020-12", 16: "smpte2084", 17: "smpte428", 18: "arib-std-b67"}
COLOR_PRIMARIES = {1: "bt709", 4: "bt470m", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m", 8: "film",
                   9: "bt2020", 10: "smpte428", 11: "smpte431", 12: "smpte432", 22: "ebu3213"}
COLOR_RANGES = {1: "tv", 2: "pc"}
FIELD_ORDERS = {1: "progressive", 2: "tt", 3: "bb", 4: "tb", 5: "bt"}
ATTACHED_PIC = 0x0400  # AV_DISPOSITION_ATTACHED_PIC



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


class _StreamScan:
    """What the packets of one stream tell: real start and end, packet count, frame timing.

    Timestamps stay integers in the stream's time base while scanning (Fractions per packet are slow).
    """

    __slots__ = ("time_base", "first_tick", "end_tick", "packets", "stamps")

    def __init__(self, time_base):
        self.time_base = Fraction(time_base) if time_base else Fraction(1, 1_000_000)
        self.first_tick: int | None = None
        self.end_tick: int | None = None
        self.packets = 0
        self.stamps: list[int] = []

    @property
    def first(self) -> Fraction | None:
        return None if self.first_tick is None else self.first_tick * self.time_base

    @property
    def end(self) -> Fraction | None:
        return None if self.end_tick is None else self.end_tick * self.time_base


MAX_STAMPS = 20_000  # frame times kept for the VFR test (about 11 minutes at 30 fps)


def _clockwise(ccw_degrees: float) -> int:
    """ffmpeg's counter-clockwise display rotation → degrees clockwise to show upright, one of 0/90/180/270."""
    return (-round(ccw_degrees / 90) * 90) % 360


def _scan_index(name: str, streams, file_size: int, main_index: int) -> dict[int, _StreamScan] | None:
    """Scan an MP4/MOV index without reading the media data. None when a stream has no index.

    Index timestamps are decode times; in MP4 their steps are the sample durations (stts), so they
    show VFR as well as presentation times do. Data the index places past the end of the file means
    the file was cut.
    """
    scans: dict[int, _StreamScan] = {}
    for stream in streams:
        entries = stream.index_entries
        if not entries:
            return None
        scan = _StreamScan(stream.time_base)
        stamps = [entry.timestamp for entry in entries]
        reach = max(entry.pos + entry.size for entry in entries)
        if reach > file_size:
            raise MediaError(name, _("file is truncated: it is {megabytes} but its index places data up to {megabytes2}").format(megabytes=megabytes(file_size), megabytes2=megabytes(reach)), _(HINT_COPY_AGAIN), reason="truncated")
        scan.packets = len(stamps)
        scan.first_tick = min(stamps)
        step = stamps[-1] - stamps[-2] if len(stamps) > 1 else 0
        scan.end_tick = max(stamps) + step
        if stream.index == main_index:
            scan.stamps = stamps[:MAX_STAMPS]
        scans[stream.index] = scan
    return scans


def _scan_packets(name: str, container, streams, main, want_rotation: bool = True) -> tuple[dict[int, _StreamScan], int | None]:
    """Demux (not decode) every packet, keeping the main stream's frame times; decode only the first
    video frame when its rotation is wanted."""
    import av

    scans = {s.index: _StreamScan(s.time_base) for s in streams}
    main_index = main.index if main is not None else -1
    rotation = None if want_rotation else 0
    try:
        for packet in container.demux(*streams):
            scan = scans.get(packet.stream_index)
            if scan is None:
                continue
            stamp = packet.pts
            if stamp is None:
                stamp = packet.dts
                if stamp is None:
                    continue
            scan.packets += 1
            if scan.first_tick is None or stamp < scan.first_tick:
                scan.first_tick = stamp
            end = stamp + (packet.duration or 0)
            if scan.end_tick is None or end > scan.end_tick:
                scan.end_tick = end
            if packet.stream_index == main_index:
                if len(scan.stamps) < MAX_STAMPS:
                    scan.stamps.append(stamp)
                if rotation is None:
                    rotation = _rotation_from_frames(main, packet)
    except av.error.FFmpegError as exc:
        raise MediaError(name, _("file is damaged: reading it failed ({exc})").format(exc=exc), _(HINT_COPY_AGAIN)) from None
    if main is not None and rotation is None:
        rotation = _rotation_from_frames(main, None)  # frames held back by the decoder's delay
    return scans, rotation if want_rotation else None


def _rotation_from_frames(stream, packet) -> int | None:
    """Feed one packet (None: flush) to the decoder; the rotation of the first frame out, if any."""
    import av

    try:
        frames = stream.codec_context.decode(packet)
    except av.error.FFmpegError:
        return None
    return _clockwise(frames[0].rotation) if frames else None


def _first_frame_rotation(container, stream) -> int | None:
    """Demux from the start until the decoder gives a frame (used when the index path skipped demuxing)."""
    import av

    try:
        for packet in container.demux(stream):
            rotation = _rotation_from_frames(stream, packet)
            if rotation is not None:
                return rotation
    except av.error.FFmpegError:
        return None
    return _rotation_from_frames(stream, None)


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
            known_rotation = _clockwise(rotations[main.id])
    scans = _scan_index(name, streams, st.st_size, main.index if main is not None else -1) if from_index else None
    if scans is None:
        scans, decoded_rotation = _scan_packets(name, container, streams, main, known_rotation is None)
    else:
        decoded_rotation = None
        if main is not None and known_rotation is None:
            decoded_rotation = _first_frame_rotation(container, main)
    rotation = known_rotation if known_rotation is not None else decoded_rotation
    duration = container.duration / 1_000_000 if container.duration else None
    video = tuple(_video_stream(s, scans[s.index], s.index in cover, (rotation or 0) if s is main else 0)
                  for s in video_streams)
    audio = tuple(_audio_stream(s, scans[s.index]) for s in audio_streams)
    _check_complete(name, duration, video, audio, scans)
    extra = {}
    if main is not None and rotation is None:
        extra["decode_error"] = "no video frame could be decoded; rotation assumed 0"
    return MediaInfo(absolute, "video" if main is not None else "audio", container.format.name, duration,
                     st.st_size, st.st_mtime_ns, video, audio, faststart=faststart, extra=extra)


def _codec_name(cc) -> str:
    codec = cc.codec
    return getattr(codec, "canonical_name", None) or cc.name


def _seconds(value, time_base) -> float | None:
    if value is None or time_base is None:
        return None
    return float(value * time_base)


def _span(stream, scan: _StreamScan) -> tuple[float | None, float | None]:
    """(duration, start) in seconds: the stream header's, else what the packet scan saw."""
    duration = _seconds(stream.duration, stream.time_base)
    if duration is None and scan.end is not None:
        duration = float(scan.end - (scan.first or 0))
    start = _seconds(stream.start_time, stream.time_base)
    if start is None and scan.first is not None:
        start = float(scan.first)
    return duration, start


def _video_stream(stream, scan: _StreamScan, is_cover: bool, rotation: int) -> VideoStream:
    cc = stream.codec_context
    width, height = cc.width, cc.height
    shown = (height, width) if rotation in (90, 270) else (width, height)
    fmt = cc.format
    bit_depth = max((c.bits for c in fmt.components), default=8) if fmt is not None else 8
    duration, start = _span(stream, scan)
    sar = cc.sample_aspect_ratio
    sar = Fraction(sar) if sar and sar != 1 else None
    fps = stream.average_rate or stream.guessed_rate
    if not is_cover:
        fps = _rate_from_durations(scan, fps)
    return VideoStream(
        index=stream.index,
        codec=_codec_name(cc),
        profile=cc.profile or None,
        width=width,
        height=height,
        rotation=rotation,
        display_width=shown[0],
        display_height=shown[1],
        fps=Fraction(fps) if fps else None,
        vfr=False if is_cover else _is_vfr(scan.stamps),
        pix_fmt=fmt.name if fmt is not None else cc.pix_fmt,
        bit_depth=bit_depth,
        color_transfer=COLOR_TRANSFERS.get(cc.color_trc),
        color_primaries=COLOR_PRIMARIES.get(cc.color_primaries),
        color_range=COLOR_RANGES.get(cc.color_range),
        field_order=FIELD_ORDERS.get(cc.field_order),
        duration=duration,
        frames=stream.frames or scan.packets or None,
        is_cover_art=is_cover,
        sar=sar,
        start_time=start,
    )


def _audio_stream(stream, scan: _StreamScan) -> AudioStream:
    cc = stream.codec_context
    layout = cc.layout
    duration, start = _span(stream, scan)
    return AudioStream(
        index=stream.index,
        codec=_codec_name(cc),
        profile=cc.profile or None,
        sample_rate=cc.sample_rate,
        channels=cc.channels or (layout.nb_channels if layout else 0),
        layout=layout.name if layout else None,
        duration=duration,
        start_time=start,
    )


STANDARD_RATES = tuple(Fraction(r) for r in ("24000/1001", "24", "25", "30000/1001", "30", "48", "50",
                                              "60000/1001", "60", "12", "15", "20", "100", "120"))


def _rate_from_durations(scan: _StreamScan, reported) -> Fraction | None:
    """The frame rate from the stream's time base and its frame durations, when the container's average
    disagrees. ffmpeg averages frames over the stream's span, so one long first frame of a fragmented MP4
    makes a constant 30 fps read 29.842 (189 frames in 190 frame times). Variable-rate footage keeps
    the container's average."""
    reported = Fraction(reported) if reported else None
    ordered = sorted(set(scan.stamps))
    deltas = [b - a for a, b in zip(ordered, ordered[1:])]
    if len(deltas) < 3 or _is_vfr(scan.stamps):
        return reported
    usual = sorted(deltas)[len(deltas) // 2]
    tolerance = 1 if usual >= 20 else 0  # one tick of rounding (33/34 ms at 29.97 fps), when a tick is small
    steady = [d for d in deltas if abs(d - usual) <= tolerance]
    if not steady or usual <= 0:
        return reported
    measured = Fraction(len(steady)) / (sum(steady) * scan.time_base)
    if reported and abs(reported - measured) <= measured / 500:
        return reported  # they agree (within 0.2 %): keep the container's exact fraction
    near = min(STANDARD_RATES, key=lambda rate: abs(rate - measured))
    if abs(near - measured) <= measured / 500:
        return near
    return measured.limit_denominator(1001)


def _is_vfr(stamps: list[int]) -> bool:
    """Frame durations vary: more than one gap between presentation times strays from the usual one."""
    ordered = sorted(set(stamps))
    deltas = [b - a for a, b in zip(ordered, ordered[1:])]
    if len(deltas) < 3:
        return False
    usual = sorted(deltas)[len(deltas) // 2]
    tolerance = max(1.5, usual * 0.05)  # timestamp rounding (33/34 ms for 29.97 fps) is not VFR
    strays = sum(1 for d in deltas if abs(d - usual) > tolerance)
    return strays >= 2


def _check_complete(name, duration, video, audio, scans) -> None:
    """The data must reach the length the header promises (a cut file keeps its full-length header)."""
    for stream in (*video, *audio):
        if getattr(stream, "is_cover_art", False):
            continue
        scan = scans[stream.index]
        claimed = stream.duration
        if scan.end is None:
            raise MediaError(name, _("file is truncated: stream #{index} has no data").format(index=stream.index), _(HINT_COPY_AGAIN), reason="truncated")
        if not claimed:
            continue
        reached = float(scan.end - (scan.first if scan.first is not None and scan.first > 0 else 0))
        if reached < claimed - max(0.5, 0.02 * claimed):
            what = _("video") if stream in video else _("audio")
            raise MediaError(name, _("file is truncated: its header says {claimed:.1f} s but the {what} stops at {reached:.1f} s").format(claimed=claimed, what=what, reached=reached), _(HINT_COPY_AGAIN), reason="truncated")
    reached_any = [float(scans[s.index].end) for s in (*video, *audio)
                   if not getattr(s, "is_cover_art", False) and scans[s.index].end is not None]
    if duration and reached_any and max(reached_any) < duration - max(0.5, 0.02 * duration):
        raise MediaError(name, _("file is truncated: its header says {duration:.1f} s but the data stops at {max:.1f} s").format(duration=duration, max=max(reached_any)), _(HINT_COPY_AGAIN), reason="truncated")


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

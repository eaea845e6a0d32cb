"""What the packets of a container tell about its streams: real start and end, frame timing (VFR and
the true frame rate), rotation from a decoded frame, and whether the data reaches the header's length.

Used by kbvideo.media.probe for audio and video files. PyAV is imported inside the functions that
need it (see probe.py).
"""

from __future__ import annotations

from fractions import Fraction

from kbvideo.errors import MediaError
from kbvideo.i18n import _
from kbvideo.media.info import AudioStream, VideoStream
from kbvideo.media.mp4 import HINT_COPY_AGAIN, megabytes

# FFmpeg's enum values (libavutil/pixfmt.h, libavcodec/defs.h) → the names ffmpeg prints.
COLOR_TRANSFERS = {1: "bt709", 4: "bt470m", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m", 8: "linear",
                   9: "log100", 10: "log316", 11: "iec61966-2-4", 12: "bt1361e", 13: "iec61966-2-1",
                   14: "bt2020-10", 15: "bt2020-12", 16: "smpte2084", 17: "smpte428", 18: "arib-std-b67"}
COLOR_PRIMARIES = {1: "bt709", 4: "bt470m", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m", 8: "film",
                   9: "bt2020", 10: "smpte428", 11: "smpte431", 12: "smpte432", 22: "ebu3213"}
COLOR_RANGES = {1: "tv", 2: "pc"}
COLOR_SPACES = {1: "bt709", 4: "fcc", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m", 8: "ycgco", 9: "bt2020nc",
                10: "bt2020c"}  # the YUV matrix
FIELD_ORDERS = {1: "progressive", 2: "tt", 3: "bb", 4: "tb", 5: "bt"}
ATTACHED_PIC = 0x0400  # AV_DISPOSITION_ATTACHED_PIC


class StreamScan:
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


def clockwise(ccw_degrees: float) -> int:
    """ffmpeg's counter-clockwise display rotation → degrees clockwise to show upright, one of 0/90/180/270."""
    return (-round(ccw_degrees / 90) * 90) % 360


def scan_index(name: str, streams, file_size: int, main_index: int) -> dict[int, StreamScan] | None:
    """Scan an MP4/MOV index without reading the media data. None when a stream has no index.

    Index timestamps are decode times; in MP4 their steps are the sample durations (stts), so they
    show VFR as well as presentation times do. Data the index places past the end of the file means
    the file was cut.
    """
    scans: dict[int, StreamScan] = {}
    for stream in streams:
        entries = stream.index_entries
        if not entries:
            return None
        scan = StreamScan(stream.time_base)
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


def scan_packets(name: str, container, streams, main, want_rotation: bool = True) -> tuple[dict[int, StreamScan], int | None]:
    """Demux (not decode) every packet, keeping the main stream's frame times; decode only the first
    video frame when its rotation is wanted."""
    import av

    scans = {s.index: StreamScan(s.time_base) for s in streams}
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
    return clockwise(frames[0].rotation) if frames else None


def first_frame_rotation(container, stream) -> int | None:
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


# --- streams → VideoStream / AudioStream ----------------------------------------------------

def _codec_name(cc) -> str:
    codec = cc.codec
    return getattr(codec, "canonical_name", None) or cc.name


def _seconds(value, time_base) -> float | None:
    if value is None or time_base is None:
        return None
    return float(value * time_base)


def _span(stream, scan: StreamScan) -> tuple[float | None, float | None]:
    """(duration, start) in seconds: the stream header's, else what the packet scan saw."""
    duration = _seconds(stream.duration, stream.time_base)
    if duration is None and scan.end is not None:
        duration = float(scan.end - (scan.first or 0))
    start = _seconds(stream.start_time, stream.time_base)
    if start is None and scan.first is not None:
        start = float(scan.first)
    return duration, start


def video_stream(stream, scan: StreamScan, is_cover: bool, rotation: int) -> VideoStream:
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
        color_space=COLOR_SPACES.get(cc.colorspace),
        field_order=FIELD_ORDERS.get(cc.field_order),
        duration=duration,
        frames=stream.frames or scan.packets or None,
        is_cover_art=is_cover,
        sar=sar,
        start_time=start,
    )


def audio_stream(stream, scan: StreamScan) -> AudioStream:
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


def _rate_from_durations(scan: StreamScan, reported) -> Fraction | None:
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


def check_complete(name, duration, video, audio, scans) -> None:
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

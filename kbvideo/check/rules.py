"""Rules applied to a finished video file. Pure: (MediaInfo, Analysis | None, RulesProfile) -> findings.

Every finding names the measured value and the limit; `values` holds them for scripts
({"measured": 180.04, "limit": 180.0, ...}). Rule ids are stable (see RULE_IDS).
"""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

from kbvideo.check.analyze import Analysis, Interval
from kbvideo.media.probe import MediaInfo, VideoStream
from kbvideo.rules.findings import Finding
from kbvideo.rules.profile import RulesProfile
from kbvideo.timecode import format_fps, format_seconds

RULE_IDS = (
    "file.readable", "file.truncated", "file.decode_errors",
    "duration.max", "duration.min", "duration.streams",
    "video.codec", "video.profile", "video.pix_fmt", "video.resolution", "video.fps", "video.vfr",
    "video.interlaced", "video.hdr_tags", "video.cover_art",
    "audio.present", "audio.codec", "audio.sample_rate", "audio.channels", "audio.streams",
    "audio.loudness", "audio.true_peak", "audio.loudness_range",
    "content.black_start", "content.black_end", "content.silence_start", "content.silence_end", "content.freeze",
    "delivery.container", "delivery.faststart", "delivery.file_size",
)

EPSILON = 1e-6
STREAMS_WARN = 0.2  # seconds between video and audio ends before it is worth a word
STREAMS_ERROR = 1.0  # ... and before it is a broken file (a killed render: 40 s of audio under 13 s of video)
FPS_TOLERANCE = 0.01
PROGRESSIVE = (None, "", "progressive", "unknown")


def clock(seconds: float | Fraction) -> str:
    """180.04 -> '3:00.040' (milliseconds: findings are exact to the frame)."""
    return format_seconds(seconds, 3)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def playing_duration(info: MediaInfo, analysis: Analysis | None) -> float | None:
    """How long the file plays: the decoded streams' ends after a full decode, else the header's duration."""
    if analysis is not None and analysis.video_decoded:
        ends = [analysis.video_end or 0.0]
        if analysis.audio_decoded and analysis.audio_end is not None:
            ends.append(analysis.audio_end)
        return max(ends)
    if info.duration is not None:
        return info.duration
    ends = [e for e in (_header_video_duration(info), _audio_end(info, None)) if e is not None]
    return max(ends) if ends else None


def _header_video_duration(info: MediaInfo) -> float | None:
    video = info.main_video
    if video is None:
        return None
    return video.duration if video.duration is not None else info.duration


def _video_end(info: MediaInfo, analysis: Analysis | None) -> float | None:
    if analysis is not None and analysis.video_decoded and analysis.video_end is not None:
        return analysis.video_end
    return _header_video_duration(info)


def _audio_end(info: MediaInfo, analysis: Analysis | None) -> float | None:
    if analysis is not None and analysis.audio_decoded and analysis.audio_end is not None:
        return analysis.audio_end
    if not info.audio:
        return None
    return info.audio[0].duration if info.audio[0].duration is not None else info.duration


def check_media(info: MediaInfo, analysis: Analysis | None, profile: RulesProfile) -> list[Finding]:
    """All findings for one probed (and, unless --quick, fully decoded) file."""
    video = info.main_video
    if video is None:
        what = "an image" if info.kind == "image" else "audio only" if info.audio else "no streams"
        return [Finding("file.readable", "error", f"not a video: {what} ({info.format_name})",
                        {"measured": info.kind, "limit": "video"})]
    findings: list[Finding] = []
    findings += _file_findings(info, analysis)
    findings += _duration_findings(info, analysis, profile)
    findings += _video_findings(info, video, analysis, profile)
    findings += _audio_findings(info, analysis, profile)
    if analysis is not None:
        findings += _content_findings(info, analysis, profile)
    findings += _delivery_findings(info, profile)
    if any(f.rule == "file.truncated" for f in findings):  # unequal streams are then a symptom, not news
        findings = [f for f in findings if f.rule != "duration.streams"]
    return findings


# ---------------------------------------------------------------------------------------------- file


def _file_findings(info: MediaInfo, analysis: Analysis | None) -> list[Finding]:
    if analysis is None:
        return []
    out: list[Finding] = []
    video = info.main_video
    fps = float(video.fps) if video and video.fps else None
    truncated = False
    checks = []
    if analysis.video_decoded and analysis.video_end is not None:
        checks.append(("video", analysis.video_end, _header_video_duration(info)))
    elif analysis.video_decoded and analysis.video_frames == 0:
        checks.append(("video", 0.0, _header_video_duration(info)))
    if analysis.audio_decoded and info.audio:
        header = info.audio[0].duration if info.audio[0].duration is not None else info.duration
        checks.append(("audio", analysis.audio_end or 0.0, header))
    for kind, decoded, header in checks:
        if header is None:
            continue
        tolerance = max(0.1, 2 / fps) if fps else 0.1
        missing = header - decoded
        if missing > tolerance:
            truncated = True
            out.append(Finding(
                "file.truncated", "error",
                f"{kind} decodes to {clock(decoded)} of the {clock(header)} its header claims "
                f"({missing:.3f} s missing): the file is cut short (an interrupted copy or render)",
                {"stream": kind, "measured": round(decoded, 3), "limit": round(header, 3), "missing": round(missing, 3)}))
    if analysis.errors and not truncated:
        out.append(Finding("file.decode_errors", "warning",
                           f"the decoder complained {_plural(len(analysis.errors), 'time')}: {analysis.errors[0]}",
                           {"measured": len(analysis.errors), "errors": list(analysis.errors)}))
    return out


# ---------------------------------------------------------------------------------------------- duration


def _duration_findings(info: MediaInfo, analysis: Analysis | None, profile: RulesProfile) -> list[Finding]:
    out: list[Finding] = []
    measured = playing_duration(info, analysis)
    video = info.main_video
    fps = Fraction(video.fps) if video and video.fps else None
    if measured is not None and profile.duration_max is not None and measured > profile.duration_max + EPSILON:
        limit = profile.duration_max
        over = measured - limit
        video_end = _video_end(info, analysis)
        if fps and video_end is not None:
            frames = max(0, math.ceil((video_end - limit) * float(fps) - EPSILON))
            amount = f"{over:.3f} s ({_plural(frames, 'frame')})"
            if frames == 0:
                amount += ": the audio runs past the last frame"
        else:
            frames = None
            amount = f"{over:.3f} s"
        values = {"measured": round(measured, 3), "limit": limit, "over": round(over, 3)}
        if frames is not None:
            values["frames_over"] = frames
        out.append(Finding("duration.max", "error", f"{clock(measured)} is {amount} over the {clock(limit)} limit", values))
    if measured is not None and profile.duration_min is not None and measured < profile.duration_min - EPSILON:
        limit = profile.duration_min
        out.append(Finding("duration.min", profile.duration_min_severity,
                           f"{clock(measured)} is {limit - measured:.3f} s under the {clock(limit)} the profile "
                           f"expects: use more of the time",
                           {"measured": round(measured, 3), "limit": limit}))
    out += _stream_length_findings(info, analysis)
    return out


def _stream_length_findings(info: MediaInfo, analysis: Analysis | None) -> list[Finding]:
    video_end = _video_end(info, analysis)
    audio_end = _audio_end(info, analysis)
    decoded = analysis is not None and analysis.video_decoded
    source = "decoded" if decoded else "header"
    if video_end is not None and audio_end is not None:
        gap = audio_end - video_end
        if abs(gap) > STREAMS_WARN:
            severity = "error" if abs(gap) > STREAMS_ERROR else "warning"
            longer, shorter = ("audio", "video") if gap > 0 else ("video", "audio")
            tail = "sound under a frozen or missing picture" if gap > 0 else "silent picture at the end"
            return [Finding("duration.streams", severity,
                            f"{longer} runs {clock(max(video_end, audio_end))} but {shorter} only "
                            f"{clock(min(video_end, audio_end))} ({abs(gap):.3f} s of {tail}); "
                            f"the limit is {STREAMS_WARN:.1f} s",
                            {"video": round(video_end, 3), "audio": round(audio_end, 3),
                             "container": info.duration, "measured": round(abs(gap), 3), "limit": STREAMS_WARN,
                             "source": source})]
    if not decoded and info.duration is not None:
        longest = max([e for e in (video_end, audio_end) if e is not None], default=None)
        if longest is not None and info.duration - longest > STREAMS_ERROR:
            return [Finding("duration.streams", "warning",
                            f"the container claims {clock(info.duration)} but its longest stream is {clock(longest)}",
                            {"container": info.duration, "measured": round(longest, 3), "limit": info.duration,
                             "source": source})]
    return []


# ---------------------------------------------------------------------------------------------- video


def _fps_matches(value: Fraction, allowed: tuple[Fraction, ...]) -> bool:
    return any(abs(float(value) - float(a)) < FPS_TOLERANCE for a in allowed)


def _video_findings(info: MediaInfo, video: VideoStream, analysis: Analysis | None,
                    profile: RulesProfile) -> list[Finding]:
    out: list[Finding] = []
    if profile.video_codec and video.codec != profile.video_codec:
        out.append(Finding("video.codec", "error", f"video codec {video.codec}; the profile asks for {profile.video_codec}",
                           {"measured": video.codec, "limit": profile.video_codec}))
    elif profile.video_profiles and video.profile is not None and \
            video.profile.lower() not in {p.lower() for p in profile.video_profiles}:
        allowed = ", ".join(profile.video_profiles)
        out.append(Finding("video.profile", "warning",
                           f"{video.codec} profile '{video.profile}'; the profile allows {allowed} (many players reject others)",
                           {"measured": video.profile, "limit": list(profile.video_profiles)}))
    if profile.pix_fmt and video.pix_fmt != profile.pix_fmt:
        out.append(Finding("video.pix_fmt", "error", f"pixel format {video.pix_fmt}; the profile asks for {profile.pix_fmt}",
                           {"measured": video.pix_fmt, "limit": profile.pix_fmt}))
    if profile.width and profile.height:
        shown = (video.display_width, video.display_height)
        if shown != (profile.width, profile.height):
            note = ""
            if video.rotation:
                note = f" as displayed (stored {video.width}x{video.height}, rotated {video.rotation}°)"
            if video.display_height > video.display_width and profile.width > profile.height:
                note += ": portrait video where landscape is asked for"
            out.append(Finding("video.resolution", "error",
                               f"{shown[0]}x{shown[1]}{note}; the profile asks for {profile.width}x{profile.height}",
                               {"measured": f"{shown[0]}x{shown[1]}", "limit": f"{profile.width}x{profile.height}",
                                "rotation": video.rotation}))
    if profile.fps and video.fps and not _fps_matches(Fraction(video.fps), profile.fps):
        allowed = ", ".join(format_fps(f) for f in profile.fps)
        measured = f"{float(video.fps):.3f}".rstrip("0").rstrip(".")
        out.append(Finding("video.fps", "error", f"{measured} fps; the profile allows {allowed}",
                           {"measured": measured, "limit": [format_fps(f) for f in profile.fps]}))
    measured_vfr = analysis.vfr if analysis is not None and not analysis.errors else None  # gaps from decode errors are not VFR
    vfr = measured_vfr if measured_vfr is not None else video.vfr
    if vfr:
        values = {"measured": True, "limit": False}
        detail = ""
        if measured_vfr and analysis.frame_interval_min and analysis.frame_interval_max:
            detail = (f": frames last from {analysis.frame_interval_min * 1000:.1f} ms to "
                      f"{analysis.frame_interval_max * 1000:.1f} ms")
            values.update(interval_min=round(analysis.frame_interval_min, 6),
                          interval_max=round(analysis.frame_interval_max, 6))
        out.append(Finding("video.vfr", "warning",
                           f"variable frame rate{detail}; editors and players may drift from the audio "
                           f"(convert to a constant rate)", values))
    if not profile.interlaced_ok and video.field_order not in PROGRESSIVE:
        out.append(Finding("video.interlaced", "error",
                           f"interlaced video (field order {video.field_order}); the profile asks for progressive",
                           {"measured": video.field_order, "limit": "progressive"}))
    if profile.sdr_only and video.hdr:
        if video.bit_depth <= 8:
            message = (f"HDR transfer tag '{video.color_transfer}' on {video.bit_depth}-bit video: players will show "
                       f"wrong (washed-out) colours; re-tag it as bt709")
        else:
            message = (f"{video.bit_depth}-bit HDR video ({video.color_transfer}); the profile asks for SDR "
                       f"(tone-map to bt709)")
        out.append(Finding("video.hdr_tags", "error", message,
                           {"measured": video.color_transfer, "limit": "sdr", "bit_depth": video.bit_depth}))
    for stream in info.video:
        if stream.is_cover_art:
            out.append(Finding("video.cover_art", "info",
                               f"stream #{stream.index} is a cover-art image ({stream.codec}, "
                               f"{stream.width}x{stream.height}), not counted as the video",
                               {"stream": stream.index, "codec": stream.codec}))
    return out


# ---------------------------------------------------------------------------------------------- audio


def _audio_findings(info: MediaInfo, analysis: Analysis | None, profile: RulesProfile) -> list[Finding]:
    out: list[Finding] = []
    if not info.audio:
        if profile.audio_required:
            out.append(Finding("audio.present", "error", "no audio stream; the profile requires sound",
                               {"measured": 0, "limit": 1}))
        return out
    audio = info.audio[0]
    if len(info.audio) > 1:
        out.append(Finding("audio.streams", "warning",
                           f"{len(info.audio)} audio streams: players play only the first, the others are ignored",
                           {"measured": len(info.audio), "limit": 1}))
    if profile.audio_codec and audio.codec != profile.audio_codec:
        out.append(Finding("audio.codec", "error", f"audio codec {audio.codec}; the profile asks for {profile.audio_codec}",
                           {"measured": audio.codec, "limit": profile.audio_codec}))
    if profile.sample_rate and audio.sample_rate != profile.sample_rate:
        out.append(Finding("audio.sample_rate", "warning",
                           f"{audio.sample_rate} Hz; the profile asks for {profile.sample_rate} Hz",
                           {"measured": audio.sample_rate, "limit": profile.sample_rate}))
    if profile.channels and audio.channels != profile.channels:
        names = {1: "mono", 2: "stereo", 6: "5.1"}
        out.append(Finding("audio.channels", "warning",
                           f"{audio.channels} channel{'s' if audio.channels != 1 else ''} "
                           f"({names.get(audio.channels, audio.layout or '?')}); the profile asks for "
                           f"{profile.channels} ({names.get(profile.channels, '?')})",
                           {"measured": audio.channels, "limit": profile.channels}))
    loud = profile.loudness
    if loud is not None and analysis is not None and analysis.audio_decoded:
        lufs = analysis.loudness_lufs
        if lufs is not None and abs(lufs - loud.target) > loud.tolerance + EPSILON:
            side = "below" if lufs < loud.target else "above"
            out.append(Finding("audio.loudness", "warning",
                               f"{lufs:.1f} LUFS integrated is {abs(lufs - loud.target):.1f} LU {side} the "
                               f"{loud.target:.1f} LUFS target (±{loud.tolerance:.1f} LU)",
                               {"measured": lufs, "limit": loud.target, "tolerance": loud.tolerance}))
        peak = analysis.true_peak_dbtp
        if peak is not None and peak > loud.true_peak_max + EPSILON:
            out.append(Finding("audio.true_peak", "warning",
                               f"true peak {peak:+.1f} dBTP is over the {loud.true_peak_max:+.1f} dBTP limit "
                               f"(it may clip after lossy encoding or in players)",
                               {"measured": peak, "limit": loud.true_peak_max}))
    lra = analysis.loudness_range_lu if analysis is not None and analysis.audio_decoded else None
    if lra is not None and profile.loudness_range_max is not None and lra > profile.loudness_range_max + EPSILON:
        out.append(Finding("audio.loudness_range", "warning",
                           f"loudness range {lra:.1f} LU is over {profile.loudness_range_max:.1f} LU: quiet and loud "
                           f"passages too far apart (raise the music bed between narration, or duck it less)",
                           {"measured": lra, "limit": profile.loudness_range_max}))
    return out


# ---------------------------------------------------------------------------------------------- content


def _at_start(interval: Interval, start: float, slack: float) -> bool:
    return interval.start <= start + slack


def _at_end(interval: Interval, end: float | None, slack: float) -> bool:
    return end is not None and interval.end is not None and interval.end >= end - slack


def _stretch(rule: str, kind: str, where: str, interval: Interval, limit: float) -> Finding:
    duration = interval.duration or 0.0
    return Finding(rule, "warning",
                   f"{duration:.3f} s of {kind} at the {where} ({clock(interval.start)}–{clock(interval.end)}) "
                   f"is over the {limit:.3f} s limit",
                   {"measured": round(duration, 3), "limit": limit, "start": round(interval.start, 3),
                    "end": round(interval.end, 3)}, where=clock(interval.start))


def _content_findings(info: MediaInfo, analysis: Analysis, profile: RulesProfile) -> list[Finding]:
    out: list[Finding] = []
    video = info.main_video
    frame = 1 / float(video.fps) if video and video.fps else 0.04
    if analysis.video_decoded:
        start = analysis.video_start or 0.0
        end = analysis.video_end
        # blackdetect ends a stretch at the last black frame's start: allow two frames of slack
        slack = 2 * frame + EPSILON
        if profile.max_black_start is not None:
            for interval in analysis.black:
                if _at_start(interval, start, slack) and (interval.duration or 0) > profile.max_black_start + EPSILON:
                    out.append(_stretch("content.black_start", "black", "start", interval, profile.max_black_start))
                    break
        if profile.max_black_end is not None:
            for interval in reversed(analysis.black):
                if _at_end(interval, end, slack):
                    if end - interval.start > profile.max_black_end + EPSILON:
                        out.append(_stretch("content.black_end", "black", "end", Interval(interval.start, end),
                                            profile.max_black_end))
                    break
        if profile.max_freeze is not None:
            longest = None
            for interval in analysis.freeze:
                if interval.duration is None or _covered(interval, analysis.black, slack):
                    continue
                if interval.duration > profile.max_freeze + EPSILON and (longest is None or interval.duration > longest.duration):
                    longest = interval
            if longest is not None:
                count = sum(1 for i in analysis.freeze
                            if i.duration and i.duration > profile.max_freeze + EPSILON and not _covered(i, analysis.black, slack))
                more = f" ({count} such stretches)" if count > 1 else ""
                out.append(Finding("content.freeze", "warning",
                                   f"picture frozen for {longest.duration:.3f} s ({clock(longest.start)}–{clock(longest.end)})"
                                   f"{more}; the limit is {profile.max_freeze:.3f} s (a stuck camera or a render bug?)",
                                   {"measured": round(longest.duration, 3), "limit": profile.max_freeze,
                                    "start": round(longest.start, 3), "end": round(longest.end, 3), "count": count},
                                   where=clock(longest.start)))
    if analysis.audio_decoded:
        end = analysis.audio_end
        slack = 0.05
        if profile.max_silence_start is not None:
            for interval in analysis.silence:
                if _at_start(interval, 0.0, slack) and (interval.duration or 0) > profile.max_silence_start + EPSILON:
                    out.append(_stretch("content.silence_start", "silence", "start", interval, profile.max_silence_start))
                    break
        if profile.max_silence_end is not None:
            for interval in reversed(analysis.silence):
                if _at_end(interval, end, slack):
                    if (interval.duration or 0) > profile.max_silence_end + EPSILON:
                        out.append(_stretch("content.silence_end", "silence", "end", interval, profile.max_silence_end))
                    break
    return out


def _covered(interval: Interval, black: tuple[Interval, ...], slack: float) -> bool:
    """A frozen stretch that is all black is reported as black, not as a freeze."""
    return any(b.end is not None and b.start <= interval.start + slack and b.end >= (interval.end or 0) - slack
               for b in black)


# ---------------------------------------------------------------------------------------------- delivery


def _delivery_findings(info: MediaInfo, profile: RulesProfile) -> list[Finding]:
    out: list[Finding] = []
    if profile.container:
        formats = info.format_name.split(",")
        suffix = Path(info.path).suffix.lower().lstrip(".")
        if profile.container not in formats:
            out.append(Finding("delivery.container", "error",
                               f"container {formats[0]}; the profile asks for {profile.container}",
                               {"measured": info.format_name, "limit": profile.container}))
        elif suffix != profile.container:
            out.append(Finding("delivery.container", "warning",
                               f"file name ends in .{suffix}; the profile asks for .{profile.container}",
                               {"measured": suffix, "limit": profile.container}))
    if profile.faststart and info.faststart is False:
        out.append(Finding("delivery.faststart", "warning",
                           "the index (moov) comes after the media data: web players must download the whole "
                           "file before playing (remux with -movflags +faststart)",
                           {"measured": False, "limit": True}))
    if profile.max_file_size_mb is not None and info.size_bytes > profile.max_file_size_mb * 1_000_000:
        size_mb = info.size_bytes / 1_000_000
        out.append(Finding("delivery.file_size", "error",
                           f"{size_mb:.1f} MB is over the {profile.max_file_size_mb:g} MB limit",
                           {"measured": round(size_mb, 3), "limit": profile.max_file_size_mb,
                            "bytes": info.size_bytes}))
    return out

"""Rules applied to a finished video file. Pure: (MediaInfo, Analysis | None, RulesProfile) -> findings.

Every finding names the measured value and the limit; `values` holds them for scripts
({"measured": 180.04, "limit": 180.0, ...}). Rule ids are stable (see RULE_IDS).

Size: about 420 lines: one small function per family of rules, all of them listed in RULE_IDS
here; kept in one file so the table and its rules are read together.
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
from kbvideo.i18n import _, ngettext

RULE_IDS = (
    "file.readable", "file.truncated", "file.decode_errors",
    "duration.max", "duration.min", "duration.streams",
    "video.codec", "video.profile", "video.pix_fmt", "video.resolution", "video.fps", "video.vfr",
    "video.interlaced", "video.hdr_tags", "video.cover_art",
    "audio.present", "audio.codec", "audio.sample_rate", "audio.channels", "audio.streams",
    "audio.loudness", "audio.true_peak", "audio.loudness_range",
    "content.black_start", "content.black_end", "content.silence_start", "content.silence_end", "content.freeze",
    "delivery.container", "delivery.faststart", "delivery.file_size",
    "narration.scratch",
)

EPSILON = 1e-6
STREAMS_WARN = 0.2  # seconds between video and audio ends before it is worth a word
STREAMS_ERROR = 1.0  # ... and before it is a broken file (a killed render: 40 s of audio under 13 s of video)
FPS_TOLERANCE = 0.01
PROGRESSIVE = (None, "", "progressive", "unknown")


def clock(seconds: float | Fraction) -> str:
    """180.04 -> '3:00.040' (milliseconds: findings are exact to the frame)."""
    return format_seconds(seconds, 3)


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
        what = _("an image") if info.kind == "image" else _("audio only") if info.audio else _("no streams")
        return [Finding("file.readable", "error", _("not a video: {what} ({format_name})").format(what=what, format_name=info.format_name),
                        {"measured": info.kind, "limit": "video"})]
    findings: list[Finding] = []
    findings += _file_findings(info, analysis)
    findings += _duration_findings(info, analysis, profile)
    findings += _video_findings(info, video, analysis, profile)
    findings += _audio_findings(info, analysis, profile)
    if analysis is not None:
        findings += _content_findings(info, analysis, profile)
    findings += _delivery_findings(info, profile)
    findings += _narration_findings(info, profile)
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
                _("{kind} decodes to {clock} of the {clock2} its header claims ({missing:.3f} s missing): the file is cut short (an interrupted copy or render)").format(kind=kind, clock=clock(decoded), clock2=clock(header), missing=missing),
                {"stream": kind, "measured": round(decoded, 3), "limit": round(header, 3), "missing": round(missing, 3)}))
    if analysis.errors and not truncated:
        out.append(Finding("file.decode_errors", "warning",
                           ngettext("the decoder complained {count} time: {errors}", "the decoder complained {count} times: {errors}",
                                    len(analysis.errors)).format(count=len(analysis.errors), errors=analysis.errors[0]),
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
            amount = ngettext("{seconds:.3f} s ({frames} frame)", "{seconds:.3f} s ({frames} frames)", frames).format(
                seconds=over, frames=frames)
            if frames == 0:
                amount += ": the audio runs past the last frame"
        else:
            frames = None
            amount = f"{over:.3f} s"
        values = {"measured": round(measured, 3), "limit": limit, "over": round(over, 3)}
        if frames is not None:
            values["frames_over"] = frames
        out.append(Finding("duration.max", "error", _("{clock} is {amount} over the {clock2} limit").format(clock=clock(measured), amount=amount, clock2=clock(limit)), values))
    if measured is not None and profile.duration_min is not None and measured < profile.duration_min - EPSILON:
        limit = profile.duration_min
        out.append(Finding("duration.min", profile.duration_min_severity,
                           _("{clock} is {value:.3f} s under the {clock2} the profile expects: use more of the time").format(clock=clock(measured), value=limit - measured, clock2=clock(limit)),
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
            tail = _("sound under a frozen or missing picture") if gap > 0 else _("silent picture at the end")
            return [Finding("duration.streams", severity,
                            _("{longer} runs {clock} but {shorter} only {clock2} ({gap:.3f} s of {tail}); the limit is {STREAMS_WARN:.1f} s").format(longer=longer, clock=clock(max(video_end, audio_end)), shorter=shorter, clock2=clock(min(video_end, audio_end)), gap=abs(gap), tail=tail, STREAMS_WARN=STREAMS_WARN),
                            {"video": round(video_end, 3), "audio": round(audio_end, 3),
                             "container": info.duration, "measured": round(abs(gap), 3), "limit": STREAMS_WARN,
                             "source": source})]
    if not decoded and info.duration is not None:
        longest = max([e for e in (video_end, audio_end) if e is not None], default=None)
        if longest is not None and info.duration - longest > STREAMS_ERROR:
            return [Finding("duration.streams", "warning",
                            _("the container claims {clock} but its longest stream is {clock2}").format(clock=clock(info.duration), clock2=clock(longest)),
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
        out.append(Finding("video.codec", "error", _("video codec {codec}; the profile asks for {video_codec}").format(codec=video.codec, video_codec=profile.video_codec),
                           {"measured": video.codec, "limit": profile.video_codec}))
    elif profile.video_profiles and video.profile is not None and \
            video.profile.lower() not in {p.lower() for p in profile.video_profiles}:
        allowed = ", ".join(profile.video_profiles)
        out.append(Finding("video.profile", "warning",
                           _("{codec} profile '{profile}'; the profile allows {allowed} (many players reject others)").format(codec=video.codec, profile=video.profile, allowed=allowed),
                           {"measured": video.profile, "limit": list(profile.video_profiles)}))
    if profile.pix_fmt and video.pix_fmt != profile.pix_fmt:
        out.append(Finding("video.pix_fmt", "error", _("pixel format {pix_fmt}; the profile asks for {pix_fmt2}").format(pix_fmt=video.pix_fmt, pix_fmt2=profile.pix_fmt),
                           {"measured": video.pix_fmt, "limit": profile.pix_fmt}))
    if profile.width and profile.height:
        shown = (video.display_width, video.display_height)
        if shown != (profile.width, profile.height):
            note = ""
            if video.rotation:
                note = _(" as displayed (stored {width}x{height}, rotated {rotation}°)").format(width=video.width, height=video.height, rotation=video.rotation)
            if video.display_height > video.display_width and profile.width > profile.height:
                note += ": portrait video where landscape is asked for"
            out.append(Finding("video.resolution", "error",
                               _("{shown}x{shown2}{note}; the profile asks for {width}x{height}").format(shown=shown[0], shown2=shown[1], note=note, width=profile.width, height=profile.height),
                               {"measured": f"{shown[0]}x{shown[1]}", "limit": f"{profile.width}x{profile.height}",
                                "rotation": video.rotation}))
    if profile.fps and video.fps and not _fps_matches(Fraction(video.fps), profile.fps):
        allowed = ", ".join(format_fps(f) for f in profile.fps)
        measured = f"{float(video.fps):.3f}".rstrip("0").rstrip(".")
        out.append(Finding("video.fps", "error", _("{measured} fps; the profile allows {allowed}").format(measured=measured, allowed=allowed),
                           {"measured": measured, "limit": [format_fps(f) for f in profile.fps]}))
    measured_vfr = analysis.vfr if analysis is not None and not analysis.errors else None  # gaps from decode errors are not VFR
    vfr = measured_vfr if measured_vfr is not None else video.vfr
    if vfr:
        values = {"measured": True, "limit": False}
        detail = ""
        if measured_vfr and analysis.frame_interval_min and analysis.frame_interval_max:
            detail = (_(": frames last from {value:.1f} ms to {value2:.1f} ms").format(value=analysis.frame_interval_min * 1000, value2=analysis.frame_interval_max * 1000))
            values.update(interval_min=round(analysis.frame_interval_min, 6),
                          interval_max=round(analysis.frame_interval_max, 6))
        out.append(Finding("video.vfr", "warning",
                           _("variable frame rate{detail}; editors and players may drift from the audio (convert to a constant rate)").format(detail=detail), values))
    if not profile.interlaced_ok and video.field_order not in PROGRESSIVE:
        out.append(Finding("video.interlaced", "error",
                           _("interlaced video (field order {field_order}); the profile asks for progressive").format(field_order=video.field_order),
                           {"measured": video.field_order, "limit": "progressive"}))
    if profile.sdr_only and video.hdr:
        if video.bit_depth <= 8:
            message = (_("HDR transfer tag '{color_transfer}' on {bit_depth}-bit video: players will show wrong (washed-out) colours; re-tag it as bt709").format(color_transfer=video.color_transfer, bit_depth=video.bit_depth))
        else:
            message = (_("{bit_depth}-bit HDR video ({color_transfer}); the profile asks for SDR (tone-map to bt709)").format(bit_depth=video.bit_depth, color_transfer=video.color_transfer))
        out.append(Finding("video.hdr_tags", "error", message,
                           {"measured": video.color_transfer, "limit": "sdr", "bit_depth": video.bit_depth}))
    for stream in info.video:
        if stream.is_cover_art:
            out.append(Finding("video.cover_art", "info",
                               _("stream #{index} is a cover-art image ({codec}, {width}x{height}), not counted as the video").format(index=stream.index, codec=stream.codec, width=stream.width, height=stream.height),
                               {"stream": stream.index, "codec": stream.codec}))
    return out


# ---------------------------------------------------------------------------------------------- audio


def _audio_findings(info: MediaInfo, analysis: Analysis | None, profile: RulesProfile) -> list[Finding]:
    out: list[Finding] = []
    if not info.audio:
        if profile.audio_required:
            out.append(Finding("audio.present", "error", _("no audio stream; the profile requires sound"),
                               {"measured": 0, "limit": 1}))
        return out
    audio = info.audio[0]
    if len(info.audio) > 1:
        out.append(Finding("audio.streams", "warning",
                           _("{count} audio streams: players play only the first, the others are ignored").format(count=len(info.audio)),
                           {"measured": len(info.audio), "limit": 1}))
    if profile.audio_codec and audio.codec != profile.audio_codec:
        out.append(Finding("audio.codec", "error", _("audio codec {codec}; the profile asks for {audio_codec}").format(codec=audio.codec, audio_codec=profile.audio_codec),
                           {"measured": audio.codec, "limit": profile.audio_codec}))
    if profile.sample_rate and audio.sample_rate != profile.sample_rate:
        out.append(Finding("audio.sample_rate", "warning",
                           _("{sample_rate} Hz; the profile asks for {sample_rate2} Hz").format(sample_rate=audio.sample_rate, sample_rate2=profile.sample_rate),
                           {"measured": audio.sample_rate, "limit": profile.sample_rate}))
    if profile.channels and audio.channels != profile.channels:
        names = {1: "mono", 2: "stereo", 6: "5.1"}
        out.append(Finding("audio.channels", "warning",
                           ngettext("{channels} channel ({layout}); the profile asks for {wanted} ({wanted_layout})",
                                    "{channels} channels ({layout}); the profile asks for {wanted} ({wanted_layout})",
                                    audio.channels).format(channels=audio.channels,
                                                           layout=names.get(audio.channels, audio.layout or '?'),
                                                           wanted=profile.channels,
                                                           wanted_layout=names.get(profile.channels, '?')),
                           {"measured": audio.channels, "limit": profile.channels}))
    loud = profile.loudness
    if loud is not None and analysis is not None and analysis.audio_decoded:
        lufs = analysis.loudness_lufs
        if lufs is not None and abs(lufs - loud.target) > loud.tolerance + EPSILON:
            side = _("below") if lufs < loud.target else _("above")
            out.append(Finding("audio.loudness", "warning",
                               _("{lufs:.1f} LUFS integrated is {value:.1f} LU {side} the {target:.1f} LUFS target (±{tolerance:.1f} LU)").format(lufs=lufs, value=abs(lufs - loud.target), side=side, target=loud.target, tolerance=loud.tolerance),
                               {"measured": lufs, "limit": loud.target, "tolerance": loud.tolerance}))
        peak = analysis.true_peak_dbtp
        if peak is not None and peak > loud.true_peak_max + EPSILON:
            out.append(Finding("audio.true_peak", "warning",
                               _("true peak {peak:+.1f} dBTP is over the {true_peak_max:+.1f} dBTP limit (it may clip after lossy encoding or in players)").format(peak=peak, true_peak_max=loud.true_peak_max),
                               {"measured": peak, "limit": loud.true_peak_max}))
    lra = analysis.loudness_range_lu if analysis is not None and analysis.audio_decoded else None
    if lra is not None and profile.loudness_range_max is not None and lra > profile.loudness_range_max + EPSILON:
        out.append(Finding("audio.loudness_range", "warning",
                           _("loudness range {lra:.1f} LU is over {loudness_range_max:.1f} LU: quiet and loud passages too far apart (raise the music bed between narration, or duck it less)").format(lra=lra, loudness_range_max=profile.loudness_range_max),
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
                   _("{duration:.3f} s of {kind} at the {where} ({clock}–{clock2}) is over the {limit:.3f} s limit").format(duration=duration, kind=kind, where=where, clock=clock(interval.start), clock2=clock(interval.end), limit=limit),
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
                more = _(" ({count} such stretches)").format(count=count) if count > 1 else ""
                out.append(Finding("content.freeze", "warning",
                                   _("picture frozen for {duration:.3f} s ({clock}–{clock2}){more}; the limit is {max_freeze:.3f} s (a stuck camera or a render bug?)").format(duration=longest.duration, clock=clock(longest.start), clock2=clock(longest.end), more=more, max_freeze=profile.max_freeze),
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
                               _("container {formats}; the profile asks for {container}").format(formats=formats[0], container=profile.container),
                               {"measured": info.format_name, "limit": profile.container}))
        elif suffix != profile.container:
            out.append(Finding("delivery.container", "warning",
                               _("file name ends in .{suffix}; the profile asks for .{container}").format(suffix=suffix, container=profile.container),
                               {"measured": suffix, "limit": profile.container}))
    if profile.faststart and info.faststart is False:
        out.append(Finding("delivery.faststart", "warning",
                           _("the index (moov) comes after the media data: web players must download the whole file before playing (remux with -movflags +faststart)"),
                           {"measured": False, "limit": True}))
    if profile.max_file_size_mb is not None and info.size_bytes > profile.max_file_size_mb * 1_000_000:
        size_mb = info.size_bytes / 1_000_000
        out.append(Finding("delivery.file_size", "error",
                           _("{size_mb:.1f} MB is over the {max_file_size_mb:g} MB limit").format(size_mb=size_mb, max_file_size_mb=profile.max_file_size_mb),
                           {"measured": round(size_mb, 3), "limit": profile.max_file_size_mb,
                            "bytes": info.size_bytes}))
    return out


# ---------------------------------------------------------------------------------------------- narration


def _narration_findings(info: MediaInfo, profile: RulesProfile) -> list[Finding]:
    """A kbvideo render still narrated by the scratch voice says so in its comment tag (the render
    writes it; kbvideo.media.probe reads it): such a file is not ready to deliver."""
    scenes = info.extra.get("scratch_narration") or []
    severity = profile.narration_scratch_final
    if not scenes or severity is None:
        return []
    return [Finding("narration.scratch", severity,
                    ngettext("the narration of scene {scenes} is still kbvideo's scratch voice; record it, give "
                             "narration.file in the storyboard and render again",
                             "the narration of scenes {scenes} is still kbvideo's scratch voice; record them, give "
                             "narration.file in the storyboard and render again", len(scenes)).format(
                                 scenes=", ".join(scenes)),
                    {"measured": scenes, "limit": "recorded narration"})]

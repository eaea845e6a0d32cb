"""check_media() on hand-built MediaInfo + Analysis: every rule id, its severity, message and values. Pure."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import pytest

from kbvideo.check.analyze import Analysis, Interval
from kbvideo.check.rules import RULE_IDS, check_media, playing_duration
from kbvideo.media.probe import AudioStream, MediaInfo, VideoStream
from kbvideo.rules.findings import verdict
from kbvideo.rules.profile import load_profile

PROFILE = load_profile()  # lomba-kampung-kb-2025: 150–180 s, 1920x1080, h264 High/Main, AAC 48k stereo, -14 LUFS


def video_stream(**changes) -> VideoStream:
    base = VideoStream(index=0, codec="h264", profile="High", width=1920, height=1080, rotation=0,
                       display_width=1920, display_height=1080, fps=Fraction(30), vfr=False, pix_fmt="yuv420p",
                       bit_depth=8, color_transfer="bt709", color_primaries="bt709", color_range="tv",
                       field_order="progressive", duration=175.0, frames=5250, is_cover_art=False)
    return replace(base, **changes)


def audio_stream(**changes) -> AudioStream:
    return replace(AudioStream(index=1, codec="aac", profile="LC", sample_rate=48000, channels=2, layout="stereo",
                               duration=175.0), **changes)


def media(video=None, audio=None, **changes) -> MediaInfo:
    base = MediaInfo(path="/videos/jenggot.mp4", kind="video", format_name="mov,mp4,m4a,3gp,3g2,mj2", duration=175.0,
                     size_bytes=180_000_000, mtime_ns=0, video=(video or video_stream(),),
                     audio=(audio or audio_stream(),), faststart=True)
    return replace(base, **changes)


def decoded(**changes) -> Analysis:
    base = Analysis(video_decoded=True, audio_decoded=True, video_frames=5250, video_start=0.0, video_end=175.0,
                    frame_interval_min=1 / 30, frame_interval_max=1 / 30, audio_end=175.0, loudness_lufs=-14.2,
                    loudness_range_lu=5.0, true_peak_dbtp=-1.5)
    return replace(base, **changes)


def rules_of(findings) -> dict:
    return {f.rule: f for f in findings}


def test_a_compliant_file_passes_with_no_findings():
    findings = check_media(media(), decoded(), PROFILE)
    assert findings == []
    assert verdict(findings) == "pass"


def test_every_rule_id_is_known():
    assert len(set(RULE_IDS)) == len(RULE_IDS)
    for rule in ("file.readable", "file.truncated", "duration.max", "duration.streams", "video.hdr_tags",
                 "audio.true_peak", "content.freeze", "delivery.faststart", "delivery.file_size"):
        assert rule in RULE_IDS


def test_duration_max_exact_to_the_frame_180_040_at_30fps():
    # what a 180.04 s render decodes to at 30 fps: 5401 frames (video ends 180.0333), audio to 180.04
    info = media(duration=180.04, video=video_stream(duration=180.0333), audio=audio_stream(duration=180.04))
    findings = rules_of(check_media(info, decoded(video_end=5401 / 30, audio_end=180.04), PROFILE))
    finding = findings["duration.max"]
    assert finding.severity == "error"
    assert finding.message == "3:00.040 is 0.040 s (1 frame) over the 3:00.000 limit"
    assert finding.values == {"measured": 180.04, "limit": 180.0, "over": 0.04, "frames_over": 1}


def test_duration_max_exactly_at_the_limit_passes():
    info = media(duration=180.0, video=video_stream(duration=180.0), audio=audio_stream(duration=180.0))
    assert "duration.max" not in rules_of(check_media(info, decoded(video_end=180.0, audio_end=180.0), PROFILE))


def test_duration_max_25fps_one_frame_and_header_only():
    info = media(duration=180.04, video=video_stream(fps=Fraction(25), duration=180.04), audio=audio_stream(duration=180.04))
    finding = rules_of(check_media(info, None, PROFILE))["duration.max"]
    assert finding.message == "3:00.040 is 0.040 s (1 frame) over the 3:00.000 limit"
    over_a_second = media(duration=184.2, video=video_stream(duration=184.2), audio=audio_stream(duration=184.2))
    finding = rules_of(check_media(over_a_second, None, PROFILE))["duration.max"]
    assert finding.message == "3:04.200 is 4.200 s (126 frames) over the 3:00.000 limit"


def test_duration_max_audio_only_past_the_limit():
    info = media(duration=180.3, video=video_stream(duration=180.0), audio=audio_stream(duration=180.3))
    finding = rules_of(check_media(info, decoded(video_end=180.0, audio_end=180.3), PROFILE))["duration.max"]
    assert "0.300 s (0 frames): the audio runs past the last frame" in finding.message


def test_duration_min_uses_profile_severity():
    info = media(duration=120.0, video=video_stream(duration=120.0), audio=audio_stream(duration=120.0))
    findings = check_media(info, decoded(video_end=120.0, audio_end=120.0), PROFILE)
    finding = rules_of(findings)["duration.min"]
    assert finding.severity == "warning"
    assert finding.message.startswith("2:00.000 is 30.000 s under the 2:30.000")
    assert verdict(findings) == "warn"
    strict = replace(PROFILE, duration_min_severity="error")
    assert verdict(check_media(info, decoded(video_end=120.0, audio_end=120.0), strict)) == "fail"


def test_duration_streams_40s_of_audio_under_13s_of_video():
    info = media(duration=40.0, video=video_stream(duration=13.0), audio=audio_stream(duration=40.0))
    profile = replace(PROFILE, duration_min=None)
    finding = rules_of(check_media(info, None, profile))["duration.streams"]
    assert finding.severity == "error"
    assert "audio runs 0:40.000 but video only 0:13.000" in finding.message
    assert finding.values["video"] == 13.0 and finding.values["audio"] == 40.0
    # a small gap is a warning, AAC framing (10 ms) is nothing
    small = media(video=video_stream(duration=175.0), audio=audio_stream(duration=175.5))
    assert rules_of(check_media(small, None, PROFILE))["duration.streams"].severity == "warning"
    framing = media(video=video_stream(duration=175.0), audio=audio_stream(duration=175.01))
    assert "duration.streams" not in rules_of(check_media(framing, None, PROFILE))


def test_truncated_when_decoding_stops_short_of_the_header():
    findings = rules_of(check_media(media(), decoded(video_end=90.0, audio_end=90.0), PROFILE))
    finding = findings["file.truncated"]
    assert finding.severity == "error"
    assert "decodes to 1:30.000 of the 2:55.000 its header claims (85.000 s missing)" in finding.message
    # streams cut at different points: the truncation is the news, their unequal lengths are not repeated
    findings = rules_of(check_media(media(), decoded(video_end=90.0, audio_end=60.0), PROFILE))
    assert "file.truncated" in findings and "duration.streams" not in findings
    # a clean decode of the full length is not truncated; decoder complaints alone are a warning
    findings = rules_of(check_media(media(), decoded(errors=("[h264] error while decoding MB 3 4",)), PROFILE))
    assert "file.truncated" not in findings
    assert findings["file.decode_errors"].severity == "warning"


@pytest.mark.parametrize("changes, rule, severity, text", [
    (dict(codec="hevc", profile="Main"), "video.codec", "error", "video codec hevc; the profile asks for h264"),
    (dict(profile="High 4:4:4 Predictive"), "video.profile", "warning", "'High 4:4:4 Predictive'"),
    (dict(pix_fmt="yuv444p"), "video.pix_fmt", "error", "pixel format yuv444p; the profile asks for yuv420p"),
    (dict(width=1280, height=720, display_width=1280, display_height=720), "video.resolution", "error",
     "1280x720; the profile asks for 1920x1080"),
    (dict(rotation=90, display_width=1080, display_height=1920), "video.resolution", "error",
     "1080x1920 as displayed (stored 1920x1080, rotated 90°): portrait video where landscape is asked for"),
    (dict(fps=Fraction(24)), "video.fps", "error", "24 fps; the profile allows 25, 30, 30000/1001"),
    (dict(vfr=True), "video.vfr", "warning", "variable frame rate"),
    (dict(field_order="tt"), "video.interlaced", "error", "interlaced video (field order tt)"),
    (dict(color_transfer="arib-std-b67"), "video.hdr_tags", "error", "on 8-bit video"),
    (dict(color_transfer="smpte2084", bit_depth=10, pix_fmt="yuv420p10le"), "video.hdr_tags", "error",
     "10-bit HDR video (smpte2084)"),
])
def test_video_rules(changes, rule, severity, text):
    findings = rules_of(check_media(media(video=video_stream(**changes)), None, PROFILE))
    assert rule in findings, findings
    assert findings[rule].severity == severity
    assert text in findings[rule].message


def test_ntsc_rate_matches_30000_1001_and_measured_vfr_wins_over_header():
    assert "video.fps" not in rules_of(check_media(media(video=video_stream(fps=Fraction(2997, 100))), None, PROFILE))
    finding = rules_of(check_media(media(), decoded(frame_interval_max=0.1), PROFILE))["video.vfr"]
    assert "from 33.3 ms to 100.0 ms" in finding.message


def test_cover_art_is_reported_and_not_taken_for_the_video():
    cover = video_stream(index=2, codec="mjpeg", profile=None, width=600, height=600, display_width=600,
                         display_height=600, fps=None, pix_fmt="yuvj420p", is_cover_art=True)
    info = replace(media(), video=(cover, video_stream()))
    findings = check_media(info, None, PROFILE)
    assert [f.rule for f in findings] == ["video.cover_art"]
    assert findings[0].severity == "info" and verdict(findings) == "pass"


def test_not_a_video():
    info = replace(media(), video=(), kind="audio", format_name="mp3")
    findings = check_media(info, None, PROFILE)
    assert [(f.rule, f.severity) for f in findings] == [("file.readable", "error")]
    assert "audio only" in findings[0].message


@pytest.mark.parametrize("audio, rule, severity, text", [
    (audio_stream(codec="mp3"), "audio.codec", "error", "audio codec mp3; the profile asks for aac"),
    (audio_stream(sample_rate=44100), "audio.sample_rate", "warning", "44100 Hz; the profile asks for 48000 Hz"),
    (audio_stream(channels=1, layout="mono"), "audio.channels", "warning", "1 channel (mono); the profile asks for 2"),
])
def test_audio_stream_rules(audio, rule, severity, text):
    finding = rules_of(check_media(media(audio=audio), None, PROFILE))[rule]
    assert (finding.severity, text in finding.message) == (severity, True)


def test_audio_present_and_streams():
    silent = replace(media(), audio=())
    finding = rules_of(check_media(silent, None, PROFILE))["audio.present"]
    assert finding.severity == "error"
    assert "audio.present" not in rules_of(check_media(silent, None, replace(PROFILE, audio_required=False)))
    two = replace(media(), audio=(audio_stream(), audio_stream(index=2)))
    assert rules_of(check_media(two, None, PROFILE))["audio.streams"].values == {"measured": 2, "limit": 1}


def test_loudness_and_true_peak():
    findings = rules_of(check_media(media(), decoded(loudness_lufs=-21.8, true_peak_dbtp=0.4), PROFILE))
    assert findings["audio.loudness"].message == "-21.8 LUFS integrated is 7.8 LU below the -14.0 LUFS target (±1.0 LU)"
    assert findings["audio.loudness"].values == {"measured": -21.8, "limit": -14.0, "tolerance": 1.0}
    assert findings["audio.true_peak"].message.startswith("true peak +0.4 dBTP is over the -1.0 dBTP limit")
    within = rules_of(check_media(media(), decoded(loudness_lufs=-13.0, true_peak_dbtp=-1.0), PROFILE))
    assert "audio.loudness" not in within and "audio.true_peak" not in within
    # no loudness target in the profile: nothing to say
    assert check_media(media(), decoded(loudness_lufs=-30.0), replace(PROFILE, loudness=None)) == []


def test_black_and_silence_at_start_and_end():
    analysis = decoded(black=(Interval(0.0, 2.5), Interval(60.0, 70.0), Interval(171.0, 174.966667)),
                       silence=(Interval(0.0, 3.5), Interval(168.0, 175.0)))
    findings = rules_of(check_media(media(), analysis, PROFILE))
    assert findings["content.black_start"].message == "2.500 s of black at the start (0:00.000–0:02.500) is over the 2.000 s limit"
    assert findings["content.black_end"].values["measured"] == 4.0  # blackdetect's end is the last frame's start
    assert findings["content.silence_start"].values == {"measured": 3.5, "limit": 3.0, "start": 0.0, "end": 3.5}
    assert findings["content.silence_end"].values["measured"] == 7.0
    assert all(f.severity == "warning" for f in findings.values())
    # the same stretches in the middle are not start/end findings
    middle = decoded(black=(Interval(60.0, 70.0),), silence=(Interval(60.0, 70.0),))
    assert check_media(media(), middle, PROFILE) == []


def test_freeze_longest_reported_black_not_double_counted():
    analysis = decoded(freeze=(Interval(10.0, 19.0), Interval(40.0, 52.0), Interval(100.0, 103.0)),
                       black=(Interval(80.0, 95.0),))
    finding = rules_of(check_media(media(), analysis, PROFILE))["content.freeze"]
    assert finding.values["measured"] == 12.0 and finding.values["count"] == 2
    assert finding.where == "0:40.000"
    all_black = decoded(freeze=(Interval(80.0, 95.0),), black=(Interval(80.0, 95.0),))
    assert "content.freeze" not in rules_of(check_media(media(), all_black, PROFILE))


def test_delivery_rules():
    findings = rules_of(check_media(media(faststart=False, size_bytes=260_000_000), None,
                                    replace(PROFILE, max_file_size_mb=250)))
    assert findings["delivery.faststart"].severity == "warning"
    assert findings["delivery.file_size"].message == "260.0 MB is over the 250 MB limit"
    assert findings["delivery.file_size"].severity == "error"
    mkv = rules_of(check_media(media(format_name="matroska,webm", path="/v/a.mkv"), None, PROFILE))
    assert mkv["delivery.container"].severity == "error"
    mov = rules_of(check_media(media(path="/v/a.mov"), None, PROFILE))
    assert mov["delivery.container"].severity == "warning"


def test_playing_duration_prefers_decoded_ends():
    info = media(duration=180.04)
    assert playing_duration(info, None) == 180.04
    assert playing_duration(info, decoded(video_end=90.0, audio_end=91.0)) == 91.0
    quick = Analysis(video_decoded=False, audio_decoded=True, audio_end=90.0)
    assert playing_duration(info, quick) == 180.04  # quick: the header's length; truncation is its own finding
